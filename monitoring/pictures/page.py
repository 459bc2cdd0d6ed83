"""Self-contained HTML pages: inline CSS, inline SVG, no script, no external reference."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from markdown_it import MarkdownIt

CSS = """
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
.chart { border: 1px solid #ddd; padding: 4px; background: #fff; }
.k-fault, .s-ALARM, .failed { color: #b00000; font-weight: bold; }
.k-ok, .k-recovered, .s-OK, .passed { color: #16751b; }
.k-email { color: #8a6100; } .k-automation { color: #006a8a; } .k-action { color: #7a1f8a; }
.muted { color: #777; }
pre.email { white-space: pre-wrap; background: #fafafa; border: 1px solid #eee; padding: 6px; margin: 0; }
"""

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown(text: str) -> str:
    """Markdown as HTML; raw HTML in the source is shown as text, never interpreted."""
    return _MARKDOWN.render(text)


def page(title: str, body: Iterable[str], css: str = "") -> str:
    """A whole HTML document."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title>",
            f"<style>{CSS}{css}</style>",
            "</head><body>",
            f"<h1>{escape(title)}</h1>",
            *body,
            "</body></html>",
        ]
    )


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, raw: bool = False) -> str:
    """An HTML table; cells are escaped unless `raw` (then the caller escaped them)."""
    cell = (lambda v: v) if raw else escape
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def figure(svg: str) -> str:
    return f'<div class="chart">{svg}</div>'
