"""Linearizability of a concurrent history against the model, over the set of possible states.

Calls that overlap in real time may have taken effect in any order consistent with it: a call that
completed before another was invoked comes first; overlapping calls in either order. The history is
linearizable when some such order, applied to some possible state, explains every answer (an ok answer
equal to the model's, a certain error the model raises, an uncertain error or a crash forking into the
outcomes the model declares for it). This is Wing and Gong's search with Lowe's memoization of (calls
taken, state), as Knossos and Porcupine do it; the result is the set of states after every call.

A call whose operation has intermediate states the model declares (`model.step.INTERMEDIATES`: a
create_index persists its descriptor, `building`, before its backfill) takes effect in two steps inside its
interval when it answered ok: first the intermediate state, then the whole call from there; a call that
overlaps it may see either (a find answering IndexNotReady). One that began after it was answered never does.

The search is bounded (calls and explored nodes); past a bound it raises `Undecided`, which is never a pass.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from model import errors as E
from model.ops import READS, Op, canon
from model.state import State
from model.step import INTERMEDIATES, outcomes_on_crash, outcomes_on_error, step

MAX_CALLS = 8
MAX_NODES = 50_000
UNCERTAIN = (E.StorageError, E.Conflict)


class Undecided(RuntimeError):
    """The history is past the checker's bound: neither linearizable nor not, as far as it can tell."""


@dataclass(frozen=True)
class Call:
    """One call of a concurrent history: invoked at `start`, answered at `end` (ticks of one clock, shared
    by every worker). Exactly one of: an answer, a contract error (`error`), or `crashed` (no answer)."""
    op: Op
    start: int
    end: int
    answer: Any = None
    error: BaseException | None = None
    crashed: bool = False

    def outcome(self) -> str:
        if self.crashed:
            return "crashed"
        if self.error is not None:
            return f"raised {_kind(self.error).__name__}"
        return f"returned {canon(self.op.name, self.answer)!r}" if self.op.name in READS else "ok"

    def __repr__(self) -> str:
        return f"[{self.start}, {self.end}] {self.op!r}  # {self.outcome()}"


def _kind(exc: BaseException) -> type:
    return E.StorageError if isinstance(exc, E.InjectedError) else type(exc)


def apply(s: State, call: Call) -> list[State]:
    """The states `call` may leave from `s`, given what it answered (none: it cannot have run on `s`)."""
    if call.crashed:
        return outcomes_on_crash(s, call.op)
    if call.error is not None:
        kind = _kind(call.error)
        if issubclass(kind, UNCERTAIN):
            return outcomes_on_error(s, call.op)
        return [s] if step(s, call.op)[1].error is kind else []
    s2, out = step(s, call.op)
    return [s2] if out.error is None and out.answer == canon(call.op.name, call.answer) else []


@dataclass
class Result:
    """The states after every call, and the longest order the search could explain (for a report)."""
    states: frozenset[State]
    longest: tuple[int, ...]
    nodes: int


def _begin(call: Call) -> Any:
    """The first step of a two-step call (see above), or None: the call is one step."""
    if call.crashed or call.error is not None or call.op.name not in INTERMEDIATES:
        return None
    return lambda s: INTERMEDIATES[call.op.name](s, call.op)


def linearize(states: Iterable[State], calls: Sequence[Call], max_calls: int = MAX_CALLS,
              max_nodes: int = MAX_NODES) -> Result:
    """Every state reachable by some real-time-consistent order of `calls` that explains each answer."""
    if len(calls) > max_calls:
        raise Undecided(f"{len(calls)} overlapping calls (bound {max_calls})")
    # Steps of the search: call i's whole effect is step i; a two-step call's first is step n + i.
    n = len(calls)
    effects: dict[int, Any] = {i: (lambda s, c=c: apply(s, c)) for i, c in enumerate(calls)}
    effects.update({n + i: b for i, c in enumerate(calls) if (b := _begin(c)) is not None})
    # before[k]: the steps to take before step k: the calls answered before its call was invoked (and a
    # two-step call's first step before its second)
    before = {k: frozenset(j for j, c in enumerate(calls) if c.end < calls[k % n].start)
              | ({k + n} if k < n and k + n in effects else frozenset()) for k in effects}
    everything = frozenset(effects)
    seen: set[tuple[frozenset[int], State]] = set()
    final: set[State] = set()
    longest: tuple[int, ...] = ()
    stack: list[tuple[frozenset[int], State, tuple[int, ...]]] = [(frozenset(), s, ()) for s in states]
    while stack:
        done, s, order = stack.pop()
        if (done, s) in seen:
            continue
        seen.add((done, s))
        if len(seen) > max_nodes:
            raise Undecided(f"more than {max_nodes} (calls taken, state) pairs explored")
        if len(order) > len(longest):
            longest = order
        if done == everything:
            final.add(s)
            continue
        for k in sorted(everything - done):
            if before[k] <= done:
                taken = order + (k,) if k < n else order  # a first step is not a call taken
                stack += [(done | {k}, s2, taken) for s2 in effects[k](s)]
    return Result(frozenset(final), longest, len(seen))


def explain(calls: Sequence[Call], result: Result) -> str:
    """The calls, their overlaps and the longest order found: what a person needs to see why none fits."""
    lines = ["concurrent calls ([invoked, answered] on one clock):"] + [f"  {c!r}" for c in calls]
    taken = [calls[i] for i in result.longest]
    lines.append("longest order that explains its answers: "
                 + (", ".join(repr(c.op) for c in taken) if taken else "none (no call can go first)"))
    rest = [c for i, c in enumerate(calls) if i not in result.longest]
    if rest:
        lines.append("after it, no state explains any of: " + ", ".join(f"{c.op!r} {c.outcome()}" for c in rest))
    return "\n".join(lines)
