"""The program Hypothesis printed for a failure, read back from the failure's notes: the steps a reproducer
replays and the length the kill matrix reports."""
from __future__ import annotations

import ast
import re

_STEP = re.compile(r"^(\w+(, \w+)* = )?state\.\w+\(.*\)$")
# Initializers and the per-step checks are printed too, but they are not steps of the program.
NOT_STEPS = re.compile(r"state\.(open|main_branch|authority_matches_disk|observable_state_matches)\(")


def _statements(lines: list[str]) -> list[str]:
    """Whole statements, each on one line: Hypothesis prints a long call over several lines, with
    comments ("# or any other generated value") that only explain it; `ast` joins the lines and drops them."""
    out: list[str] = []
    buf: list[str] = []
    for line in lines:
        if not buf and not re.match(r"^(\w+(, \w+)* = )?state\.\w+\(", line):
            continue
        buf.append(line)
        try:
            tree = ast.parse("\n".join(buf))
        except SyntaxError:
            if len(buf) > 200:  # never a statement: give up on it
                buf = []
            continue
        out.append(ast.unparse(tree))
        buf = []
    return out


def program_of(exc: BaseException) -> list[str]:
    """The shrunk program's steps, as Hypothesis printed them in the failure's notes."""
    lines = [ln.strip() for note in getattr(exc, "__notes__", []) for ln in str(note).splitlines()]
    return [ln for ln in _statements(lines) if _STEP.match(ln) and not ln.startswith("state.teardown(")]


def program_length(exc: BaseException) -> int:
    """Rule steps of the program Hypothesis printed (initializers and per-step checks are not steps)."""
    return sum(1 for line in program_of(exc) if not NOT_STEPS.search(line))
