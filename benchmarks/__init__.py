"""Benchmarks of the suite itself (issue 9): stateful throughput with and without faults, the overhead of
the engine and of the harness over the raw backends, time to kill each mutant, crash points per second,
scaling with xdist workers and with the size of the state, and restart cost.

    python -m benchmarks            # the full run (~10 min on 2 cores); `make bench`
    python -m benchmarks --quick    # a smoke run (~1 min); or BENCH_QUICK=1

Writes benchmarks/results/latest.json and prints a Markdown table. Every figure is a median over
repetitions with its spread, measured side by side in one run, so compare figures as ratios within a run.
"""
