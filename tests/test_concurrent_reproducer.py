"""A finding of calls run at once, from the search to the morning report: the memory engine shared by
clients as it is (tests.misbehaving_target.RACY: no locks, no failpoints, so only the concurrent-clients
rule can reach a race) fails some program; Hypothesis cannot run such a program again the same way, so the
stress worker reports the program that failed (harness.sticky), and its reproducer runs it a bounded number
of times, saying in how many it failed."""
from __future__ import annotations

import os
import re

from reports.tables import failure_facts
from stress import artifacts, worker

RACY = "tests.misbehaving_target:RACY"


def test_a_race_found_by_calls_at_once_gets_a_reproducer_that_says_how_often_it_fails(tmp_path):
    task = {"steps": 20, "database_dir": str(tmp_path / "db"), "examples": 100, "run_dir": str(tmp_path),
            "run_id": "racy", "shrink_seconds": 20}
    exc = worker.run_batch(task, RACY, 5)
    assert exc is not None, "no race found in 100 programs"
    failure = worker.failure_record(exc, task, RACY, 5)
    assert failure["class"] != "harness" and any("state.concurrently(" in s for s in failure["steps"]), failure
    saved = worker.save_failure(failure, task)
    with open(os.path.join(tmp_path, saved["reproducer"]), encoding="utf-8") as f:
        assert re.search(r"^ATTEMPTS = 10\b", f.read(), re.MULTILINE)
    k, n = saved["reproduced"]  # how often is the scheduler's: none of ten is an answer too, and said
    assert n == 10 and saved["reproducer_fails"] == (k > 0), saved["reproducer_output"]
    assert k == 0 or f"reproduced in {k} of 10 runs" in saved["reproducer_output"]
    facts = dict(failure_facts(saved, str(tmp_path)))
    assert facts["reproducer fails on its own"] == f"{'yes' if k else 'NO'} (in {k} of 10 runs: its calls ran at once)"
    print(f"reproduced in {k} of {n} runs: {failure['invariant']}: {failure['detail'][:200]}")


def test_a_program_without_calls_at_once_runs_once(tmp_path):
    path = artifacts.write_reproducer(str(tmp_path), {
        "signature": ["I1"], "class": "correctness", "backend": "memory", "seed": 1, "invariant": "I1 equivalence",
        "detail": "", "mutants": [], "steps": ["tables_0 = state.open(indexed=[])", "state.reopen()"]}, "r")
    with open(path, encoding="utf-8") as f:
        assert re.search(r"^ATTEMPTS = 1\b", f.read(), re.MULTILINE)
    assert artifacts.run_reproducer(path)[0] is False and artifacts.reproduced(path, False, "") == (0, 1)
