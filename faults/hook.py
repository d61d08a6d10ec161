"""The failpoint hook. The engine calls `failpoints.hit("area.step")` at every protocol step.

One `Failpoints` per database instance, never a module global, so tests run in parallel (xdist, threads).
Without a plan a hit costs one dict increment: the counts are the coverage counters reports read.
"""
from __future__ import annotations

from collections import Counter
from typing import Any, Protocol


class Plan(Protocol):
    def on_hit(self, name: str, hit: int, failpoints: Failpoints) -> None: ...


class Failpoints:
    __slots__ = ("fired", "hits", "plan")

    def __init__(self, plan: Plan | None = None) -> None:
        self.plan = plan
        self.hits: Counter[str] = Counter()
        self.fired: list[tuple[str, int, str]] = []  # (failpoint, hit number, action) of every fault

    def hit(self, name: str) -> None:
        self.hits[name] += 1
        if self.plan is not None:
            self.plan.on_hit(name, self.hits[name], self)

    def record(self, name: str, hit: int, action: str) -> None:
        self.fired.append((name, hit, action))

    def report(self) -> dict[str, Any]:
        return {"hits": dict(self.hits), "fired": list(self.fired)}
