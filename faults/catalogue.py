"""What a failpoint is, for any target: its name (`area.step`), the operation that reaches it, what a crash
there leaves behind, and tags that tell the fault machine where it can do more than crash:

- `FIRST_WRITE`: reached only by the first write to a table on a branch (the fork), not by later writes;
- `INTERLEAVE`: the engine holds no lock there that other workers' calls need, so they can run at it;
- `RACING_OPEN`: inside recovery, where a second opener of the same path may run its own recovery;
- `WAITS`: a call is about to wait for another call (a lock another worker holds): a call the machine runs
  inside another (harness.interleave) that reaches it lets the paused call go on, instead of waiting on it.

Each target declares its own catalogue (`Target.catalogue`); `register` adds its failpoints to `CATALOGUE`,
the names every plan is checked against when it is built, so a plan naming a failpoint no target has is
refused then, never a plan that silently never fires.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

FIRST_WRITE, INTERLEAVE, RACING_OPEN, WAITS = "first_write", "interleave", "racing_open", "waits"


@dataclass(frozen=True)
class Failpoint:
    name: str
    operation: str
    leaves: str
    tags: frozenset[str] = frozenset()


CATALOGUE: dict[str, Failpoint] = {}  # every registered target's failpoints, by name


def register(failpoints: Iterable[Failpoint]) -> None:
    """Make a target's failpoints known to plans. A name registered twice must mean the same step."""
    for fp in failpoints:
        known = CATALOGUE.get(fp.name)
        if known is not None and (known.operation, known.leaves) != (fp.operation, fp.leaves):
            raise ValueError(f"failpoint {fp.name!r} registered twice with different meanings")
        CATALOGUE.setdefault(fp.name, fp)


def known(name: str) -> bool:
    """Is `name` a registered failpoint? Unknown names load the installed targets first (their modules
    register their catalogues on import), so a plan can be built before any engine was imported."""
    if name not in CATALOGUE:
        from importlib.metadata import entry_points
        for ep in entry_points(group="ghostcheck.targets"):
            try:
                ep.load()
            except Exception:  # noqa: BLE001 - a broken third-party target must not hide our own names
                continue
    return name in CATALOGUE
