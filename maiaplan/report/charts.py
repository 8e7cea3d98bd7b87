"""The report's charts as Vega-Lite specifications, written with Altair.

Every function takes the rows of :mod:`maiaplan.report.extract` or :mod:`maiaplan.report.dryrun`
(the same rows the chart's table shows) and returns a Vega-Lite spec as a dict. Data is inline and
nothing names itself from a counter, so the same rows give the same spec. No chart has selections
or parameters: the page is read and printed, and Altair numbers parameters per process.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from maiaplan.report.extract import BAR_SPAN, BAR_START

Row = dict[str, Any]
Spec = dict[str, Any]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INK, MUTED, GRID, FREE = "#1f2937", "#6b7280", "#e5e7eb", "#e5e7eb"
# What held a move out of an earlier phase (docs/plan-format.md: binding_rule).
RULE_COLOURS = {
    "none": "#4c78a8",
    "dependency": "#f58518",
    "risk": "#e45756",
    "capacity": "#54a24b",
    "contract": "#b279a2",
    "schedule": "#9d755d",
}
OP_COLOURS = {
    "create": "#54a24b",
    "update": "#f2cf5b",
    "replace": "#f58518",
    "delete": "#e45756",
    "read": "#4c78a8",
    "same": "#bab0ac",
}
STATUS_COLOURS = {"passed": "#54a24b", "violated": "#f2cf5b", "failed": "#e45756", "disabled": "#bab0ac"}
# Widths in pixels: the page's main column holds about this much beside a table.
WIDE, NARROW = 760, 300
ROW_PX = 16


class _Datasets:
    """A chart's inline data, named by content: the chart refers to each by name and the rows go
    into the spec's top-level ``datasets`` after validation (validating every row against the
    schema would cost seconds on a large fleet and checks nothing the rows' builders do not)."""

    def __init__(self) -> None:
        self.values: dict[str, list[Row]] = {}

    def __call__(self, rows: Sequence[Row]) -> alt.Data:
        values = list(rows)
        digest = hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]
        self.values[f"data-{digest}"] = values
        data: alt.Data = alt.Data(name=f"data-{digest}")  # type: ignore[no-untyped-call]
        return data


def _finish(chart: Any, data: _Datasets) -> Spec:
    """The spec of ``chart`` with the report's look (fonts, colours, no border around views) and
    its data."""
    spec: Spec = (
        chart.configure(font=FONT, background="white")
        .configure_view(stroke=None)
        .configure_axis(
            labelColor=INK,
            titleColor=INK,
            gridColor=GRID,
            domainColor=MUTED,
            tickColor=MUTED,
            labelFontSize=11,
            titleFontSize=12,
        )
        .configure_legend(
            labelColor=INK,
            titleColor=INK,
            labelFontSize=11,
            titleFontSize=12,
            orient="bottom",
            columns=4,
            labelLimit=220,
        )
        .configure_header(labelColor=INK, titleColor=INK, labelFontSize=12, labelFontWeight="bold")
        .configure_title(color=INK, fontSize=13, anchor="start")
        .to_dict(validate=True)
    )
    spec["datasets"] = dict(sorted(data.values.items()))
    return spec


def _phase_x() -> alt.X:
    """Fleet states along x as short ordinal labels: start, 1, 2, … (titled "phase")."""
    return alt.X(
        "phase:O", title="phase", axis=alt.Axis(labelAngle=0, labelExpr="datum.value == 0 ? 'start' : datum.value")
    )


def _scale(colours: Mapping[str, str], present: Sequence[str] | None = None) -> alt.Scale:
    domain = [key for key in colours if present is None or key in present]
    return alt.Scale(domain=domain, range=[colours[key] for key in domain])


def gantt(
    moves: Sequence[Row], steps: Sequence[Row], dependencies: Sequence[Row], phase_count: int, stack: Row | None = None
) -> Spec:
    """Phases as a Gantt: one bar per move in its phase's column, coloured by the rule that kept
    it from an earlier phase, its traffic steps as ticks on the bar, dependencies as lines from the
    end of the dependency's bar to the start of the dependent's. With ``stack`` (``name``,
    ``phase``, ``step``: where a previewed stack stands), that phase's column is shaded up to the
    stack's traffic step."""
    data = _Datasets()
    order = [row["workload"] for row in moves]
    # One explicit domain for every layer: a union of sorted domains would lose the order.
    y_scale = alt.Scale(domain=order)
    y = alt.Y("workload:N", scale=y_scale, title=None, axis=alt.Axis(labelLimit=180))
    height = max(60, (22 if len(order) <= 30 else ROW_PX) * len(order))
    rules = [rule for rule in RULE_COLOURS if any(row["binding_rule"] == rule for row in moves)]
    x_scale = alt.Scale(domain=[0, max(1, phase_count)], nice=False)
    x_axis = alt.Axis(
        values=[k + 0.5 for k in range(phase_count)],
        labelExpr="'phase ' + (datum.value + 0.5)",
        grid=False,
        title=None,
        orient="top",
        labelFontWeight="bold",
    )
    boundaries = (
        alt.Chart(data([{"x": k} for k in range(phase_count + 1)]))
        .mark_rule(color=GRID)
        .encode(x=alt.X("x:Q", scale=x_scale, axis=x_axis))
    )
    links = (
        alt.Chart(data(dependencies))
        .mark_rule(color=MUTED, strokeDash=[3, 2], strokeWidth=1)
        .encode(
            x=alt.X("x:Q", scale=x_scale, axis=x_axis),
            x2="x2:Q",
            y=alt.Y("dependency:N", scale=y_scale, title=None),
            y2="dependent:N",
            tooltip=[
                alt.Tooltip("dependent:N", title="workload"),
                alt.Tooltip("dependency:N", title="depends on"),
                alt.Tooltip("phases:N"),
            ],
        )
    )
    bars = (
        alt.Chart(data(moves))
        .mark_bar(height={"band": 0.7}, cornerRadius=2)
        .encode(
            x=alt.X("start:Q", scale=x_scale, axis=x_axis),
            x2="end:Q",
            y=y,
            color=alt.Color("binding_rule:N", scale=_scale(RULE_COLOURS, rules), title="binding rule"),
            tooltip=[
                alt.Tooltip("workload:N"),
                alt.Tooltip("phase:Q"),
                alt.Tooltip("from_cluster:N", title="from"),
                alt.Tooltip("to_cluster:N", title="to"),
                alt.Tooltip("chips:Q"),
                alt.Tooltip("traffic:N", title="traffic steps"),
                alt.Tooltip("binding_rule:N", title="binding rule"),
            ],
        )
    )
    ticks = (
        alt.Chart(data(steps))
        .mark_tick(color="white", thickness=2, size=max(6, int(height / max(1, len(order)) * 0.7)))
        .encode(
            x=alt.X("x:Q", scale=x_scale, axis=x_axis),
            y=alt.Y("workload:N", scale=y_scale, title=None),
            tooltip=[alt.Tooltip("workload:N"), alt.Tooltip("label:N", title="traffic"), alt.Tooltip("gate:N")],
        )
    )
    labels = (
        alt.Chart(data(moves))
        .mark_text(align="left", dx=4, fontSize=10, color=INK)
        .encode(
            x=alt.X("end:Q", scale=x_scale, axis=x_axis),
            y=alt.Y("workload:N", scale=y_scale, title=None),
            text="to_cluster:N",
        )
    )
    layers = [boundaries, links, bars, ticks]
    if stack is not None and 1 <= stack["phase"] <= phase_count:
        start = stack["phase"] - 1
        # Up to the stack's traffic step's tick on the bars; at 100 % the phase is complete: all its column.
        ticks_at = [row["x"] for row in steps if row["phase"] == stack["phase"] and row["percent"] == stack["step"]]
        end = (
            start + 1
            if stack["step"] >= 100
            else max(ticks_at, default=start + BAR_START + BAR_SPAN * stack["step"] / 100)
        )
        band = [{"x": start, "x2": end, "label": f"stack {stack['name']}: {stack['step']} %"}]
        shade = (
            alt.Chart(data(band))
            .mark_rect(color="#fde68a", opacity=0.45)
            .encode(
                x=alt.X("x:Q", scale=x_scale, axis=x_axis), x2="x2:Q", tooltip=[alt.Tooltip("label:N", title="dry run")]
            )
        )
        layers.insert(0, shade)
    if phase_count >= 2 and len(order) <= 60:
        layers.append(labels)
    return _finish(alt.layer(*layers).properties(width=WIDE, height=height), data)


def capacity(rows: Sequence[Row]) -> Spec:
    """Per cluster, per phase: the chips held at the end of the phase, stacked with those held only
    while moving workloads run at both ends (together the phase's peak), against the ramp."""
    data = _Datasets()
    parts = [
        ("at the end of the phase", "end_chips", "#4c78a8"),
        ("held at both ends while moving", "overlap_chips", "#9ecae9"),
    ]
    long = [
        {
            "cluster": row["cluster"],
            "phase": row["phase"],
            "state": row["state"],
            "part": label,
            "order": index,
            "chips": row[key],
        }
        for row in rows
        for index, (label, key, _) in enumerate(parts)
    ]
    ramp = [
        {
            "cluster": row["cluster"],
            "phase": row["phase"],
            "state": row["state"],
            "part": "capacity (ramp)",
            "chips": row["capacity_chips"],
        }
        for row in rows
    ]
    colours = {label: colour for label, _, colour in parts} | {"capacity (ramp)": INK}
    x = _phase_x()
    color = alt.Color("part:N", scale=_scale(colours), title=None)
    bars = (
        alt.Chart()
        .transform_filter("datum.part != 'capacity (ramp)'")
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("sum(chips):Q", title="chips"),
            color=color,
            order=alt.Order("order:Q"),
            tooltip=[alt.Tooltip("cluster:N"), alt.Tooltip("state:N"), alt.Tooltip("part:N"), alt.Tooltip("chips:Q")],
        )
    )
    cap = (
        alt.Chart()
        .transform_filter("datum.part == 'capacity (ramp)'")
        .mark_tick(thickness=3, size=22)
        .encode(
            x=x,
            y=alt.Y("chips:Q"),
            color=color,
            tooltip=[alt.Tooltip("cluster:N"), alt.Tooltip("state:N"), alt.Tooltip("chips:Q", title="capacity")],
        )
    )
    clusters = list(dict.fromkeys(row["cluster"] for row in rows))
    chart = (
        alt.layer(bars, cap, data=data(long + ramp))
        .properties(width=180, height=130)
        .facet(facet=alt.Facet("cluster:N", sort=clusters, title=None), columns=3)
        .resolve_scale(y="independent")
    )
    return _finish(chart, data)


def contracts(rows: Sequence[Row]) -> Spec:
    """Per contract limit, per phase: the value (bar, red when broken) against the limit (dashed)."""
    data = _Datasets()
    names = list(dict.fromkeys(row["limit_name"] for row in rows))
    x = _phase_x()
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("value:Q", title=None),
            color=alt.Color(
                "verdict:N",
                scale=alt.Scale(domain=["holds", "broken"], range=["#54a24b", "#e45756"]),
                title="the limit",
            ),
            tooltip=[
                alt.Tooltip("limit_name:N", title="limit"),
                alt.Tooltip("state:N"),
                alt.Tooltip("value:Q"),
                alt.Tooltip("limit:Q"),
                alt.Tooltip("margin:Q"),
            ],
        )
    )
    limit = alt.Chart().mark_rule(color="#b91c1c", strokeDash=[5, 3], strokeWidth=2).encode(y=alt.Y("limit:Q"))
    chart = (
        alt.layer(bars, limit, data=data(rows))
        .properties(width=200, height=120)
        .facet(facet=alt.Facet("limit_name:N", sort=names, title=None), columns=3)
        .resolve_scale(y="independent")
    )
    return _finish(chart, data)


def topology(cells: Sequence[Row], layout: Mapping[str, Any], colours: Mapping[str, str]) -> Spec:
    """One cluster in every fleet state: racks as rows, nodes as cells, each cell's used chips in
    the colour of the workload holding them and its free chips grey."""
    data = _Datasets()
    per_rack, racks = int(layout["nodes_per_rack"]), int(layout["racks"])
    present = {row["workload"] for row in cells if row["workload"] is not None}
    palette = {name: colour for name, colour in colours.items() if name in present} | {"free chips": FREE}
    rows = [{**row, "fill": row["workload"] or "free chips"} for row in cells]
    cell = max(5, min(18, 200 // max(1, per_rack)))
    width, height = cell * per_rack, max(cell * racks, 12)
    states = list(dict.fromkeys(row["state"] for row in cells))
    columns = facet_columns(len(states), width)
    chart = (
        alt.Chart(data(rows))
        .mark_rect(stroke="white", strokeWidth=max(0.5, cell / 12))
        .encode(
            x=alt.X("x:Q", scale=alt.Scale(domain=[0, per_rack], nice=False), axis=None),
            x2="x2:Q",
            y=alt.Y(
                "rack:N",
                sort=[f"rack {r}" for r in range(racks)],
                title=None,
                axis=alt.Axis(labels=racks <= 32, ticks=False, domain=False, labelFontSize=max(7, min(11, cell - 1))),
            ),
            color=alt.Color(
                "fill:N",
                scale=_scale(palette),
                title=None,
                legend=alt.Legend(columns=4, symbolType="square") if len(palette) <= 41 else None,
            ),
            tooltip=[
                alt.Tooltip("state:N"),
                alt.Tooltip("node:Q"),
                alt.Tooltip("fill:N", title="chips of"),
                alt.Tooltip("chips:Q"),
            ],
        )
        .properties(width=width, height=height)
        .facet(facet=alt.Facet("state:N", sort=states, title=None), columns=columns)
    )
    return _finish(chart, data)


def economics(rows: Sequence[Row]) -> Spec:
    """$ per hour, tokens per joule and $ per million tokens per fleet state, the starting fleet's
    figure as a dashed line across each."""
    data = _Datasets()
    metrics = list(dict.fromkeys(row["metric"] for row in rows))
    bars = (
        alt.Chart()
        .mark_bar()
        .encode(
            x=_phase_x(),
            y=alt.Y("value:Q", title=None),
            color=alt.condition("datum.phase == 0", alt.value("#bab0ac"), alt.value("#4c78a8")),
            tooltip=[
                alt.Tooltip("metric:N"),
                alt.Tooltip("state:N"),
                alt.Tooltip("value:Q", format=",.4~f"),
                alt.Tooltip("vs_start:Q", title="vs start", format="+.1%"),
            ],
        )
    )
    start = alt.Chart().transform_filter("datum.phase == 0").mark_rule(color=INK, strokeDash=[4, 3]).encode(y="value:Q")
    chart = (
        alt.layer(bars, start, data=data(rows))
        .properties(width=210, height=150)
        .facet(facet=alt.Facet("metric:N", sort=metrics, title=None), columns=3)
        .resolve_scale(y="independent")
    )
    return _finish(chart, data)


def claims(rows: Sequence[Row]) -> Spec:
    """Each claim's measured or modelled ratio per workload, coloured by verdict, against 1."""
    data = _Datasets()
    chart = alt.layer(
        alt.Chart(data(rows))
        .mark_bar()
        .encode(
            y=alt.Y("subject:N", title=None, sort=None),
            x=alt.X("ratio:Q", title="ratio"),
            color=alt.Color("verdict:N", title="verdict"),
            tooltip=[alt.Tooltip("subject:N"), alt.Tooltip("ratio:Q"), alt.Tooltip("verdict:N")],
        ),
        alt.Chart(data([{"one": 1}])).mark_rule(color=INK, strokeDash=[4, 3]).encode(x="one:Q"),
    ).properties(width=NARROW + 100, height=max(40, ROW_PX * len(rows)))
    return _finish(chart, data)


def changes(by_type: Sequence[Row], by_provider: Sequence[Row]) -> Spec:
    """Resources the dry run would change, by type and by provider, coloured by operation."""
    data = _Datasets()
    ops = [op for op in OP_COLOURS if any(row["op"] == op for row in [*by_type, *by_provider])]
    color = alt.Color("op:N", scale=_scale(OP_COLOURS, ops), title="operation")
    types = list(dict.fromkeys(row["type"] for row in by_type))
    providers = list(dict.fromkeys(row["provider"] for row in by_provider))
    tooltip = [alt.Tooltip("op:N"), alt.Tooltip("resources:Q")]
    left = (
        alt.Chart(data(by_type))
        .mark_bar()
        .encode(
            y=alt.Y("type:N", sort=types, title=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("sum(resources):Q", title="resources"),
            color=color,
            tooltip=[alt.Tooltip("type:N"), *tooltip],
        )
        .properties(width=260, height=ROW_PX * max(1, len(types)), title="by type")
    )
    right = (
        alt.Chart(data(by_provider))
        .mark_bar()
        .encode(
            y=alt.Y("provider:N", sort=providers, title=None),
            x=alt.X("sum(resources):Q", title="resources"),
            color=color,
            tooltip=[alt.Tooltip("provider:N"), *tooltip],
        )
        .properties(width=200, height=ROW_PX * 1.6 * max(1, len(providers)), title="by provider")
    )
    return _finish(alt.hconcat(left, right, spacing=40), data)


def policies(rows: Sequence[Row]) -> Spec:
    """The policies per enforcement level, by status, with their violations' count."""
    data = _Datasets()
    levels = list(dict.fromkeys(row["level"] for row in rows))
    statuses = [s for s in STATUS_COLOURS if any(row["status"] == s for row in rows)]
    chart = (
        alt.Chart(data([{**row, "policies": 1} for row in rows]))
        .mark_bar()
        .encode(
            y=alt.Y("level:N", sort=levels, title="enforcement level"),
            x=alt.X("sum(policies):Q", title="policies", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("status:N", scale=_scale(STATUS_COLOURS, statuses), title="status"),
            tooltip=[
                alt.Tooltip("policy:N"),
                alt.Tooltip("level:N"),
                alt.Tooltip("status:N"),
                alt.Tooltip("violations:Q"),
            ],
        )
        .properties(width=NARROW + 100, height=max(40, 28 * len(levels)))
    )
    return _finish(chart, data)


def facet_columns(count: int, width: int) -> int:
    """How many facet panels of ``width`` pixels fit across the page's main column."""
    return max(1, min(count, math.floor((WIDE + 40) / (width + 40))))
