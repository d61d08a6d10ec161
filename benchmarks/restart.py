"""Restart cost: reopening after the process died. A database that has run the start of the lifecycle
(a table with an index, records, a branch with its own fork) is reopened

- in process after a clean `abandon()` (nothing to recover: the open itself);
- in process after a SimulatedCrash at `drop.after_tombstone` (open completes the tombstoned drop);
- after a real SIGKILL of a child process at the same failpoint (faults/child.py): the child's wall time
  (interpreter start, imports, open, the operations, death) and the parent's reopen with recovery.

A child that opens, closes and exits without operations gives the fixed cost of a process (`spawn_s`)."""
from __future__ import annotations

import shutil
import tempfile
from typing import Any

import sut
from benchmarks.stats import clock, summary
from faults import FaultPlan, SimulatedCrash
from faults.child import run_child
from harness.programs import LIFECYCLE

KILL_AT = ("drop.after_tombstone", 1)
PREFIX = LIFECYCLE[:5]  # create table, two puts, create branch, a put on the branch (its fork)


def _fresh(workdir: str, tag: str) -> str:
    return tempfile.mkdtemp(prefix=f"restart-{tag}-", dir=workdir)


def in_process_clean(backend: str, reps: int, workdir: str) -> list[float]:
    path = _fresh(workdir, "clean")
    db = sut.open_database(backend, path)
    for op in PREFIX:
        op.call(db)
    samples = []
    try:
        for _ in range(reps):
            start = clock()
            db.abandon()
            db = sut.open_database(backend, path)
            samples.append(clock() - start)
    finally:
        db.close()
        shutil.rmtree(path, ignore_errors=True)
    return samples


def in_process_crash(backend: str, reps: int, workdir: str) -> list[float]:
    samples = []
    for _ in range(reps):
        path = _fresh(workdir, "crash")
        db = sut.open_database(backend, path, faults=FaultPlan.crash_at(*KILL_AT))
        try:
            for op in LIFECYCLE:
                op.call(db)
            raise RuntimeError(f"{KILL_AT} never fired")
        except SimulatedCrash:
            pass
        start = clock()
        db.abandon()
        db = sut.open_database(backend, path)
        samples.append(clock() - start)
        db.close()
        shutil.rmtree(path, ignore_errors=True)
    return samples


def process_kill(backend: str, reps: int, workdir: str) -> dict[str, list[float]]:
    ops = [(op.name, op.args) for op in LIFECYCLE]
    out: dict[str, list[float]] = {"spawn_s": [], "child_s": [], "reopen_s": []}
    for _ in range(reps):
        path = _fresh(workdir, "spawn")
        start = clock()
        run_child(backend, path, [], None)
        out["spawn_s"].append(clock() - start)
        shutil.rmtree(path, ignore_errors=True)
        path = _fresh(workdir, "kill")
        start = clock()
        child = run_child(backend, path, ops, KILL_AT)
        died = clock()
        if not child.killed:
            raise RuntimeError(f"the child was not killed at {KILL_AT}: {child.returncode} {child.stderr[-500:]}")
        sut.open_database(backend, path).close()
        out["child_s"].append(died - start)
        out["reopen_s"].append(clock() - died)
        shutil.rmtree(path, ignore_errors=True)
    return out


def measure(backend: str, reps: int, kill_reps: int, workdir: str) -> dict[str, Any]:
    kill = process_kill(backend, kill_reps, workdir)
    return {"kill_at": list(KILL_AT),
            "in_process_clean_s": summary(in_process_clean(backend, reps, workdir), 5),
            "in_process_crash_s": summary(in_process_crash(backend, reps, workdir), 5),
            **{k: summary(v, 4) for k, v in kill.items()}}
