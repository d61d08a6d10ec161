"""Every seed scenario of every chosen target (`Target.scenarios`): once with the incident's fault, then with
a crash at each of its failpoint hits in turn (the fault staying on), every trial checked by the invariants."""
from __future__ import annotations

import pytest

from faults import FaultPlan
from faults.enumerate import enumerate_faults
from faults.plan import ANY, PointFault
from harness.crashcheck import raced as raced_point
from harness.crashcheck import trial


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        cases = [(t, s) for t in metafunc.config._suite_targets for s in t.scenarios]  # type: ignore[attr-defined]
        metafunc.parametrize("case", cases, ids=[f"{s.name.replace(' ', '-')}-{t.name}" for t, s in cases])


def test_seed_scenario(case, tmp_path):
    backend, scenario = case
    RACED = raced_point(backend)
    root = str(tmp_path)
    seed_fault = scenario.plan | (FaultPlan.crash_at(scenario.crash) if scenario.crash else FaultPlan())
    fired, verdict = trial(backend, root, scenario.program, seed_fault, during=scenario.during,
                           race_opener=scenario.race_opener)
    in_run = [f for f in fired if not f[0].startswith("heal:")]  # the heal phase reports its own
    assert seed_fault == FaultPlan() or in_run, f"the incident's fault never fired: {seed_fault}"
    if scenario.during:
        assert (scenario.during[0], 1, "callback") in fired, "the planned interleaving never ran"
    assert verdict == "ok", verdict
    if scenario.race_opener:  # the crash leaves a sidecar, so the heal's first opener must meet the second
        assert (RACED, 1, "callback") in fired, "the second opener never ran"

    raced = []

    def crash_only(plan):
        # The crash goes first: at the hit where the incident's own error fires, a plan checked in the
        # other order raises the error, nothing crashes, and the enumeration would stop there.
        got, v = trial(backend, root, scenario.program, plan | scenario.plan, during=scenario.during,
                       race_opener=scenario.race_opener)
        raced.extend(f for f in got if f[0] == RACED)
        return [f for f in got if f[2] == "crash"], v
    result = enumerate_faults(crash_only, "crash")
    print(f"{scenario.name} on {backend.name}: {result.visited} crash points; a second opener raced {len(raced)} times")
    # Only crashes that leave recovery something to publish (a sidecar, or drift) give the second opener a
    # recovery to race; some must.
    assert raced or not scenario.race_opener, "the second opener never ran in the crash enumeration"
    # Every failpoint hit of the run with the incident's fault is one crash point.
    counted, _ = trial(backend, root, scenario.program, FaultPlan(points=(PointFault(ANY, "count"),)) | scenario.plan,
                       during=scenario.during, race_opener=scenario.race_opener)
    hits = sum(1 for _name, _n, action in counted if action == "count")
    assert result.visited == hits > 0, f"visited {result.visited} of {hits} crash points"
    assert not result.failures, [(v.k, v.fired, v.verdict) for v in result.failures][:3]
