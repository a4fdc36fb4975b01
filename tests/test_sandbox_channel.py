"""The parent's frame reader on a zygote's control pipe: split frames, several per read, EOF, deadline."""

import os
import time

from selfevolve.sandbox.channel import FrameReader
from selfevolve.sandbox.zygote import DONE, FRAME_LEN, STARTED, write_frame


def test_frames_split_across_writes_and_batched_in_one_read():
    r, w = os.pipe()
    try:
        reader = FrameReader(r)
        data = FRAME_LEN.pack(5) + b"hello"
        os.write(w, data[:3])
        os.write(w, data[3:])
        write_frame(w, STARTED.pack(1234))
        write_frame(w, DONE.pack(0, False, True) + b"record")
        assert reader.frame(time.monotonic() + 5) == b"hello"
        assert STARTED.unpack(reader.frame(time.monotonic() + 5)) == (1234,)
        done = reader.frame(time.monotonic() + 5)
        assert DONE.unpack_from(done) == (0, False, True) and done[DONE.size:] == b"record"
    finally:
        os.close(r)
        os.close(w)


def test_deadline_and_eof_give_none():
    r, w = os.pipe()
    try:
        reader = FrameReader(r)
        os.write(w, FRAME_LEN.pack(10) + b"short")  # a frame that never completes
        assert reader.frame(time.monotonic() + 0.05) is None
        os.close(w)
        w = None
        assert reader.frame(time.monotonic() + 5) is None
    finally:
        os.close(r)
        if w is not None:
            os.close(w)
