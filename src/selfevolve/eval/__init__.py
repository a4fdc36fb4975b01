"""Benchmarks and metrics (pass@k, code I/O, Countdown)."""
