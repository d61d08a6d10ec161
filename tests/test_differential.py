"""The fault-free differential machine on every backend: the engine answers exactly as the model."""
from __future__ import annotations

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from tests import machine


class DifferentialLmdb(machine.DifferentialMachine):
    backend = "lmdb"


class DifferentialRocksdb(machine.DifferentialMachine):
    backend = "rocksdb"


class DifferentialLance(machine.DifferentialMachine):
    backend = "lance"


MACHINES = {"lmdb": DifferentialLmdb, "rocksdb": DifferentialRocksdb, "lance": DifferentialLance}


def test_differential(backend: str) -> None:
    run_state_machine_as_test(MACHINES[backend])


def test_every_rule_is_exercised(backend: str) -> None:
    """A machine whose rules never run proves nothing: count the calls of every rule. Hypothesis switches
    random subsets of rules off per example (swarm testing), so one short run can miss a rule by chance:
    runs of a few program lengths are summed, stopping as soon as every rule has run."""
    machine.RULE_CALLS.clear()
    rules = {name for name in dir(machine.DifferentialMachine)
             if getattr(getattr(machine.DifferentialMachine, name), "hypothesis_stateful_rule", None)}
    for steps in (40, 25, 60):
        run_state_machine_as_test(MACHINES[backend], settings=settings(max_examples=30, stateful_step_count=steps))
        missing = sorted(r for r in rules if machine.RULE_CALLS[r] == 0)
        if not missing:
            break
    assert rules and not missing, f"rules never exercised: {missing}; calls: {dict(machine.RULE_CALLS)}"
