"""The stress run's report: the summary (JSON, Markdown, HTML through reports.summary) and a JUnit file
with one test case per target, so CI can show a nightly run like any test run."""
from __future__ import annotations

import os
import shutil
import time
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from harness.target import describe
from harness.targets import load
from reports.counters import merge
from reports.summary import write_summary


def write_report(run_dir: str, task: dict[str, Any], args: Any, tally: Any, seconds: float,
                 seed: int) -> dict[str, Any]:
    counts = merge(tally.snapshots)
    throughput = {b: {"steps": counts["steps"].get(b, 0), "seconds": round(s, 2),
                      "steps_per_second": round(counts["steps"].get(b, 0) / s, 1) if s else 0.0}
                  for b, s in sorted(tally.seconds.items())}
    failures = sorted(tally.failures.values(), key=lambda f: (f["class"], f["invariant"], str(f["backend"])))
    summary = {"run_id": task["run_id"], "kind": "stress", "seed": seed, "seconds": round(seconds, 1),
               "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - seconds)),
               "plan": {"targets": task["backends"], "budget_seconds": task["budget"], "workers": args.workers,
                        "mutants": task["mutants"], "steps_per_program": task["steps"],
                        "example_database": "redis" if task["redis_url"] else task["database_dir"],
                        "batches": tally.batches, "cut_off_at_hard_stop": tally.overran},
               "counts": counts, "throughput": throughput, "totals": tally.totals(), "failures": failures,
               "targets": {t.name: describe(t) for t in map(load, task["backends"])}}
    write_summary(run_dir, summary)
    write_junit(os.path.join(run_dir, "junit.xml"), summary)
    if not failures:  # a passing run keeps only its summary
        shutil.rmtree(os.path.join(run_dir, "logs"), ignore_errors=True)
    return summary


def write_junit(path: str, summary: dict[str, Any]) -> None:
    cases = []
    for backend in summary["plan"]["targets"]:
        mine = [f for f in summary["failures"] if f.get("backend") in (backend, None)]
        body = "".join(f"<failure message={quoteattr(f['invariant'])}>{escape(f['detail'])}\n{escape(f['program'])}"
                       f"</failure>" for f in mine)
        t = summary["throughput"].get(backend, {}).get("seconds", 0)
        cases.append(f'<testcase classname="stress" name="{backend}" time="{t}">{body}</testcase>')
    failed = sum(1 for c in cases if "<failure" in c)
    with open(path, "w", encoding="utf-8") as f:
        f.write(f'<?xml version="1.0" encoding="utf-8"?>\n<testsuites><testsuite name="stress" '
                f'tests="{len(cases)}" failures="{failed}" time="{summary["seconds"]}">{"".join(cases)}'
                f'</testsuite></testsuites>\n')
