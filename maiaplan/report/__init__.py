"""``maiaplan report``: the plan, the fleet and the dry run as one self-contained HTML page.

The package is split by what each module knows:

- :mod:`~maiaplan.report.sources` calls the planner and the dry-run engine (the only module that
  does) and returns their results as JSON documents;
- :mod:`~maiaplan.report.extract` and :mod:`~maiaplan.report.dryrun` turn those documents into
  rows, the numbers that a chart and its table share;
- :mod:`~maiaplan.report.charts` writes the charts as Vega-Lite specs with Altair;
- :mod:`~maiaplan.report.sections` and :mod:`~maiaplan.report.dryrun_section` arrange charts and
  tables into sections; :mod:`~maiaplan.report.page` writes the HTML;
- :mod:`~maiaplan.report.bundle` supplies Vega's JavaScript from the vl-convert-python wheel.

docs/report.md describes the page.
"""

from __future__ import annotations

import html

from maiaplan.report import bundle, dryrun, extract
from maiaplan.report.dryrun_section import dryrun_section
from maiaplan.report.page import Section, page_html, signed_percent
from maiaplan.report.sections import capacity_section, economics_section, phases_section, topology_section
from maiaplan.report.sources import ReportInputs, load_inputs


def report_sections(inputs: ReportInputs) -> list[Section]:
    """The report's sections, in page order (the dry run's only with a preview)."""
    sections = [
        phases_section(inputs.plan, dryrun.stack_position(inputs.preview) if inputs.preview is not None else None),
        capacity_section(inputs.plan),
        topology_section(inputs.plan, inputs.layouts, inputs.placements),
        economics_section(inputs.plan, inputs.claims),
    ]
    if inputs.preview is not None:
        sections.append(dryrun_section(inputs.preview))
    return sections


def build_report(inputs: ReportInputs) -> str:
    """The report as one HTML document.

    Parameters
    ----------
    inputs
        The plan document, the placements, and optionally the preview's JSON and the claims.

    Returns
    -------
    str
        The page; the same inputs give the same string (no clock, sorted keys, fixed chart ids).

    Complexity: linear in the moves, the nodes of every cluster times the fleet states, and the
    preview's resources.
    """
    sections = report_sections(inputs)
    summary = extract.summary(inputs.plan)
    economics = extract.economics_rows(inputs.plan)
    start, end = economics[0], economics[-1]
    kpis = [
        (str(summary["phases"]), f"phases (lower bound {summary['lower_bound_phases']})"),
        (str(summary["moves"]), "moves"),
        (str(summary["stays"]), "stay"),
        (
            f"${end['usd_per_hour']:,.0f}/h",
            f"{signed_percent(end['usd_per_hour_vs_start'])} vs ${start['usd_per_hour']:,.0f}/h at start",
        ),
        (f"{end['tokens_per_joule']:.3g} tok/J", f"{signed_percent(end['tokens_per_joule_vs_start'])} vs start"),
        (
            f"${end['usd_per_million_tokens']:.3g}/M tok",
            f"{signed_percent(end['usd_per_million_tokens_vs_start'])} vs start",
        ),
    ]
    if inputs.preview is not None:
        kpis.append((str(inputs.preview.get("result", "")), f"dry run of {inputs.preview.get('stack', '')}"))
    items = "".join(f"<li><b>{html.escape(value)}</b><span>{html.escape(label)}</span></li>" for value, label in kpis)
    header = (
        f'<header class="top"><h1>Migration report: {html.escape(summary["spec"])}</h1>'
        f"<p>{summary['workloads']} workloads on {summary['clusters']} clusters. "
        f"{'Proven optimal' if summary['optimal'] else 'Not proven optimal'}: {html.escape(summary['optimality'])}.</p>"
        f'<ul class="kpis">{items}</ul></header>'
    )
    libraries = ", ".join(f"{name} {version}" for name, version in bundle.versions().items())
    return page_html(
        title=f"maiaplan report: {summary['spec']}",
        header_html=header,
        nav=[(section.anchor, section.title) for section in sections],
        sections=sections,
        footer=f"Written by maiaplan report from the plan document (format {inputs.plan.get('format_version', '?')})"
        + (" and the preview's JSON report" if inputs.preview is not None else "")
        + f". Charts: {libraries}, inlined; the page makes no request.",
        script=bundle.javascript_bundle(),
    )


__all__ = ["ReportInputs", "build_report", "load_inputs", "report_sections"]
