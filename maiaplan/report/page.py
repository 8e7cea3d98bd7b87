"""The report's HTML: sections of figures (a chart beside its table), styles, and the inlined scripts.

The page is one file: its styles, the Vega bundle and every chart's spec are inline, fonts are the
reader's system fonts, and a Content-Security-Policy forbids every fetch, so nothing it does can
leave the machine. Charts are drawn as SVG when the page opens; ``<html data-charts-drawn="N">``
says when all N are drawn (``data-charts-failed`` when one fails, with the error on the console).
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
Formatter = Callable[[Any], str]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)


def number(value: Any) -> str:
    """A count or measure for a table cell: thousands separated, at most 4 decimals, "–" for none."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:,.4f}".rstrip("0").rstrip(".")
    return str(value)


def percent(value: Any) -> str:
    """A share as a percentage with one decimal; "–" for none."""
    return "–" if value is None else f"{value:.1%}"


def money(value: Any) -> str:
    """Dollars with cents."""
    return "–" if value is None else f"{value:,.2f}"


def signed_percent(value: Any) -> str:
    """A change as a signed percentage: ``+3.2 %``, ``−1.0 %``."""
    return "–" if value is None else f"{value:+.1%}".replace("-", "−")


def text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class Column:
    """A table column: the row key, its heading, how a value prints, whether it is numeric."""

    key: str
    heading: str
    format: Formatter = text
    numeric: bool = False

    @property
    def css_class(self) -> str:
        """``num`` (right-aligned) for numbers, ``nw`` (kept on one line) for short labels."""
        if self.numeric:
            return ' class="num"'
        return ' class="nw"' if self.key in SHORT_KEYS else ""


# Columns whose values are short labels, kept on one line.
SHORT_KEYS = frozenset(
    {
        "traffic",
        "sharding",
        "state",
        "phase",
        "cluster",
        "from_cluster",
        "to_cluster",
        "workload",
        "level",
        "status",
        "op",
        "verdict",
        "rule",
        "label",
    }
)


def num(key: str, heading: str, format: Formatter = number) -> Column:
    """A right-aligned numeric column."""
    return Column(key, heading, format, numeric=True)


@dataclass(frozen=True)
class Table:
    """Rows under a caption; ``scroll`` keeps a long table in a scrolling box on screen."""

    caption: str
    columns: Sequence[Column]
    rows: Sequence[Row]
    scroll: bool = True


@dataclass(frozen=True)
class Figure:
    """A chart (its id and Vega-Lite spec) and the tables of its numbers.

    ``layout`` "beside" puts the tables to the right of the chart on a wide screen, "below" under it.
    """

    chart_id: str
    title: str
    caption: str
    spec: dict[str, Any]
    tables: Sequence[Table]
    layout: str = "beside"


@dataclass(frozen=True)
class Section:
    """A heading, a lead paragraph, its figures, then any further HTML (already escaped)."""

    anchor: str
    title: str
    lead: str
    figures: Sequence[Figure] = ()
    extra_html: Sequence[str] = field(default_factory=tuple)


def table_html(table: Table) -> str:
    """A table as HTML, every cell escaped; an empty table says so."""
    if not table.rows:
        return f'<p class="empty">{html.escape(table.caption)}: none.</p>'
    head = "".join(f'<th scope="col"{c.css_class}>{html.escape(c.heading)}</th>' for c in table.columns)
    body = "\n".join(
        "<tr>"
        + "".join(f"<td{c.css_class}>{html.escape(c.format(row.get(c.key)))}</td>" for c in table.columns)
        + "</tr>"
        for row in table.rows
    )
    wrap = "table-wrap scroll" if table.scroll and len(table.rows) > 14 else "table-wrap"
    return (
        f'<div class="{wrap}"><table><caption>{html.escape(table.caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>"
    )


def figure_html(figure: Figure) -> str:
    tables = "\n".join(table_html(table) for table in figure.tables)
    return (
        f'<figure class="figure {html.escape(figure.layout)}" aria-labelledby="{figure.chart_id}-title">'
        f'<figcaption><h3 id="{figure.chart_id}-title">{html.escape(figure.title)}</h3>'
        f"<p>{html.escape(figure.caption)}</p></figcaption>"
        f'<div class="chart-box"><div class="chart" id="{figure.chart_id}" role="img" '
        f'aria-label="{html.escape(figure.title)} (its numbers are in the table beside it)"></div></div>'
        f'<div class="numbers">{tables}</div></figure>'
    )


def section_html(section: Section) -> str:
    figures = "\n".join(figure_html(figure) for figure in section.figures)
    extra = "\n".join(section.extra_html)
    return (
        f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>'
        f'<p class="lead">{html.escape(section.lead)}</p>\n{figures}\n{extra}</section>'
    )


def script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: sorted keys, no ``<`` (escaped as ``\\u003c``)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).replace(
        "<", "\\u003c"
    )


DRAW_SCRIPT = """
(function () {
  var root = document.documentElement;
  var specs = JSON.parse(document.getElementById("report-specs").textContent);
  var ids = Object.keys(specs);
  Promise.all(ids.map(function (id) {
    return vegaEmbed("#" + id, specs[id], {actions: false, renderer: "svg", tooltip: true});
  })).then(function () {
    root.setAttribute("data-charts-drawn", String(ids.length));
  }).catch(function (error) {
    root.setAttribute("data-charts-failed", String(error));
    console.error("maiaplan report: a chart could not be drawn: " + error);
  });
  // Printing shows what the folded parts hold, then folds them again.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.setAttribute("data-print-opened", ""); d.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-print-opened]").forEach(function (d) {
      d.removeAttribute("data-print-opened"); d.open = false;
    });
  });
})();
"""

STYLE = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --paper: #ffffff; --band: #f9fafb;
  --accent: #2563eb; --ok: #15803d; --bad: #b91c1c; --warn: #a16207; }
* { box-sizing: border-box; }
html { color: var(--ink); background: var(--paper);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
body { margin: 0; }
header.top { padding: 24px 32px 16px; border-bottom: 1px solid var(--line); background: var(--band); }
header.top h1 { margin: 0 0 4px; font-size: 24px; }
header.top p { margin: 4px 0; color: var(--muted); max-width: 110ch; }
.kpis { display: flex; flex-wrap: wrap; gap: 12px; margin: 14px 0 4px; padding: 0; list-style: none; }
.kpis li { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 8px 14px; min-width: 120px; }
.kpis b { display: block; font-size: 20px; font-variant-numeric: tabular-nums; }
.kpis span { color: var(--muted); font-size: 12px; }
nav.toc { position: sticky; top: 0; z-index: 2; background: rgba(255,255,255,.96); border-bottom: 1px solid var(--line);
  padding: 8px 32px; display: flex; flex-wrap: wrap; gap: 18px; }
nav.toc a { color: var(--accent); text-decoration: none; font-weight: 600; }
main { padding: 0 32px 32px; max-width: 1600px; }
section { padding-top: 18px; border-bottom: 1px solid var(--line); padding-bottom: 12px; }
h2 { font-size: 20px; margin: 8px 0 4px; }
h3 { font-size: 15px; margin: 0 0 2px; }
p.lead { color: var(--muted); margin: 0 0 12px; max-width: 120ch; }
figure.figure { margin: 12px 0 22px; display: grid; gap: 8px 28px; grid-template-columns: minmax(0, auto) minmax(320px, 1fr);
  grid-template-areas: "cap cap" "chart numbers"; align-items: start; }
figure.figure.below { grid-template-columns: minmax(0, 1fr); grid-template-areas: "cap" "chart" "numbers"; }
figure.figure figcaption { grid-area: cap; }
figure.figure figcaption p { margin: 0; color: var(--muted); max-width: 120ch; }
.chart-box { grid-area: chart; overflow-x: auto; }
.numbers { grid-area: numbers; min-width: 0; }
.table-wrap { overflow-x: auto; margin: 0 0 12px; border: 1px solid var(--line); border-radius: 6px; }
.table-wrap.scroll { max-height: 460px; overflow-y: auto; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 6px 8px; background: var(--band); caption-side: top; }
th, td { padding: 4px 8px; border-top: 1px solid var(--line); text-align: left; vertical-align: top; }
thead th { position: sticky; top: 0; background: var(--band); border-top: 0; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.nw { white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fcfcfd; }
p.empty { color: var(--muted); font-style: italic; }
.verdict-passed { color: var(--ok); font-weight: 700; }
.verdict-failed { color: var(--bad); font-weight: 700; }
details.tree, details.tree details { margin: 0 0 0 14px; }
details.tree summary, .tree details summary { cursor: pointer; }
.tree .leaf { margin-left: 30px; }
.op { display: inline-block; min-width: 62px; font-weight: 700; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
.op-create { color: var(--ok); } .op-update { color: var(--warn); } .op-replace { color: #c2410c; }
.op-delete { color: var(--bad); } .op-same, .op-read { color: var(--muted); }
.type { color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
ul.changes { margin: 2px 0 6px 44px; padding: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
footer { padding: 16px 32px; color: var(--muted); font-size: 12px; }
.vega-embed { display: block !important; }
.vega-embed summary { display: none; }
@media (max-width: 1100px) {
  figure.figure { grid-template-columns: minmax(0, 1fr); grid-template-areas: "cap" "chart" "numbers"; }
}
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  html { font-size: 10.5px; }
  nav.toc { display: none; }
  header.top { background: none; padding: 0 0 8px; }
  main { padding: 0; max-width: none; }
  section { break-before: page; border: 0; }
  section:first-of-type { break-before: auto; }
  figure.figure { display: block; break-inside: auto; }
  .chart-box { overflow: visible; break-inside: avoid; }
  .chart svg { max-width: 100%; height: auto; }
  .table-wrap, .table-wrap.scroll { max-height: none; overflow: visible; border: 0; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  thead th { position: static; }
  a { color: inherit; text-decoration: none; }
}
"""


def page_html(
    title: str, header_html: str, nav: Sequence[tuple[str, str]], sections: Sequence[Section], footer: str, script: str
) -> str:
    """The whole page.

    Parameters
    ----------
    title
        The document's title.
    header_html
        The page's header (already escaped HTML).
    nav
        ``(anchor, label)`` of each section, for the table of contents.
    sections
        The sections, in order.
    footer
        A line of plain text for the footer.
    script
        The chart library (see :mod:`maiaplan.report.bundle`).

    Returns
    -------
    str
        The HTML document; the same arguments give the same string.
    """
    specs = {figure.chart_id: figure.spec for section in sections for figure in section.figures}
    links = "".join(f'<a href="#{anchor}">{html.escape(label)}</a>' for anchor, label in nav)
    body = "\n".join(section_html(section) for section in sections)
    return f"""<!DOCTYPE html>
<html lang="en" data-charts="{len(specs)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">
<meta name="generator" content="maiaplan report">
<title>{html.escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
{header_html}
<nav class="toc" aria-label="sections">{links}</nav>
<main>
{body}
</main>
<footer>{html.escape(footer)}</footer>
<script id="report-specs" type="application/json">{script_json(specs)}</script>
<script>{script}</script>
<script>{DRAW_SCRIPT}</script>
</body>
</html>
"""
