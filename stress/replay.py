"""What a reproducer file needs at run time: the machine class it replays, and `keep`, which copies the
machine's data directory and the faults that fired before the teardown removes them (when
GHOSTCHECK_KEEP_DATA names where to put them)."""
from __future__ import annotations

import json
import os
import shutil
from typing import Any

from harness.fault_machine import FaultMachine


def machine_class(backend: str, mutants: tuple[str, ...] = ()) -> type[FaultMachine]:
    """The stress machine for a backend and mutant set; its name is stable, so Hypothesis keys its example
    database entries the same way in every process and on every machine sharing the database."""
    suffix = "".join(f"_{m}" for m in sorted(mutants))
    return type(f"Stress_{backend}{suffix}", (FaultMachine,), {"backend": backend, "mutants": tuple(mutants),
                                                               "__module__": __name__})


def keep(state: Any) -> None:
    """Copy the data directory as the program left it (between calls the stores are idle, so a copy of the
    open files is what a crash would leave) plus the faults that fired."""
    target = os.environ.get("GHOSTCHECK_KEEP_DATA")
    if not target or not os.path.isdir(getattr(state, "dir", "")):
        return
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(state.dir, target)
    with open(os.path.join(target, "fired.json"), "w", encoding="utf-8") as f:
        json.dump({"fired": state.fps.fired, "hits": dict(state.fps.hits)}, f, indent=1)


def discard(state: Any) -> None:
    """After a step failed: release the stores and remove the directory without the heal phase."""
    if state.db is not None:
        state.db.abandon()
    shutil.rmtree(state.dir, ignore_errors=True)
