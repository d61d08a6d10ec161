"""Generic interleavings (white-box targets): one worker's call paused at one of its failpoints while
another worker runs any calls of the contract, then the first goes on.

`interleave(outer=('put', '<failpoint>', ('t', 'k1', {}, 'main')), hit=1, inner=[...])`: worker
`w` runs the outer call; at its `hit`-th own hit of the failpoint, another worker (`other`) runs the inner
calls on a thread of its own, and the outer call waits until they are done, or until one of them waits for
a lock (the target's failpoint tagged WAITS): then the outer call goes on and the inner one finishes when
it can. Both run on threads the machine waits on at a bound, so a deadlock is a liveness finding (I9),
never a hung run. Every call is stamped with its invocation and answer on one clock, and the model takes
the history through its linearizability checker (model.linear): the failpoint says only that the inner
calls began after the outer one, so where the contract leaves the order open, both orders are kept.

The inner calls are any calls of the contract on the alphabet's names: the same table, the same branch, a
same-name recreate, a branch of a name just deleted, maintenance. A printed program replays the schedule
(the failpoint callback makes the hand-off; only the inner call's tail after a lock wait runs beside the
outer one's).
"""
from __future__ import annotations

import faulthandler
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from faults import FaultPlan, PointFault, SimulatedCrash
from faults.catalogue import FIRST_WRITE, WAITS
from harness import strategies as S
from harness.blackbox import NEEDS
from harness.crashcheck import observe
from harness.invariants import fail
from harness.machine import any_op, counted
from harness.target import Capabilities, Target, points_of, points_tagged
from model import errors as E
from model.linear import Call
from model.ops import Op

RULES = {"interleave_write": ("put", "delete"), "interleave_ddl": ("create_table", "drop_table", "create_index"),
         "interleave_branch_op": ("create_branch", "delete_branch"), "interleave_maintenance": ("optimize", "cleanup"),
         "interleave_first_write": ("first_write",)}
OUTER = tuple(kind for kinds in RULES.values() for kind in kinds)
ALIASES = {"delete": "put", "first_write": "put"}  # a delete takes the steps of a put
BOUND_S = 30.0
REMOVES = ("drop_table", "delete_branch")  # a paused or inner call not done by then is hung: I9


@contextmanager
def watchdog(seconds: float) -> Iterator[None]:
    """Past `seconds`, every thread's stack goes to stderr and the process exits: a deadlock inside a
    native library that holds the GIL (tests/surface/test_lmdb_surface.py) stops the bounds above, which
    are Python's. faulthandler's timer is a C thread; the stress supervisor reports the dead worker."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def args_for(name: str, caps: Capabilities) -> st.SearchStrategy[tuple]:
    """Arguments of one outer call: tables and branches the model holds when they are drawn, and for creates the
    names faulted creates use (free ones, mostly), so that most outer calls reach their failpoints."""
    t, b = S.live_tables, S.live_branches
    indexed = st.lists(S.attrs, max_size=2, unique=True).map(tuple) if caps.indexes else st.just(())
    return {
        "put": st.tuples(t, S.keys, S.records, b), "delete": st.tuples(t, S.keys, b),
        "first_write": st.tuples(t, S.keys, S.records, S.created_branches, b),
        "create_table": st.tuples(S.created_tables, indexed), "drop_table": st.tuples(t),
        "create_index": st.tuples(t, st.sampled_from(S.ATTRS + ("c",))),
        "create_branch": st.tuples(S.created_branches, b), "delete_branch": st.tuples(b),
        "optimize": st.just(()), "cleanup": st.just(()),
    }[name]


def inner_ops(caps: Capabilities) -> st.SearchStrategy[tuple[str, tuple]]:
    """Any call of the contract, a first write (a new branch and a write to it) or maintenance, each a
    third of the draws where the target has them: a maintenance loop runs beside every client in a real
    deployment, and a first write's fork is the step of half the seed races (the outer calls have rules of
    their own for both); among a dozen kinds each would be rare. The share is drawn first: Hypothesis
    flattens nested `one_of`s into one uniform choice among all their branches."""
    parts = [any_op(caps)]
    if caps.branches:  # on a live table and parent, so that most of them fork
        parts.append(st.tuples(st.just("first_write"), st.tuples(
            S.live_tables, S.keys, S.records, S.created_branches, S.live_branches)))
    extra = [(m, ()) for m in ("optimize", "cleanup") if getattr(caps, m)]
    if extra:
        parts.append(st.sampled_from(extra))
    return parts[0] if len(parts) == 1 else st.sampled_from(range(len(parts))).flatmap(parts.__getitem__)


def expand(name: str, args: tuple, worker: int) -> list[Op]:
    """The calls of one drawn operation: a first write is a new branch off `parent`, then the write to it
    (its fork steps run only there: a branch that has written a table has forked it already)."""
    if name != "first_write":
        return [Op(name, args, worker)]
    table, key, record, branch, parent = args
    return [Op("create_branch", (branch, parent), worker), Op("put", (table, key, record, branch), worker)]


def judge(machine: Any, history: list[Call], quiet: bool, where: str) -> None:
    """The model takes the history (a violation raises with the order it could not find); then a
    StorageError with no fault in force or fired while the calls ran (`quiet`) is a wedge (I9), unless
    another overlapping call removed the table or branch it worked on (a handle on a dropped store:
    tests/test_interleavings.py accepts that). A drop is not excused by its own removal: one that fails
    because another call finished it meanwhile is the race of reconcilers without a lock (seed 000)."""
    machine.model.concurrent(history)
    for c in history:
        removing = any(o is not c and o.op.name in REMOVES for o in history)
        if isinstance(c.error, E.StorageError) and quiet and not removing:
            raise fail("I9 no wedge", f"{c!r} failed with no fault in force or fired, only {where}")
    if len(machine.model) > 1:
        with machine.fps.suspended():
            observe(machine.db, machine.model)


class InterleaveRules:
    """Mixed into FaultMachine; `interleave_rules` adds the rule where the target has failpoints and workers."""
    db: Any
    model: Any
    workers: list[Any]
    target: Target
    unexpected: list[str]

    @classmethod
    def interleave_rules(cls, target: Target) -> dict[str, Any]:
        caps = target.capabilities
        if not (caps.failpoints and caps.workers):
            return {}
        waits = set(points_tagged(target, WAITS))
        # A fork's steps are drawn for a first write only: a plain write reaches them too rarely to draw.
        needs = {**NEEDS, "first_write": "branches"}
        pairs = [(kind, p) for kind in OUTER if kind not in needs or getattr(caps, needs[kind])
                 for p in points_of(target, ALIASES.get(kind, kind)) if p not in waits
                 and (FIRST_WRITE in target.catalogue[p].tags) == (kind == "first_write")]
        out: dict[str, Any] = {}
        # One rule per group of the contract's calls, the groups of the fault rules (writes, DDL, branch
        # operations, maintenance, a first write's fork): the family then runs about one step in eight of
        # a program, where one rule among thirty would run one in thirty, and each group's steps are drawn
        # among its own (a cleanup paused at its sweep: one pair in six, not one in thirty-three).
        for name, kinds in RULES.items():
            chosen = [kp for kp in pairs if kp[0] in kinds]
            if chosen:
                outer = st.sampled_from(chosen).flatmap(
                    lambda kp: st.tuples(st.just(kp[0]), st.just(kp[1]), args_for(kp[0], caps)))
                # Most steps are hit once per call (a loop's are hit more): a second hit, one draw in four.
                out[name] = rule(w=S.workers, other=S.workers, outer=outer, hit=st.sampled_from((1, 1, 1, 2)),
                                 inner=st.lists(inner_ops(caps), min_size=1, max_size=2))(
                    precondition(lambda self: self.db is not None)(counted(cls._interleave, name)))
        return out

    def _other_worker(self, mine: int, other: int) -> int:
        """Another worker than the outer call's: a new one while there are fewer than three."""
        if len(self.workers) < 3 and (other >= len(self.workers) or other == mine):
            self.workers.append(self.db.worker())
            return len(self.workers) - 1
        j = other % len(self.workers)
        return j if j != mine else (mine + 1) % len(self.workers)

    def _stamped(self, worker: Any, op: Op, clock: Any, died: list[str] | None = None) -> Call:
        """One call with its invocation and answer ticks. Outside the contract it is indeterminate and
        recorded (it fails the run); a death (none is planned here) also goes into `died`."""
        start = next(clock)
        try:
            answer = op.call(worker)  # before the answer's tick: arguments are evaluated in order
            return Call(op, start, next(clock), answer=answer)
        except E.ContractError as e:
            return Call(op, start, next(clock), error=e)
        except (SimulatedCrash, Exception) as e:  # noqa: BLE001 - indeterminate, and recorded: it fails the run
            self.unexpected.append(f"{op!r} raised {type(e).__name__}: {e} (interleaved)")
            if isinstance(e, SimulatedCrash) and died is not None:
                died.append(f"{op!r} raised {type(e).__name__}: {e}")
            return Call(op, start, next(clock), crashed=True)

    def _interleave(self, w: int, other: int, outer: tuple, hit: int, inner: list[tuple[str, tuple]]) -> None:
        """Worker `w`'s outer call, paused at its `hit`-th own hit of the failpoint while another worker runs
        `inner`; the history goes through the linearizability checker."""
        from harness.fault_machine import TOTALS
        kind, point, args = outer
        if kind == "first_write":  # the new branch first, outside the interleaving
            table, key, record, branch, parent = args
            self.op("create_branch", branch, parent, w=w)  # type: ignore[attr-defined]
            kind, args = "put", (table, key, record, branch)
            if self.db is None:
                return
        mine = w % len(self.workers)
        j = self._other_worker(mine, other)
        outer_op, inner_ops_ = Op(kind, args, mine), [op for n, a in inner for op in expand(n, a, j)]
        clock, calls, done = itertools.count(), [], threading.Event()
        threads: dict[str, threading.Thread] = {}
        own_hits = [0]

        def run_inner() -> None:
            for op in inner_ops_:
                calls.append(self._stamped(self.workers[j], op, clock))
            done.set()

        def at_point() -> None:
            if threading.current_thread() is not threads.get("outer") or "inner" in threads:
                return
            own_hits[0] += 1
            if own_hits[0] == hit:
                threads["inner"] = threading.Thread(target=run_inner, daemon=True)
                threads["inner"].start()
                done.wait(BOUND_S)  # done, or waiting on a lock this call holds, or hung (caught below)

        def on_wait() -> None:
            if threading.current_thread() is threads.get("inner"):
                done.set()  # the inner call waits on the outer one: let it go on

        waits = points_tagged(self.target, WAITS)
        plan = FaultPlan(points=(PointFault(point, "callback", callback=at_point),
                                 *(PointFault(p, "callback", callback=on_wait) for p in waits)))
        TOTALS["planned interleavings"] += 1
        self.fps.set_plan(plan | (self.primitives or FaultPlan()))  # type: ignore[attr-defined]
        # Quiet: no fault in force and none fired while the calls ran. Faults before them do not excuse a
        # StorageError (I9: after any fault the next call succeeds without manual steps), and judging from
        # the last open instead left a race killable only in a program with no fault before it.
        quiet, mark = self._nothing_armed(), self._faults_fired()  # type: ignore[attr-defined]
        result: list[Call] = []
        threads["outer"] = threading.Thread(target=lambda: result.append(
            self._stamped(self.workers[mine], outer_op, clock)), daemon=True)
        threads["outer"].start()
        try:
            with watchdog(4 * BOUND_S):
                threads["outer"].join(2 * BOUND_S)  # the outer call waits up to BOUND_S on the inner ones
                for name in ("inner", "outer"):  # name the inner call when it is the one that hangs
                    if name in threads:
                        threads[name].join(BOUND_S if name == "inner" else 0)
                        if threads[name].is_alive():
                            raise fail("I9 no wedge", f"{outer_op!r} with {inner_ops_} run inside it at {point}: "
                                       f"the {name} call was not done after {BOUND_S:.0f} s (a deadlock?)")
        finally:
            self.fps.set_plan(self.primitives or FaultPlan())  # type: ignore[attr-defined]
        fired = "inner" in threads
        TOTALS["fired interleavings"] += fired
        if not fired:  # the point was not reached: the inner calls run after the outer one
            run_inner()
        history = sorted(result + calls, key=lambda c: c.start)
        TOTALS["steps"] += len(history)
        quiet = quiet and self._faults_fired() == mark  # type: ignore[attr-defined]
        judge(self, history, quiet, f"calls interleaved at {point}")
