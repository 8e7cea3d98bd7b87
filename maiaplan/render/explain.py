"""Why a workload moves in its phase to its cluster, or why it stays: as text and as JSON."""

from __future__ import annotations

import json

from maiaplan.render.tables import prose
from planner.plan_document import MigrationPlan


def _without(prefix: str, text: str) -> str:
    """``text`` without a leading ``prefix`` it repeats from the sentence it is put in."""
    return text[len(prefix) :] if text.startswith(prefix) and len(text) > len(prefix) else text


def explain_text(plan: MigrationPlan, workload: str) -> str:
    """Why ``workload`` (a workload of the plan) moves in its phase to its cluster, or why it stays.

    Each clause is said once: the plan's reasons begin with what the first line already says
    ("router-small stays on aws-use1-h100: ...", "phase 1: ...", "az-eastus-maia: ..."), and the
    solver's proof is not repeated when the reason is that proof.

    Complexity: O(traffic steps and checks of the workload).
    """
    found = plan.move_of(workload)
    if found is not None:
        phase, move = found
        lines = [
            prose(
                f"{workload} moves in phase {phase}: {move.from_cluster} → {move.to_cluster}, {move.chips} chips "
                f"({move.tensor_parallel} TP × {move.pipeline_parallel} PP × {move.replicas} replicas)."
            ),
            prose(f"Why this phase: {_without(f'phase {phase}: ', move.why_this_phase)}."),
            prose(f"Why this cluster: {_without(f'{move.to_cluster}: ', move.why_this_cluster)}."),
            "Traffic steps:",
        ]
        for s in move.traffic_steps:
            lines.append(prose(f"  {s.percent:>3}%: gate: {s.gate}; rollback: {s.rollback}", indent=" " * 8))
            lines += [prose(f"        check {c.sentence()}: {c.query}", indent=" " * 10) for c in s.checks]
        return "\n".join(lines)
    stays = next(n for n in plan.not_migrated if n.workload == workload)
    reason = _without(f"{workload} stays on {stays.cluster}: ", stays.reason)
    lines = [prose(f"{workload} stays on {stays.cluster} ({stays.rule}): {reason}.")]
    proof = stays.proof
    if proof.outcome != "ineligible":
        rules = f" [{', '.join(proof.rules)}]" if proof.rules else ""
        said = proof.detail.strip().rstrip(".") in reason
        lines.append(prose(f"Solver check ({proof.outcome}){rules}" + ("." if said else f": {proof.detail}.")))
    return "\n".join(lines)


def explain_json(plan: MigrationPlan, workload: str) -> str:
    """The explanation for machines: ``{"spec", "workload", "outcome": "moves", "phase", "move"}``
    with the plan document's move object, or ``{"spec", "workload", "outcome": "stays", "stays"}``
    with its not-migrated object (docs/plan-format.md describes both).

    Complexity: O(size of the workload's move or stay).
    """
    found = plan.move_of(workload)
    document: dict[str, object] = {"spec": plan.spec, "workload": workload}
    if found is not None:
        phase, move = found
        document |= {"outcome": "moves", "phase": phase, "move": move.model_dump(mode="json")}
    else:
        stays = next(n for n in plan.not_migrated if n.workload == workload)
        document |= {"outcome": "stays", "stays": stays.model_dump(mode="json")}
    return json.dumps(document, indent=2)
