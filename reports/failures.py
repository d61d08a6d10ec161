"""A failed pytest test as a summary failure: class, invariant, target, failpoint and the Hypothesis program.
The verdict comes as data when the failure carried one (harness.invariants.CheckFailed, sent with the
report by the plugin, also from xdist workers); a failure without one (a unit test's own assertion, a
collection error) is read from the report's text."""
from __future__ import annotations

import re
import shlex
from typing import Any

from faults.catalogue import CATALOGUE
from harness.invariants import INVARIANTS  # the one list

_MARKERS = ("Falsifying example", "Failing test case")
# What ends the program that Hypothesis printed: its explanation, the blob line, or pytest's next section.
_AFTER_PROGRAM = ("Explanation:", "You can reproduce", "You can add", "Highest target", "@reproduce_failure",
                  "Trying example", "Unreliable")
_E_PREFIX = re.compile(r"^E {0,7}")


def _failpoint(text: str) -> str | None:
    """The first registered failpoint a message names (the catalogues of the targets this run loaded)."""
    names = sorted(CATALOGUE, key=len, reverse=True)
    m = re.search(r"\b(" + "|".join(re.escape(n) for n in names) + r")\b", text) if names else None
    return m.group(1) if m else None


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
    """The target a test ran on, from its parameter ids (a registered target's name)."""
    from harness.targets import registered
    m = re.search(r"\[([^\]]*)\]$", nodeid)
    ids = m.group(1).split("-") if m else []
    try:
        names = registered()
    except Exception:  # noqa: BLE001 - a broken entry point must not stop the report
        names = {}
    return next((b for b in ids if b in names), None)


def from_report(nodeid: str, crash: str, text: str, verdict: dict[str, Any] | None = None) -> dict[str, Any]:
    """`crash`: the final exception's one-line message; `text`: the whole long repr and captured output;
    `verdict`: the failed check as data, when the failure carried one."""
    errors = "\n".join(error_lines(text))
    invariant = verdict["invariant"] if verdict else invariant_of(crash) or invariant_of(errors)
    first = next((ln for ln in (crash or errors or text).splitlines() if ln.strip()), "unknown failure")
    fp = _failpoint(verdict["detail"] if verdict else crash or "") or _failpoint(errors)
    backend = backend_of(nodeid)
    name = invariant or first.strip()[:200]
    klass = verdict["klass"] if verdict else classify(crash) if invariant_of(crash) else classify(errors)
    return {"signature": [name, fp, backend], "class": klass,
            "backend": backend, "seed": None, "invariant": name, "failpoint": fp,
            "detail": (crash or errors or text).strip()[:4000], "program": program_of(text), "reproducer": None,
            "reproducer_fails": None, "data_dir": None, "count": 1, "nodeid": nodeid,
            "command": f"pytest {shlex.quote(nodeid)}"}
