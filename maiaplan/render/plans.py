"""The plan (docs/plan-format.md) for people (a table), machines (JSON) and reviews (Markdown)."""

from __future__ import annotations

from collections.abc import Sequence

from maiaplan.render.claims import claims_markdown
from maiaplan.render.markdown import code_cell, escape_cell, escape_text
from maiaplan.render.tables import prose, table
from planner.claims import ClaimResult
from planner.gates import GateCheck
from planner.plan_document import FleetState, MigrationPlan, Move

PHASE_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7")


def _shares(state: FleetState) -> str:
    return ", ".join(f"{p} {share:.1%}" for p, share in state.provider_share.items())


def _solver_line(plan: MigrationPlan) -> str:
    levels = "; ".join(
        f"{lv.name} {lv.value} (bound {lv.bound}, gap {lv.gap}, {lv.status})" for lv in plan.solver.levels
    )
    return f"Solver: {plan.solver.solver} {plan.solver.version} ({plan.solver.method}): {levels}."


def plan_table(plan: MigrationPlan) -> str:
    """The plan for people: phases with their moves and why, then what stays and why; fitted to
    the terminal's width (maiaplan/render/tables.py).

    Complexity: O(moves + workloads).
    """
    out = [
        prose(
            f"Plan for {plan.spec}: {len(plan.phases)} phase(s), lower bound {plan.lower_bound_phases}; "
            f"{'optimal' if plan.optimal else 'not proven optimal'} ({plan.optimality})."
        ),
        prose(_solver_line(plan)),
        prose(
            f"Start: {plan.initial.economics.chips:,} chips, ${plan.initial.economics.usd_per_hour:,.2f}/h, "
            f"{plan.initial.economics.tokens_per_joule:.3f} tokens/J; {_shares(plan.initial)}."
        ),
    ]
    for phase in plan.phases:
        out.append("")
        out.append(
            prose(
                f"Phase {phase.phase}: {len(phase.moves)} move(s); ends with {_shares(phase)}; "
                f"${phase.economics.usd_per_hour:,.2f}/h, {phase.economics.tokens_per_joule:.3f} tokens/J"
            )
        )
        if phase.moves:
            out.append(
                table(
                    ("WORKLOAD", "FROM", "TO", "CHIPS", "TP×PP", "REPLICAS", "STEPS %", "BOUND BY", "WHY THIS PHASE"),
                    [
                        [
                            m.workload,
                            m.from_cluster,
                            m.to_cluster,
                            m.chips,
                            f"{m.tensor_parallel}×{m.pipeline_parallel}",
                            m.replicas,
                            "→".join(str(s.percent) for s in m.traffic_steps),
                            m.binding_rule,
                            m.why_this_phase,
                        ]
                        for m in phase.moves
                    ],
                    right=(3, 5),
                    wrap=(6, 7, 8),
                )
            )
    if plan.not_migrated:
        out.append("")
        out.append("Stays:")
        out.append(
            table(
                ("WORKLOAD", "ON", "RULE", "REASON"),
                [[n.workload, n.cluster, n.rule, n.reason] for n in plan.not_migrated],
                wrap=(3,),
            )
        )
    return "\n".join(out)


def plan_json(plan: MigrationPlan) -> str:
    """The plan document (docs/plan-format.md), byte for byte as documented.

    Complexity: O(size of the plan).
    """
    return plan.model_dump_json(indent=2)


def plan_markdown(plan: MigrationPlan, claims: Sequence[ClaimResult] = ()) -> str:
    """The plan for a pull request: summary, gantt, dependency graph, capacity, contracts, economics,
    and the verdict on each performance claim given; every cell escaped (maiaplan/render/markdown.py).

    Complexity: O(size of the plan + dependencies).
    """
    moved = sum(len(p.moves) for p in plan.phases)
    out = [
        f"## Migration plan: {escape_text(plan.spec)}",
        "",
        f"**{len(plan.phases)} phase(s)** (lower bound {plan.lower_bound_phases}, "
        f"{'optimal' if plan.optimal else 'not proven optimal'}: {escape_text(plan.optimality)}); "
        f"**{moved}** workload(s) move, **{len(plan.not_migrated)}** stay.",
        "",
        *_mermaid(plan),
        "### Economics per phase",
        "",
        "| phase | chips | $ / hour | vs start | kW | tokens/s | tokens / J | vs start | $ / M tokens |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        _economics_row("start", plan.initial, plan.initial),
        *(_economics_row(str(p.phase), p, plan.initial) for p in plan.phases),
        "",
    ]
    if claims:
        out += ["### Performance claims", "", claims_markdown(claims), ""]
    for phase in plan.phases:
        out += [f"### Phase {phase.phase}", ""]
        if phase.moves:
            out += [
                "| workload | from | to | chips | TP×PP | replicas | traffic steps | why this phase | why this cluster |",
                "|---|---|---|---:|---|---:|---|---|---|",
            ]
            out += [
                f"| {escape_cell(m.workload)} | {escape_cell(m.from_cluster)} | {escape_cell(m.to_cluster)} | {m.chips} "
                f"| {m.tensor_parallel}×{m.pipeline_parallel} | {m.replicas} "
                f"| {' → '.join(f'{s.percent}%' for s in m.traffic_steps)} | {escape_cell(m.why_this_phase)} "
                f"| {escape_cell(m.why_this_cluster)} |"
                for m in phase.moves
            ]
            out += _gates_markdown(phase.moves)
        else:
            out.append("No moves: waiting for capacity.")
        out += ["", "| cluster | capacity | peak (both ends) | end | free at end |", "|---|---:|---:|---:|---:|"]
        out += [
            f"| {escape_cell(c.cluster)} | {c.capacity_chips} | {c.peak_chips} | {c.end_chips} "
            f"| {c.capacity_chips - c.end_chips} |"
            for c in phase.capacity
        ]
        if phase.contracts:
            out += ["", "| contract | rule | value | limit | margin | ok |", "|---|---|---:|---:|---:|---|"]
            out += [
                f"| {escape_cell(c.contract)} | {escape_cell(c.rule)} | {escape_cell(c.detail) or _number(c.value)} "
                f"| {_number(c.limit)} | {_number(c.margin)} | {'yes' if c.ok else '**no**'} |"
                for c in phase.contracts
            ]
        out.append("")
    if plan.not_migrated:
        out += ["### Stays", "", "| workload | on | rule | reason |", "|---|---|---|---|"]
        out += [
            f"| {escape_cell(n.workload)} | {escape_cell(n.cluster)} | {escape_cell(n.rule)} | {escape_cell(n.reason)} |"
            for n in plan.not_migrated
        ]
        out.append("")
    return "\n".join(out)


def _mermaid(plan: MigrationPlan) -> list[str]:
    """The gantt of the phases and the dependency graph, coloured by phase. Spec names are
    lowercase DNS labels (planner/names.py), so they need no quoting inside mermaid."""
    out = [
        "```mermaid",
        "gantt",
        f"    title {plan.spec}: migration phases",
        "    dateFormat X",
        "    axisFormat %s",
    ]
    for phase in plan.phases:
        out.append(f"    section Phase {phase.phase}")
        for move in phase.moves:
            out.append(f"    {move.workload} to {move.to_cluster} : {phase.phase - 1}, {phase.phase}")
    out += ["```", "", "```mermaid", "graph LR"]
    phase_of = {m.workload: p.phase for p in plan.phases for m in p.moves}
    for workload in plan.workloads:
        label = (
            f"{workload.name}<br/>phase {phase_of[workload.name]}"
            if workload.name in phase_of
            else f"{workload.name}<br/>stays"
        )
        out.append(f'    {_node(workload.name)}["{label}"]')
    for workload in plan.workloads:
        for dep in workload.depends_on:
            out.append(f"    {_node(dep)} --> {_node(workload.name)}")
    for k in range(1, len(plan.phases) + 1):
        out.append(f"    classDef phase{k} fill:{PHASE_COLOURS[(k - 1) % len(PHASE_COLOURS)]},color:#fff")
    out.append("    classDef stays fill:#bab0ac,color:#000")
    for workload in plan.workloads:
        css = f"phase{phase_of[workload.name]}" if workload.name in phase_of else "stays"
        out.append(f"    class {_node(workload.name)} {css}")
    return [*out, "```", ""]


def _economics_row(label: str, state: FleetState, start: FleetState) -> str:
    e, s = state.economics, start.economics
    return (
        f"| {label} | {e.chips:,} | {e.usd_per_hour:,.2f} | {_delta(e.usd_per_hour, s.usd_per_hour)} | "
        f"{e.watts / 1000:,.1f} | {e.tokens_per_s:,.0f} | {e.tokens_per_joule:.3f} | "
        f"{_delta(e.tokens_per_joule, s.tokens_per_joule)} | {e.usd_per_million_tokens:.3f} |"
    )


def _delta(value: float, base: float) -> str:
    return f"{(value - base) / base:+.1%}" if base else "-"


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.3f}"


def _node(name: str) -> str:
    return "w_" + "".join(ch if ch.isalnum() else "_" for ch in name)


def _gates_markdown(moves: Sequence[Move]) -> list[str]:
    """The phase's gate checks, one row per check and the traffic steps it gates (docs/gates.md)."""
    rows: dict[GateCheck, list[int]] = {}
    for move in moves:
        for step in move.traffic_steps:
            for check in step.checks:
                rows.setdefault(check, []).append(step.percent)
    if not rows:
        return []
    out = [
        "",
        "| gate of | check | query | pass when | window | every | min samples | failures allowed | steps |",
        "|---|---|---|---|---:|---:|---:|---:|---|",
    ]
    out += [
        f"| {escape_cell(c.workload)} on {escape_cell(c.cluster)} | {escape_cell(c.name)} | {code_cell(c.query)} "
        f"| {escape_cell(c.comparator)} {c.threshold:g} | {c.window_s}s | {c.interval_s}s | {c.min_samples} "
        f"| {c.failure_limit} | {', '.join(f'{p}%' for p in steps)} |"
        for c, steps in rows.items()
    ]
    return out
