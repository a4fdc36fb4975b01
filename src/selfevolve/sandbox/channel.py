"""Parent side of a zygote's control pipe: length-prefixed frames read with a deadline.

Reads are buffered (up to 64 KiB per `read`), so the usual job costs one or two `read` calls for its
two frames instead of a `select` and a `read` per header and per body.
"""

from __future__ import annotations

import os
import select
import time

from selfevolve.sandbox.zygote import FRAME_LEN as _LEN

_CHUNK = 65536


class FrameReader:
    """Frames from one pipe; the pipe is owned (and closed) by the caller."""

    def __init__(self, fd: int):
        self.fd = fd
        self.buf = bytearray()

    def frame(self, deadline: float) -> bytearray | None:
        """The next frame, or None on EOF or when `deadline` (time.monotonic) passes first."""
        if not self._fill(_LEN.size, deadline):
            return None
        size = _LEN.size + _LEN.unpack_from(self.buf)[0]
        if not self._fill(size, deadline):
            return None
        payload = self.buf[_LEN.size:size]
        del self.buf[:size]
        return payload

    def _fill(self, n: int, deadline: float) -> bool:
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return False
            chunk = os.read(self.fd, max(_CHUNK, n - len(self.buf)))
            if not chunk:
                return False
            self.buf += chunk
        return True
