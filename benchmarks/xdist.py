"""Suite wall time with 1 and 2 xdist workers: a fixed subset of the suite run by pytest in a subprocess,
the worker counts alternating so both see the same machine load on average. The subset is chosen to be
CPU-bound Python (model properties, engine protocols, the differential machine) with several test files,
so xdist has work to distribute; collection and worker start-up are included, as a user pays them."""
from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from benchmarks.stats import clock, summary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pytest_once(paths: list[str], workers: int, backends: str, workdir: str) -> tuple[float, str]:
    os.makedirs(workdir, exist_ok=True)  # pytest makes --basetemp itself, but not its parent
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers),
           f"--suite-backends={backends}", f"--basetemp={os.path.join(workdir, 'tmp')}", "-m", "not stress", *paths]
    # Deterministic (every run does the same work); the session report goes to the work dir, not reports/runs.
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", SUITE_REPORTS_ROOT=os.path.join(workdir, "reports"))
    start = clock()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = clock() - start
    tail = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode != 0:  # a failing or broken run is no timing of the suite
        raise RuntimeError(f"pytest -n {workers} exited {proc.returncode}: {tail} {proc.stderr[-500:]}")
    return seconds, tail


def measure(paths: list[str], backends: str, workers: tuple[int, ...], reps: int, workdir: str) -> dict[str, Any]:
    samples: dict[int, list[float]] = {w: [] for w in workers}
    outcomes: dict[int, str] = {}
    for rep in range(reps):
        for w in (workers if rep % 2 == 0 else tuple(reversed(workers))):
            seconds, tail = pytest_once(paths, w, backends, os.path.join(workdir, f"pytest-n{w}-{rep}"))
            samples[w].append(seconds)
            outcomes[w] = tail
    out: dict[str, Any] = {"paths": paths, "backends": backends, "reps": reps,
                           "seconds": {str(w): summary(s, 2) for w, s in samples.items()}, "outcome": outcomes}
    if len(workers) >= 2:
        a, b = workers[0], workers[1]
        out["speedup"] = summary([x / y for x, y in zip(samples[a], samples[b], strict=True)], 2)
        out["speedup_of"] = f"-n {a} / -n {b}"
    return out
