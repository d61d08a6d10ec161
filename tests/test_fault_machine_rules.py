"""The fault machine's rules, called one by one on a fresh machine: what each rule does to a mutated engine
is deterministic here, so a rule that can no longer reach its bug class fails by name, long before the
generic search's kill times drift."""
from __future__ import annotations

import pytest

from harness import fault_machine


def _machine(backend, mutants=()):
    m = fault_machine.machine_for(backend, mutants, name=f"Rules_{backend}")()
    m.open([])
    m.main_branch()
    return m


def _close(m):
    m.fps.set_plan(fault_machine.FaultPlan())
    if m.db is not None:
        m.db.close()
        m.db = None
    m.teardown()


def _crash_first_write_at(m, point):
    m.put(0, "t", "main", "k0", {"a": 0})
    m.fault_in_first_write(w=0, parent="main", table="t", name="b", key="k1", record={"a": 1},
                           fault=("put", "crash", point), recovery=None)


@pytest.mark.parametrize("mutants", [(), ("no_fork_self_heal",)], ids=["engine", "no_fork_self_heal"])
def test_a_write_that_crashed_is_retried_and_must_succeed(backend, mutants):
    """I9: after a crash between fork and publish, the client retries its write. The engine heals the
    orphan fork; the mutant that trusts no fork can exist is wedged, and the retry says so."""
    m = _machine(backend, mutants)
    try:
        if mutants:
            with pytest.raises(AssertionError, match="I9 no wedge"):
                _crash_first_write_at(m, "fork.before_publish")
        else:
            _crash_first_write_at(m, "fork.before_publish")
            m.observable_state_matches()
            assert m.db.get("t", "k1", "b") == {"a": 1}, "the retried write is not there"
        assert ("fork.before_publish", 1, "crash") in m.fps.fired
    finally:
        _close(m)


@pytest.mark.parametrize("mutants", [(), ("reclaim_from_sweep_start_branch_list",)],
                         ids=["engine", "reclaim_from_sweep_start_branch_list"])
def test_a_fork_published_during_a_sweep_survives_it(backend, mutants):
    """The sweep's first ghost is a fork of table t; the branch created meanwhile forks every table, so
    also u (the rule creates it), which a sweep walking table by table reaches later. The mutant destroys
    that fork."""
    m = _machine(backend, mutants)
    try:
        m.put(0, "t", "main", "k0", {"a": 0})
        m.first_write_inside_cleanup(0, "main", "c", "b", "k1", {"a": 1})
        assert ("cleanup.before_reclaim", 1, "callback") in m.fps.fired
        if mutants:
            with pytest.raises(AssertionError):
                m.observable_state_matches()
                m.authority_matches_disk()
        else:
            m.observable_state_matches()
            m.authority_matches_disk()
    finally:
        _close(m)


@pytest.mark.parametrize("mutants", [(), ("reclaim_without_lock",)], ids=["engine", "reclaim_without_lock"])
def test_cleanup_at_every_step_of_a_first_write_leaves_its_fork_alone(backend, mutants):
    """A maintenance loop may run at any step of another worker's first write, so the rule runs cleanup at
    every one: inside the fork-to-publish window the engine skips the fork (its write lock is held); the
    mutant that reclaims without the lock destroys it, and the write's branch can no longer be read."""
    m = _machine(backend, mutants)
    try:
        m.put(0, "t", "main", "k0", {"a": 0})
        if mutants:
            with pytest.raises(AssertionError):
                m.maintenance_inside_first_write(0, "main", "t", "b", "k1", {"a": 1}, "cleanup")
                m.observable_state_matches()
                m.authority_matches_disk()
                m.heal()
        else:
            m.maintenance_inside_first_write(0, "main", "t", "b", "k1", {"a": 1}, "cleanup")
            m.observable_state_matches()
            m.authority_matches_disk()
            assert ("fork.before_publish", 1, "callback") in m.fps.fired  # every step, the window's too
        assert any(name.startswith("fork.") and a == "callback" for name, _n, a in m.fps.fired)
    finally:
        _close(m)


@pytest.mark.parametrize("mutants", [(), ("backfill_swallows_failed_puts",)],
                         ids=["engine", "backfill_swallows_failed_puts"])
def test_a_faulted_backfill_is_the_fault_the_program_names(backend, mutants):
    """The backfill rule writes rows, then builds the drawn index with the drawn fault: here its 4th index
    put fails, which the mutant swallows (the index is ready with a gap, and a find says so)."""
    m = _machine(backend, mutants)
    fault = ("create_index", "primitive", "put", "index", 4)
    try:
        if mutants:
            with pytest.raises(BaseException, match="find"):
                m.fault_in_backfill(w=0, table="t", attr="b", fault=fault, recovery=None)
                m.observable_state_matches()
        else:
            m.fault_in_backfill(w=0, table="t", attr="b", fault=fault, recovery=None)
            m.observable_state_matches()
        assert any(name.startswith("primitive:put:index") for name, _n, _a in m.fps.fired)
    finally:
        _close(m)
