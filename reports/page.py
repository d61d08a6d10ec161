"""index.html: the report as one static page (inline CSS, no script, no external assets), so it opens from
the run directory or a CI artifact with nothing else around it. Every text goes through html.escape."""
from __future__ import annotations

from html import escape
from typing import Any

from reports import tables as T

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
th { background: #f0f0f0; }
td.unhit { background: #ffd6d6; font-weight: bold; }
td.absent { color: #aaa; background: #fafafa; text-align: center; }
td.killed { background: #dff5df; }
td.survived { background: #ffd6d6; font-weight: bold; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .5em; overflow-x: auto; }
.failure { border-left: 4px solid #c33; padding-left: 1em; margin-bottom: 1.5em; }
.note { color: #666; font-style: italic; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: 0 1em; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
"""


def _facts(items: list[tuple[str, str]]) -> str:
    rows = "".join(f"<dt>{escape(k)}</dt><dd><code>{escape(v)}</code></dd>" for k, v in items)
    return f'<dl class="facts">{rows}</dl>'


def _table(table: T.Table) -> str:
    out = [f"<h2>{escape(table.title)}</h2>"]
    if table.rows:
        head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
        body = "".join("<tr>" + "".join(f'<td class="{c.mark}">{escape(c.text)}</td>' if c.mark
                                        else f"<td>{escape(c.text)}</td>" for c in row) + "</tr>"
                       for row in table.rows)
        slug = escape(table.title.split(" (")[0].lower().replace(" ", "-"))
        out.append(f'<table id="{slug}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')
    if table.note:
        out.append(f'<p class="note">{escape(table.note)}</p>')
    return "\n".join(out)


def _failures(summary: dict[str, Any], where: str) -> str:
    failures = summary.get("failures") or []
    out = ["<h2>Failures</h2>"]
    if not failures:
        out.append("<p>None.</p>")
    for i, failure in enumerate(failures, 1):
        out.append(f'<div class="failure"><h3>{escape(T.failure_title(i, failure))}</h3>')
        out.append(_facts(T.failure_facts(failure, where)))
        for label in ("detail", "program"):
            if failure.get(label):
                out.append(f"<p>{label}:</p><pre>{escape(str(failure[label]))}</pre>")
        out.append("</div>")
    return "\n".join(out)


def render_html(summary: dict[str, Any], where: str = ".") -> str:
    title = f"ghostcheck {summary.get('kind', 'run')} {summary.get('run_id')}"
    drawn = T.tables(summary)
    parts = [f"<h1>{escape(title)}</h1>", _facts(T.header_items(summary)), _table(drawn[0]),
             _failures(summary, where), *(_table(t) for t in drawn[1:])]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head>\n<body>\n"
            + "\n".join(parts) + "\n</body></html>\n")
