"""The pytest plugin that records every session into reports/runs/<SUITE_RUN_ID>/ (registered from conftest.py;
`--no-suite-report` turns it off): test outcomes and failures as the controller sees them (that works the same
under xdist), the counters of every process (xdist workers send theirs back in `workeroutput`), mutants.json
when the kill matrix ran, and JUnit XML for CI unless `--junitxml` says where."""
from __future__ import annotations

import json
import os
import time
from collections import Counter
from typing import Any

import pytest

from reports import failures as F
from reports.counters import RUN, merge
from reports.summary import run_dir, shown_path, write_summary

_KEY = "ghostcheck_counts"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("suite", "verification suite")
    group.addoption("--suite-report", dest="suite_report", action="store_true",
                    default=os.environ.get("SUITE_REPORT", "1") != "0",
                    help="record the session into reports/runs/<SUITE_RUN_ID>/ (default unless SUITE_REPORT=0; "
                         "SUITE_REPORTS_ROOT moves it)")
    group.addoption("--no-suite-report", dest="suite_report", action="store_false",
                    help="do not record the session (no summary, no default JUnit XML)")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("suite_report"):
        return
    # Before conftest's own setdefault, and before xdist starts workers: they inherit it and agree on the run.
    os.environ.setdefault("SUITE_RUN_ID", time.strftime("%Y%m%d-%H%M%S"))
    directory = run_dir()
    # tryfirst: junitxml reads xmlpath in its own pytest_configure, so the default must be in place before.
    if not _is_worker(config) and getattr(config.option, "xmlpath", "") is None:
        config.option.xmlpath = os.path.join(directory, "junit.xml")
    config.pluginmanager.register(Recorder(config, directory), "ghostcheck-suite-report")


class Recorder:
    def __init__(self, config: pytest.Config, directory: str) -> None:
        self.config, self.dir = config, directory
        self.started, self.clock = time.strftime("%Y-%m-%dT%H:%M:%S%z"), time.perf_counter()
        self.tests: Counter[str] = Counter()
        self.failures: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.snapshots: list[dict[str, Any]] = []
        self.seconds: dict[str, float] = {}  # backend -> seconds of the tests that ran its steps
        self.backends: set[str] = set()
        self.written = False

    # -- every process: time the tests that run engine steps ------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        before, start = Counter(RUN.steps), time.perf_counter()
        try:
            return (yield)
        finally:
            elapsed, ran = time.perf_counter() - start, Counter(RUN.steps) - before
            for backend, steps in ran.items():  # a test that ran several backends shares its time by steps
                self._add_seconds(backend, elapsed * steps / sum(ran.values()))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: Any) -> Any:
        """A failure that carries a verdict (harness.invariants.CheckFailed, a model contradiction) sends
        it as data with the report, so the controller classifies it without reading the message."""
        report = yield
        if call.excinfo is not None and report.failed:
            from harness.invariants import classify
            check = classify(call.excinfo.value)
            if check.klass != "harness" or type(call.excinfo.value).__name__ == "TooManyStates":
                report.user_properties.append(("verdict", {"invariant": check.invariant, "klass": check.klass,
                                                           "detail": check.detail[:4000]}))
        return report

    def _add_seconds(self, backend: str, seconds: float) -> None:
        self.seconds[backend] = self.seconds.get(backend, 0.0) + seconds

    # -- the controller (or the only process): outcomes and failures ---------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if _is_worker(self.config):
            return
        backend = F.backend_of(report.nodeid)
        if backend:
            self.backends.add(backend)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = "errors" if report.failed and report.when != "call" else report.outcome
            self.tests[outcome] += 1
        elif report.failed:  # a teardown error after a passed or failed call: pytest counts it as an error
            self.tests["errors"] += 1
        if report.failed:
            self._failed(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and not _is_worker(self.config):
            self.tests["errors"] += 1
            self._failed(report)

    def _failed(self, report: Any) -> None:
        crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
        text = "\n".join([report.longreprtext, *(content for _name, content in report.sections)])
        verdict = dict(getattr(report, "user_properties", ())).get("verdict")
        failure = F.from_report(report.nodeid, crash.message if crash else "", text, verdict)
        failure["seed"] = _seed(self.config)
        known = self.failures.setdefault(tuple(failure["signature"]), failure)
        if known is not failure:
            known["count"] += 1

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        sent = getattr(node, "workeroutput", {}).get(_KEY)
        if sent:  # a worker that crashed sends nothing: its counts are lost, its failures were reported
            data = json.loads(sent)
            self.snapshots.append(data["counts"])
            for backend, seconds in data["seconds"].items():
                self._add_seconds(backend, seconds)

    # -- the end of the session ------------------------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if _is_worker(self.config):
            self.config.workeroutput[_KEY] = json.dumps(  # type: ignore[attr-defined]
                {"counts": RUN.snapshot(), "seconds": dict(self.seconds)})
            return
        write_summary(self.dir, self.summary())
        self.written = True

    def summary(self) -> dict[str, Any]:
        counts = merge([*self.snapshots, RUN.snapshot()])  # the controller's own RUN is empty under xdist
        throughput = {b: {"steps": counts["steps"].get(b, 0), "seconds": round(s, 3),
                          "steps_per_second": round(counts["steps"].get(b, 0) / s, 1) if s else None}
                      for b, s in sorted(self.seconds.items())}
        xml = getattr(self.config.option, "xmlpath", None)
        return {"run_id": os.path.basename(self.dir), "kind": "pytest", "started": self.started,
                "seconds": round(time.perf_counter() - self.clock, 2), "seed": _seed(self.config),
                "plan": self.plan(), "counts": counts, "throughput": throughput,
                "tests": {"passed": 0, "failed": 0, "skipped": 0, "errors": 0, **self.tests,
                          "junit": os.path.relpath(xml, self.dir) if xml else None},
                "failures": list(self.failures.values()), "mutants": _mutants(self.dir),
                "targets": _targets(self.config)}

    def plan(self) -> dict[str, Any]:
        option = self.config.option
        return {"backends": sorted(self.backends),
                "suite_targets": [t.name for t in getattr(self.config, "_suite_targets", ())],
                "profile": os.environ.get("HYPOTHESIS_PROFILE", "dev"),
                "workers": getattr(option, "numprocesses", None) or 0,
                "args": list(self.config.invocation_params.args)}

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.written:
            where = shown_path(self.dir)
            terminalreporter.write_line(f"suite report: {where}/index.html (python -m reports {where})")


def _seed(config: pytest.Config) -> int | None:
    seed = getattr(config.option, "hypothesis_seed", None)
    return int(seed) if seed is not None and str(seed).isdigit() else None


def _mutants(directory: str) -> list[dict[str, Any]]:
    path = os.path.join(directory, "mutants.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _targets(config: pytest.Config) -> dict[str, Any]:
    """Per chosen target: the capabilities that were on, the invariants checked, its failpoints."""
    from harness.target import describe
    return {t.name: describe(t) for t in getattr(config, "_suite_targets", ())}
