"""The summary of one run, and where runs live. A summary is a plain dict (so the stress supervisor and the
pytest plugin both build it, and it round-trips through JSON); every key is optional except run_id/kind:

    run_id, kind ("stress" | "pytest"), started (ISO 8601), seconds, seed, plan {free-form},
    counts      exactly `reports.counters.merge()` output: examples, steps, checks, hits, faults
    throughput  {backend: {steps, seconds, steps_per_second}}
    tests       {passed, failed, skipped, errors, junit}                       (pytest runs)
    failures    [{signature: [invariant, failpoint, backend], class, backend, seed, invariant, failpoint,
                  detail, program, reproducer, reproducer_fails, data_dir, count, nodeid, command}]
    mutants     rows as in mutants.json

`reproducer` and `data_dir` are paths relative to the run directory (absolute paths are shown as they are);
`command` overrides the shown reproduction command, which is otherwise `pytest <reproducer>` or
`pytest '<nodeid>'`. `write_summary` writes summary.json, summary.md and index.html into the run directory.
"""
from __future__ import annotations

import json
import os
import time
from typing import Any

FILES = ("summary.json", "summary.md", "index.html")


def runs_root() -> str:
    """reports/runs under the current directory (never inside the installed package); SUITE_REPORTS_ROOT
    moves it (tests point it into a temp dir)."""
    return os.environ.get("SUITE_REPORTS_ROOT") or os.path.join(os.getcwd(), "reports", "runs")


def run_dir(run_id: str | None = None) -> str:
    """The directory of the current run: SUITE_RUN_ID (set once per session by conftest/the plugin)."""
    return os.path.join(runs_root(), run_id or os.environ.get("SUITE_RUN_ID") or time.strftime("%Y%m%d-%H%M%S"))


def shown_path(directory: str) -> str:
    """A run directory as a person types it: relative to the current directory when inside it."""
    absolute, here = os.path.abspath(directory), os.getcwd()
    inside = os.path.commonpath([absolute, here]) == here
    return os.path.relpath(absolute, here) if inside else absolute


def write_summary(run_dir: str, summary: dict[str, Any]) -> None:
    from reports.markdown import render_markdown
    from reports.page import render_html

    os.makedirs(run_dir, exist_ok=True)
    where = shown_path(run_dir)
    texts = {"summary.json": json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n",
             "summary.md": render_markdown(summary, where), "index.html": render_html(summary, where)}
    for name, text in texts.items():
        # Write then rename, so `python -m reports` never prints a half-written file of a run in progress.
        tmp = os.path.join(run_dir, f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(run_dir, name))


def load_summary(run_dir: str) -> dict[str, Any]:
    with open(os.path.join(run_dir, "summary.json"), encoding="utf-8") as f:
        return json.load(f)


def latest_run(root: str | None = None) -> str | None:
    """The run directory whose summary was written last (run ids need not sort by time: `check-...`)."""
    root = root or runs_root()
    if not os.path.isdir(root):
        return None
    found = []
    for name in os.listdir(root):
        path = os.path.join(root, name, "summary.json")
        if os.path.isfile(path):
            found.append((os.path.getmtime(path), name))
    return os.path.join(root, max(found)[1]) if found else None
