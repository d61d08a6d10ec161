"""What black-box faults cost, on the reference engine hosted in a child (targets/blackbox.py):

- `round_trip_s`: one `get` over the host's socket (the in-process call's cost is in `overhead`);
- `cold_open_s`: a new child with no standby (interpreter start, imports, open);
- `restart_s`: SIGKILL between calls and the next open, which takes the standby child started meanwhile;
- `kill_cycle_s`: one put killed at its first write-like system call (strace attaches, the kill lands) and the
  restart after it: `kills_per_s` is its inverse, what a black-box run pays per death;
- `syscall_fault_s`: one put with the write groups of libfiu armed for it (two fiu-ctrl calls) and failing.

Each database has a table with records first, so an open has something to recover from."""
from __future__ import annotations

import shutil
import tempfile
from typing import Any

from benchmarks.stats import clock, summary
from faults.syscalls import SyscallFault
from harness import host
from harness.host import EngineKilled, Kill


def _db(workdir: str, hosts: str) -> tuple[str, Any]:
    path = tempfile.mkdtemp(prefix="blackbox-", dir=workdir)
    db = host.start(hosts, path, syscalls_on=True)
    db.create_table("t", ("a",))
    for i in range(20):
        db.put("t", f"k{i}", {"a": i})
    return path, db


def measure(backend: str, reps: int, workdir: str) -> dict[str, Any]:
    out: dict[str, list[float]] = {k: [] for k in ("round_trip_s", "cold_open_s", "restart_s", "kill_cycle_s",
                                                   "syscall_fault_s")}
    path, db = _db(workdir, backend)
    try:
        for _ in range(reps):
            start = clock()
            for _ in range(20):
                db.get("t", "k1")
            out["round_trip_s"].append((clock() - start) / 20)
            db.abandon()
            host.stop_standbys()
            start = clock()
            db = host.start(backend, path, syscalls_on=True)
            out["cold_open_s"].append(clock() - start)
            db.abandon()
            start = clock()
            db = host.start(backend, path, syscalls_on=True)  # the standby the last start left
            out["restart_s"].append(clock() - start)
            start = clock()
            db.plan_kill("put", Kill("syscall", 1))
            try:
                db.put("t", "x", {"a": 0})
                raise RuntimeError(f"a put on {backend} made no write-like system call")
            except EngineKilled:
                pass
            db.abandon()
            db = host.start(backend, path, syscalls_on=True)
            out["kill_cycle_s"].append(clock() - start)
            start = clock()
            db.plan_syscall("put", [SyscallFault(c, "EIO") for c in ("open", "rename", "pwrite", "pwritev")])
            try:
                db.put("t", "y", {"a": 1})
            except Exception:  # noqa: BLE001 - the fault's effect differs by backend; its cost is measured
                pass
            out["syscall_fault_s"].append(clock() - start)
            db.abandon()
            db = host.start(backend, path, syscalls_on=True)
    finally:
        db.abandon()
        host.stop_standbys()
        shutil.rmtree(path, ignore_errors=True)
    cycle = summary(out["kill_cycle_s"], 4)
    return {**{k: summary(v, 5) for k, v in out.items()},
            "kills_per_s": round(1 / cycle["median"], 2) if cycle.get("median") else None}
