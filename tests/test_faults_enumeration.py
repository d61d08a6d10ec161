"""Crash-point enumeration over the lifecycle sequence on every backend: crash (and, separately, raise an
injected error) at failpoint hit 1, 2, 3, ... until the sequence runs clean; fail the 1st, 2nd, ... call of
each primitive, transiently and persistently. After every fault the database reopens and the checker of
tests/crashcheck.py finds the state equal to a possible model state, converged and not wedged."""
from __future__ import annotations

import pytest

from faults.enumerate import enumerate_faults
from tests.crashcheck import trial
from tests.programs import LIFECYCLE


def _enumerate(backend, tmp_path, mode, primitive="put"):
    result = enumerate_faults(lambda plan: trial(backend, str(tmp_path), LIFECYCLE, plan), mode, primitive)
    print(f"{backend} {mode} {primitive}: {result.visited} points visited")
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


@pytest.mark.parametrize("mode", ["transient", "persistent"])
@pytest.mark.parametrize("primitive", ["put", "create", "drop", "fork", "read"])
def test_every_failing_primitive_call_of_the_lifecycle(backend, tmp_path, mode, primitive):
    if primitive == "fork" and backend != "lance":
        pytest.skip("key-value forks are copies: their primitives are create and put")
    _enumerate(backend, tmp_path, mode, primitive)
