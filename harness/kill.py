"""The kill matrix: run the generic fault machine, and separately the named seed scenarios, on an engine
with one known-bug mutant enabled, and record whether (and how fast, and by which invariant) it is caught.
Results are plain dicts so the matrix can be written as `mutants.json` in a run's report directory."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import Phase, settings
from hypothesis.errors import Flaky, Frozen, StopTest, UnsatisfiedAssumption
from hypothesis.stateful import run_state_machine_as_test

from faults import FaultPlan
from faults.enumerate import enumerate_faults
from harness import fault_machine
from harness import invariants as inv
from harness.crashcheck import trial
from harness.printed import program_length, program_of
from harness.target import Target
from harness.targets import resolve

SHRINK_SECONDS = float(os.environ.get("KILL_SHRINK_SECONDS", "60"))  # per kill; Hypothesis's own is 300

def classify(exc: BaseException) -> tuple[str, str]:
    """(invariant, class) of the failure that killed a mutant, from the verdict it carries."""
    check = inv.classify(exc)
    return check.invariant, check.klass


def by_machine(mutant: str, target: Target | str, max_examples: int, shrink: bool = True,
               without: tuple[str, ...] = ()) -> dict[str, Any]:
    """The generic search on the mutated engine: time (and programs) to the first failure, and with
    `shrink` the length of the program Hypothesis shrinks it to, from one run. `without`: rules switched
    off (fault_machine.HAND_WRITTEN: does the generic interleaving family alone kill it?)."""
    clock: dict[str, Any] = {"programs": 0, "first": None}
    t = resolve(target)
    built = fault_machine.machine_for(t, (mutant,), name=f"Mutant_{mutant}_{t.name}")
    unknown = [r for r in without if not hasattr(built, r)]
    if unknown:  # a misspelled name would hide nothing, and the measurement would say what it is not
        raise ValueError(f"no such rules to switch off: {unknown}")
    off = {r: None for r in without}  # an attribute that is no rule hides the rule of that name
    machine = type(built.__name__, (built,), {"teardown": _timed_teardown(clock), **off})
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    config = settings(max_examples=max_examples, stateful_step_count=40, derandomize=True, database=None,
                      deadline=None, report_multiple_bugs=False, print_blob=False, phases=phases)
    start = time.perf_counter()
    with shrink_cap(SHRINK_SECONDS):
        found = _run(machine, config)
    first = clock["first"] if clock["first"] is not None else time.perf_counter()
    result = {"killed": found is not None, "seconds_to_kill": round(first - start, 2), "budget": max_examples}
    if found is None:
        return result
    replays = not isinstance(found, Flaky)
    # A program that failed once and not on replay (a black-box fault lands where timing lets it): the
    # verdict is the first failure's, and the row says the program does not replay.
    invariant, klass = classify(found if replays else clock.get("first_failure", found))
    if not replays:
        result["replays"] = False
    result.update(invariant=invariant, klass=klass, detail=str(found).splitlines()[0][:300],
                  programs_to_kill=clock.get("first_program"))  # None: no program failed (a health check)
    if shrink:
        spent = time.perf_counter() - first
        # A shrink stopped by the bound gives an upper bound on the shortest program, and says so.
        result.update(shrunk_length=program_length(found), shrink_seconds=round(spent, 2),
                      shrink_capped=spent >= SHRINK_SECONDS, shrunk_program=program_of(found))
    return result


@contextmanager
def shrink_cap(seconds: float) -> Iterator[None]:
    """Shrinking stops after `seconds` inside this block. The knob is a module global of Hypothesis's
    engine, read when shrinking starts (tests/surface/test_hypothesis_surface.py pins it)."""
    from hypothesis.internal.conjecture import engine
    saved = engine.MAX_SHRINKING_SECONDS
    engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = saved


ABANDONED = (StopTest, UnsatisfiedAssumption, Frozen)  # Hypothesis gave the program up: it did not run


def _timed_teardown(clock: dict[str, Any]) -> Any:
    """A teardown that notes when (and after how many programs) the first failing program ended: the
    failure is in flight at teardown (a step failed) or teardown itself raises it (the heal phase)."""
    def teardown(self: Any) -> None:
        failing = sys.exc_info()[1]
        if isinstance(failing, ABANDONED):
            fault_machine.FaultMachine.teardown(self)
            return
        clock["programs"] += 1
        try:
            fault_machine.FaultMachine.teardown(self)
        except BaseException as e:
            failing = e
            raise
        finally:
            if clock["first"] is None and failing is not None:
                clock["first"], clock["first_program"] = time.perf_counter(), clock["programs"]
                clock["first_failure"] = failing
    return teardown


def _run(machine: Any, config: Any) -> BaseException | None:
    try:
        run_state_machine_as_test(machine, settings=config)
    except BaseException as e:  # noqa: BLE001 - whatever stopped the run is the finding
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        return e
    return None


def by_scenario(mutant: str, target: Target | str) -> dict[str, Any]:
    t = resolve(target)
    name = t.mutants[mutant].scenario
    scenario = next((s for s in t.scenarios if s.name == name), None)
    if scenario is None:
        return {"killed": None, "scenario": name, "detail": f"target {t.name} does not run the scenario {name!r}"}
    with tempfile.TemporaryDirectory(prefix="kill-") as root:
        return _scenario_kill(scenario, mutant, t, root)


def _scenario_kill(scenario: Any, mutant: str, backend: Target, root: str) -> dict[str, Any]:
    start = time.perf_counter()
    kwargs = {"mutants": (mutant,), "during": scenario.during, "race_opener": scenario.race_opener}
    seed_fault = scenario.plan | (FaultPlan.crash_at(scenario.crash) if scenario.crash else FaultPlan())
    _fired, verdict = trial(backend, root, scenario.program, seed_fault, **kwargs)
    points = 0
    if verdict == "ok":
        def crash_only(plan: FaultPlan) -> tuple[list, str]:
            got, v = trial(backend, root, scenario.program, plan | scenario.plan, **kwargs)  # crash first
            return [f for f in got if f[2] == "crash"], v
        result = enumerate_faults(crash_only, "crash")
        points = result.visited
        verdict = next((v.verdict for v in result.failures), verdict)
    first = verdict.first
    invariant, klass = (first.invariant, first.klass) if first is not None else (None, None)
    return {"killed": verdict != "ok", "scenario": scenario.name, "crash_points": points, "invariant": invariant,
            "klass": klass, "seconds_to_kill": round(time.perf_counter() - start, 2), "detail": verdict[:300]}


def write_matrix(rows: list[dict[str, Any]], run_dir: str) -> str:
    os.makedirs(run_dir, exist_ok=True)
    path = os.path.join(run_dir, "mutants.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=2, sort_keys=True)
    return path


def run_dir() -> str:
    # The same directory the report plugin summarises (it honours SUITE_REPORTS_ROOT, as tests use).
    from reports.summary import run_dir as report_dir
    return report_dir()


def record(rows: list[dict[str, Any]]) -> str:
    """Merge rows into the run's mutants.json (xdist workers write the same file: lock it)."""
    import fcntl
    directory = run_dir()
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "mutants.json")
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        existing = json.load(open(path)) if os.path.exists(path) else []
        keys = {(r["mutant"], r["backend"], r["search"]) for r in rows}
        merged = [r for r in existing if (r["mutant"], r["backend"], r["search"]) not in keys] + rows
        with open(path, "w", encoding="utf-8") as f:
            json.dump(sorted(merged, key=lambda r: (r["mutant"], r["backend"], r["search"])), f, indent=2)
    return path
