"""The fault-free differential machine on every backend: the engine answers exactly as the model."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from harness import machine
from harness.printed import program_of


DifferentialLmdb = machine.machine_for("lmdb", name="DifferentialLmdb")
MACHINES = {b: machine.machine_for(b) for b in ("rocksdb", "lance")} | {"lmdb": DifferentialLmdb}


def test_differential(target) -> None:
    run_state_machine_as_test(machine.machine_for(target))


def test_every_rule_is_exercised(backend: str) -> None:
    """A machine whose rules never run proves nothing: count the calls of every rule. Hypothesis switches
    random subsets of rules off per example (swarm testing), so one short run can miss a rule by chance:
    runs of a few program lengths are summed, stopping as soon as every rule has run."""
    machine.RULE_CALLS.clear()
    cls = MACHINES[backend]
    rules = {name for name in dir(cls) if getattr(getattr(cls, name), "hypothesis_stateful_rule", None)}
    for steps in (40, 25, 60):
        run_state_machine_as_test(cls, settings=settings(max_examples=30, stateful_step_count=steps))
        missing = sorted(r for r in rules if machine.RULE_CALLS[r] == 0)
        if not missing:
            break
    assert rules and not missing, f"rules never exercised: {missing}; calls: {dict(machine.RULE_CALLS)}"


# Cleanup destroys a fork published since its last sweep.
CachedSweepLmdb = machine.machine_for("lmdb", ("reclaim_from_cached_authority",), name="CachedSweepLmdb")


def test_a_failure_is_printed_as_a_program_that_fails_again_on_its_own(tmp_path):
    """Failing output is a runnable program: the steps Hypothesis prints, run alone in a fresh process (as a
    user pastes them), fail the same way. The mutant's bug needs no fault, so the fault-free machine finds
    it: cleanup from a cached authority destroys a store created since, which the authority references."""
    with pytest.raises(AssertionError) as found:
        run_state_machine_as_test(CachedSweepLmdb, settings=settings(
            max_examples=500, stateful_step_count=25, derandomize=True, database=None, deadline=None,
            print_blob=False))
    first = str(found.value).splitlines()[0]
    assert "missing stores" in first, f"not the mutant's failure: {first}"
    notes = "\n".join(getattr(found.value, "__notes__", []))
    program = program_of(found.value)
    assert "state = CachedSweepLmdb()" in notes and program, notes
    script = tmp_path / "replay.py"
    script.write_text("\n".join(["from tests.test_differential import CachedSweepLmdb",
                                  "state = CachedSweepLmdb()", "try:",
                                  *(f"    {line}" for line in program), "finally:", "    state.teardown()", ""]))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    replay = subprocess.run([sys.executable, str(script)], cwd=root, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": root})
    assert replay.returncode != 0 and first in replay.stderr, f"{notes}\n--- replay:\n{replay.stderr[-2000:]}"
