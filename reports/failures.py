"""A failed pytest test as a summary failure: class, invariant, backend, failpoint and the Hypothesis program,
read from the report's text (the plugin sees text only: under xdist the exception stayed in the worker)."""
from __future__ import annotations

import re
import shlex
from typing import Any

from faults.catalogue import ALL, CATALOGUE
from harness.invariants import INVARIANTS  # the one list

_MARKERS = ("Falsifying example", "Failing test case")
# What ends the program that Hypothesis printed: its explanation, the blob line, or pytest's next section.
_AFTER_PROGRAM = ("Explanation:", "You can reproduce", "You can add", "Highest target", "@reproduce_failure",
                  "Trying example", "Unreliable")
_E_PREFIX = re.compile(r"^E {0,7}")
_FAILPOINT = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(CATALOGUE, key=len, reverse=True)) + r")\b")


def error_lines(text: str) -> list[str]:
    """The exception lines of a pytest long repr ("E   ..."), without the source lines around them."""
    return [_E_PREFIX.sub("", line) for line in text.splitlines() if line.startswith("E")
            and _E_PREFIX.match(line) and (len(line) == 1 or line[1] == " ")]


def invariant_of(message: str) -> str | None:
    """The invariant a failure message names: "I5: ..." and "I5 no ghosts: ..." both give "I5 no ghosts"."""
    m = re.search(r"\bI(\d+)\b", message)
    if m and 1 <= int(m.group(1)) <= len(INVARIANTS):
        return INVARIANTS[int(m.group(1)) - 1]
    m = re.search(r"\bI\d+ [a-z ]+", message)
    if m:
        return m.group(0).strip()
    return "I1-I4 (possible states)" if "Violation" in message else None


def classify(message: str) -> str:
    invariant = invariant_of(message)
    if invariant is None:
        return "harness"
    return "liveness" if invariant.startswith(("I9 ", "I11 ")) else "correctness"


def program_of(text: str) -> str | None:
    """The shrunk program Hypothesis printed after "Falsifying example" / "Failing test case"."""
    lines = [_E_PREFIX.sub("", ln) if ln.startswith("E") else ln for ln in text.splitlines()]
    start = max((i for i, ln in enumerate(lines) if ln.strip().startswith(_MARKERS)), default=None)
    if start is None:
        return None
    head = lines[start].split(":", 1)[1].strip()
    program = [] if head.startswith("<") or not head else [head]  # "<state machine>" is a label, not code
    for line in lines[start + 1:]:
        if not line.strip() or line.strip().startswith(_AFTER_PROGRAM) or re.match(r"^\S+:\d+: ", line):
            break
        program.append(line.rstrip())
    return "\n".join(program) or None


def backend_of(nodeid: str) -> str | None:
    m = re.search(r"\[([^\]]*)\]$", nodeid)
    ids = m.group(1).split("-") if m else []
    return next((b for b in ALL if b in ids), None)


def from_report(nodeid: str, crash: str, text: str) -> dict[str, Any]:
    """`crash`: the final exception's one-line message; `text`: the whole long repr and captured output."""
    errors = "\n".join(error_lines(text))
    invariant = invariant_of(crash) or invariant_of(errors)
    first = next((ln for ln in (crash or errors or text).splitlines() if ln.strip()), "unknown failure")
    failpoint = _FAILPOINT.search(crash or "") or _FAILPOINT.search(errors)
    backend = backend_of(nodeid)
    fp = failpoint.group(1) if failpoint else None
    name = invariant or first.strip()[:200]
    return {"signature": [name, fp, backend], "class": classify(crash) if invariant_of(crash) else classify(errors),
            "backend": backend, "seed": None, "invariant": name, "failpoint": fp,
            "detail": (crash or errors or text).strip()[:4000], "program": program_of(text), "reproducer": None,
            "reproducer_fails": None, "data_dir": None, "count": 1, "nodeid": nodeid,
            "command": f"pytest {shlex.quote(nodeid)}"}
