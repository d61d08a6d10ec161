"""One stress worker process: batches of stateful programs on the fault machine, each with its own seed,
until the deadline. It reports each batch as one JSON line on a pipe (the supervisor reads them) and, for
a failure, writes the shrunk program, a reproducer and a copy of the data directory first.

To replay one batch, as a finding prints it: `python -m stress --replay <target>:<seed> [--mutants ...]`."""
from __future__ import annotations

import ctypes
import json
import os
import sys
import threading
import time
from typing import Any

from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.stateful import get_state_machine_test

from reports.counters import RUN
from stress import artifacts
from stress.replay import machine_class
from stress.seeds import batch_seed
from harness import sticky
from harness.invariants import classify as verdict_of
from harness.kill import shrink_cap
from harness.targets import resolve

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
EXAMPLES = 5  # programs per batch for a target that does not say (`programs_per_batch`): a few seconds


def example_database(redis_url: str | None, directory: str) -> Any:
    """Hypothesis's example database: a directory, or a Redis server shared by several machines."""
    if redis_url:
        import redis
        from hypothesis.extra.redis import RedisExampleDatabase
        return RedisExampleDatabase(redis.Redis.from_url(redis_url))
    from hypothesis.database import DirectoryBasedExampleDatabase
    return DirectoryBasedExampleDatabase(directory)


def run_batch(task: dict[str, Any], backend: str, batch_seed_: int) -> BaseException | None:
    target = resolve(backend)
    machine = machine_class(target, tuple(task.get("mutants", ())))
    examples = int(task.get("examples") or 0) or int(getattr(target, "programs_per_batch", EXAMPLES))
    config = settings(max_examples=examples, stateful_step_count=task["steps"],
                      deadline=None, derandomize=False, report_multiple_bugs=False, print_blob=False,
                      database=example_database(task.get("redis_url"), task["database_dir"]),
                      phases=list(Phase), suppress_health_check=_SLOW_OK)
    # The seed goes on the machine class: `seed()` on the test itself would also switch the example
    # database off, and then no failure would be saved for the next run or the fleet to replay.
    test = get_state_machine_test(seed(batch_seed_)(machine), settings=config)
    sticky.FOUND.clear()
    try:
        test()
    except Exception as e:  # noqa: BLE001 - whatever stopped the batch is the finding
        return e
    return None


def failure_record(exc: BaseException, task: dict[str, Any], backend: str, seed_: int) -> dict[str, Any]:
    """The finding as data: the verdict the exception carries (its invariant, class and detail)."""
    steps, unshrunk = artifacts.program_of(exc), ""
    if not steps and sticky.FOUND:  # Hypothesis printed no program: its calls ran at once (harness.sticky)
        refused = type(exc).__name__
        exc, steps = sticky.FOUND[0]
        unshrunk = f" [unshrunk: Hypothesis could not run it again the same way ({refused})]"
    check = verdict_of(exc)
    detail = (check.detail.splitlines() or [""])[0]
    return {"class": check.klass, "backend": backend, "seed": seed_, "invariant": check.invariant,
            "detail": (detail[:500] or type(exc).__name__) + unshrunk,
            "steps": steps, "mutants": list(task.get("mutants", ()))}


def save_failure(failure: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    """Reproducer and data copy, then the failpoint of the signature from what fired in the replay."""
    where = os.path.join(task["run_dir"], "failures", f"{failure['backend']}-{failure['seed']}")
    path = artifacts.write_reproducer(where, dict(failure, signature=[failure["invariant"], failure["backend"],
                                                                      failure["seed"]]), task["run_id"])
    data = os.path.join(where, "data")
    failed, output = artifacts.run_reproducer(path, keep_data=data)
    fired = []
    if os.path.exists(os.path.join(data, "fired.json")):
        with open(os.path.join(data, "fired.json"), encoding="utf-8") as f:
            fired = json.load(f)["fired"]
    failpoint = fired[-1][0] if fired else None
    rel = os.path.relpath
    return dict(failure, program="\n".join(failure["steps"]), failpoint=failpoint,
                signature=[failure["invariant"], failpoint, failure["backend"]],
                reproducer=rel(path, task["run_dir"]), reproducer_fails=failed, reproducer_output=output[-1500:],
                reproduced=list(artifacts.reproduced(path, failed, output)),
                data_dir=rel(data, task["run_dir"]) if os.path.isdir(data) else None, count=1)


_OUT = threading.Lock()
_STREAM: Any = None  # the supervisor's pipe; stdout is free for whatever Hypothesis or a backend prints


def emit(message: dict[str, Any]) -> None:
    with _OUT:
        _STREAM.write(json.dumps(message) + "\n")
        _STREAM.flush()


def heartbeat(stop: threading.Event) -> None:
    """Counts of the running batch once a second, for the progress display (a batch can run for minutes
    when it shrinks a failure)."""
    while not stop.wait(1.0):
        try:
            emit({"type": "progress", "counts": RUN.snapshot()})
        except RuntimeError:  # the counters changed while being copied: the next beat sends them
            pass


def main(task: dict[str, Any]) -> None:
    global _STREAM
    _STREAM = os.fdopen(task["report_fd"], "w") if task.get("report_fd") else sys.stdout
    stop = threading.Event()
    threading.Thread(target=heartbeat, args=(stop,), daemon=True).start()
    try:
        # A failure's shrink is bounded (Hypothesis's own bound, five minutes, is too long for a short run).
        with shrink_cap(task.get("shrink_seconds", 60)):
            batches(task)
    finally:
        stop.set()


def batches(task: dict[str, Any]) -> None:
    backends = task["backends"]
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for batch in range(10**9):
        if batch and time.time() >= task["deadline"]:  # at least one batch, however slow the start-up
            break
        backend = backends[(task["worker"] + batch) % len(backends)]
        s = task["seed"] if "seed" in task and task.get("single") else batch_seed(task["master"], task["worker"],
                                                                                  batch + 1000 * task["restart"])
        RUN.reset()
        started = time.time()
        emit({"type": "start", "backend": backend, "seed": s})  # a death from here on is this batch's
        exc = run_batch(task, backend, s)
        if task.get("inject") == "segv":
            ctypes.string_at(0)  # a real NULL dereference inside C code: the process dies of SIGSEGV
        message = {"type": "batch", "backend": backend, "seed": s, "seconds": time.time() - started,
                   "counts": RUN.snapshot()}
        if exc is not None:
            failure = failure_record(exc, task, backend, s)
            key = (failure["invariant"], backend, tuple(failure["steps"]))
            if key not in seen:  # the example database replays a known failure first: save it once
                seen[key] = save_failure(failure, task)
            message["failure"] = dict(seen[key], seed=s)
        emit(message)
        if task.get("single"):
            break


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
