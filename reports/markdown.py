"""summary.md: the report as Markdown, what `python -m reports` prints in a terminal."""
from __future__ import annotations

from typing import Any

from reports import tables as T


def _cell(cell: T.Cell) -> str:
    # A pipe or newline inside a cell would break the table; the mark is spelled out (no colours here).
    text = cell.text.replace("|", "\\|").replace("\n", " ")
    return f"**{text}**" if cell.mark in ("unhit", "survived") else text


def _table(table: T.Table) -> list[str]:
    lines = [f"## {table.title}", ""]
    if table.rows:
        lines += ["| " + " | ".join(table.header) + " |", "|" + "---|" * len(table.header)]
        lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in table.rows]
        lines.append("")
    if table.note:
        lines += [f"_{table.note}_", ""]
    return lines


def _fence(text: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return ticks


def _failures(summary: dict[str, Any], where: str) -> list[str]:
    failures = summary.get("failures") or []
    lines = ["## Failures", ""]
    if not failures:
        return lines + ["None.", ""]
    for i, failure in enumerate(failures, 1):
        lines += [f"### {T.failure_title(i, failure)}", ""]
        lines += [f"- {label}: `{value}`" for label, value in T.failure_facts(failure, where)]
        detail, program = str(failure.get("detail") or ""), str(failure.get("program") or "")
        for label, body in (("detail", detail), ("program", program)):
            if body:
                fence = _fence(body)
                lines += ["", f"{label}:", "", fence, body.rstrip(), fence]
        lines.append("")
    return lines


def render_markdown(summary: dict[str, Any], where: str = ".") -> str:
    lines = [f"# ghostcheck {summary.get('kind', 'run')} {summary.get('run_id')}", "",
             f"Report directory: `{where}` (open `{where}/index.html` in a browser)", ""]
    lines += [f"- {label}: {value}" for label, value in T.header_items(summary)] + [""]
    drawn = T.tables(summary)
    lines += _table(drawn[0]) + _failures(summary, where)
    for table in drawn[1:]:
        lines += _table(table)
    return "\n".join(lines).rstrip() + "\n"
