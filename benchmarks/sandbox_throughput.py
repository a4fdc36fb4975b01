"""Sandbox throughput on the AZR seed programs, side by side with the reference-style baseline.

Ours: static checks + two isolated runs with different hash seeds per program (one job per seed record).
Baseline (what the reference executor does): `exec` in a plain multiprocessing worker, no isolation,
the program run twice in the same process (its determinism check), one program per call.

    python benchmarks/sandbox_throughput.py                 # seed programs, ours vs baseline
    python benchmarks/sandbox_throughput.py --jobs 100000   # also: flat memory over 100k jobs
    python benchmarks/sandbox_throughput.py --compat        # seed compatibility study for docs/sandbox.md

Besides programs/s and latency, each side's CPU time per program is reported (psutil: the parent with all
its threads, plus every worker; for ours each zygote's own time and that of the job children it reaped).
CPU time depends far less than wall time on what else the machine runs, so it compares the two sides on
a loaded machine. Needs the `bench` extra (psutil).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import psutil

from selfevolve.sandbox import Job, Sandbox, SandboxConfig
from selfevolve.tasks.code_io.config import CodeIOConfig
from selfevolve.tasks.code_io.seed_study import load_seeds, study

# Seed programs that run for seconds or print megabytes would dominate both sides; both skip them.
SLOW_SECONDS = 1.0
WARM_JOB = Job("warm", "def f(x):\n    return x", ["1"])


def _baseline_check(job: Job) -> tuple[bool, float]:
    """Reference-style validity check: exec + call every input, twice, compare reprs."""
    t0 = time.perf_counter()
    try:
        runs = []
        for _ in range(2):
            ns: dict = {}
            exec("\n".join([*job.imports, job.program]), ns)
            runs.append([repr(eval(f"f({i})", ns)) for i in job.inputs])
        ok = runs[0] == runs[1]
    except BaseException:  # noqa: BLE001 - the reference maps every failure to "invalid"
        ok = False
    return ok, time.perf_counter() - t0


def _quiet() -> None:
    """Baseline workers: silence the programs' prints and run them in a throwaway directory (some
    seed programs write files to their working directory; the baseline has no scratch dir of its own)."""
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - seed programs print; keep the table readable
    os.chdir(tempfile.mkdtemp(prefix="selfevolve-baseline-"))


@dataclass
class Measured:
    rate: float  # programs/s
    latencies: list[float]  # seconds
    cpu_ms: float  # CPU time per program, parent + workers (+ their reaped children)


def cpu_seconds(processes: list[psutil.Process], with_children: bool) -> float:
    total = 0.0
    for p in processes:
        t = p.cpu_times()
        total += t.user + t.system + ((t.children_user + t.children_system) if with_children else 0.0)
    return total


def run_baseline(jobs: list[Job], processes: int) -> Measured:
    with mp.get_context("fork").Pool(processes, initializer=_quiet) as pool:
        pool.map(_baseline_check, jobs[:10])  # warm
        procs = [psutil.Process(), *(psutil.Process(p.pid) for p in pool._pool)]
        cpu0, t0 = cpu_seconds(procs, False), time.perf_counter()
        for _, _ in pool.imap_unordered(_baseline_check, jobs, chunksize=1):
            pass
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(procs, False) - cpu0
        # per-call latency as seen by the caller: submit one program and wait (the reference is serial)
        lat = []
        for job in jobs[:500]:
            t = time.perf_counter()
            pool.apply(_baseline_check, (job,))
            lat.append(time.perf_counter() - t)
    return Measured(len(jobs) / elapsed, lat, cpu * 1000 / len(jobs))


def sandbox_processes(sb: Sandbox) -> list[psutil.Process]:
    """The caller's process and every live zygote (the job children are counted by their zygote)."""
    return [psutil.Process(), *(psutil.Process(z.proc.pid) for s in sb._slots for z in s.zygotes if z.alive())]


def seed_sandbox(workers: int) -> Sandbox:
    """The seed programs are code-io tasks: their sandbox refuses the family's banned modules."""
    return Sandbox(CodeIOConfig().sandbox_config(workers=workers))


def run_ours(jobs: list[Job], workers: int) -> Measured:
    with seed_sandbox(workers) as sb:
        sb.run([WARM_JOB] * 10)  # warm the processes; the timed programs start with a cold static-check cache
        procs = sandbox_processes(sb)
        cpu0, t0 = cpu_seconds(procs, True), time.perf_counter()
        results = sb.run(jobs)
        elapsed, cpu = time.perf_counter() - t0, cpu_seconds(procs, True) - cpu0
    return Measured(len(jobs) / elapsed, [r.seconds for r in results], cpu * 1000 / len(jobs))


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def fast_seed_jobs(workers: int) -> list[Job]:
    """All seed jobs minus the few that take > SLOW_SECONDS (reported separately)."""
    seeds = list(load_seeds())
    with seed_sandbox(workers) as sb:
        results = sb.run([s.job for s in seeds])
    slow = [s.job.id for s, r in zip(seeds, results) if r.seconds > SLOW_SECONDS]
    print(f"seed records: {len(seeds)}; excluded as slow (> {SLOW_SECONDS:g} s): {slow}")
    return [s.job for s, r in zip(seeds, results) if r.seconds <= SLOW_SECONDS]


def big_run(n: int, workers: int) -> None:
    """n trivial jobs (both hash seeds each) in batches of 10,000; RSS of the parent and the zygotes is
    sampled every 0.2 s, and the peaks so far are printed after every batch."""
    jobs = (Job(str(i), "def f(x):\n    return [x * k for k in range(5)]", [str(i % 97)]) for i in range(n))
    peaks = {"parent": 0, "zygote": 0}
    me = psutil.Process()
    stop = threading.Event()
    with Sandbox(SandboxConfig(workers=workers)) as sb:
        def sample() -> None:
            while not stop.is_set():
                peaks["parent"] = max(peaks["parent"], me.memory_info().rss)
                try:
                    peaks["zygote"] = max(peaks["zygote"], *(p.memory_info().rss for p in sandbox_processes(sb)[1:]))
                except psutil.Error:
                    pass
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0, done = time.perf_counter(), 0
        print(f"{'jobs':>8}{'s':>8}{'jobs/s':>8}{'parent peak MiB':>17}{'zygote peak MiB':>17}{'load':>6}")
        while done < n:
            batch = [next(jobs) for _ in range(min(10_000, n - done))]
            bad = [r for r in sb.run(batch) if r.status.value != "ok"]
            done += len(batch)
            elapsed = time.perf_counter() - t0
            print(f"{done:>8}{elapsed:>8.0f}{done / elapsed:>8.0f}{peaks['parent'] / 2**20:>17.1f}"
                  f"{peaks['zygote'] / 2**20:>17.1f}{os.getloadavg()[0]:>6.1f}" + (f"  {len(bad)} not ok" if bad else ""),
                  flush=True)
        stop.set()
        sampler.join()


def compat(workers: int) -> None:
    seeds = list(load_seeds())
    with seed_sandbox(workers) as sb:
        results = sb.run([s.job for s in seeds])
    table = study(list(zip(seeds, results)))
    total: dict[str, int] = {}
    for name, counts in table.items():
        print(f"{name}: {sum(counts.values())} records")
        for reason, k in counts.most_common():
            print(f"  {k:5d}  {reason}")
            total[reason] = total.get(reason, 0) + k
    print(f"all files: {len(seeds)} records")
    for reason, k in sorted(total.items(), key=lambda kv: -kv[1]):
        print(f"  {k:5d}  {reason}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--jobs", type=int, default=0, help="also run this many trivial jobs and report peak RSS")
    ap.add_argument("--compat", action="store_true", help="print the seed compatibility study and exit")
    args = ap.parse_args()
    if args.compat:
        return compat(args.workers)
    print(f"load average before: {os.getloadavg()}; cpus: {os.cpu_count()}; workers: {args.workers}")
    jobs = fast_seed_jobs(args.workers)
    rows = (
        (f"selfevolve sandbox ({args.workers} slots, 2 seeds)", run_ours(jobs, args.workers)),
        ("baseline: 1 mp worker, exec (reference)", run_baseline(jobs, 1)),
        (f"baseline: {args.workers} mp workers, exec", run_baseline(jobs, args.workers)),
    )
    print(f"{'executor':<44}{'programs/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms/program':>16}")
    for name, m in rows:
        print(f"{name:<44}{m.rate:>12.0f}{pct(m.latencies, 50):>10.2f}{pct(m.latencies, 99):>10.2f}{m.cpu_ms:>16.2f}")
    print(f"load average after: {os.getloadavg()}")
    if args.jobs:
        big_run(args.jobs, args.workers)


if __name__ == "__main__":
    main()
