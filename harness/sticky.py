"""A failure the scheduler decided, made to stick to the program that met it, for the rest of the run.

Hypothesis shrinks a failure by running its program again, and its variants; it refuses a run that stops
drawing elsewhere than the run it follows (FlakyStrategyDefinition). A program whose calls ran at once
(harness.concurrent) may fail once and pass when run again, and the finding would be lost behind that
refusal. So once a program has run calls at once, a failure is recorded against the steps that led to it
(every rule with its arguments, in order, and where it failed: the step or an invariant after it); a later
run of the same steps that passes that point raises it again, with a note that this run did not fail
there. A variant the shrinker tries fails by itself or not at all, so the program printed at the end failed
at least once; its reproducer runs it a bounded number of times and says how often it failed
(stress.replay.attempts). Programs without calls run at once are never touched.

The other way round Hypothesis refuses too: a program that passed a point once and fails there later. Then
no program is printed, so the first failure of a program with calls run at once is kept here (`FOUND`) with
the program that led to it, written from the trail as a reproducer runs it (unshrunk): the stress job
reports that one.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SEEN: dict[tuple[Any, ...], BaseException] = {}
LIMIT = 1000  # failures kept in one process: a run meets a handful
FOUND: list[tuple[BaseException, list[str]]] = []  # the first one, with its program (stress.worker clears it)


def step(name: str, args: tuple, kwargs: dict[str, Any]) -> str:
    """One step of the trail, as a reproducer calls it."""
    return f"state.{name}({', '.join([*map(repr, args), *(f'{k}={v!r}' for k, v in sorted(kwargs.items()))])})"


@contextmanager
def sticking(machine: Any, where: str) -> Iterator[None]:
    """Around one step (or invariant) of `machine`, whose `trail` holds the steps so far."""
    key = (type(machine), tuple(machine.trail), where)
    try:
        yield
    except (AssertionError, RuntimeError) as e:  # a finding (CheckFailed, Violation, Undecided, TooManyStates)
        if machine.scheduled:
            if len(SEEN) >= LIMIT:
                SEEN.clear()
            SEEN[key] = e
            if not FOUND:
                FOUND.append((e, list(machine.program)))
        raise
    seen = SEEN.get(key)
    if seen is not None:
        # The same object, so its traceback (and Hypothesis's reading of where it came from) is the first
        # run's; the notes Hypothesis added to it then go, the program is printed again below.
        if hasattr(seen, "__notes__"):
            del seen.__notes__
        seen.add_note(f"this run of the program passed {where}; an earlier run of it failed there as above "
                      "(its calls ran at once: where they overlap is up to the scheduler)")
        raise seen


def sticky(fn: Any) -> Any:
    """An invariant, or the teardown's heal phase, whose failure sticks as a step's does."""
    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if fn.__name__ != "teardown":  # the checks between steps, as a printed program has them
            self.program.append(step(fn.__name__, args, kwargs))
        with sticking(self, fn.__name__):
            return fn(self, *args, **kwargs)
    return wrapper
