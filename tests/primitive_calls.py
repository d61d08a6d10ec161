"""Measures which primitive calls, on which kind of store, each operation of the reference engine makes:
every (primitive, store) pair is counted by a primitive fault that never fails (probability 0), around
each call of a short program that reaches every operation (and, apart, a branch's first write and a
backfill). targets/reference.py declares the result; tests/test_target_seam.py checks the two agree."""
from __future__ import annotations

import itertools
from functools import partial
import tempfile
from typing import Any, Callable

import sut
from faults import FaultPlan, Failpoints, SimulatedCrash
from faults.plan import PRIMITIVES, PrimitiveFault
from model.errors import ContractError

STORES = ("table", "index", "catalog")
PAIRS = list(itertools.product(PRIMITIVES, STORES))
COUNT = FaultPlan(primitives=tuple(PrimitiveFault(p, s, probability=0.0) for p, s in PAIRS))


def _recovery(backend: str) -> set[tuple[str, str]]:
    """What an open calls while it recovers: a crashed drop to complete, a crashed write to roll back
    (Lance: restore) and one to roll forward."""
    crashes = ["drop.after_tombstone"] + (["write.after_store_commit", "publish.before_manifest_cas"]
                                          if backend == "lance" else [])
    got: set[tuple[str, str]] = set()
    for point in crashes:
        path = tempfile.mkdtemp(prefix=f"prims-{backend}-")
        db = sut.open_database(backend, path)
        db.create_table("t", ("a",))
        db.put("t", "k1", {"a": 1})
        db.close()
        db = sut.open_database(backend, path, faults=FaultPlan.crash_at(point))
        try:
            db.drop_table("t") if point.startswith("drop.") else db.put("t", "k1", {"a": 2})
        except SimulatedCrash:
            db.abandon()
        fps = Failpoints(COUNT)
        sut.open_database(backend, path, faults=fps).close()
        got |= {PAIRS[i] for i, n in fps.calls.items() if n}
    return got


def measure(backend: str) -> dict[str, tuple[tuple[str, str], ...]]:
    fps = Failpoints(FaultPlan())
    db = sut.open_database(backend, tempfile.mkdtemp(prefix=f"prims-{backend}-"), faults=fps)
    used: dict[str, set[tuple[str, str]]] = {}

    def call(label: str, fn: Callable[[], Any]) -> None:
        fps.set_plan(COUNT)
        fn()
        used.setdefault(label, set()).update(PAIRS[i] for i, n in fps.calls.items() if n)
        fps.set_plan(FaultPlan())
    try:
        call("create_table", lambda: db.create_table("t", ("a",)))
        call("create_table", lambda: db.create_table("u"))
        call("empty_index", lambda: db.create_index("u", "a"))  # nothing to backfill
        for i in range(12):
            call("put", partial(db.put, "t", f"k{i}", {"a": i % 3, "b": i % 2}))
        call("delete", lambda: db.delete("t", "k0"))
        call("create_index", lambda: db.create_index("t", "b"))  # a backfill over 11 rows
        call("create_branch", lambda: db.create_branch("b"))
        call("first_write", lambda: db.put("t", "kb", {"a": 1}, "b"))
        call("put", lambda: db.put("t", "kb2", {"a": 1}, "b"))
        call("delete", lambda: db.delete("t", "kb2", "b"))
        call("optimize", db.optimize)
        call("delete_branch", lambda: db.delete_branch("b"))
        db.create_branch("c")
        db.put("t", "kc", {"a": 1}, "c")
        fps.set_plan(FaultPlan.fail_primitive("drop", "any", calls=(1,), persistent=True))
        try:  # the reclaim after the flip fails: ghosts for cleanup to reclaim
            db.delete_branch("c")
        except ContractError:
            pass
        fps.set_plan(FaultPlan())
        call("cleanup", db.cleanup)
        call("drop_table", lambda: db.drop_table("u"))
        call("drop_table", lambda: db.drop_table("t"))
    finally:
        db.close()
    used["open"] = _recovery(backend)
    empty = used.pop("empty_index")
    used["backfill"] = used["create_index"] - empty  # what only a backfill calls
    used["create_index"] |= empty
    order = {p: i for i, p in enumerate(PAIRS)}
    return {k: tuple(sorted(v, key=order.__getitem__)) for k, v in sorted(used.items())}
