"""The suite's own stateful machines (harness/machine.py, harness/fault_machine.py), adapted for measuring:
each database directory goes under the benchmark's work directory, and a per-class counter records
programs and when the first failing program ended. Steps are the rules Hypothesis ran,
counted by the machines' own `counted` decorator (harness.machine.RULE_CALLS)."""
from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.stateful import run_state_machine_as_test

from benchmarks.stats import clock
from harness import fault_machine
from harness import machine as differential

KINDS = {"faults": fault_machine.FaultMachine, "differential": differential.DifferentialMachine}


def _rules() -> int:
    return sum(differential.RULE_CALLS.values())


def _is_failure(exc: BaseException | None) -> bool:
    # Hypothesis unwinds programs with its own exceptions (a data overrun, a rejected example): not findings.
    return isinstance(exc, Exception) and not type(exc).__module__.startswith("hypothesis")


class Measured:
    """Mixin placed before the machine class in the MRO."""
    workdir: str | None = None
    dir: str  # set by the machine's __init__
    counts: Counter[str]
    first_failure: list[float]

    def __init__(self) -> None:
        super().__init__()
        if self.workdir is not None:  # the machine made its directory in the system temp dir; move it
            os.rmdir(self.dir)
            self.dir = tempfile.mkdtemp(prefix=f"{type(self).__name__}-", dir=self.workdir)
        self.counts["programs"] += 1
        self._rules_at_start = _rules()

    def teardown(self) -> None:
        failing = _is_failure(sys.exc_info()[1])  # a rule or invariant failed: teardown runs in a finally
        try:
            super().teardown()  # type: ignore[misc]
        except BaseException as e:  # the fault machine's heal phase is a check too
            failing = failing or _is_failure(e)
            raise
        finally:
            # Hypothesis replays the (shrunk) failing program last, so the last program's length is the
            # shrunk length: counted here because a quiet run prints no program to count lines of.
            self.counts["last_program_steps"] = _rules() - self._rules_at_start
            if failing and not self.first_failure:
                self.first_failure.append(clock())
                self.counts["programs_to_failure"] = self.counts["programs"]
                self.counts["first_failing_program_steps"] = self.counts["last_program_steps"]


def make(kind: str, backend: str, workdir: str | None, mutants: tuple[str, ...] = (), tag: str = "") -> type:
    """A fresh machine class: its name (and so Hypothesis's derandomized seed) depends on kind, backend and
    tag only, so every repetition of one measurement runs the same programs."""
    attrs: dict[str, Any] = {"workdir": workdir, "counts": Counter(), "first_failure": []}
    built = differential.machine_for(backend, tuple(mutants), base=KINDS[kind])
    return type(f"Bench{kind.title()}{backend.title()}{tag}", (Measured, built), attrs)


def config(max_examples: int, derandomize: bool = True, shrink: bool = False) -> settings:
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    return settings(max_examples=max_examples, stateful_step_count=40, derandomize=derandomize, database=None,
                    deadline=None, suppress_health_check=list(HealthCheck), print_blob=False,
                    report_multiple_bugs=False, phases=phases, verbosity=Verbosity.quiet)


def run(cls: type, conf: settings, seed: int | None = None) -> dict[str, Any]:
    """One run of `cls` under `conf` (with a Hypothesis seed if given): wall time, counts, and what failed."""
    cls.counts.clear()  # type: ignore[attr-defined]
    cls.first_failure.clear()  # type: ignore[attr-defined]
    if seed is not None:
        hypothesis_seed(seed)(cls)  # run_state_machine_as_test honours @seed on the machine class
    rules_before = _rules()
    heal_before = fault_machine.TOTALS["invariant checks"]
    error: BaseException | None = None
    start = clock()
    try:
        run_state_machine_as_test(cls, settings=conf)
    except Exception as e:  # noqa: BLE001 - a finding (or a harness error): the caller decides
        error = e
    seconds = clock() - start
    counts = cls.counts  # type: ignore[attr-defined]
    first = cls.first_failure  # type: ignore[attr-defined]
    return {"seconds": seconds, "steps": _rules() - rules_before,
            "programs": counts["programs"],
            "heal_checks": fault_machine.TOTALS["invariant checks"] - heal_before,
            "first_failure_s": first[0] - start if first else None,
            "programs_to_failure": counts.get("programs_to_failure"),
            "first_failing_length": counts.get("first_failing_program_steps"),
            "last_program_length": counts.get("last_program_steps"), "error": error}
