"""The set of possible model states (etcd's non-deterministic model; Jepsen's ok/fail/info).

"Failed requests fork the possible states, while successful requests merge and filter them." An ok call
keeps the states in which the model gives the same answer; a contract error keeps the states in which the
model raises the same error; a `StorageError`/`Conflict` or a crash forks each state into the outcomes the
model declares for that operation (model.step). An empty set is a `Violation` carrying the history.

The set is bounded: past `bound` distinct states the checker raises `TooManyStates` (a harness failure,
never a pass). Harnesses keep the set small by observing after an uncertain call: every observation
filters the set, and one full read (tables, branches, scans) collapses it.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from model import errors as E
from model.linear import Call, explain, linearize
from model.ops import Op, canon
from model.state import State
from model.step import Outcome, outcomes_on_crash, outcomes_on_error, outcomes_on_restart, step

BOUND_DEFAULT = 512
UNCERTAIN_ERRORS = (E.StorageError, E.Conflict)


class Violation(AssertionError):
    """No model state explains what the engine did. `history` is the list of (op, what happened)."""

    def __init__(self, message: str, history: list[tuple[Op, str]], candidates: list[State]) -> None:
        self.history = list(history)
        self.candidates = candidates
        lines = [message, "history (oldest first):"] + [f"  {op!r}  # {what}" for op, what in history]
        lines += ["candidate states before the last step:"] + [f"  {c.describe()}" for c in candidates[:8]]
        super().__init__("\n".join(lines))


class TooManyStates(RuntimeError):
    """The possible-state set outgrew its bound: the checker cannot decide, which is never a pass."""


def error_kind(exc: BaseException) -> type[E.ContractError]:
    """The contract class an engine error is compared as: injected errors count as `StorageError`."""
    if isinstance(exc, E.InjectedError):
        return E.StorageError
    return type(exc)  # type: ignore[return-value]


@dataclass
class PossibleStates:
    states: frozenset[State] = field(default_factory=lambda: frozenset({State()}))
    bound: int = BOUND_DEFAULT
    history: list[tuple[Op, str]] = field(default_factory=list)

    # -- the three outcomes ------------------------------------------------------------------------
    def ok(self, op: Op, answer: Any) -> None:
        """The engine returned `answer`: keep the states whose model answer is the same."""
        want = canon(op.name, answer)
        kept = set()
        for s in self.states:
            s2, out = step(s, op)
            if out.error is None and out.answer == want:
                kept.add(s2)
        self._replace(kept, op, f"returned {want!r}")

    def failed(self, op: Op, exc: BaseException) -> None:
        """The engine raised a contract error: certain (fail) or uncertain (StorageError/Conflict)."""
        kind = error_kind(exc)
        if issubclass(kind, UNCERTAIN_ERRORS):
            self._fork(op, outcomes_on_error, f"raised {kind.__name__}")
            return
        kept = set()
        for s in self.states:
            _s2, out = step(s, op)
            if out.error is kind:
                kept.add(s)
        self._replace(kept, op, f"raised {kind.__name__}")

    def crashed(self, op: Op, why: str = "crashed") -> None:
        """The call died mid-way (a crash, or an unexpected exception): indeterminate."""
        self._fork(op, outcomes_on_crash, why)

    def concurrent(self, calls: Sequence[Call]) -> None:
        """Calls that overlapped in real time (model.linear): keep every state some order consistent with
        it explains; none is a `Violation` that prints the calls, their overlaps and the longest order
        found. Past the checker's bound: `Undecided`, never a pass."""
        result = linearize(self.states, calls)
        what = f"concurrently with {len(calls) - 1} other call(s)"
        if not result.states:
            history = self.history + [(c.op, f"{c.outcome()} {what}") for c in calls]
            raise Violation("no order of the concurrent calls consistent with real time explains every answer\n"
                            + explain(calls, result), history, sorted(self.states, key=State.describe))
        if len(result.states) > self.bound:
            raise TooManyStates(f"{len(result.states)} possible states after {len(calls)} concurrent calls "
                                f"(bound {self.bound})")
        self.states = result.states
        self.history += [(c.op, f"{c.outcome()} {what}, [{c.start}, {c.end}]") for c in calls]

    def restarted(self) -> None:
        """The database was reopened: interrupted backfills resume, each may finish or not."""
        self._fork(Op("open", ()), lambda s, _op: outcomes_on_restart(s), "reopened")

    # -- queries -----------------------------------------------------------------------------------
    def expected(self, op: Op) -> set[Outcome]:
        """Every outcome some possible state gives for `op` (for messages and for choosing checks)."""
        return {step(s, op)[1] for s in self.states}

    def only(self) -> State:
        """The single possible state (after a full observation); a harness error when ambiguous."""
        if len(self.states) != 1:
            raise TooManyStates(f"{len(self.states)} states where exactly one was expected")
        return next(iter(self.states))

    def __len__(self) -> int:
        return len(self.states)

    # -- internals ---------------------------------------------------------------------------------
    def _fork(self, op: Op, outcomes: Any, what: str) -> None:
        new: set[State] = set()
        for s in self.states:
            new.update(outcomes(s, op))
        self._replace(new, op, what)

    def _replace(self, new: Iterable[State], op: Op, what: str) -> None:
        new = frozenset(new)
        if not new:
            expected = sorted({repr(o) for o in self.expected(op)})
            raise Violation(f"{op!r} {what}, but the model expected one of {expected}",
                            self.history + [(op, what)], sorted(self.states, key=State.describe))
        if len(new) > self.bound:
            raise TooManyStates(f"{len(new)} possible states after {op!r} (bound {self.bound})")
        self.states = new
        self.history.append((op, what))
