"""Crash-point enumeration over the lifecycle sequence on every backend: crash (and, separately, raise an
injected error) at failpoint hit 1, 2, 3, ... until the sequence runs clean; fail the 1st, 2nd, ... call of
each primitive, transiently and persistently. After every fault the database reopens and the checker of
harness/crashcheck.py finds the state equal to a possible model state, converged and not wedged."""
from __future__ import annotations

import pytest

from faults import FaultPlan
from sut.failpoints import CATALOGUE
from faults.enumerate import enumerate_faults
from harness.crashcheck import trial
from harness.programs import LIFECYCLE


NOTHING = FaultPlan()


def _enumerate(backend, tmp_path, mode, primitive="put", base=NOTHING):
    def run(plan):  # the enumerated fault goes first; what `base` fires on every run does not count
        fired, verdict = trial(backend, str(tmp_path), LIFECYCLE, plan | base)
        return [f for f in fired if not base.points or f[2] == mode], verdict
    result = enumerate_faults(run, mode, primitive)
    what = primitive if mode in ("transient", "persistent") else "failpoint hits"
    also = "".join(f", {p.action} at {p.failpoint}" for p in base.points)
    print(f"{backend} {mode} {what}{also}: {result.visited} visited")
    assert result.visited > 0, "no fault was ever injected"
    failures = [(v.k, v.fired, v.verdict) for v in result.failures]
    assert not failures, f"{len(failures)} of {result.visited} points broke an invariant: {failures[:3]}"
    return result


@pytest.mark.parametrize("mode", ["crash", "error"])
def test_every_crash_point_of_the_lifecycle(backend, tmp_path, mode):
    result = _enumerate(backend, tmp_path, mode)
    # The clean run hit exactly `visited` failpoints, and each visit faulted a distinct one of those hits.
    assert [v.k for v in result.visits] == list(range(1, result.visited + 1))
    assert all(len(v.fired) == 1 for v in result.visits)


def test_every_crash_point_when_cleanup_has_a_leftover(backend, tmp_path):
    """The branch delete fails after its flip, so its forks are left for cleanup: every crash point of the
    lifecycle then includes cleanup's reclaim (a clean run leaves cleanup nothing to do); optimize's
    publish on Lance is crashed at too (the write before optimize gives it fragments to compact)."""
    base = FaultPlan.error_at("branch_delete.before_reclaim")
    result = _enumerate(backend, tmp_path, "crash", base=base)
    wanted = {"cleanup.before_reclaim", "cleanup.before_drop", "optimize.before_publish"}
    missed = {p for p in wanted if backend in CATALOGUE[p].backends} - result.points()
    assert not missed, f"crash points the lifecycle never crashed at: {missed}"


@pytest.mark.parametrize("mode", ["transient", "persistent"])
@pytest.mark.parametrize("primitive", ["put", "create", "drop", "fork", "read", "compact"])
def test_every_failing_primitive_call_of_the_lifecycle(backend, tmp_path, mode, primitive):
    if primitive == "fork" and backend != "lance":
        pytest.skip("key-value forks are copies: their primitives are create and put")
    _enumerate(backend, tmp_path, mode, primitive)


@pytest.mark.backend_only("lance")
@pytest.mark.parametrize("mode", ["transient", "persistent"])
def test_every_failing_restore_of_a_roll_back(backend, tmp_path, mode):
    """Restore runs only in recovery, rolling back a write that crashed between its store commits (a clean
    lifecycle never restores). Crash at each store commit of the lifecycle, then fail the 1st, 2nd, ...
    restore of the reopen's roll-back: that open may fail with a StorageError, and the next open, with no
    faults, must heal with every invariant holding."""
    restores = []
    for hit in range(1, 100):
        crash = FaultPlan.crash_at("write.after_store_commit", hit)
        crashed = []

        def run(plan, crash=crash, crashed=crashed):  # bound now: enumerate_faults calls it within this hit
            fired, verdict = trial(backend, str(tmp_path), LIFECYCLE, crash, recovery=plan)
            crashed.extend(f for f in fired if f[2] == "crash")
            return [f for f in fired if f[0].startswith("heal:primitive:restore")], verdict
        result = enumerate_faults(run, mode, "restore")
        if not crashed:
            break  # past the lifecycle's last store commit
        failures = [(v.k, v.fired, v.verdict) for v in result.failures]
        assert not failures, f"crash at store commit {hit}: {failures[:3]}"
        restores.append(result.visited)
    print(f"{backend} {mode} restore: {restores} failing restores after crashes at {len(restores)} store commits")
    assert sum(restores) > 0, "no roll-back ever restored"
