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

import itertools
import threading
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from faults import FaultPlan, PointFault, SimulatedCrash
from faults.catalogue import WAITS
from harness import strategies as S
from harness.blackbox import NEEDS
from harness.crashcheck import observe
from harness.invariants import fail
from harness.machine import any_op, counted
from harness.target import Capabilities, Target, points_of, points_tagged
from model import errors as E
from model.linear import Call
from model.ops import Op

OUTER = ("put", "delete", "create_table", "drop_table", "create_index", "create_branch", "delete_branch",
         "optimize", "cleanup")
ALIASES = {"delete": "put"}  # a delete takes the steps of a put
BOUND_S = 30.0
REMOVES = ("drop_table", "delete_branch")  # a paused or inner call not done by then is hung: I9


def args_for(name: str, caps: Capabilities) -> st.SearchStrategy[tuple]:
    """Arguments of one outer call: live tables and branches (the machine's bundles), and for creates the
    names faulted creates use (free ones, mostly), so that most outer calls reach their failpoints."""
    from harness.machine import DifferentialMachine as D
    t, b = D.tables, D.branches
    indexed = st.lists(S.attrs, max_size=2, unique=True).map(tuple) if caps.indexes else st.just(())
    return {
        "put": st.tuples(t, S.keys, S.records, b), "delete": st.tuples(t, S.keys, b),
        "create_table": st.tuples(S.created_tables, indexed), "drop_table": st.tuples(t),
        "create_index": st.tuples(t, st.sampled_from(S.ATTRS + ("c",))),
        "create_branch": st.tuples(S.created_branches, b), "delete_branch": st.tuples(b),
        "optimize": st.just(()), "cleanup": st.just(()),
    }[name]


def inner_ops(caps: Capabilities) -> st.SearchStrategy[tuple[str, tuple]]:
    """Any call of the contract; half of them maintenance where the target has it, because a maintenance
    loop runs beside every client in a real deployment (and among a dozen kinds it would be rare)."""
    extra = [(m, ()) for m in ("optimize", "cleanup") if getattr(caps, m)]
    return st.one_of(any_op(caps), st.sampled_from(extra)) if extra else any_op(caps)


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
        pairs = [(kind, p) for kind in OUTER if kind not in NEEDS or getattr(caps, NEEDS[kind])
                 for p in points_of(target, ALIASES.get(kind, kind)) if p not in waits]
        if not pairs:
            return {}
        outer = st.sampled_from(pairs).flatmap(
            lambda kp: st.tuples(st.just(kp[0]), st.just(kp[1]), args_for(kp[0], caps)))
        body = precondition(lambda self: self.db is not None)(counted(cls._interleave, "interleave"))
        return {"interleave": rule(w=S.workers, other=S.workers, outer=outer, hit=st.integers(1, 2),
                                   inner=st.lists(inner_ops(caps), min_size=1, max_size=2))(body)}

    def _other_worker(self, mine: int, other: int) -> int:
        """Another worker than the outer call's: a new one while there are fewer than three."""
        if len(self.workers) < 3 and (other >= len(self.workers) or other == mine):
            self.workers.append(self.db.worker())
            return len(self.workers) - 1
        j = other % len(self.workers)
        return j if j != mine else (mine + 1) % len(self.workers)

    def _stamped(self, worker: Any, op: Op, clock: Any) -> Call:
        start = next(clock)
        try:
            answer = op.call(worker)  # before the answer's tick: arguments are evaluated in order
            return Call(op, start, next(clock), answer=answer)
        except E.ContractError as e:
            return Call(op, start, next(clock), error=e)
        except (SimulatedCrash, Exception) as e:  # noqa: BLE001 - indeterminate, and recorded: it fails the run
            self.unexpected.append(f"{op!r} raised {type(e).__name__}: {e} (interleaved)")
            return Call(op, start, next(clock), crashed=True)

    def _interleave(self, w: int, other: int, outer: tuple, hit: int, inner: list[tuple[str, tuple]]) -> None:
        """Worker `w`'s outer call, paused at its `hit`-th own hit of the failpoint while another worker runs
        `inner`; the history goes through the linearizability checker."""
        from harness.fault_machine import TOTALS
        kind, point, args = outer
        mine = w % len(self.workers)
        j = self._other_worker(mine, other)
        outer_op, inner_ops_ = Op(kind, args, mine), [Op(n, a, j) for n, a in inner]
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
        clean = self._fault_free_since_open()  # type: ignore[attr-defined]
        result: list[Call] = []
        threads["outer"] = threading.Thread(target=lambda: result.append(
            self._stamped(self.workers[mine], outer_op, clock)), daemon=True)
        threads["outer"].start()
        try:
            threads["outer"].join(2 * BOUND_S)  # the outer call waits up to BOUND_S on the inner ones
            for name in ("inner", "outer"):  # name the inner call when it is the one that hangs
                if name in threads:
                    threads[name].join(BOUND_S if name == "inner" else 0)
                    if threads[name].is_alive():
                        raise fail("I9 no wedge", f"{outer_op!r} with {inner_ops_} run inside it at {point}: the "
                                                  f"{name} call was not done after {BOUND_S:.0f} s (a deadlock?)")
        finally:
            self.fps.set_plan(self.primitives or FaultPlan())  # type: ignore[attr-defined]
        fired = "inner" in threads
        TOTALS["fired interleavings"] += fired
        if not fired:  # the point was not reached: the inner calls run after the outer one
            run_inner()
        history = sorted(result + calls, key=lambda c: c.start)
        TOTALS["steps"] += len(history)
        self.model.concurrent(history)
        # A call whose table or branch another overlapping call removed may fail with a StorageError (a
        # handle on a dropped store): tests/test_interleavings.py accepts that, so it is no wedge here.
        removing = any(c.op.name in REMOVES for c in history)
        for c in history:
            if isinstance(c.error, E.StorageError) and clean and not removing:
                raise fail("I9 no wedge", f"{c!r} failed with no fault since the last open, only "
                                          f"calls interleaved at {point}")
        if len(self.model) > 1:
            with self.fps.suspended():  # type: ignore[attr-defined]
                observe(self.db, self.model)
