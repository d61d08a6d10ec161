"""Overhead: one fixed trace (benchmarks/trace.py) replayed at four layers, back to back in each repetition
(the order rotates, so no layer always runs on a warmer or busier machine):

- raw:      the backend's primitives only (trace.RawReplay);
- engine:   sut.open_database(...) and the contract calls;
- model:    the differential machine's rules called directly: engine call + model step + possible-state check;
- harness:  the same plus the machine's invariants after every step (full observation + inventory), as
            Hypothesis runs them; Hypothesis's own data generation is the only part not in here.

Ratios are per repetition: engine/raw is what the engine adds, model/engine and harness/engine what the
harness adds on top of the engine. On LMDB a whole trace takes a few milliseconds, where one preemption by
another job on a shared machine is a millisecond or more: so each repetition times every layer `inner`
times and keeps the fastest (the least disturbed) run, and the median is over repetitions."""
from __future__ import annotations

import shutil
import tempfile
from typing import Any, Callable

import sut
from benchmarks import machines
from benchmarks.stats import clock, summary
from benchmarks.trace import RawReplay, trace
from model.ops import Op

LAYERS = ("raw", "engine", "model", "harness")


def _time_calls(opener: Any, prefix: str, workdir: str, ops: list[Op]) -> float:
    """Seconds to replay `ops` on what `opener(path)` returns, in a fresh directory (setup not timed)."""
    path = tempfile.mkdtemp(prefix=prefix, dir=workdir)
    target = opener(path)
    try:
        start = clock()
        for op in ops:
            op.call(target)
        return clock() - start
    finally:
        target.close()
        shutil.rmtree(path, ignore_errors=True)


def _time_raw(backend: str, workdir: str, ops: list[Op]) -> float:
    return _time_calls(lambda p: RawReplay(backend, p), "raw-", workdir, ops)


def _time_engine(backend: str, workdir: str, ops: list[Op]) -> float:
    return _time_calls(lambda p: sut.open_database(backend, p), "engine-", workdir, ops)


def _rule(m: Any, op: Op) -> None:
    """The machine's rule for `op`, called as Hypothesis would call it."""
    a = op.args
    if op.name == "create_table":
        m.create_table(w=0, name=a[0], indexed=list(a[1]))
    elif op.name == "put":
        m.put(w=0, table=a[0], branch=a[3], key=a[1], record=a[2])
    elif op.name == "delete":
        m.delete(w=0, table=a[0], branch=a[2], key=a[1])
    elif op.name == "get":
        m.get(w=0, table=a[0], branch=a[2], key=a[1])
    elif op.name == "find":
        m.find(w=0, table=a[0], branch=a[3], attr=a[1], value=a[2])
    else:
        raise ValueError(f"no rule for {op!r}")


def _time_machine(cls: type, ops: list[Op], invariants: bool) -> float:
    m = cls()
    m.db = m.open_db()  # what the `open` initialize rule does, outside the timed part
    m.workers = [m.db]
    try:
        start = clock()
        for op in ops:
            _rule(m, op)
            if invariants:
                m.observable_state_matches()
                m.authority_matches_disk()
        return clock() - start
    finally:
        m.teardown()


def measure(backend: str, records: int, reps: int, workdir: str, inner: int = 1) -> dict[str, Any]:
    ops = trace(records)
    cls = machines.make("differential", backend, workdir, tag="Overhead")
    layers: dict[str, Callable[[], float]] = {
        "raw": lambda: _time_raw(backend, workdir, ops),
        "engine": lambda: _time_engine(backend, workdir, ops),
        "model": lambda: _time_machine(cls, ops, invariants=False),
        "harness": lambda: _time_machine(cls, ops, invariants=True),
    }
    samples: dict[str, list[float]] = {name: [] for name in LAYERS}
    for rep in range(reps):
        order = LAYERS[rep % len(LAYERS):] + LAYERS[:rep % len(LAYERS)]
        for name in order:
            samples[name].append(min(layers[name]() for _ in range(inner)))
    ratios = {
        "engine_over_raw": [e / r for e, r in zip(samples["engine"], samples["raw"], strict=True)],
        "model_over_engine": [m / e for m, e in zip(samples["model"], samples["engine"], strict=True)],
        "harness_over_engine": [h / e for h, e in zip(samples["harness"], samples["engine"], strict=True)],
        "harness_over_raw": [h / r for h, r in zip(samples["harness"], samples["raw"], strict=True)],
    }
    return {
        "reps": reps, "inner": inner,
        "trace": {"records": records, "ops": len(ops),
                  "mix": {name: sum(op.name == name for op in ops) for name in dict.fromkeys(o.name for o in ops)}},
        "seconds": {name: summary(s) for name, s in samples.items()},
        "us_per_op": {name: round(1e6 * summary(s)["median"] / len(ops), 1) for name, s in samples.items()},
        "ratios": {name: summary(r, 2) for name, r in ratios.items()},
    }
