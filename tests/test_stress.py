"""`make stress` end to end, as a user runs it (`python -m stress` in a child process): a worker that dies
of a real SIGSEGV inside C code is a finding and the run goes on; a mutant is reported with a reproducer
that fails on its own under plain pytest, and passes once the mutant is off."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from stress.seeds import batch_seed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
pytestmark = pytest.mark.killproc


def _stress(tmp_path, *args: str) -> tuple[int, str, dict]:
    cmd = [sys.executable, "-m", "stress", "--workers", "1", "--reports", str(tmp_path / "runs"),
           "--database-dir", str(tmp_path / "examples"), *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    (run,) = os.listdir(tmp_path / "runs")
    with open(tmp_path / "runs" / run / "summary.json", encoding="utf-8") as f:
        return proc.returncode, proc.stdout + proc.stderr, dict(json.load(f), dir=str(tmp_path / "runs" / run))


def test_a_worker_killed_by_sigsegv_is_a_finding_and_the_run_finishes(tmp_path):
    rc, out, summary = _stress(tmp_path, "--seconds", "15", "--backends", "lmdb", "--examples", "2",
                               "--seed", "7", "--inject", "segv")
    assert rc == 1, out
    (death,) = [f for f in summary["failures"] if "SIGSEGV" in f["invariant"]]
    assert death["backend"] == "lmdb" and death["seed"] == batch_seed(7, 0, 0) and death["class"] == "harness"
    assert "Segmentation fault" in death["log_tail"]  # the faulthandler's stack of the native crash
    assert os.path.exists(os.path.join(summary["dir"], death["log"]))
    # the restarted worker went on: whole batches reported after the death
    assert summary["plan"]["batches"] >= 1 and os.path.exists(os.path.join(summary["dir"], "index.html"))
    assert "stress: report" in out


def test_a_mutant_is_reported_with_a_reproducer_that_fails_alone(tmp_path):
    rc, out, summary = _stress(tmp_path, "--seconds", "10", "--backends", "lmdb", "--seed", "11",
                               "--mutants", "create_lock_leak", "--shrink-seconds", "20")
    assert rc == 1, out
    found = [f for f in summary["failures"] if f["class"] != "harness"]
    assert found, summary["failures"]
    failure = found[0]
    assert failure["invariant"].startswith("I9") and failure["reproducer_fails"] is True, failure
    assert failure["program"] and os.path.isdir(os.path.join(summary["dir"], failure["data_dir"]))
    reproducer = os.path.join(summary["dir"], failure["reproducer"])

    def pytest_alone(path: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path], cwd=ROOT,
                              capture_output=True, text=True, timeout=600,
                              env=dict(os.environ, PYTHONPATH=ROOT, SUITE_REPORT="0"))
    red = pytest_alone(reproducer)
    assert red.returncode == 1 and re.search(r"^E\s+(\w+\.)*\w+: I9\b", red.stdout, re.MULTILINE), \
        red.stdout[-2000:]  # failed by I9 on its error line, not by an import error, say
    control = tmp_path / "test_control.py"  # the same program on the engine without the mutant
    control.write_text(open(reproducer).read().replace("MUTANTS = ('create_lock_leak',)", "MUTANTS = ()"))
    green = pytest_alone(str(control))
    assert green.returncode == 0, green.stdout[-2000:]
