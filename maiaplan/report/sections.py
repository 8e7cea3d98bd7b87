"""The plan's sections of the report: phases, capacity and contracts, topology, economics, claims.

Each function turns the JSON inputs (:mod:`maiaplan.report.sources`) into a :class:`Section` of
figures whose chart and tables draw from the same rows (:mod:`maiaplan.report.extract`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from maiaplan.report import charts, extract
from maiaplan.report.page import Column, Figure, Section, Table, money, num, percent, signed_percent, table_html

Row = dict[str, Any]


def phases_section(plan: Mapping[str, Any], stack: Row | None = None) -> Section:
    """The Gantt of the moves, with the moves, their traffic steps and the stays as tables; with
    ``stack`` (``name``, ``phase``, ``step``) the previewed stack's place on it."""
    moves = extract.move_rows(plan)
    steps = extract.traffic_step_rows(plan)
    dependencies = extract.dependency_rows(plan)
    stays = extract.stay_rows(plan)
    summary = extract.summary(plan)
    gantt = Figure(
        chart_id="chart-gantt",
        title="Moves by phase",
        caption=(
            "Each bar is a move in its phase (colour: the rule that kept it out of an earlier phase; "
            "label: its destination). The white ticks on a bar are its traffic steps, the last at 100 %. "
            "Dashed lines run from the end of a dependency's move to the start of its dependent's."
            + (
                f" Shaded: where stack {stack['name']} stands (phase {stack['phase']}, {stack['step']} % of its traffic)."
                if stack is not None and 1 <= stack["phase"] <= summary["phases"]
                else ""
            )
        ),
        spec=charts.gantt(moves, steps, dependencies, summary["phases"], stack),
        tables=[
            Table(
                "Moves",
                [
                    num("phase", "phase"),
                    Column("workload", "workload"),
                    Column("from_cluster", "from"),
                    Column("to_cluster", "to"),
                    num("chips", "chips"),
                    num("source_chips", "released"),
                    Column("sharding", "sharding"),
                    Column("traffic", "traffic steps"),
                    Column("binding_rule", "binding rule"),
                    Column("why_this_phase", "why this phase"),
                    Column("why_this_cluster", "why this cluster"),
                ],
                moves,
            ),
            Table(
                "Dependencies between moves",
                [Column("dependent", "workload"), Column("dependency", "depends on"), Column("phases", "phases")],
                dependencies,
            ),
            Table(
                "Stays, with the rule that holds each",
                [
                    Column("workload", "workload"),
                    Column("cluster", "stays on"),
                    Column("rule", "binding rule"),
                    Column("reason", "why"),
                ],
                stays,
            ),
        ],
        layout="below",
    )
    gates = Table(
        "Traffic steps: the gate to pass before the next step, and the rollback",
        [
            num("phase", "phase"),
            Column("workload", "workload"),
            Column("label", "traffic"),
            Column("gate", "gate"),
            Column("rollback", "rollback"),
        ],
        steps,
    )
    return Section(
        anchor="phases",
        title="Phases",
        lead=(
            f"{summary['moves']} move(s) in {summary['phases']} phase(s); {summary['stays']} workload(s) stay. "
            f"Lower bound {summary['lower_bound_phases']} phase(s); "
            f"{'proven optimal' if summary['optimal'] else 'not proven optimal'}: {summary['optimality']}."
        ),
        figures=[gantt],
        extra_html=[f"<details><summary>Every traffic step ({len(steps)})</summary>{table_html(gates)}</details>"],
    )


def capacity_section(plan: Mapping[str, Any]) -> Section:
    """Capacity per cluster per phase against its ramp, and every contract limit per phase."""
    capacity = extract.capacity_rows(plan)
    contracts = extract.contract_rows(plan)
    drawable = extract.drawable_contract_rows(contracts)
    figures = [
        Figure(
            chart_id="chart-capacity",
            title="Capacity per cluster",
            caption=(
                "Per phase, the chips a cluster holds at the end of the phase (dark) and those it holds only "
                "while moving workloads run at both ends (light): together the phase's peak. The black tick "
                "is the capacity the ramp gives the cluster in that phase."
            ),
            spec=charts.capacity(capacity),
            tables=[
                Table(
                    "Chips per cluster per phase",
                    [
                        Column("cluster", "cluster"),
                        Column("state", "phase"),
                        num("capacity_chips", "capacity"),
                        num("peak_chips", "peak, both ends"),
                        num("end_chips", "end"),
                        num("peak_share", "peak ÷ capacity", percent),
                    ],
                    capacity,
                )
            ],
        )
    ]
    if drawable:
        figures.append(
            Figure(
                chart_id="chart-contracts",
                title="Contract margins",
                caption=(
                    "Each limit of each contract at the end of every phase: the value (green while the limit "
                    "holds, red when broken) against the limit (dashed). Floors (min_share, min_chips) must stay "
                    "above the line, caps (max_chips) below it. A limit that is zero throughout (a region rule "
                    "that holds) is only in the table."
                ),
                spec=charts.contracts(drawable),
                tables=[
                    Table(
                        "Contract limits per phase",
                        [
                            Column("contract", "contract"),
                            Column("rule", "rule"),
                            Column("state", "phase"),
                            num("value", "value", _limit_value),
                            num("limit", "limit", _limit_value),
                            num("margin", "margin", _limit_value),
                            Column("verdict", "verdict"),
                            Column("detail", "detail"),
                        ],
                        [
                            {
                                **row,
                                "value": (row["unit"], row["value"]),
                                "limit": (row["unit"], row["limit"]),
                                "margin": (row["unit"], row["margin"]),
                            }
                            for row in contracts
                        ],
                    )
                ],
            )
        )
    return Section(
        anchor="capacity",
        title="Capacity and contracts",
        lead="How full each cluster runs under its ramp, and how far each contract limit stays from breaking, phase by phase.",
        figures=figures,
    )


def _limit_value(value: Any) -> str:
    unit, amount = value
    if amount is None:
        return "–"
    return percent(amount) if unit == "share" else f"{amount:,.0f}"


def topology_section(
    plan: Mapping[str, Any], layouts: Sequence[Mapping[str, Any]], placements: Sequence[Sequence[Mapping[str, Any]]]
) -> Section:
    """Each cluster's racks and nodes in every fleet state, coloured by workload."""
    colours = extract.workload_colours(plan)
    figures = []
    for index, layout in enumerate(layouts):
        states = [state[index] for state in placements if index < len(state)]
        cells = extract.topology_cells(layout, states)
        rows = extract.topology_rows(states)
        cluster: Mapping[str, Any] = next(
            (c for c in plan.get("clusters", []) if c.get("name") == layout["cluster"]), {}
        )
        figures.append(
            Figure(
                chart_id=f"chart-topology-{index}",
                title=f"{layout['cluster']}: {cluster.get('accelerator', '')} on {cluster.get('provider', '')}, "
                f"{layout['racks']} racks × {layout['nodes_per_rack']} nodes × {layout['chips_per_node']} chips ({layout['kind']})",
                caption=(
                    "One row per rack, one cell per node, one panel per fleet state. A cell's coloured part is its "
                    "workload's chips, its grey part free chips (a held node's stranded chips included)."
                    + (
                        " On a torus a rack is a stretch of the snake through the grid (docs/topology.md)."
                        if "torus" in layout["kind"]
                        else ""
                    )
                ),
                spec=charts.topology(cells, layout, colours),
                tables=[
                    Table(
                        f"Placements on {layout['cluster']}",
                        [
                            Column("state", "phase"),
                            Column("workload", "workload"),
                            Column("shape", "groups"),
                            Column("nodes", "nodes"),
                            num("chips", "chips"),
                            num("mean_hops", "mean hops"),
                            num("max_hops", "max hops"),
                        ],
                        rows,
                    )
                ],
            )
        )
    return Section(
        anchor="topology",
        title="Topology and placement",
        lead=(
            "Where every shard group sits, cluster by cluster, before the migration and at the end of each phase "
            "(as `maiaplan place --phase K` computes it). A workload has the same colour everywhere."
        ),
        figures=figures,
    )


def economics_section(plan: Mapping[str, Any], claims: Sequence[Mapping[str, Any]]) -> Section:
    """$ per hour, tokens per joule and $ per million tokens per phase against the starting fleet;
    the claims' verdicts when the planner has them."""
    rows = extract.economics_rows(plan)
    figures = [
        Figure(
            chart_id="chart-economics",
            title="Economics per phase",
            caption=(
                "The whole fleet at the end of each phase, from the catalog's figures: grey is the starting fleet, "
                "and the dashed line carries its figure across each panel."
            ),
            spec=charts.economics(extract.economics_long(rows)),
            tables=[
                Table(
                    "The fleet's economics",
                    [
                        Column("state", "phase"),
                        num("chips", "chips"),
                        num("usd_per_hour", "$/h", money),
                        num("usd_per_hour_vs_start", "vs start", signed_percent),
                        num("watts", "watts"),
                        num("tokens_per_s", "tokens/s"),
                        num("tokens_per_joule", "tokens/J"),
                        num("tokens_per_joule_vs_start", "vs start", signed_percent),
                        num("usd_per_million_tokens", "$/M tokens", money),
                        num("usd_per_million_tokens_vs_start", "vs start", signed_percent),
                    ],
                    rows,
                    scroll=False,
                )
            ],
            layout="below",
        )
    ]
    claim_rows = [dict(row) for row in claims]
    if claim_rows:
        columns = _claim_columns(claim_rows)
        charted = [
            row
            for row in claim_rows
            if isinstance(row.get("ratio"), int | float) and not isinstance(row.get("ratio"), bool)
        ]
        figures.append(
            Figure(
                chart_id="chart-claims",
                title="Performance claims",
                caption="Each claim's ratio per workload and overall, with its basis and verdict (maiaplan claims).",
                spec=charts.claims(
                    [{**row, "subject": _subject(row), "verdict": str(row.get("verdict", ""))} for row in charted]
                ),
                tables=[Table("Claims and verdicts", columns, claim_rows)],
            )
        )
    return Section(
        anchor="economics",
        title="Economics" + (" and claims" if claim_rows is not None else ""),
        lead="What each phase costs and serves per joule, against the fleet before the migration.",
        figures=figures,
    )


# Columns of the claims table, in this order when the verdicts have them; others follow, sorted.
CLAIM_COLUMNS = ("claim", "workload", "subject", "ratio", "threshold", "basis", "verdict", "settle", "reason")


def _claim_columns(rows: Sequence[Row]) -> list[Column]:
    keys = sorted({key for row in rows for key, value in row.items() if not isinstance(value, Mapping | list)})
    ordered = [key for key in CLAIM_COLUMNS if key in keys] + [key for key in keys if key not in CLAIM_COLUMNS]
    return [
        num(key, key.replace("_", " ")) if key == "ratio" else Column(key, key.replace("_", " ")) for key in ordered
    ]


def _subject(row: Mapping[str, Any]) -> str:
    parts = [str(row[key]) for key in ("claim", "workload", "subject") if row.get(key)]
    return " · ".join(dict.fromkeys(parts)) or "overall"
