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
    """A machine whose rules never run proves nothing: count the calls of every rule in one run."""
    machine.RULE_CALLS.clear()
    run_state_machine_as_test(MACHINES[backend], settings=settings(max_examples=30, stateful_step_count=40))
    rules = {name for name in dir(machine.DifferentialMachine)
             if getattr(getattr(machine.DifferentialMachine, name), "hypothesis_stateful_rule", None)}
    missing = sorted(r for r in rules if machine.RULE_CALLS[r] == 0)
    assert rules and not missing, f"rules never exercised: {missing}; calls: {dict(machine.RULE_CALLS)}"
