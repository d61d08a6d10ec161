"""Fault plans: plain frozen data, drawn from one seed and printed first, that say which failpoints crash or
raise and which backend primitives fail. The mutable side of a run (hit counters, the random generator,
what fired) lives in the database's own `Failpoints`, so one plan can drive many databases in parallel.

    FaultPlan.crash_at("area.step", hit=1)          # a failpoint of a target's catalogue
    FaultPlan.error_at("area.other_step", hit=2)
    FaultPlan.fail_primitive("put", target="index", every=10)
    plan_a | plan_b
"""
from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from faults.catalogue import known
from model.errors import InjectedError

ANY = "*"  # a point fault on every failpoint, counting hits across all of them
ACTIONS = ("crash", "error", "kill", "callback", "count")  # count: recorded in `fired`, nothing else
PRIMITIVES = ("put", "create", "drop", "fork", "read", "restore", "compact")
TARGETS = ("table", "index", "catalog", "any")


class SimulatedCrash(BaseException):
    """Process death in the middle of a call, in process: not an `Exception`, so no engine handler can
    swallow it; the harness abandons the database and reopens the path."""


@dataclass(frozen=True)
class PointFault:
    failpoint: str
    action: str
    hit: int | None = None          # the nth hit (1-based); with `every` and `probability` unset: every hit
    every: int | None = None        # every nth hit
    probability: float | None = None  # drawn from the plan's seed
    callback: Callable[[], Any] | None = field(default=None, compare=False)

    def matches(self, n: int, rng: Any) -> bool:
        if self.hit is not None and n != self.hit:
            return False
        if self.every is not None and n % self.every:
            return False
        return self.probability is None or rng.random() < self.probability


@dataclass(frozen=True)
class PrimitiveFault:
    primitive: str
    target: str = "any"
    every: int | None = None          # every nth matching call fails
    calls: tuple[int, ...] = ()       # these matching calls (1-based) fail
    persistent: bool = False          # from the first failing call on, every matching call fails
    probability: float | None = None

    def fails(self, first: int, last: int, rng: Any, started: bool) -> bool:
        """Does any of the matching calls numbered first..last fail? (A batch of puts is several calls.)"""
        if self.persistent and started:
            return True
        if self.every is not None and last // self.every > (first - 1) // self.every:
            return True
        if any(first <= c <= last for c in self.calls):
            return True
        return self.probability is not None and any(rng.random() < self.probability
                                                    for _ in range(last - first + 1))


@dataclass(frozen=True)
class FaultPlan:
    seed: int = 0
    points: tuple[PointFault, ...] = ()
    primitives: tuple[PrimitiveFault, ...] = ()

    def __post_init__(self) -> None:
        for p in self.points:
            if p.failpoint != ANY and not known(p.failpoint):
                raise ValueError(f"unknown failpoint {p.failpoint!r}: in no target's catalogue")
            if p.action not in ACTIONS:
                raise ValueError(f"unknown action {p.action!r}; choose from {ACTIONS}")
        for f in self.primitives:
            if f.primitive not in PRIMITIVES or f.target not in TARGETS:
                raise ValueError(f"unknown primitive fault {f.primitive}/{f.target}: {PRIMITIVES} x {TARGETS}")

    # -- building ----------------------------------------------------------------------------------
    @classmethod
    def crash_at(cls, failpoint: str, hit: int = 1, **kw: Any) -> "FaultPlan":
        return cls(points=(PointFault(failpoint, "crash", hit=hit, **kw),))

    @classmethod
    def error_at(cls, failpoint: str, hit: int = 1, **kw: Any) -> "FaultPlan":
        return cls(points=(PointFault(failpoint, "error", hit=hit, **kw),))

    @classmethod
    def kill_at(cls, failpoint: str, hit: int = 1) -> "FaultPlan":
        """Real process death: the process sends itself SIGKILL at that hit (child processes only)."""
        return cls(points=(PointFault(failpoint, "kill", hit=hit),))

    @classmethod
    def callback_at(cls, failpoint: str, callback: Callable[[], Any], hit: int = 1) -> "FaultPlan":
        """Run `callback` at that hit: another operation interleaved at a precise point."""
        return cls(points=(PointFault(failpoint, "callback", hit=hit, callback=callback),))

    @classmethod
    def fail_primitive(cls, primitive: str, target: str = "any", every: int | None = None,
                       calls: tuple[int, ...] = (), persistent: bool = False,
                       probability: float | None = None) -> "FaultPlan":
        return cls(primitives=(PrimitiveFault(primitive, target, every, tuple(calls), persistent, probability),))

    def __or__(self, other: "FaultPlan") -> "FaultPlan":
        return FaultPlan(self.seed or other.seed, self.points + other.points, self.primitives + other.primitives)

    def with_seed(self, seed: int) -> "FaultPlan":
        return replace(self, seed=seed)

    # -- running (called through faults.hook.Failpoints) -------------------------------------------
    def on_hit(self, name: str, n: int, fps: Any) -> None:
        for p in self.points:
            if p.failpoint == ANY:
                if not p.matches(fps.total, fps.rng):
                    continue
            elif p.failpoint != name or not p.matches(n, fps.rng):
                continue
            fps.record(name, n, p.action)
            if p.action == "crash":
                raise SimulatedCrash(f"planned crash at {name} (hit {n})")
            if p.action == "error":
                raise InjectedError(f"planned error at {name} (hit {n})")
            if p.action == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if p.action == "callback" and p.callback is not None:
                p.callback()

    def wrap(self, backend: Any, fps: Any, kind_of: Callable[[str], str]) -> Any:
        """Every database opened with a plan gets the failing-primitive wrapper, so primitive faults can
        also be armed later in the run; a database opened without a plan pays nothing."""
        from faults.primitives import FaultyBackend
        return FaultyBackend(backend, fps, kind_of)
