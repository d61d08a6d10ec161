"""Step cost as the state grows: one database and its model built to n tables, n branches (each with its
own fork of the table) or n records, then the cost of one put, get and find through the engine, one
inventory (the white-box check every step runs), one model step of a put (the possible-state check
alone) and one full observation (tests/crashcheck.observe: the per-step check of the fault machine,
which reads every table on every branch through the engine and filters the model with each answer).

The growth exponent is the log-log slope of cost over size: ~0 flat, ~1 linear, >1 faster than linear.
A per-step cost that grows linearly makes a program of s steps cost O(s * size)."""
from __future__ import annotations

import shutil
import tempfile
from typing import Any, Callable

import sut
from benchmarks.stats import clock, growth_exponent, summary, tail_exponent
from model.ops import Op
from model.possible import PossibleStates
from harness.crashcheck import observe, run

DIMENSIONS = ("tables", "branches", "records")
METRICS = ("put", "get", "find", "inventory", "model_step", "observe")


def build(backend: str, path: str, dim: str, n: int) -> tuple[Any, PossibleStates]:
    """Table t (index on a, one record) plus n-1 more tables, branches or records."""
    db = sut.open_database(backend, path)
    model = PossibleStates()
    do = lambda name, *a: run(db, model, Op.make(name, *a))  # noqa: E731 - engine and model in step
    do("create_table", "t", ("a",))
    do("put", "t", "k0", {"a": 0})
    for i in range(1, n):
        if dim == "tables":
            do("create_table", f"u{i}", ("a",))
            do("put", f"u{i}", "k0", {"a": 0})
        elif dim == "branches":
            do("create_branch", f"b{i}")
            do("put", "t", f"k{i}", {"a": 1}, f"b{i}")  # the first write forks t onto the branch
        else:
            do("put", "t", f"k{i}", {"a": i % 3})
    model.history.clear()  # the history only feeds error messages; it is not part of the state
    return db, model


def _cost(fn: Callable[[], Any], reps: int) -> float:
    samples = []
    for _ in range(reps):
        start = clock()
        fn()
        samples.append(clock() - start)
    return summary(samples, 7)["median"]


def point(backend: str, dim: str, n: int, reps: int, workdir: str) -> dict[str, float]:
    path = tempfile.mkdtemp(prefix=f"growth-{dim}{n}-", dir=workdir)
    db, model = build(backend, path, dim, n)
    try:
        counter = iter(range(10**6))
        put = lambda: run(db, model, Op.make("put", "t", f"p{next(counter)}", {"a": 2}))  # noqa: E731
        probe = Op.make("put", "t", "probe", {"a": 2})
        costs = {
            "put": _cost(put, reps),
            "get": _cost(lambda: db.get("t", "k0"), reps),
            "find": _cost(lambda: db.find("t", "a", 0), reps),
            "inventory": _cost(db.inventory, reps),
            # on a throwaway copy of the set: measure the model without changing it
            "model_step": _cost(lambda: PossibleStates(states=model.states).ok(probe, None), reps),
            "observe": _cost(lambda: observe(db, model), reps),
        }
    finally:
        db.close()
        shutil.rmtree(path, ignore_errors=True)
    return costs


SUPERLINEAR = 1.2  # a tail exponent above this is called faster than linear (noise moves it by ~0.1-0.2)


def measure(backend: str, sizes: tuple[int, ...], reps: int, workdir: str) -> dict[str, Any]:
    out: dict[str, Any] = {"sizes": list(sizes), "reps": reps}
    for dim in DIMENSIONS:
        points = [point(backend, dim, n, reps, workdir) for n in sizes]
        out[dim] = {m: {"seconds": [p[m] for p in points],
                        "exponent": growth_exponent(sizes, [p[m] for p in points]),
                        "tail_exponent": tail_exponent(sizes, [p[m] for p in points])} for m in METRICS}
    out["faster_than_linear"] = [f"{m} over {dim} ({out[dim][m]['tail_exponent']})" for dim in DIMENSIONS
                                 for m in METRICS if (out[dim][m]["tail_exponent"] or 0) > SUPERLINEAR]
    return out
