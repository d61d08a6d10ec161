"""Known-bug mutants: each re-creates one seed bug class by swapping one protocol step (sut.engine.steps).

`MUTANTS`: name -> Mutant. Enable with `sut.open_database(..., mutants={"name", ...})`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sut.engine.steps import STEPS


@dataclass(frozen=True)
class Mutant:
    name: str
    seed: str                 # the seed incident it re-creates
    invariant: str            # the invariant expected to catch it (DESIGN.md section 6)
    backends: tuple[str, ...]  # where the step it swaps exists
    swaps: dict[str, Callable[..., Any]] = field(default_factory=dict)


MUTANTS: dict[str, Mutant] = {}


def steps_for(mutants: Iterable[str], backend: str) -> dict[str, Callable[..., Any]]:
    """The protocol steps with the named mutants swapped in. Unknown names are an error, never ignored."""
    steps = dict(STEPS)
    for name in sorted(set(mutants)):
        if name not in MUTANTS:
            raise ValueError(f"unknown mutant {name!r}; known: {sorted(MUTANTS)}")
        m = MUTANTS[name]
        if backend not in m.backends:
            raise ValueError(f"mutant {name!r} does not apply to backend {backend!r}")
        steps.update(m.swaps)
    return steps
