"""Sandbox throughput on the AZR seed programs, side by side with the reference-style baseline.

Ours: static checks + two isolated runs with different hash seeds per program (one job per seed record).
Baseline (what the reference executor does): `exec` in a plain multiprocessing worker, no isolation,
the program run twice in the same process (its determinism check), one program per call.

    python benchmarks/sandbox_throughput.py                 # seed programs, ours vs baseline
    python benchmarks/sandbox_throughput.py --jobs 100000   # also: flat memory over 100k jobs (needs psutil)
    python benchmarks/sandbox_throughput.py --compat        # seed compatibility study for docs/sandbox.md
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import threading
import time

from selfevolve.sandbox import Job, Sandbox, SandboxConfig
from selfevolve.sandbox.seeds import load_seeds, study

# Seed programs that run for seconds or print megabytes would dominate both sides; both skip them.
SLOW_SECONDS = 1.0


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
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - seed programs print; keep the table readable


def run_baseline(jobs: list[Job], processes: int) -> tuple[float, list[float]]:
    with mp.get_context("fork").Pool(processes, initializer=_quiet) as pool:
        pool.map(_baseline_check, jobs[:10])  # warm
        t0 = time.perf_counter()
        lat = []
        for _, _ in pool.imap_unordered(_baseline_check, jobs, chunksize=1):
            pass
        # per-call latency as seen by the caller: submit one program and wait (the reference is serial)
        for job in jobs[:500]:
            t = time.perf_counter()
            pool.apply(_baseline_check, (job,))
            lat.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - t0 - sum(lat)
    return len(jobs) / elapsed, lat


def run_ours(jobs: list[Job], workers: int) -> tuple[float, list[float], list]:
    with Sandbox(SandboxConfig(workers=workers)) as sb:
        sb.run(jobs[:10])  # warm
        t0 = time.perf_counter()
        results = sb.run(jobs)
        elapsed = time.perf_counter() - t0
    return len(jobs) / elapsed, [r.seconds for r in results], results


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def fast_seed_jobs(workers: int) -> list[Job]:
    """All seed jobs minus the few that take > SLOW_SECONDS (reported separately)."""
    seeds = list(load_seeds())
    with Sandbox(SandboxConfig(workers=workers)) as sb:
        results = sb.run([s.job for s in seeds])
    slow = [s.job.id for s, r in zip(seeds, results) if r.seconds > SLOW_SECONDS]
    print(f"seed records: {len(seeds)}; excluded as slow (> {SLOW_SECONDS:g} s): {slow}")
    return [s.job for s, r in zip(seeds, results) if r.seconds <= SLOW_SECONDS]


def big_run(n: int, workers: int) -> None:
    import psutil

    jobs = [Job(str(i), "def f(x):\n    return [x * k for k in range(5)]", [str(i % 97)]) for i in range(n)]
    peaks = {"parent": 0, "zygotes": 0}
    me = psutil.Process()
    stop = threading.Event()
    with Sandbox(SandboxConfig(workers=workers)) as sb:
        zygotes = lambda: [psutil.Process(z.proc.pid) for s in sb._slots for z in s.zygotes if z.alive()]  # noqa: E731

        def sample() -> None:
            while not stop.is_set():
                peaks["parent"] = max(peaks["parent"], me.memory_info().rss)
                try:
                    peaks["zygotes"] = max(peaks["zygotes"], max(p.memory_info().rss for p in zygotes()))
                except psutil.Error:
                    pass
                time.sleep(0.2)

        threading.Thread(target=sample, daemon=True).start()
        t0 = time.perf_counter()
        rss_at = []
        for start in range(0, n, 10_000):
            sb.run(jobs[start:start + 10_000])
            rss_at.append(me.memory_info().rss / 2**20)
        elapsed = time.perf_counter() - t0
        stop.set()
    print(f"{n} jobs in {elapsed:.1f} s ({n / elapsed:.0f} jobs/s); parent RSS after each 10k (MiB): "
          + ", ".join(f"{x:.0f}" for x in rss_at))
    print(f"peak RSS: parent {peaks['parent'] / 2**20:.0f} MiB, largest zygote {peaks['zygotes'] / 2**20:.0f} MiB")


def compat(workers: int) -> None:
    seeds = list(load_seeds())
    with Sandbox(SandboxConfig(workers=workers)) as sb:
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
    ours_rate, ours_lat, results = run_ours(jobs, args.workers)
    base1_rate, base1_lat = run_baseline(jobs, 1)
    basen_rate, basen_lat = run_baseline(jobs, args.workers)
    print(f"{'executor':<44}{'programs/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for name, rate, lat in (
        (f"selfevolve sandbox ({args.workers} slots, 2 seeds)", ours_rate, ours_lat),
        ("baseline: 1 mp worker, exec (reference)", base1_rate, base1_lat),
        (f"baseline: {args.workers} mp workers, exec", basen_rate, basen_lat),
    ):
        print(f"{name:<44}{rate:>12.0f}{pct(lat, 50):>10.2f}{pct(lat, 99):>10.2f}")
    print(f"load average after: {os.getloadavg()}")
    if args.jobs:
        big_run(args.jobs, args.workers)


if __name__ == "__main__":
    main()
