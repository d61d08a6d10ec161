"""Re-run every saved reproducer (tests/saved/, or SUITE_SAVED_REPRODUCERS) under plain pytest, each in its
own process: one with mutants on must still fail (the suite still catches its class), one without must
pass (the engine bug it found stays fixed)."""
from __future__ import annotations

import ast
import glob
import os
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


@pytest.mark.parametrize("path", FILES, ids=[os.path.relpath(p, SAVED) for p in FILES])
def test_saved_reproducer(path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path], cwd=ROOT,
                          capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PYTHONPATH=ROOT, SUITE_REPORT="0", HYPOTHESIS_PROFILE="dev"))
    mutants, invariant = constant(path, "MUTANTS"), str(constant(path, "INVARIANT"))
    if mutants:  # it must still fail, and by the same invariant (not by an import error, say)
        tag = invariant.split()[0]  # "I9"
        assert proc.returncode == 1 and "1 failed" in proc.stdout and tag in proc.stdout, \
            f"the suite no longer catches the bug of {mutants} by {invariant}:\n{proc.stdout[-2000:]}"
    else:
        assert proc.returncode == 0, f"a fixed engine bug is back:\n{proc.stdout[-2000:]}"
