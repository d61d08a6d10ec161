"""Crash-point enumeration: run one operation sequence again and again, faulting the 1st, 2nd, 3rd ...
failpoint hit (or primitive call) until a run completes with no fault left to inject, so every crash
point of the sequence is visited. What runs the sequence and what checks the state after each fault is
the caller's (`trial`); this module only walks the points and keeps the record.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from faults.plan import ANY, FaultPlan, PointFault, PrimitiveFault


@dataclass
class Visit:
    k: int
    fired: list[tuple[str, int, str]]
    verdict: Any


@dataclass
class Enumeration:
    mode: str
    visits: list[Visit] = field(default_factory=list)
    clean: Any = None  # the verdict of the final run, in which nothing fired

    @property
    def visited(self) -> int:
        return len(self.visits)

    @property
    def failures(self) -> list[Visit]:
        return [v for v in self.visits if v.verdict != "ok"] + (
            [Visit(0, [], self.clean)] if self.clean not in (None, "ok") else [])

    def points(self) -> set[str]:
        """Every failpoint (or primitive) at which a fault was injected."""
        return {name for v in self.visits for name, _n, _a in v.fired}


def plan_for(mode: str, k: int, primitive: str = "put") -> FaultPlan:
    """The plan that faults the k-th point in `mode`: crash | error | transient | persistent."""
    if mode in ("crash", "error"):
        return FaultPlan(seed=k, points=(PointFault(ANY, mode, hit=k),))
    if mode in ("transient", "persistent"):
        return FaultPlan(seed=k, primitives=(PrimitiveFault(primitive, "any", calls=(k,),
                                                            persistent=mode == "persistent"),))
    raise ValueError(f"unknown enumeration mode {mode!r}")


def enumerate_faults(trial: Callable[[FaultPlan], tuple[list[tuple[str, int, str]], Any]], mode: str,
                     primitive: str = "put", limit: int = 2000) -> Enumeration:
    """`trial(plan)` runs the sequence under `plan` and returns (what fired, verdict). Stops at the first
    run in which nothing fired; `limit` guards against a sequence that never ends."""
    result = Enumeration(mode)
    for k in range(1, limit + 1):
        fired, verdict = trial(plan_for(mode, k, primitive))
        if not fired:
            result.clean = verdict
            return result
        result.visits.append(Visit(k, fired, verdict))
    raise RuntimeError(f"enumeration did not end within {limit} points")
