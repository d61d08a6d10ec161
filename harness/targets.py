"""Finding targets by name: every `Target` registered under the entry-point group `ghostcheck.targets`, or
one named as `module:object` (a Target, or a callable returning one or a list of them).

    [project.entry-points."ghostcheck.targets"]
    myengine = "mypackage.suite_target:TARGET"
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from harness.target import Target

GROUP = "ghostcheck.targets"


def _targets_of(obj: Any, where: str) -> list[Target]:
    if callable(obj) and not isinstance(obj, Target):
        obj = obj()
    found = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    for t in found:
        if not isinstance(t, Target):
            raise TypeError(f"{where} gave {t!r}, which is not a harness.target.Target")
    return found


@lru_cache(maxsize=None)
def registered() -> dict[str, Target]:
    """Every target of every installed entry point, by name (a name registered twice is an error)."""
    out: dict[str, Target] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        for t in _targets_of(ep.load(), f"entry point {ep.name} = {ep.value}"):
            if t.name in out and out[t.name] is not t:
                raise ValueError(f"two targets are named {t.name!r} (entry point {ep.name})")
            out[t.name] = t
    return out


def load(spec: str) -> Target:
    """A target by registered name, or by `module:object`."""
    if ":" in spec:
        module, _, attr = spec.partition(":")
        found = _targets_of(getattr(importlib.import_module(module), attr), spec)
        if len(found) != 1:
            raise ValueError(f"{spec} gives {len(found)} targets; name one of them: {[t.name for t in found]}")
        return found[0]
    known = registered()
    if spec not in known:
        raise KeyError(f"no target named {spec!r}; registered: {sorted(known)} (or give module:object)")
    return known[spec]


def load_many(specs: str) -> list[Target]:
    """Comma-separated names or module:object specs."""
    return [load(s.strip()) for s in specs.split(",") if s.strip()]


def resolve(target: Target | str) -> Target:
    """A target given as itself or by name (a reproducer or a command line names it)."""
    return load(target) if isinstance(target, str) else target
