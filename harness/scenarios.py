"""A named scenario: a seed incident as data, an operation sequence plus the fault of the incident, that
the suite runs as one trial and then enumerates every crash point of (harness.crashcheck, harness.kill).
A target lists its own (`Target.scenarios`); the reference engine's are in targets/scenarios.py."""
from __future__ import annotations

from dataclasses import dataclass

from faults import FaultPlan
from faults.catalogue import RACING_OPEN
from model.ops import Op


@dataclass(frozen=True)
class Scenario:
    """`plan`: an error or failing-primitive plan that stays on for the whole scenario (also while its
    crash points are enumerated); `crash`: a failpoint the incident crashed at; `during`: another worker's
    calls at a failpoint's first hit; `race_opener`: a second opener recovers in the middle of the first's
    recovery (at the target's failpoint tagged RACING_OPEN)."""
    name: str
    seed: str
    program: tuple[Op, ...]
    plan: FaultPlan = FaultPlan()
    crash: str | None = None
    during: tuple[str, Op | tuple[Op, ...]] | None = None
    race_opener: bool = False

    def failpoints(self) -> set[str]:
        """The failpoints it names: a target without one of them cannot run it."""
        named = {p.failpoint for p in self.plan.points}
        named |= {self.crash} if self.crash else set()
        named |= {self.during[0]} if self.during else set()
        return named


def runs_on(scenario: Scenario, catalogue: dict) -> bool:
    """Does a target with this catalogue have every step the scenario faults?"""
    racing = any(RACING_OPEN in fp.tags for fp in catalogue.values())
    return scenario.failpoints() <= set(catalogue) and (racing or not scenario.race_opener)
