"""The run reports: the summary rendered as JSON, Markdown and HTML, `python -m reports`, and the pytest plugin
recording a real inner pytest session (with and without xdist) into a temporary reports root."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sut.failpoints import CATALOGUE, for_backend
from reports import failures
from harness.invariants import INVARIANTS
from reports.summary import latest_run, load_summary, write_summary

pytest_plugins = ["pytester"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def synthetic() -> dict:
    return {
        "run_id": "20261121-040000", "kind": "stress", "started": "2026-11-21T04:00:00+0000", "seconds": 125.5,
        "seed": 1234, "plan": {"backends": ["lmdb", "lance"], "budget_seconds": 120, "workers": 2},
        "counts": {"examples": {"lmdb": 40, "lance": 3}, "steps": {"lmdb": 900, "lance": 50},
                   "checks": {"I5 no ghosts": 7, "I1 equivalence": 3},
                   "hits": {"lmdb": {"open.before_init": 12, "drop.after_tombstone": 2}, "lance": {}},
                   "faults": {"lmdb": {"drop.after_tombstone": 1, "fs.fsync": 4}},
                   "catalogues": {t: {n: fp.operation for n, fp in for_backend(t).items()} for t in ("lmdb", "lance")}},
        "throughput": {"lmdb": {"steps": 900, "seconds": 9.0, "steps_per_second": 100.0}},
        "failures": [{"signature": ["I5 no ghosts", "drop.after_tombstone", "lmdb"], "class": "correctness",
                      "backend": "lmdb", "seed": 99, "invariant": "I5 no ghosts", "failpoint": "drop.after_tombstone",
                      "detail": "ghost <script>alert(1)</script> & more", "program": "state = M()\nstate.drop(t='<a>')",
                      "reproducer": "failures/test_repro_abc.py", "reproducer_fails": True,
                      "data_dir": "failures/data_abc", "count": 3, "nodeid": None}],
        "mutants": [{"mutant": "no_tombstone", "backend": "lmdb", "search": "stateful", "killed": True,
                     "invariant": "I6 no resurrection", "klass": "correctness", "seconds_to_kill": 1.5,
                     "shrunk_length": 4},
                    {"mutant": "no_tombstone", "backend": "lance", "search": "stateful", "killed": True,
                     "invariant": "I5 no ghosts", "klass": "correctness", "seconds_to_kill": 30.0,
                     "programs_to_kill": 12, "shrunk_length": 7, "shrink_capped": True},
                    {"mutant": "no_tombstone", "backend": "lmdb", "search": "scenario", "killed": False,
                     "seconds_to_kill": 0.2}],
    }


def test_render_synthetic_summary(tmp_path):
    write_summary(str(tmp_path), synthetic())
    assert load_summary(str(tmp_path)) == synthetic()
    html = (tmp_path / "index.html").read_text()
    md = (tmp_path / "summary.md").read_text()
    assert '<table id="failpoint-coverage">' in html and "<script" not in html
    assert "ghost &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html
    assert "state.drop(t=&#x27;&lt;a&gt;&#x27;)" in html
    for name in set(for_backend("lmdb")) | set(for_backend("lance")):  # the run's targets' failpoints
        assert f"<td>{name}</td>" in html and f"| {name} |" in md
    assert set(CATALOGUE) == set(for_backend("lmdb")) | set(for_backend("lance"))
    # Columns lmdb and lance only (the plan's); a KV-only failpoint is "-" on lance, an unreached one is marked.
    assert "<th>lmdb</th><th>lance</th></tr>" in html and "<th>rocksdb</th>" not in html
    assert '<td>fork.after_copy_chunk</td><td>put</td><td class="unhit">0 / 0</td><td class="absent">-</td>' in html
    assert '<td>drop.after_tombstone</td><td>drop_table</td><td>2 / 1</td>' in html
    assert "<td>fs.fsync</td><td>4</td>" in html  # a primitive's faults, outside the catalogue
    for name in INVARIANTS:
        assert f"<td>{name}</td>" in html
    assert '<td class="killed">killed by I6 no resurrection, 1.5s, shrunk to 4 steps</td>' in html
    assert '<td class="killed">killed by I5 no ghosts, 30.0s (12 programs), shrunk to at most 7 steps</td>' in html
    assert '<td class="survived">' in html
    assert "pytest reports/runs/" not in md and f"pytest {tmp_path}/failures/test_repro_abc.py" in md
    assert "(x3)" in md and "state.drop(t='<a>')" in md and "| lmdb | 900 | 9.0 | 100.0 |" in md


def test_blackbox_faults_are_shown_per_target_beside_the_coverage(tmp_path):
    summary = synthetic()
    summary["plan"]["backends"].append("lmdb-blackbox")
    summary["counts"]["blackbox"] = {"lmdb-blackbox": {"kill in flight planned": 9, "kill in flight fired": 3,
                                                       "system-call fault planned": 4, "system-call fault fired": 0}}
    write_summary(str(tmp_path), summary)
    html, md = (tmp_path / "index.html").read_text(), (tmp_path / "summary.md").read_text()
    assert md.index("Failpoint coverage") < md.index("Black-box faults (planned / fired)")
    assert "| kill in flight | 9 / 3 |" in md
    assert '<td>system-call fault</td><td class="unhit">4 / 0</td>' in html  # planned, never fired


def test_python_m_reports_prints_the_latest_summary(tmp_path):
    env = dict(os.environ, SUITE_REPORTS_ROOT=str(tmp_path), PYTHONPATH=REPO)
    run = [sys.executable, "-m", "reports"]
    empty = subprocess.run(run, env=env, capture_output=True, text=True, cwd=REPO)
    assert empty.returncode == 1 and "no run yet" in empty.stderr
    for run_id in ("older", "newer"):
        write_summary(str(tmp_path / run_id), {**synthetic(), "run_id": run_id})
    os.utime(tmp_path / "older" / "summary.json", (0, 0))
    assert latest_run(str(tmp_path)) == str(tmp_path / "newer")
    latest = subprocess.run(run, env=env, capture_output=True, text=True, cwd=REPO, check=True)
    assert latest.stdout.startswith("# ghostcheck stress newer") and "## Failpoint coverage" in latest.stdout
    chosen = subprocess.run([*run, str(tmp_path / "older")], env=env, capture_output=True, text=True, check=True)
    assert chosen.stdout.startswith("# ghostcheck stress older")


def test_failure_read_from_a_hypothesis_report():
    text = ("E       AssertionError: I5 no ghosts: w0.find('t') failed with no fault active\n"
            "E       Failing test case: <state machine>\nE       state = M()\n"
            "E       tables_0 = state.open(indexed=['a'])\nE       state.teardown()\nE       Explanation:\n"
            "E           These lines were always and only run by failing test cases:\n")
    got = failures.from_report("tests/t.py::test_x[lmdb]", "AssertionError: I5 no ghosts: w0.find('t') failed", text)
    assert (got["class"], got["invariant"], got["backend"]) == ("correctness", "I5 no ghosts", "lmdb")
    assert got["program"] == "state = M()\ntables_0 = state.open(indexed=['a'])\nstate.teardown()"
    assert failures.from_report("t.py::a", "AssertionError: I9: locks held: drop.after_tombstone", "")["signature"] \
        == ["I9 no wedge", "drop.after_tombstone", None]
    assert failures.classify("TypeError: bad argument") == "harness"


INNER_TESTS = '''
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from reports.counters import RUN


@pytest.mark.parametrize("backend", ["lmdb"])
def test_feeds_counters(backend):
    RUN.machine_done(backend, 7, {"hits": {"open.before_init": 2}, "fired": [("open.before_init", 1, "crash")]},
                     {"open.before_init": "open", "drop.after_tombstone": "drop_table"})
    RUN.checked("I5 no ghosts", 3)


def test_passes():
    pass


@pytest.mark.skip(reason="shows up as skipped")
def test_skipped():
    pass


@pytest.mark.parametrize("backend", ["rocksdb"])
def test_wedged(backend):
    raise AssertionError("I9: locks held between calls: ['catalog']")


class Ghosts(RuleBasedStateMachine):
    n = 0

    @rule()
    def step(self):
        self.n += 1
        assert self.n < 3, "I5 no ghosts: a ghost after three steps"


def test_machine():
    run_state_machine_as_test(Ghosts, settings=settings(max_examples=50, database=None, deadline=None))
'''


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["in-process", "xdist"])
def test_plugin_records_an_inner_session(pytester, monkeypatch, tmp_path, extra):
    root = tmp_path / "runs"
    monkeypatch.setenv("SUITE_REPORTS_ROOT", str(root))  # never the real reports/runs
    monkeypatch.setenv("SUITE_RUN_ID", "inner")
    monkeypatch.setenv("PYTHONPATH", REPO)
    pytester.makeconftest('pytest_plugins = ["reports.plugin"]\n')
    pytester.makepyfile(test_inner=INNER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *extra)
    result.assert_outcomes(passed=2, failed=2, skipped=1)
    run = root / "inner"
    assert {"summary.json", "summary.md", "index.html", "junit.xml"} <= set(os.listdir(run))
    assert "suite report:" in result.stdout.str()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["tests"] == {"passed": 2, "failed": 2, "skipped": 1, "errors": 0, "junit": "junit.xml"}
    assert summary["counts"]["steps"] == {"lmdb": 7} and summary["counts"]["checks"] == {"I5 no ghosts": 3}
    assert summary["counts"]["hits"] == {"lmdb": {"open.before_init": 2}}
    assert summary["throughput"]["lmdb"]["steps"] == 7
    by_test = {f["nodeid"].split("::")[-1]: f for f in summary["failures"]}
    wedged, machine = by_test["test_wedged[rocksdb]"], by_test["test_machine"]
    assert (wedged["class"], wedged["signature"]) == ("liveness", ["I9 no wedge", None, "rocksdb"])
    assert machine["class"] == "correctness" and "state.step()" in machine["program"]
    html = (run / "index.html").read_text()
    assert '<table id="failpoint-coverage">' in html and "<td>2 / 1</td>" in html


def test_no_suite_report_writes_nothing(pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("SUITE_REPORTS_ROOT", str(tmp_path / "runs"))
    monkeypatch.setenv("PYTHONPATH", REPO)
    pytester.makeconftest('pytest_plugins = ["reports.plugin"]\n')
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--no-suite-report").assert_outcomes(passed=1)
    assert not (tmp_path / "runs").exists()
