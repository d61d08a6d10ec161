"""The failpoint hook. The engine calls `failpoints.hit("area.step")` at every protocol step.

One `Failpoints` per database instance, never a module global, so tests run in parallel (xdist, threads).
Without a plan a hit costs one dict increment: the counts are the coverage counters reports read.
"""
from __future__ import annotations

import random
from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterator


class Failpoints:
    __slots__ = ("plan", "hits", "fired", "total", "rng", "calls", "failing")

    def __init__(self, plan: Any = None) -> None:
        self.plan = plan
        self.hits: Counter[str] = Counter()
        self.fired: list[tuple[str, int, str]] = []  # (failpoint or primitive, hit or call number, action)
        self.total = 0
        self.rng = random.Random(getattr(plan, "seed", 0))
        self.calls: Counter[Any] = Counter()   # matching primitive calls per primitive fault
        self.failing: set[Any] = set()         # persistent primitive faults that have started

    def hit(self, name: str) -> None:
        self.hits[name] += 1
        self.total += 1
        if self.plan is not None:
            self.plan.on_hit(name, self.hits[name], self)

    def set_plan(self, plan: Any) -> None:
        """Arm a new plan mid-run (hit counters and what fired are kept; primitive counters restart)."""
        self.plan = plan
        self.calls.clear()
        self.failing.clear()

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """No fault fires inside this block (counters untouched): for the harness's own observations."""
        plan, self.plan = self.plan, None
        try:
            yield
        finally:
            self.plan = plan

    def wrap(self, backend: Any, kind_of: Any) -> Any:
        """The backend, wrapped so the plan's primitive faults apply to it (the plan decides); `kind_of`
        says what each store holds (table, index or catalog), by the engine's naming scheme."""
        return backend if self.plan is None else self.plan.wrap(backend, self, kind_of)

    def record(self, name: str, hit: int, action: str) -> None:
        self.fired.append((name, hit, action))

    def report(self) -> dict[str, Any]:
        return {"plan": repr(self.plan), "hits": dict(self.hits), "fired": list(self.fired)}
