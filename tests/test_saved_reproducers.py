"""Re-run every saved reproducer (tests/saved/, or SUITE_SAVED_REPRODUCERS) under plain pytest, each in its
own process: one with mutants on must still fail (the suite still catches its class) and pass with them
off (the control: it is the mutant that fails it); one without mutants must pass (the engine bug it found
stays fixed)."""
from __future__ import annotations

import ast
import glob
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAVED = os.environ.get("SUITE_SAVED_REPRODUCERS") or os.path.join(ROOT, "tests", "saved")
FILES = sorted(glob.glob(os.path.join(SAVED, "**", "*repro_*.py"), recursive=True))


def constant(path: str, name: str) -> object:
    """A module-level constant of a reproducer (MUTANTS, INVARIANT), read without importing it."""
    with open(path, encoding="utf-8") as f:
        for node in ast.parse(f.read()).body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
                return ast.literal_eval(node.value)
    raise AssertionError(f"{path}: no {name} = ... line; was it written by make stress?")


def test_there_are_saved_reproducers():
    assert FILES, f"no reproducers under {SAVED}"


def _pytest_alone(path: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=ROOT, SUITE_REPORT="0", HYPOTHESIS_PROFILE="dev"))


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(p, SAVED) for p in FILES])
def test_saved_reproducer(path, tmp_path):
    mutants, invariant = constant(path, "MUTANTS"), str(constant(path, "INVARIANT"))
    if mutants:  # it must still fail, and by the same invariant (not by an import error, say)...
        red = _pytest_alone(path)
        tag = invariant.split()[0]  # "I9": on the error line itself, not anywhere in the traceback's source
        said = re.search(rf"^E\s+(\w+\.)*\w+: {tag}\b", red.stdout, re.MULTILINE)
        assert red.returncode == 1 and "1 failed" in red.stdout and said, \
            f"the suite no longer catches the bug of {mutants} by {invariant}:\n{red.stdout[-2000:]}"
        control = tmp_path / f"test_control_{os.path.basename(path)}"  # ...and pass on the unmutated engine
        with open(path, encoding="utf-8") as f:
            control.write_text(f.read().replace(f"MUTANTS = {mutants!r}", "MUTANTS = ()"))
        path = str(control)
    green = _pytest_alone(path)
    assert green.returncode == 0, f"the program fails on the engine without mutants:\n{green.stdout[-2000:]}"
