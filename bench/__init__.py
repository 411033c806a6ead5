"""Benchmarks: each bench_*.py measures one stage against a baseline from the same run (not tests)."""
