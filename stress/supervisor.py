"""The stress supervisor: one worker process per core, each running seeded batches until the deadline;
reads their batch reports, shows progress, restarts a worker that died (a segfault or abort inside a C or
Rust extension is a finding, with the seed and backend of the batch it was running), writes the report."""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from reports.counters import merge

# Where the product's packages are (the checkout, or site-packages when installed): the workers import the
# same code as the supervisor. Runs, logs and the example database go under the current directory instead.
PACKAGES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def python_path() -> str:
    return os.pathsep.join(p for p in (PACKAGES, os.environ.get("PYTHONPATH")) if p)


@dataclass
class Child:
    index: int
    restart: int
    proc: subprocess.Popen
    log: TextIO
    log_path: str
    reports: TextIO
    current: dict[str, Any] | None = None  # the batch it started last and has not finished
    overran: bool = False  # killed by the supervisor at the hard stop, not by a fault of its own
    finished: bool = False  # it reported at least one whole batch
    live: dict[str, Any] = field(default_factory=dict)  # counts of the running batch so far
    buffer: list[str] = field(default_factory=list)


@dataclass
class Tally:
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    batches: int = 0
    overran: list[dict[str, Any]] = field(default_factory=list)  # batches cut off at the hard stop
    children: list[Any] = field(default_factory=list)  # running children, for their live counts
    failures: dict[str, dict[str, Any]] = field(default_factory=dict)  # signature -> first record + count

    def batch(self, msg: dict[str, Any]) -> None:
        self.batches += 1
        self.snapshots.append(msg["counts"])
        self.seconds[msg["backend"]] = self.seconds.get(msg["backend"], 0.0) + msg["seconds"]
        if "failure" in msg:
            self.failure(msg["failure"])

    def failure(self, record: dict[str, Any]) -> None:
        key = json.dumps(record["signature"])
        if key in self.failures:
            self.failures[key]["count"] += 1
            self.failures[key].setdefault("other_seeds", []).append(record.get("seed"))
        else:
            self.failures[key] = dict(record, count=1)

    def totals(self) -> dict[str, int]:
        counts = merge(self.snapshots + [c.live for c in self.children])
        return {"examples": sum(counts["examples"].values()), "steps": sum(counts["steps"].values()),
                "faults": sum(sum(c.values()) for c in counts["faults"].values())  # failpoints and primitives,
                + sum(n for c in counts.get("blackbox", {}).values() for k, n in c.items() if k.endswith(" fired")),
                "failures": len(self.failures)}


def spawn(index: int, restart: int, task: dict[str, Any]) -> Child:
    log_path = os.path.join(task["run_dir"], "logs", f"worker-{index}-{restart}.log")
    os.makedirs(os.path.dirname(log_path), exist_ok=True)
    log = open(log_path, "w", encoding="utf-8")
    # A native crash leaves its stack in the log.
    env = dict(os.environ, PYTHONPATH=python_path(), PYTHONFAULTHANDLER="1")
    read_end, write_end = os.pipe()  # batch reports; the worker's own stdout and stderr go to its log
    payload = json.dumps(dict(task, worker=index, restart=restart, report_fd=write_end,
                              inject=task.get("inject") if index == 0 and restart == 0 else None))
    # Its own process group: the hard stop kills the worker and the reproducer run it may have started.
    proc = subprocess.Popen([sys.executable, "-m", "stress.worker", payload], env=env,
                            stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_end,), start_new_session=True)
    os.close(write_end)
    return Child(index, restart, proc, log, log_path, reports=os.fdopen(read_end, encoding="utf-8"))


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:  # a real-time signal has no name
        return f"signal {number}"


def replay_hint(task: dict[str, Any], batch: dict[str, Any]) -> str:
    if not batch:
        return "it died before starting a batch (see its log)"
    extra = "".join(f" --{k} {v}" for k, v in (("steps", task["steps"]), ("examples", task["examples"])) if v)
    mutants = f" --mutants {','.join(task['mutants'])}" if task["mutants"] else ""
    return (f"rerun that batch with `python -m stress --replay {batch['backend']}:{batch['seed']}{mutants}{extra}"
            " --database-dir <an empty directory>` (a fresh example database replays only that seed)")


def died(child: Child, rc: int, task: dict[str, Any]) -> dict[str, Any]:
    """A worker that died of a signal (or exited non-zero outside any check), or a batch cut off at the
    hard stop (a liveness finding: it may have hung)."""
    how = f"killed by {_signal_name(-rc)}" if rc < 0 else f"exited with status {rc}"
    klass, what = "harness", f"stress worker {how}"
    if child.overran:
        klass, what = "liveness", "I9 no wedge: a stress batch overran the hard stop (killed by the supervisor)"
    batch = child.current or {}
    with open(child.log_path, encoding="utf-8", errors="replace") as f:
        tail = f.read()[-4000:]
    return {"class": klass, "invariant": what, "backend": batch.get("backend"),
            "seed": batch.get("seed"), "failpoint": None, "detail": f"worker {child.index}: {what}, during the "
            f"batch of seed {batch.get('seed')} on {batch.get('backend')}; {replay_hint(task, batch)}",
            "signature": [what, None, batch.get("backend")], "program": "",
            "reproducer": None, "data_dir": None, "log": os.path.relpath(child.log_path, task["run_dir"]),
            "log_tail": tail}


def _kill(child: Child) -> None:
    try:
        os.killpg(child.proc.pid, signal.SIGKILL)  # the worker and the reproducer run it started
    except ProcessLookupError:
        pass


class Progress:
    def __init__(self, budget: float, out: TextIO = sys.stdout) -> None:
        self.budget, self.out, self.started, self.last = budget, out, time.time(), 0.0
        self.tty = out.isatty()

    def show(self, tally: Tally, force: bool = False) -> None:
        now = time.time()
        if not force and now - self.last < (1.0 if self.tty else 10.0):
            return
        self.last = now
        t = tally.totals()
        line = (f"[{now - self.started:5.0f}s/{self.budget:.0f}s] examples {t['examples']}  steps {t['steps']}  "
                f"faults injected {t['faults']}  failures {t['failures']}")
        if now - self.started > self.budget:
            line += "  (finishing the running batches: shrinking, checking reproducers)"
        self.out.write(("\r" + line) if self.tty else (line + "\n"))
        self.out.flush()


def supervise(task: dict[str, Any], workers: int, progress: Progress) -> Tally:
    tally = Tally()
    selector = selectors.DefaultSelector()
    # A batch that found a failure shrinks it and checks its reproducer, which can take minutes: the
    # deadline only stops new batches; one still running at the hard stop is cut off (and reported).
    hard_stop = task["deadline"] + max(300.0, task["budget"])
    children: dict[int, Child] = {}
    child_deaths: dict[int, int] = {}

    def start(index: int, restart: int) -> None:
        child = spawn(index, restart, task)
        children[index] = child
        tally.children = list(children.values())
        selector.register(child.reports, selectors.EVENT_READ, child)

    for i in range(workers):
        start(i, 0)
    while children:
        for key, _ in selector.select(timeout=1.0):
            child = key.data
            line = child.reports.readline()
            if line:
                msg = json.loads(line)
                if msg["type"] == "start":
                    child.current, child.live = msg, {}
                elif msg["type"] == "progress":
                    child.live = msg["counts"]
                else:
                    child.current, child.live, child.finished = None, {}, True
                    tally.batch(msg)
                continue
            selector.unregister(child.reports)
            child.reports.close()
            try:
                rc = child.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # pipe closed, process stuck in native shutdown
                _kill(child)
                rc = child.proc.wait()
            child.log.close()
            del children[child.index]
            tally.children = list(children.values())
            if child.overran:
                tally.overran.append(child.current or {})
            if rc != 0 or child.overran:
                tally.failure(died(child, rc, task))
                # A replay is one batch; a worker that keeps dying before any batch ends is not restarted.
                child_deaths[child.index] = 0 if child.finished else child_deaths.get(child.index, 0) + 1
                if (time.time() < task["deadline"] and not task.get("single") and not child.overran
                        and child_deaths[child.index] < 3):
                    start(child.index, child.restart + 1)
        progress.show(tally)
        if time.time() > hard_stop:
            for child in children.values():
                if not child.overran:
                    child.overran = True
                    _kill(child)
    progress.show(tally, force=True)
    if progress.tty:
        progress.out.write("\n")
    return tally
