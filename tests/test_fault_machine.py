"""The stateful machine under faults on every backend: crashes and injected errors at failpoints, failing
primitives, restarts and heals, checked against the model and the invariants after every step."""
from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from harness import fault_machine
from harness.machine import RULE_CALLS


# Programs per target in the CI profile, sized to the cost of an open (RocksDB ~60 ms) and of a write
# (Lance ~30 ms); `make stress` and the nightly profile run many more. Another target runs 50.
CI_EXAMPLES = {"lmdb": 150, "rocksdb": 60, "lance": 25}


def test_fault_machine(target):
    fault_machine.TOTALS.clear()
    current = settings()
    examples = CI_EXAMPLES.get(target.name, 50) if current.derandomize else current.max_examples
    run_state_machine_as_test(fault_machine.machine_for(target), settings=settings(current, max_examples=examples))
    totals = fault_machine.TOTALS
    print(f"{target.name}: {dict(totals)}")
    # Failpoint and primitive faults ("planned"), and black-box ones ("planned kill in flight", ...).
    planned, fired = (sum(n for k, n in totals.items() if k.startswith(word) and not k.startswith(f"{word} in "))
                      for word in ("planned", "fired"))
    assert planned > 0 and fired > 0, f"no planned fault ever fired: {dict(totals)}"
    # Many failpoints lie on paths a random program takes only sometimes (a fork happens on a branch's
    # first write); the seed scenarios and the enumeration hit every point on purpose.
    assert fired >= planned // 8, f"most planned faults never fired: {dict(totals)}"



@pytest.mark.backend_only("lmdb")
def test_every_rule_runs_and_every_operation_is_faulted(backend):
    """A rule that never runs, or an operation never faulted, is a bug class the search cannot find. Counted
    on the CI programs of the cheapest backend (the others run the same rules with fewer programs)."""
    RULE_CALLS.clear()
    fault_machine.TOTALS.clear()
    # The CI programs whatever the profile (derandomized, 40 steps): the dev profile's shorter random ones
    # fault cleanup too rarely to count on.
    machine = fault_machine.machine_for(backend)
    run_state_machine_as_test(machine, settings=settings(
        settings(), max_examples=CI_EXAMPLES[backend], derandomize=True, database=None, stateful_step_count=40))
    rules = {n for n in dir(machine) if getattr(getattr(machine, n), "hypothesis_stateful_rule", None)}
    assert rules and not [r for r in rules if not RULE_CALLS[r]], f"rules never run: {dict(RULE_CALLS)}"
    unfaulted = [k for k in fault_machine.FAULTABLE if not fault_machine.TOTALS[f"fired in {k}"]]
    assert not unfaulted, f"operations no fault ever fired in: {unfaulted}; {dict(fault_machine.TOTALS)}"
    totals = fault_machine.TOTALS  # the generic interleavings: planned, and reached their failpoint
    assert totals["planned interleavings"] and totals["fired interleavings"] * 4 >= totals["planned interleavings"], (
        f"interleavings fired in {totals['fired interleavings']} of {totals['planned interleavings']}")
