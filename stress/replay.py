"""What a reproducer file needs at run time: the machine class it replays, and `keep`, which copies the
machine's data directory and the faults that fired before the teardown removes them (when
GHOSTCHECK_KEEP_DATA names where to put them)."""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from typing import Any

from harness.fault_machine import machine_for
from harness.target import Target
from harness.targets import resolve


def machine_class(target: Target | str, mutants: tuple[str, ...] = ()) -> type:
    """The stress machine for a target (or a target's name) and mutant set; its name is stable, so
    Hypothesis keys its example database entries the same way in every process and on every machine
    sharing the database."""
    t = resolve(target)
    suffix = "".join(f"_{m}" for m in sorted(mutants))
    return machine_for(t, tuple(mutants), name=f"Stress_{t.name}{suffix}")


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


def attempts(program: Callable[[], None], runs: int) -> None:
    """Run a reproducer's program `runs` times. Once: its failure is raised as it is. More (calls run at
    once, where the scheduler decides the overlap): every run, then the first failure, noting in how many
    runs it reproduced (stress.artifacts reads the note into the report)."""
    if runs == 1:
        program()
        return
    failures: list[BaseException] = []
    kept = os.environ.get("GHOSTCHECK_KEEP_DATA")
    try:
        for _ in range(runs):
            try:
                program()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as e:  # noqa: BLE001 - a failed run, counted; the first is raised below
                failures.append(e)
                os.environ.pop("GHOSTCHECK_KEEP_DATA", None)  # the data directory the first failure left
    finally:
        if kept is not None:
            os.environ["GHOSTCHECK_KEEP_DATA"] = kept
    print(f"reproduced in {len(failures)} of {runs} runs")
    if failures:
        failures[0].add_note(f"reproduced in {len(failures)} of {runs} runs")
        raise failures[0]
