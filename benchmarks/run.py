"""Run a plan: every section on every backend, each failure recorded in place of its figures (one broken
section must not cost the other nine minutes), then the JSON and the Markdown table."""
from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Any, Callable

from benchmarks import blackbox, crashpoints, detect, env, growth, overhead, restart, table, throughput, xdist
from benchmarks.config import Plan
from benchmarks.stats import clock


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _per_backend(plan: Plan, workdir: str) -> dict[str, Callable[[str], Any]]:
    """section -> what it measures for one backend."""
    def detect_one(b: str) -> Any:
        d = plan.detect.get(b)
        if d is None:
            return None  # this plan measures no mutants on this backend
        mutants = list(d.mutants) if d.mutants else detect.applicable(b)
        mutants = [m for m in mutants if m in detect.applicable(b)]
        return detect.measure(b, mutants, d.seeds, d.max_examples, d.shrink_seconds, workdir, log=_log)

    return {
        "throughput": lambda b: throughput.measure(b, plan.examples[b], plan.reps, workdir),
        "overhead": lambda b: overhead.measure(b, plan.trace_records, plan.trace_reps[b], workdir,
                                                 plan.trace_inner.get(b, 1)),
        "crashpoints": lambda b: crashpoints.measure(b, plan.crash_sample[b], workdir),
        "restart": lambda b: restart.measure(b, plan.restart_reps, plan.kill_reps, workdir),
        "blackbox": lambda b: blackbox.measure(b, plan.kill_reps * 2 + 1, workdir),
        "growth": lambda b: growth.measure(b, plan.growth_sizes, plan.growth_reps[b], workdir),
        "detect": detect_one,
    }


def _error(e: BaseException) -> dict[str, str]:
    return {"error": f"{type(e).__name__}: {str(e)[:500]}", "traceback": traceback.format_exc()[-2000:]}


def run(plan: Plan, workdir: str) -> dict[str, Any]:
    results: dict[str, Any] = {"plan": plan.as_json(), "environment": env.describe(), "sections": {},
                               "section_seconds": {}}
    per_backend = _per_backend(plan, workdir)
    start_all = clock()
    for section in plan.sections:
        start = clock()
        _log(f"[{clock() - start_all:6.0f} s] {section} ...")
        if section == "xdist":
            try:
                out: dict[str, Any] = xdist.measure(list(plan.suite_paths), plan.suite_backends, plan.suite_workers,
                                                    plan.suite_reps, workdir)
            except Exception as e:  # noqa: BLE001 - recorded, the run goes on
                out = _error(e)
        else:
            out = {}
            for b in plan.backends:
                try:
                    got = per_backend[section](b)
                except Exception as e:  # noqa: BLE001 - recorded, the run goes on
                    got = _error(e)
                    _log(f"  {section} {b} failed: {got['error']}")
                if got is not None:
                    out[b] = got
        results["sections"][section] = out
        results["section_seconds"][section] = round(clock() - start, 1)
    results["environment"]["machine"]["load_at_end"] = env.load()
    results["total_seconds"] = round(clock() - start_all, 1)
    return results


def write(results: dict[str, Any], out: str) -> str:
    """The JSON (atomically: a reader never sees half a file) and the Markdown table beside it."""
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1, sort_keys=False, default=str)
        f.write("\n")
    os.replace(tmp, out)
    markdown = table.render(results)
    with open(os.path.splitext(out)[0] + ".md", "w", encoding="utf-8") as f:
        f.write(markdown + "\n")
    return markdown
