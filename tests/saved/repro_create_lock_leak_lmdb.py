"""Saved by `make stress` (seed 11, mutant create_lock_leak): a create_index whose backfill fails leaks the
DDL lock, so every later DDL call times out (I9 no wedge). With the mutant on it must keep failing: the
suite still catches the class; tests/test_saved_reproducers.py checks it, and that it passes without."""
# ruff: noqa: F841 - the program names every value Hypothesis drew, used later or not
from stress.replay import discard, keep, machine_class

MUTANTS = ('create_lock_leak',)
INVARIANT = 'I9 no wedge'  # what it failed with when it was written
Machine = machine_class('lmdb', MUTANTS)


def test_reproduce():
    state = Machine()
    try:
        branches_0 = state.main_branch()
        tables_0 = state.open(indexed=[])
        state.authority_matches_disk()
        state.observable_state_matches()
        state.create_index(attr='a', table=tables_0, w=0)
        state.authority_matches_disk()
        state.observable_state_matches()
        state.heal()
        state.authority_matches_disk()
        state.observable_state_matches()
        state.heal()
        state.authority_matches_disk()
        state.observable_state_matches()
        state.restart()
        state.authority_matches_disk()
        state.observable_state_matches()
        state.fault_in_backfill(attr='b', fault=('create_index', 'error', 'backfill.after_checkpoint'),
                                recovery=None, table=tables_0, w=0)
        state.authority_matches_disk()
    except BaseException:
        keep(state)
        discard(state)
        raise
    keep(state)
    state.teardown()  # the heal phase: faults off, reopen, cleanup, every invariant
