"""Run a function on 2 CPU processes joined in a gloo process group, as torchrun would launch them."""

import os
import socket
import time

import torch
import torch.multiprocessing as mp

from selfevolve.rl import init_distributed


def worker(rank: int, port: int, out_path: str, fn, args: tuple) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    init_distributed()
    result = fn(*args)
    if rank == 0:
        torch.save(result, out_path)
    # Both ranks past every collective before teardown: a rank that destroys its group while the
    # other's FSDP work is still in flight is aborted by gloo ("terminate called without an active exception").
    torch.distributed.barrier()
    torch.distributed.destroy_process_group()


def on_two_processes(tmp_path, fn, *args, timeout: float = 120):
    """`fn(*args)` on 2 gloo processes; what rank 0 returned."""
    out = tmp_path / "rank0.pt"
    context = mp.start_processes(worker, args=(free_port(), str(out), fn, args), nprocs=2, join=False, start_method="spawn")
    deadline = time.monotonic() + timeout
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for p in context.processes:
                p.kill()
            raise AssertionError(f"the 2-process run did not finish in {timeout} s")
    return torch.load(out, weights_only=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
