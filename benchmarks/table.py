"""The Markdown tables printed at the end of a run (and written beside the JSON): medians, with the
spread in parentheses as min-max over the repetitions."""
from __future__ import annotations

from typing import Any

from benchmarks.config import BACKENDS


def _n(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.{digits}f}"


def _spread(s: dict[str, Any] | None, scale: float = 1.0, digits: int = 1) -> str:
    if not s or not s.get("n"):
        return "-"
    med = _n(s["median"] * scale, digits)
    if s["n"] == 1:
        return med
    return f"{med} ({_n(s['min'] * scale, digits)}-{_n(s['max'] * scale, digits)})"


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def _backends(section: dict[str, Any]) -> list[str]:
    return [b for b in BACKENDS if isinstance(section.get(b), dict) and "error" not in section[b]]


def throughput(sec: dict[str, Any]) -> list[str]:
    rows = []
    for b in _backends(sec):
        f, d = sec[b]["faults"], sec[b]["differential"]
        rows.append([b, _spread(f["steps_per_s"]), _spread(d["steps_per_s"]), _spread(sec[b]["off_over_on"], digits=2),
                     f"{f['steps']} / {d['steps']}"])
    return _rows(["backend", "fault machine steps/s (faults + invariants on)", "differential steps/s (off)",
                  "off / on", "steps per rep (on / off)"], rows)


def overhead(sec: dict[str, Any]) -> list[str]:
    rows = []
    for b in _backends(sec):
        r, us = sec[b]["ratios"], sec[b]["us_per_op"]
        rows.append([b, f"{sec[b]['trace']['ops']}", _n(us["raw"]), _n(us["engine"]), _n(us["model"]),
                     _n(us["harness"]),
                     _spread(r["engine_over_raw"], digits=2), _spread(r["model_over_engine"], digits=2),
                     _spread(r["harness_over_engine"], digits=2)])
    return _rows(["backend", "ops", "raw µs/op", "engine µs/op", "+model µs/op", "+invariants µs/op",
                  "engine ÷ raw", "model ÷ engine", "harness ÷ engine"], rows)


def detect(sec: dict[str, Any]) -> list[str]:
    backends = _backends(sec)
    mutants = sorted({m for b in backends for m in sec[b]["mutants"]})
    rows = []
    for m in mutants:
        row = [m]
        for b in backends:
            e = sec[b]["mutants"].get(m)
            if e is None:
                row.append("")
                continue
            cell = f"{e['killed']}/{e['seeds']}"
            if e["killed"]:
                cell += f", {_spread(e['seconds_to_failure'], digits=2)} s, len {_spread(e['shrunk_length'], digits=0)}"
                cell += f" ({e['shrinks_capped']} capped)" if e.get("shrinks_capped") else ""
            row.append(cell)
        rows.append(row)
    budgets = "; ".join(f"{b}: {sec[b]['budget']['max_examples']} programs, {sec[b]['budget']['seeds']} seeds, "
                        f"shrink cap {sec[b]['budget']['shrink_cap_seconds']:g} s" for b in backends)
    return _rows(["mutant"] + [f"{b}: killed, s to 1st failure, shrunk steps" for b in backends], rows) + [
        "", f"Budgets: {budgets}. A capped shrink reports the length reached at the cap (an upper bound)."]


def crashpoints(sec: dict[str, Any]) -> list[str]:
    rows = [[b, str(sec[b]["points"]), f"{sec[b]['trials']}{' (all)' if sec[b]['full'] else ''}",
             _n(sec[b]["points_per_s"], 2), _spread(sec[b]["seconds_per_point"], 1000),
             _n(sec[b]["estimated_full_enumeration_s"])] for b in _backends(sec)]
    return _rows(["backend", "crash points (lifecycle)", "trials run", "points/s", "ms per point",
                  "full enumeration s"], rows)


def restart(sec: dict[str, Any]) -> list[str]:
    rows = [[b, _spread(sec[b]["in_process_clean_s"], 1000, 2), _spread(sec[b]["in_process_crash_s"], 1000),
             _spread(sec[b]["spawn_s"], 1000, 0), _spread(sec[b]["child_s"], 1000, 0),
             _spread(sec[b]["reopen_s"], 1000)] for b in _backends(sec)]
    return _rows(["backend", "in-process reopen ms", "in-process crash + recovery ms", "child spawn ms",
                  "child run to SIGKILL ms", "reopen after SIGKILL ms"], rows)


def blackbox(sec: dict[str, Any]) -> list[str]:
    rows = [[b, _spread(sec[b]["round_trip_s"], 1000, 2), _spread(sec[b]["cold_open_s"], 1000, 0),
             _spread(sec[b]["restart_s"], 1000, 0), _spread(sec[b]["kill_cycle_s"], 1000, 0),
             _n(sec[b]["kills_per_s"], 1), _spread(sec[b]["syscall_fault_s"], 1000, 0)] for b in _backends(sec)]
    return _rows(["backend", "round trip ms", "cold open ms", "restart after SIGKILL ms", "kill in flight + "
                  "restart ms", "kills/s", "system-call fault ms"], rows)


def growth(sec: dict[str, Any]) -> list[str]:
    from benchmarks.growth import DIMENSIONS, METRICS
    rows = []
    for b in _backends(sec):
        for dim in DIMENSIONS:
            cells = []
            for m in METRICS:
                g = sec[b][dim][m]
                cells.append(f"{_n(g['seconds'][-1] * 1e6, 0)} µs, {_n(g['tail_exponent'], 2)}")
            rows.append([b, dim] + cells)
    sizes: list[int] = next(iter(sec[b]["sizes"] for b in _backends(sec)), [])
    faster = "; ".join(f"{b}: {', '.join(sec[b]['faster_than_linear']) or 'none'}" for b in _backends(sec))
    return _rows(["backend", "grows", *METRICS], rows) + [
        "", f"Each cell: cost at size {sizes[-1] if sizes else '-'}, then the growth exponent between the two "
        f"largest sizes of {sizes} (1 = linear). Faster than linear (exponent > 1.2): {faster}."]


def xdist(sec: dict[str, Any]) -> list[str]:
    if "seconds" not in sec:
        return []
    rows = [[f"-n {w}", _spread(s, digits=1)] for w, s in sec["seconds"].items()]
    rows.append([f"speedup ({sec.get('speedup_of', '')})", _spread(sec.get("speedup"), digits=2)])
    return _rows(["workers", "wall s"], rows) + ["", f"Subset: `{' '.join(sec['paths'])}` on {sec['backends']}."]


RENDER = {"throughput": ("Stateful throughput", throughput), "overhead": ("Overhead of engine and harness", overhead),
          "crashpoints": ("Crash-point enumeration", crashpoints), "restart": ("Restart cost", restart),
          "blackbox": ("Black-box faults on a hosted engine", blackbox),
          "growth": ("Step cost as the state grows", growth), "detect": ("Time to kill each mutant", detect),
          "xdist": ("Suite wall time with xdist workers", xdist)}


def render(results: dict[str, Any]) -> str:
    env = results["environment"]
    lines = [f"Run `{results['plan']['name']}` on {env['machine']['cpu']} ({env['machine']['cores']} cores), "
             f"Python {env['python']}, {env['date']}, load at start {env['machine']['load_at_start']}.", ""]
    for key, (title, fn) in RENDER.items():
        sec = results.get("sections", {}).get(key)
        if sec is None:
            continue
        lines += [f"#### {title}", ""]
        if "error" in sec:
            lines += [f"failed: {sec['error']}", ""]
            continue
        try:
            lines += fn(sec)
        except (KeyError, TypeError, StopIteration) as e:  # a partial section: say so, keep the rest
            lines.append(f"(cannot render: {type(e).__name__}: {e})")
        errors = [f"{b}: {sec[b]['error']}" for b in BACKENDS if isinstance(sec.get(b), dict) and "error" in sec[b]]
        lines += [""] + ([f"Errors: {'; '.join(errors)}", ""] if errors else [])
    return "\n".join(lines)
