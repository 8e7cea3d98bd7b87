"""Plans and shardings as text: aligned tables for people, JSON for machines, Markdown for reviews."""

from __future__ import annotations

from collections.abc import Sequence

from planner.claims import ClaimResult
from planner.gates import GateCheck
from planner.options import ClusterOption
from planner.placement import ClusterPlacement
from planner.plan_document import FleetState, MigrationPlan, Move

PHASE_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[int] = ()) -> str:
    """An aligned plain-text table; columns whose index is in ``right`` are right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        padded = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        return "  ".join(padded).rstrip()

    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *(line(r) for r in cells[1:])])


def _shares(state: FleetState) -> str:
    return ", ".join(f"{p} {share:.1%}" for p, share in state.provider_share.items())


# --- shardings -------------------------------------------------------------------------------


def _sharding_row(option: ClusterOption) -> list[object]:
    s = option.sharding
    if s is None:
        return [
            option.workload,
            option.cluster,
            option.role,
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            f"infeasible: {option.infeasible_reason}",
        ]
    return [
        option.workload,
        option.cluster,
        option.role,
        s.accelerator,
        option.allocated_chips,
        f"{s.tensor_parallel}×{s.pipeline_parallel}",
        s.replicas,
        s.batch_per_replica,
        f"{s.step_ms:.1f}",
        "-" if s.ttft_ms is None else f"{s.ttft_ms:,.0f}",
        f"{s.tokens_per_s:,.0f}",
        f"{s.watts / 1000:.1f}",
        s.watt_basis,
        f"{s.tokens_per_joule:.3f}",
        f"{s.usd_per_million_tokens:.2f}",
    ]


SHARDING_HEADERS = (
    "WORKLOAD",
    "CLUSTER",
    "ROLE",
    "ACCELERATOR",
    "CHIPS",
    "TP×PP",
    "REPLICAS",
    "BATCH",
    "STEP MS",
    "TTFT MS",
    "TOKENS/S",
    "KW",
    "W BASIS",
    "TOKENS/J",
    "$/M TOKENS",
)


def shardings_table(options: Sequence[ClusterOption]) -> str:
    """Workloads on clusters: their sharding, chips, speed, power and cost."""
    return table(SHARDING_HEADERS, [_sharding_row(option) for option in options], right=(*range(4, 12), 13, 14))


# --- plans -----------------------------------------------------------------------------------


def plan_table(plan: MigrationPlan) -> str:
    """The plan for people: phases with their moves and why, then what stays and why."""
    out = [
        f"Plan for {plan.spec}: {len(plan.phases)} phase(s), lower bound {plan.lower_bound_phases}; "
        f"{'optimal' if plan.optimal else 'not proven optimal'} ({plan.optimality}).",
        _solver_line(plan),
        f"Start: {plan.initial.economics.chips:,} chips, ${plan.initial.economics.usd_per_hour:,.2f}/h, "
        f"{plan.initial.economics.tokens_per_joule:.3f} tokens/J; {_shares(plan.initial)}.",
    ]
    for phase in plan.phases:
        out.append("")
        out.append(
            f"Phase {phase.phase}: {len(phase.moves)} move(s); ends with {_shares(phase)}; "
            f"${phase.economics.usd_per_hour:,.2f}/h, {phase.economics.tokens_per_joule:.3f} tokens/J"
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
                )
            )
    if plan.not_migrated:
        out.append("")
        out.append("Stays:")
        out.append(
            table(
                ("WORKLOAD", "ON", "RULE", "REASON"),
                [[n.workload, n.cluster, n.rule, n.reason] for n in plan.not_migrated],
            )
        )
    return "\n".join(out)


def _solver_line(plan: MigrationPlan) -> str:
    levels = "; ".join(
        f"{lv.name} {lv.value} (bound {lv.bound}, gap {lv.gap}, {lv.status})" for lv in plan.solver.levels
    )
    return f"Solver: {plan.solver.solver} {plan.solver.version} ({plan.solver.method}): {levels}."


def plan_json(plan: MigrationPlan) -> str:
    """The plan document (docs/plan-format.md)."""
    return plan.model_dump_json(indent=2)


def plan_markdown(plan: MigrationPlan, claims: Sequence[ClaimResult] = ()) -> str:
    """The plan for a pull request: summary, gantt, dependency graph, capacity, contracts, economics,
    and the verdict on each performance claim given."""
    moved = sum(len(p.moves) for p in plan.phases)
    out = [
        f"## Migration plan: {plan.spec}",
        "",
        f"**{len(plan.phases)} phase(s)** (lower bound {plan.lower_bound_phases}, "
        f"{'optimal' if plan.optimal else 'not proven optimal'}: {plan.optimality}); "
        f"**{moved}** workload(s) move, **{len(plan.not_migrated)}** stay.",
        "",
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
    out += ["```", ""]
    out += [
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
                f"| {m.workload} | {m.from_cluster} | {m.to_cluster} | {m.chips} | {m.tensor_parallel}×{m.pipeline_parallel} "
                f"| {m.replicas} | {' → '.join(f'{s.percent}%' for s in m.traffic_steps)} | {m.why_this_phase} "
                f"| {m.why_this_cluster} |"
                for m in phase.moves
            ]
            out += _gates_markdown(phase.moves)
        else:
            out.append("No moves: waiting for capacity.")
        out += ["", "| cluster | capacity | peak (both ends) | end | free at end |", "|---|---:|---:|---:|---:|"]
        out += [
            f"| {c.cluster} | {c.capacity_chips} | {c.peak_chips} | {c.end_chips} | {c.capacity_chips - c.end_chips} |"
            for c in phase.capacity
        ]
        if phase.contracts:
            out += ["", "| contract | rule | value | limit | margin | ok |", "|---|---|---:|---:|---:|---|"]
            out += [
                f"| {c.contract} | {c.rule} | {c.detail or _number(c.value)} | {_number(c.limit)} | {_number(c.margin)} "
                f"| {'yes' if c.ok else '**no**'} |"
                for c in phase.contracts
            ]
        out.append("")
    if plan.not_migrated:
        out += ["### Stays", "", "| workload | on | rule | reason |", "|---|---|---|---|"]
        out += [f"| {n.workload} | {n.cluster} | {n.rule} | {n.reason} |" for n in plan.not_migrated]
        out.append("")
    return "\n".join(out)


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
        f"| {c.workload} on {c.cluster} | {c.name} | `{_cell(c.query)}` | {c.comparator} {c.threshold:g} "
        f"| {c.window_s}s | {c.interval_s}s | {c.min_samples} | {c.failure_limit} | {', '.join(f'{p}%' for p in steps)} |"
        for c, steps in rows.items()
    ]
    return out


def _cell(text: str) -> str:
    """Text inside a Markdown table cell: pipes escaped."""
    return text.replace("|", "\\|")


def explain(plan: MigrationPlan, workload: str) -> str:
    """Why ``workload`` moves in its phase to its cluster, or why it stays."""
    found = plan.move_of(workload)
    if found is not None:
        phase, move = found
        lines = [
            f"{workload} moves in phase {phase}: {move.from_cluster} → {move.to_cluster}, {move.chips} chips "
            f"({move.tensor_parallel} TP × {move.pipeline_parallel} PP × {move.replicas} replicas).",
            f"Why this phase: {move.why_this_phase}.",
            f"Why this cluster: {move.why_this_cluster}.",
            "Traffic steps:",
        ]
        for s in move.traffic_steps:
            lines.append(f"  {s.percent:>3}%: gate: {s.gate}; rollback: {s.rollback}")
            lines += [f"        check {c.sentence()}: {c.query}" for c in s.checks]
        return "\n".join(lines)
    stays = next(n for n in plan.not_migrated if n.workload == workload)
    proof = stays.proof
    lines = [f"{workload} stays on {stays.cluster} ({stays.rule}): {stays.reason}."]
    if proof.outcome != "ineligible":
        rules = f" [{', '.join(proof.rules)}]" if proof.rules else ""
        lines.append(f"Solver check ({proof.outcome}){rules}: {proof.detail}.")
    return "\n".join(lines)


# --- placement ---------------------------------------------------------------------------------


def placement_table(placements: Sequence[ClusterPlacement]) -> str:
    """Per cluster: used and free chips and fragmentation; per workload: nodes and hop distances."""
    clusters = table(
        ("CLUSTER", "TENANT", "CHIPS", "USED", "FREE", "EMPTY NODES", "FRAGMENTATION", "COST HOPS"),
        [
            [
                p.cluster,
                p.tenant,
                p.chips,
                p.used_chips,
                p.free_chips,
                p.empty_nodes,
                f"{p.fragmentation_share:.1%}",
                p.cost_hops,
            ]
            for p in placements
        ],
        right=range(2, 8),
    )
    workloads = table(
        ("WORKLOAD", "CLUSTER", "TP×PP", "REPLICAS", "CHIPS", "NODES", "MEAN HOPS", "MAX HOPS"),
        [
            [
                w.workload,
                p.cluster,
                f"{w.tensor_parallel}×{w.pipeline_parallel}",
                w.replicas,
                w.chips,
                len(w.nodes),
                f"{w.mean_hops:.2f}",
                w.max_hops,
            ]
            for p in placements
            for w in p.workloads
        ],
        right=range(3, 8),
    )
    return f"{clusters}\n\n{workloads}"


# --- claims ------------------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:,.4g}"


def claims_text(results: Sequence[ClaimResult]) -> str:
    """Each claim: its overall verdict, basis and watt basis, then a table per workload."""
    blocks = []
    for r in results:
        head = (
            f"{r.claim}: {r.verdict.upper()} (ratio {_ratio(r.ratio)}; basis {r.basis}: "
            f"{r.subject_basis} vs {r.reference_basis}, ±{r.uncertainty:g}x; watts: {r.watt_basis})"
        )
        rows = [[w.workload, _figure(w.subject_value), _figure(w.reference_value), _ratio(w.ratio), w.verdict, w.note]
                for w in r.workloads]
        body = table(["WORKLOAD", "SUBJECT", "REFERENCE", "RATIO", "VERDICT", "NOTE"], rows, right=range(1, 4))
        blocks.append("\n".join([head, body, *([f"to settle it: {r.settle}"] if r.settle else [])]))
    return "\n\n".join(blocks)


def claims_markdown(results: Sequence[ClaimResult]) -> str:
    """The claims as a Markdown table: verdict, overall ratio, basis, watt basis, how to settle."""
    out = ["| claim | verdict | ratio | basis | watts | to settle it |", "|---|---|---:|---|---|---|"]
    out += [
        f"| {r.claim} | **{r.verdict}** | {_ratio(r.ratio)} | {r.basis} ({r.subject_basis} vs {r.reference_basis}, "
        f"±{r.uncertainty:g}×) | {r.watt_basis} | {r.settle or '-'} |"
        for r in results
    ]
    return "\n".join(out)
