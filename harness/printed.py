"""The program Hypothesis printed for a failure, read back from the failure's notes: the steps a reproducer
replays and the length the kill matrix reports."""
from __future__ import annotations

import re

_STEP = re.compile(r"^(\w+(, \w+)* = )?state\.\w+\(.*\)$")
# Initializers and the per-step checks are printed too, but they are not steps of the program.
NOT_STEPS = re.compile(r"state\.(open|main_branch|authority_matches_disk|observable_state_matches)\(")


def program_of(exc: BaseException) -> list[str]:
    """The shrunk program's steps, as Hypothesis printed them in the failure's notes."""
    lines = [ln.strip() for note in getattr(exc, "__notes__", []) for ln in str(note).splitlines()]
    return [ln for ln in lines if _STEP.match(ln) and not ln.startswith("state.teardown(")]


def program_length(exc: BaseException) -> int:
    """Rule steps of the program Hypothesis printed (initializers and per-step checks are not steps)."""
    return sum(1 for line in program_of(exc) if not NOT_STEPS.search(line))
