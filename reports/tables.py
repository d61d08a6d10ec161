"""The content of a summary as titled tables of plain-text cells, built once and drawn twice (Markdown and
HTML), so the two views cannot disagree. A cell's `mark` names why it stands out (the HTML colours it)."""
from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass, field
from typing import Any

from harness.invariants import INVARIANTS  # the one list


@dataclass(frozen=True)
class Cell:
    text: str
    mark: str = ""  # "" | "unhit" (exists, never reached) | "absent" (not on this backend) | "killed" | "survived"


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""


def _cells(*texts: Any) -> list[Cell]:
    return [Cell(str(t)) for t in texts]


def backends(summary: dict[str, Any]) -> list[str]:
    """Columns: the planned targets and any that reported counts, in plan order, then by name."""
    counts, plan = summary.get("counts") or {}, summary.get("plan") or {}
    planned = list(plan.get("backends") or plan.get("targets") or ())
    seen = set(planned) | set(summary.get("throughput") or {})
    for key in ("examples", "steps", "hits", "faults", "catalogues", "blackbox"):
        seen |= set(counts.get(key) or {})
    return [b for b in planned if b in seen] + sorted(seen - set(planned))


def catalogues(summary: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Each target's failpoints and the operation reaching each, as the run recorded them (a report needs
    no target installed)."""
    return dict((summary.get("counts") or {}).get("catalogues") or {})


def duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return "?"
    minutes, secs = divmod(float(seconds), 60)
    return f"{int(minutes)}m {secs:04.1f}s" if minutes else f"{secs:.1f}s"


def header_items(summary: dict[str, Any]) -> list[tuple[str, str]]:
    items = [("run", str(summary.get("run_id"))), ("kind", str(summary.get("kind"))),
             ("started", str(summary.get("started", "?"))), ("duration", duration(summary.get("seconds"))),
             ("seed", str(summary.get("seed")))]
    for key, value in (summary.get("plan") or {}).items():
        shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
        items.append((f"plan: {key}", shown if isinstance(shown, str) else json.dumps(shown, default=str)))
    return items


def totals(summary: dict[str, Any]) -> Table:
    counts, cols = summary.get("counts") or {}, backends(summary)
    table = Table("Totals", ["", *cols, "total"])

    def row(label: str, per: dict[str, int]) -> None:
        table.rows.append(_cells(label, *(per.get(b, 0) for b in cols), sum(per.values())))

    row("examples (programs)", counts.get("examples") or {})
    row("steps (operations)", counts.get("steps") or {})
    hits, faults = counts.get("hits") or {}, counts.get("faults") or {}
    row("failpoint hits", {b: sum(v.values()) for b, v in hits.items()})
    row("faults fired", {b: sum(v.values()) for b, v in faults.items()})
    cats = catalogues(summary)
    reached = {b: sum(1 for n in cats.get(b, ()) if hits.get(b, {}).get(n)) for b in cols}
    exist = {b: len(cats.get(b, ())) for b in cols}
    table.rows.append(_cells("failpoints reached", *(f"{reached[b]} / {exist[b]}" for b in cols),
                             f"{sum(reached.values())} / {sum(exist.values())}"))
    facts = []
    tests = summary.get("tests") or {}
    if tests:
        facts.append("tests: " + ", ".join(f"{tests[k]} {k}" for k in ("passed", "failed", "skipped", "errors")
                                           if k in tests))
    failures = summary.get("failures") or []
    facts.append(f"{len(failures)} distinct failures ({sum(f.get('count', 1) for f in failures)} occurrences)")
    mutants = summary.get("mutants") or []
    if mutants:
        facts.append(f"{sum(1 for r in mutants if r.get('killed'))} of {len(mutants)} mutant searches killed")
    table.note = "; ".join(facts)
    return table


def throughput(summary: dict[str, Any]) -> Table:
    table = Table("Throughput", ["backend", "steps", "seconds", "steps/s"])
    for backend, t in sorted((summary.get("throughput") or {}).items()):
        rate = t.get("steps_per_second")
        table.rows.append(_cells(backend, t.get("steps", 0), f"{t.get('seconds', 0):.1f}",
                                 f"{rate:.1f}" if isinstance(rate, (int, float)) else "-"))
    if not table.rows:
        table.note = "no throughput was measured in this run"
    return table


def coverage(summary: dict[str, Any]) -> Table:
    counts, cols = summary.get("counts") or {}, backends(summary)
    hits, faults = counts.get("hits") or {}, counts.get("faults") or {}
    table = Table("Failpoint coverage (hits / faults fired)", ["failpoint", "operation", *cols])
    cats = catalogues(summary)
    for name in sorted(set().union(*cats.values()) if cats else ()):
        row = [Cell(name), Cell(next(c[name] for c in cats.values() if name in c))]
        for b in cols:
            if name not in cats.get(b, ()):
                row.append(Cell("-", "absent"))
                continue
            h, f = hits.get(b, {}).get(name, 0), faults.get(b, {}).get(name, 0)
            row.append(Cell(f"{h} / {f}", "" if h else "unhit"))
        table.rows.append(row)
    table.note = "'-': the failpoint does not exist on that backend; marked cells: exists but never hit"
    return table


def blackbox(summary: dict[str, Any]) -> Table:
    """Black-box faults per target (kills in flight and in recovery, failing system calls), beside the
    failpoint coverage: a kind planned and never fired is marked."""
    per = (summary.get("counts") or {}).get("blackbox") or {}
    cols = [b for b in backends(summary) if b in per] + sorted(set(per) - set(backends(summary)))
    kinds = sorted({k.rsplit(" ", 1)[0] for counts in per.values() for k in counts})
    table = Table("Black-box faults (planned / fired)", ["fault", *cols])
    for kind in kinds:
        row = [Cell(kind)]
        for b in cols:
            planned, fired = per[b].get(f"{kind} planned", 0), per[b].get(f"{kind} fired", 0)
            row.append(Cell(f"{planned} / {fired}", "unhit" if planned and not fired else ""))
        table.rows.append(row)
    table.note = ("a kill fired if the call died in flight (or the open in its recovery); a system-call fault "
                  "if the call failed or died; marked: planned, never fired")
    return table


def primitive_faults(summary: dict[str, Any]) -> Table:
    """Faults fired at names outside the catalogue: failing primitives (fs, locks, resources)."""
    faults, cols = (summary.get("counts") or {}).get("faults") or {}, backends(summary)
    points = set().union(*catalogues(summary).values()) if catalogues(summary) else set()
    names = sorted({n for per in faults.values() for n in per if n not in points})
    table = Table("Faults at primitives", ["primitive", *cols])
    for name in names:
        table.rows.append(_cells(name, *(faults.get(b, {}).get(name, 0) for b in cols)))
    return table


def checks(summary: dict[str, Any]) -> Table:
    done = (summary.get("counts") or {}).get("checks") or {}
    table = Table("Invariant checks", ["invariant", "checks"])
    for name in [*INVARIANTS, *sorted(set(done) - set(INVARIANTS))]:
        n = done.get(name, 0)
        table.rows.append([Cell(name), Cell(str(n), "" if n else "unhit")])
    return table


def _kill_cell(row: dict[str, Any] | None) -> Cell:
    if row is None:
        return Cell("")
    if row.get("killed") is None:
        return Cell("n/a", "absent")
    if not row.get("killed"):
        return Cell(f"survived ({row.get('seconds_to_kill', '?')}s, budget {row.get('budget', '?')})", "survived")
    parts = [f"killed by {row.get('invariant') or '?'}", f"{row.get('seconds_to_kill', '?')}s"]
    if row.get("programs_to_kill") is not None:
        parts[-1] += f" ({row['programs_to_kill']} programs)"
    if row.get("shrunk_length") is not None:  # a shrink cut off by its time bound gives an upper bound
        parts.append(f"shrunk to {'at most ' if row.get('shrink_capped') else ''}{row['shrunk_length']} steps")
    return Cell(", ".join(parts), "killed")


def mutants(summary: dict[str, Any]) -> Table:
    rows = summary.get("mutants") or []
    searches = sorted({r.get("search", "?") for r in rows})
    table = Table("Mutant kill matrix", ["mutant", "backend", *searches])
    by_key = {(r.get("mutant"), r.get("backend"), r.get("search", "?")): r for r in rows}
    for mutant, backend in sorted({(r.get("mutant"), r.get("backend")) for r in rows}, key=str):
        table.rows.append([Cell(str(mutant)), Cell(str(backend)),
                           *(_kill_cell(by_key.get((mutant, backend, s))) for s in searches)])
    return table


def command(failure: dict[str, Any], where: str) -> str | None:
    """How to reproduce a failure from the checkout: its reproducer file, or else its pytest node."""
    if failure.get("command"):
        return str(failure["command"])
    if failure.get("reproducer"):
        return f"pytest {shlex.quote(artifact(failure['reproducer'], where))}"
    return f"pytest {shlex.quote(failure['nodeid'])}" if failure.get("nodeid") else None


def artifact(path: str, where: str) -> str:
    return path if os.path.isabs(path) else os.path.join(where, path)


def failure_title(i: int, failure: dict[str, Any]) -> str:
    times = f" (x{failure['count']})" if failure.get("count", 1) > 1 else ""
    return (f"{i}. {failure.get('class', '?')}: {failure.get('invariant', '?')}"
            f" on {failure.get('backend') or '?'}{times}")


def failure_facts(failure: dict[str, Any], where: str) -> list[tuple[str, str]]:
    facts = [("signature", json.dumps(failure.get("signature"))), ("seed", str(failure.get("seed"))),
             ("failpoint", str(failure.get("failpoint")))]
    if failure.get("nodeid"):
        facts.append(("test", failure["nodeid"]))
    cmd = command(failure, where)
    if cmd:
        facts.append(("reproduce", cmd))
    if failure.get("reproducer_fails") is not None:
        k, n = failure.get("reproduced") or (int(failure["reproducer_fails"]), 1)
        runs = f" (in {k} of {n} runs: its calls ran at once)" if n > 1 else ""
        facts.append(("reproducer fails on its own", ("yes" if failure["reproducer_fails"] else "NO") + runs))
    if failure.get("data_dir"):
        facts.append(("data directory", artifact(failure["data_dir"], where)))
    return facts


def targets(summary: dict[str, Any]) -> Table:
    """Per target: what it can do (so which rules ran) and which invariants were checked on it."""
    table = Table("Targets", ["target", "capabilities on", "invariants on", "failpoints", "mutants"])
    for name, t in sorted((summary.get("targets") or {}).items()):
        table.rows.append(_cells(name, ", ".join(t.get("capabilities", ())) or "-",
                                 ", ".join(i.split()[0] for i in t.get("invariants", ())),
                                 len(t.get("failpoints", ())), len(t.get("mutants", ()))))
    table.note = "a rule or invariant whose capability a target lacks is switched off on it"
    return table


def tables(summary: dict[str, Any]) -> list[Table]:
    """Every table of the report, in reading order (failures are drawn after these by each renderer)."""
    out = ([targets(summary)] if summary.get("targets") else []) + [totals(summary), throughput(summary),
                                                                    coverage(summary)]
    if blackbox(summary).rows:
        out.append(blackbox(summary))
    if primitive_faults(summary).rows:
        out.append(primitive_faults(summary))
    out.append(checks(summary))
    if summary.get("mutants"):
        out.append(mutants(summary))
    return out
