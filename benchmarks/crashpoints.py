"""Crash points enumerated per second: the crash-mode enumeration of tests/test_faults_enumeration.py over
harness/programs.py LIFECYCLE, one `trial` (run to the crash, reopen, heal, check every invariant) per point.

A full enumeration of the lifecycle takes minutes on RocksDB and Lance, so a budget of `sample` points is
spread evenly over all of them (the first and last included, plus the clean run past the last point that
ends an enumeration); with `sample` >= the number of points this is the full enumeration. The number of
points comes from a clean run of the lifecycle: one point per failpoint hit (faults.plan.ANY counts hits
across every failpoint), and the sample checks it: the last point fires, the one after it does not."""
from __future__ import annotations

import shutil
import tempfile
from typing import Any

import sut
from benchmarks.stats import clock, summary
from faults import Failpoints, FaultPlan
from faults.enumerate import plan_for
from harness.crashcheck import trial
from harness.programs import LIFECYCLE


def count_points(backend: str, workdir: str) -> int:
    path = tempfile.mkdtemp(prefix="points-", dir=workdir)
    fps = Failpoints(FaultPlan())
    try:
        db = sut.open_database(backend, path, faults=fps)
        for op in LIFECYCLE:
            op.call(db)
        db.close()
    finally:
        shutil.rmtree(path, ignore_errors=True)
    return fps.total


def evenly(total: int, sample: int) -> list[int]:
    """`sample` hit numbers spread over 1..total (all of them when sample >= total), then total + 1."""
    if sample >= total:
        ks = list(range(1, total + 1))
    else:
        ks = sorted({1 + round(i * (total - 1) / max(1, sample - 1)) for i in range(sample)})
    return ks + [total + 1]


def measure(backend: str, sample: int, workdir: str) -> dict[str, Any]:
    total = count_points(backend, workdir)
    root = tempfile.mkdtemp(prefix="enum-", dir=workdir)
    per_point: list[float] = []
    failures: list[str] = []
    consistent = True
    try:
        for k in evenly(total, sample):
            start = clock()
            fired, verdict = trial(backend, root, LIFECYCLE, plan_for("crash", k))
            per_point.append(clock() - start)
            consistent &= bool(fired) == (k <= total)
            if verdict != "ok":
                failures.append(f"hit {k}: {verdict[:200]}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    seconds = sum(per_point)
    return {"points": total, "trials": len(per_point), "full": sample >= total, "seconds": round(seconds, 2),
            "points_per_s": round(len(per_point) / seconds, 2), "seconds_per_point": summary(per_point, 4),
            "estimated_full_enumeration_s": round((total + 1) * seconds / len(per_point), 1),
            "point_count_checked": consistent, "failures": failures}
