"""Truly concurrent clients (any target with workers, black-box included): two to four calls from different
workers started at once, the history checked for linearizability.

`concurrently(first=0, calls=[('put', ('t', 'k1', {}, 'main')), ('drop_table', ('t',))])`: call i runs
on worker `first + i` (new workers are added until each call has its own), every call on a thread of its
own released by one barrier, so they overlap in the engine as a server's clients do. Each call is stamped
with its invocation and its answer on one clock; the model (model.linear: Wing and Gong's search with
Lowe's memoization, bounded by model.linear.MAX_CALLS) must find an order, consistent with real time,
that explains every answer, with the possible-state set for indeterminate outcomes. A history it cannot
decide within its bound is `Undecided` (a finding, never a pass).

Nothing here needs failpoints: for a target in a child process (harness.host), every worker has its own
connection and thread there. Where the calls overlap is up to the scheduler, so a program with this rule
may fail once and pass on its replay: the stress job re-runs such a reproducer a bounded number of times
and says how often it failed (stress.replay).
"""
from __future__ import annotations

import itertools
import threading
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from harness import strategies as S
from harness.interleave import BOUND_S, expand, inner_ops, judge, watchdog
from harness.invariants import fail
from harness.machine import counted
from harness.target import Target

# Clients at once; a first write is two calls on one client, so at most six calls: within model.linear's 8.
MAX_CLIENTS = 3


class ConcurrentRules:
    """Mixed into FaultMachine; `concurrent_rules` adds the rule where the target has workers."""
    db: Any
    workers: list[Any]
    target: Target
    scheduled: bool

    @classmethod
    def concurrent_rules(cls, target: Target) -> dict[str, Any]:
        caps = target.capabilities
        if not caps.workers:
            return {}
        body = precondition(lambda self: self.db is not None)(counted(cls._concurrently, "concurrently"))
        return {"concurrently": rule(first=S.workers, calls=st.lists(inner_ops(caps), min_size=2,
                                                                     max_size=MAX_CLIENTS))(body)}

    def _concurrently(self, first: int, calls: list[tuple[str, tuple]]) -> None:
        from harness.fault_machine import TOTALS
        while len(self.workers) < len(calls):
            self.workers.append(self.db.worker())
        n = len(self.workers)
        clients = [expand(name, args, (first + i) % n) for i, (name, args) in enumerate(calls)]
        clock, history = itertools.count(), []
        died: list[str] = []
        barrier = threading.Barrier(len(clients))
        quiet, mark = self._nothing_armed(), self._faults_fired()  # type: ignore[attr-defined]  # as in interleave
        self.scheduled = True  # from here on a failure may not come again on a replay (harness.sticky)

        def client(ops: list[Any]) -> None:
            barrier.wait(BOUND_S)
            for op in ops:
                history.append(self._stamped(self.workers[op.worker], op, clock, died))  # type: ignore[attr-defined]
        threads = [threading.Thread(target=client, args=(ops,), daemon=True) for ops in clients]
        TOTALS["concurrent calls"] += sum(map(len, clients))
        with watchdog(4 * BOUND_S):  # a hang that holds the GIL stops Thread.join's bound too
            for t in threads:
                t.start()
            for t, ops in zip(threads, clients, strict=True):
                t.join(2 * BOUND_S)
                if t.is_alive():
                    raise fail("I9 no wedge", f"{ops} run at once with {clients}: not done after "
                                              f"{2 * BOUND_S:.0f} s (a deadlock?)")
        if died:  # no death was planned: the engine's process ended with only concurrent calls in flight
            raise fail("I9 no wedge", f"{died[0]} with only concurrent calls in flight: {clients}")
        history.sort(key=lambda c: c.start)
        TOTALS["steps"] += len(history)
        quiet = quiet and self._faults_fired() == mark  # type: ignore[attr-defined]
        judge(self, history, quiet, f"calls run at once: {[c.op for c in history]}")
