"""What a failure leaves in its run directory: the shrunk program, a standalone reproducer test that fails
on its own under plain pytest (checked by running it), and a copy of the data directory it left."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from typing import Any

from harness.printed import program_of
from stress.supervisor import python_path

__all__ = ["program_of", "write_reproducer", "run_reproducer", "reproduced", "signature_id"]

TEMPLATE = '''"""Reproducer written by `make stress` (run {run_id}): {klass} failure on {backend}, seed {seed}.

    {invariant}: {detail}

Run it with `pytest {path}`; it replays the shrunk program on the current engine and model. With
GHOSTCHECK_KEEP_DATA=<dir> it leaves a copy of the data directory there. Mutants on: {mutants!r}.{attempts_doc}"""
# ruff: noqa: F841 - the program names every value Hypothesis drew, used later or not
from stress.replay import attempts, discard, keep, machine_class

MUTANTS = {mutants!r}
INVARIANT = {invariant!r}  # what it failed with when it was written
ATTEMPTS = {attempts}  # runs of the program; more than one where the scheduler decides how calls overlap
Machine = machine_class({backend!r}, MUTANTS)


def program():
    state = Machine()
    try:
{steps}
    except BaseException:
        keep(state)
        discard(state)
        raise
    keep(state)
    state.teardown()  # the heal phase: faults off, reopen, cleanup, every invariant


def test_reproduce():
    attempts(program, ATTEMPTS)
'''

ATTEMPTS_DOC = '''

Its calls run at once (`concurrently`): where they overlap is up to the scheduler, so the program runs
ATTEMPTS times and the test fails if any run fails, saying in how many it reproduced.'''
# Steps whose outcome the scheduler decides: a program with one is re-run, not replayed once.
NONDETERMINISTIC = ("state.concurrently(",)
ATTEMPTS = 10
REPRODUCED = re.compile(r"reproduced in (\d+) of (\d+) runs")


def signature_id(signature: list[Any]) -> str:
    return hashlib.sha1(json.dumps(signature).encode()).hexdigest()[:10]


def write_reproducer(directory: str, failure: dict[str, Any], run_id: str) -> str:
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"test_repro_{signature_id(failure['signature'])}.py")
    steps = "\n".join(f"        {s}" for s in failure["steps"]) or "        pass"
    runs = ATTEMPTS if any(step in s for s in failure["steps"] for step in NONDETERMINISTIC) else 1
    text = TEMPLATE.format(run_id=run_id, klass=failure["class"], backend=failure["backend"],
                           seed=failure["seed"], invariant=failure["invariant"],
                           detail=failure["detail"].replace('"""', "'''")[:300], path=path,
                           mutants=tuple(failure["mutants"]), steps=steps, attempts=runs,
                           attempts_doc=ATTEMPTS_DOC if runs > 1 else "")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def run_reproducer(path: str, keep_data: str | None = None, timeout: float = 600) -> tuple[bool, str]:
    """Run one reproducer under plain pytest in a child process: (failed, output tail)."""
    env = dict(os.environ, PYTHONPATH=python_path(), HYPOTHESIS_PROFILE="dev", SUITE_REPORT="0")
    if keep_data:
        env["GHOSTCHECK_KEEP_DATA"] = keep_data
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", path],
                              env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, f"the reproducer did not finish within {timeout:.0f}s"
    # Exit status 1 is "tests failed"; anything else (usage error, collection error) proves nothing.
    return proc.returncode == 1 and "1 failed" in proc.stdout, (proc.stdout + proc.stderr)[-3000:]


def reproduced(path: str, failed: bool, output: str) -> tuple[int, int]:
    """In how many of its runs the reproducer failed: (k, n); a deterministic one runs once."""
    with open(path, encoding="utf-8") as f:
        runs = int(re.search(r"^ATTEMPTS = (\d+)", f.read(), re.MULTILINE).group(1))  # type: ignore[union-attr]
    found = REPRODUCED.search(output)
    if found:
        return int(found.group(1)), int(found.group(2))
    return (1 if failed else 0), runs
