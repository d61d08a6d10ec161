"""The benchmark command (benchmarks/, `make bench`) runs end to end in its quick mode on LMDB and writes
every figure: the JSON has each section's keys and positive numbers, and the table renders. No timing is
asserted (the machine is shared); the xdist section is left out (it runs the suite in a subprocess).
The command runs in its own process, as `make bench` runs it: the machines it drives must not add their
programs to this test session's run counters (reports.counters)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.config import SECTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _positive(x):
    return isinstance(x, (int, float)) and x > 0


def test_quick_benchmark_writes_every_figure(tmp_path):
    out = tmp_path / "results" / "latest.json"
    sections = [s for s in SECTIONS if s != "xdist"]
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--backends", "lmdb",
                           "--sections", ",".join(sections), "--mutants", "create_lock_leak", "--shrink-cap", "0.5",
                           "--out", str(out), "--workdir", str(tmp_path / "work")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
                          env={k: v for k, v in os.environ.items() if not k.startswith("BENCH_")})
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["plan"]["name"] == "quick"
    env = data["environment"]
    assert env["python"] and env["versions"]["hypothesis"] and env["date"] and env["machine"]["cores"]
    s = data["sections"]
    assert set(s) == set(sections)
    for name in sections:
        assert "error" not in s[name]["lmdb"], f"{name}: {s[name]['lmdb']}"

    t = s["throughput"]["lmdb"]
    for kind in ("faults", "differential"):
        assert t[kind]["steps"] > 0 and _positive(t[kind]["steps_per_s"]["median"])
    assert _positive(t["off_over_on"]["median"])

    o = s["overhead"]["lmdb"]
    assert all(_positive(o["seconds"][layer]["median"]) for layer in ("raw", "engine", "model", "harness"))
    assert all(_positive(r["median"]) for r in o["ratios"].values())

    c = s["crashpoints"]["lmdb"]
    assert c["points"] > 0 and _positive(c["points_per_s"]) and c["point_count_checked"] and not c["failures"]

    r = s["restart"]["lmdb"]
    for key in ("in_process_clean_s", "in_process_crash_s", "spawn_s", "child_s", "reopen_s"):
        assert _positive(r[key]["median"]), key

    bb = s["blackbox"]["lmdb"]
    for key in ("round_trip_s", "cold_open_s", "restart_s", "kill_cycle_s", "syscall_fault_s"):
        assert _positive(bb[key]["median"]), key
    assert _positive(bb["kills_per_s"])

    g = s["growth"]["lmdb"]
    for dim in ("tables", "branches", "records"):
        assert all(_positive(x) for m in g[dim].values() for x in m["seconds"]), dim

    d = s["detect"]["lmdb"]["mutants"]["create_lock_leak"]
    assert d["seeds"] == 1 and len(d["runs"]) == 1
    if d["killed"]:
        assert _positive(d["seconds_to_failure"]["median"]) and d["shrunk_length"]["median"] >= 1

    table = (tmp_path / "results" / "latest.md").read_text()
    assert "| lmdb |" in table and "Crash-point enumeration" in table
    assert "| lmdb |" in proc.stdout
