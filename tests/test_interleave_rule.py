"""The generic interleaving rule (harness.interleave), called by hand on a fresh fault machine: the inner
calls run at the drawn failpoint of the outer one, an inner call that waits for the outer one's lock lets
it go on instead of deadlocking, the history goes through the linearizability checker, and a race mutant
dies by this rule alone."""
from __future__ import annotations

import pytest

from harness import fault_machine
from tests.test_fault_machine_rules import _close, _machine


def _fired(m):
    return fault_machine.TOTALS["fired interleavings"]


def test_a_read_inside_a_write_is_checked_against_both_orders(backend):
    m = _machine(backend)
    fault_machine.TOTALS.clear()
    try:
        m.put(0, "t", "main", "k1", {"a": 1})
        m.interleave_write(0, 1, ("put", "write.before_commit", ("t", "k1", {"a": 2}, "main")), 1,
                     [("get", ("t", "k1", "main"))])
        assert _fired(m) == 1 and len(m.workers) == 2
        assert [c for c in m.model.history if "concurrently" in c[1]][-1][0].name == "get"
        m.observable_state_matches()
        assert m.db.get("t", "k1") == {"a": 2}
    finally:
        _close(m)


def test_an_inner_write_waiting_on_the_outer_ones_lock_lets_it_go_on(backend):
    """Both put the same key: the inner put waits for the write lock the paused one holds (lock.wait),
    the outer one goes on, then the inner one lands: the model keeps both orders until it observes."""
    m = _machine(backend)
    fault_machine.TOTALS.clear()
    try:
        m.interleave_write(0, 1, ("put", "write.before_commit", ("t", "k1", {"a": 1}, "main")), 1,
                     [("put", ("t", "k1", {"a": 2}, "main"))])
        assert _fired(m) == 1 and m.fps.hits["lock.wait"] == 1
        m.observable_state_matches()
        assert m.db.get("t", "k1") == {"a": 2} and len(m.model) == 1
    finally:
        _close(m)


def test_a_wrong_answer_inside_an_interleaving_is_a_violation_that_shows_the_overlaps(backend):
    """The checker is not a rubber stamp: an engine answer no order explains (forged here by a get that
    the rule's history records with a value never written) fails with the calls and their overlaps."""
    from model.linear import Call
    from model.ops import Op
    from model.possible import Violation
    m = _machine(backend)
    try:
        m.put(0, "t", "main", "k1", {"a": 1})
        with pytest.raises(Violation, match=r"\[1, 2\] w1.get\('t', 'k1', 'main'\)"):
            m.model.concurrent([Call(Op("put", ("t", "k1", {"a": 2}, "main"), 0), 0, 3),
                                Call(Op("get", ("t", "k1", "main"), 1), 1, 2, answer={"a": 3})])
    finally:
        _close(m)


@pytest.mark.parametrize("mutants", [(), ("reclaim_without_lock",)], ids=["engine", "reclaim_without_lock"])
def test_cleanup_inside_a_first_writes_fork_window_by_the_generic_rule(backend, mutants):
    """What the hand-written maintenance_inside_first_write does at every step, the generic rule does at
    one drawn step: cleanup inside a first write's fork-to-publish window. The engine skips the fork (its
    write lock is held); the mutant reclaims it, and the branch can no longer be read."""
    m = _machine(backend, mutants)
    fault_machine.TOTALS.clear()
    try:
        m.put(0, "t", "main", "k0", {"a": 0})
        m.create_branch(0, "b", "main")
        outer = ("put", "fork.before_publish", ("t", "k1", {"a": 1}, "b"))
        if mutants:
            with pytest.raises(AssertionError):
                m.interleave_write(0, 1, outer, 1, [("cleanup", ())])
                m.observable_state_matches()
                m.authority_matches_disk()
        else:
            m.interleave_write(0, 1, outer, 1, [("cleanup", ())])
            m.observable_state_matches()
            m.authority_matches_disk()
        assert _fired(m) == 1
    finally:
        _close(m)


def test_a_write_failing_on_a_table_dropped_inside_it_is_no_wedge(backend):
    """Found in review: a put paused before its commit while another worker drops its table fails with a
    StorageError (its handle is on a dropped store). tests/test_interleavings.py accepts that outcome, so
    the rule must not call it a wedge (I9); the model keeps both orders and the drop wins."""
    m = _machine(backend)
    fault_machine.TOTALS.clear()
    try:
        m.interleave_write(0, 1, ("put", "write.before_commit", ("t", "k1", {"a": 1}, "main")), 1,
                     [("drop_table", ("t",))])
        assert _fired(m) == 1
        m.observable_state_matches()
        assert m.db.tables() == []
    finally:
        _close(m)


def test_a_hang_that_holds_the_gil_ends_the_process_with_every_threads_stack():
    """The rule's bounds are Python's: a deadlock that holds the GIL stops them (it hung a run for good).
    Its watchdog is faulthandler's C timer: the stacks go to stderr and the process exits, so a stress
    worker dies and is reported instead of hanging the night."""
    import subprocess
    import sys
    from tests.surface.test_lmdb_surface import GIL_RACE
    code = "from harness.interleave import watchdog\nwith watchdog(2):\n" + "".join(
        f"    {line}\n" for line in GIL_RACE.strip().splitlines())
    out = subprocess.run([sys.executable, "-c", code, "open_db"], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "returned" not in out.stdout
    assert "Timeout" in out.stderr and "in writer" in out.stderr, out.stderr  # every thread's stack
