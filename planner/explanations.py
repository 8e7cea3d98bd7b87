"""Why each decision of a plan is what it is: the rule that binds it, with its numbers.

Computed on the final plan (whoever made it: the CP-SAT model or the greedy fallback), with the
ledgers of :mod:`planner.scheduling.problem` and the arithmetic of :mod:`planner.rules`. A stay is
also proven binding by the solver where it was probed (:func:`planner.scheduling.cpsat.probe_stay`):
with the workload forced to move, the rules that then admit no plan, or what moving it costs.
"""

from __future__ import annotations

from planner.eligibility import ClusterVerdict, verdicts
from planner.plan_document import BlockingRule, NotMigrated, StayProof
from planner.scheduling.cpsat import RULE_FAMILIES, StayProbe
from planner.scheduling.problem import Candidate, PlanLedgers

# Which exclusion explains best why a workload stays, most specific first.
_EXCLUSION_ORDER = ("exclusive", "region", "preferred", "target", "tenant")


def why_this_phase(ledgers: PlanLedgers, workload: str, phase: int) -> dict[str, str]:
    """``binding_rule`` and ``why_this_phase`` of a move: what kept it out of the phase before.

    Complexity: O(D · C) after the phase's ledger is built.
    """
    if phase == 1:
        return {
            "binding_rule": "none",
            "why_this_phase": "phase 1: no dependency, risk, capacity or contract rule held it back",
        }
    blocker = ledgers.blocker(workload, phase - 1, ledgers.problem.candidates[workload])
    if blocker is None:
        return {
            "binding_rule": "schedule",
            "why_this_phase": f"no rule held it in phase {phase - 1} once the plan was fixed; the schedule put it later",
        }
    return {"binding_rule": blocker.rule, "why_this_phase": f"not in phase {phase - 1}: {blocker.reason}"}


def why_this_cluster(ledgers: PlanLedgers, chosen: Candidate, phase: int) -> str:
    """Why a move goes to its cluster: first in preference and cost, or what kept the preferred one out."""
    candidates = ledgers.problem.candidates[chosen.workload]
    if candidates[0] == chosen:
        assert chosen.sizing.sharding is not None
        return (
            f"{chosen.cluster}: first in target preference and cost of {len(candidates)} eligible "
            f"cluster{'s' if len(candidates) > 1 else ''} (${chosen.sizing.sharding.usd_per_hour:,.2f}/h)"
        )
    preferred = candidates[0]
    blocker = ledgers.blocker(chosen.workload, phase, candidates.preferred())
    why = blocker.reason if blocker else "the schedule chose it to keep room elsewhere"
    return f"{chosen.cluster}: the preferred {preferred.cluster} could not take it: {why}"


def why_stays(
    ledgers: PlanLedgers, workload: str, probe: StayProbe | None, optimum: tuple[int, int, int]
) -> NotMigrated:
    """Why ``workload`` stays: the rule and its numbers in the final plan, and the solver's proof.

    Parameters
    ----------
    ledgers
        The final plan, phase by phase.
    workload
        A workload the plan does not move.
    probe
        What forcing it to move does (:func:`planner.scheduling.cpsat.probe_stay`), or None when it
        was not probed.
    optimum
        The plan's (moved, phases, Σ phase × chips).

    Complexity: O(K · D · C) plus the probe's.
    """
    problem = ledgers.problem
    spec = problem.spec
    options = problem.options[workload]
    cluster = options.current.cluster

    def stays(rule: BlockingRule, reason: str, proof: StayProof) -> NotMigrated:
        return NotMigrated(workload=workload, cluster=cluster, rule=rule, reason=reason, proof=proof)

    if not spec.workload_by_name[workload].target:
        reason = f"{workload} has no target"
        return stays("no-target", reason, StayProof(outcome="ineligible", detail=reason))
    if workload not in problem.candidates:
        infeasible = options.infeasible_reasons()
        if infeasible:
            reason = "; ".join(infeasible)
            return stays("sharding", reason, StayProof(outcome="ineligible", detail=reason))
        reason = _best_exclusion(tuple(v for v in verdicts(spec, spec.workload_by_name[workload]) if not v.eligible))
        return stays("eligibility", reason, StayProof(outcome="ineligible", detail=reason))
    rule, reason = _rule_in_plan(ledgers, workload)
    proof = _proof(ledgers, workload, probe, optimum)
    if proof.outcome == "infeasible":
        families = {name.split(":")[0] for name in proof.rules}
        if rule not in families and families:
            rule = _FAMILY_RULE[max(families, key=RULE_FAMILIES.index)]
            reason = f"{workload} stays on {cluster}: {proof.detail}"
    elif proof.outcome == "tie" and rule == "schedule":
        reason = f"{workload} stays on {cluster}: {proof.detail}"
    elif rule == "schedule":
        reason = f"{workload} stays on {cluster}: no rule holds it alone; {proof.detail}"
    return stays(rule, reason, proof)


_FAMILY_RULE: dict[str, BlockingRule] = {
    "capacity": "capacity",
    "contract": "contract",
    "dependency": "dependency",
    "risk": "risk",
    "max-phases": "max-phases",
}


def _rule_in_plan(ledgers: PlanLedgers, workload: str) -> tuple[BlockingRule, str]:
    """The rule that holds ``workload`` with the plan's other moves as planned, and its sentence."""
    problem = ledgers.problem
    cluster = problem.initial[workload][0]
    candidates = problem.candidates[workload]
    if all(chips > max(problem.capacity[c]) for c, chips in candidates.placements()):
        too_big = [f"{c} holds at most {max(problem.capacity[c])}" for c, _ in candidates.placements()]
        chips = candidates.chip_counts()
        return (
            "capacity",
            f"{workload} stays on {cluster}: it needs {'/'.join(map(str, chips))} chips, and "
            + ", ".join(too_big)
            + " in any phase",
        )
    reasons = []
    for phase in range(1, problem.max_phases + 1):
        blocker = ledgers.blocker(workload, phase, candidates)
        if blocker is not None:
            reasons.append((phase, blocker))
    # The first phase where only capacity or a contract holds it says the most; else the last reason.
    binding = next(((p, b) for p, b in reasons if b.rule in ("capacity", "contract")), reasons[-1] if reasons else None)
    if binding is None:
        return "schedule", f"{workload} stays on {cluster}: no rule holds it alone in any phase of this plan"
    phase, blocker = binding
    beyond = _beyond_max_phases(ledgers, workload)
    if blocker.rule in ("dependency", "risk") and beyond is not None:
        return "max-phases", f"{workload} stays on {cluster}: {beyond}"
    return blocker.rule, f"{workload} stays on {cluster}: {blocker.reason}" + (
        f" (phase {phase})" if blocker.rule == "capacity" else ""
    )


def _proof(ledgers: PlanLedgers, workload: str, probe: StayProbe | None, optimum: tuple[int, int, int]) -> StayProof:
    if probe is None or probe.outcome == "unproven":
        return StayProof(
            outcome="not-checked",
            detail="the solver did not probe this stay (the plan is too big for probes, or a probe ran out of time)",
        )
    if probe.outcome == "infeasible":
        reasons = [" and ".join(_describe_group(ledgers, group) for group in core) for core in probe.cores]
        return StayProof(
            outcome="infeasible",
            rules=tuple(_group_name(group) for core in probe.cores for group in core),
            detail=f"with it moved, no plan keeps {'; nor '.join(reasons)}"
            + (" (each rule named is needed)" if any(len(core) > 1 for core in probe.cores) else ""),
        )
    moved, phases, weighted = optimum
    if probe.outcome == "displaces":
        return StayProof(
            outcome="displaces",
            detail=f"with it moved, no plan moves {moved} workloads: it would displace at least one that moves",
        )
    if probe.outcome == "costs-phases":
        return StayProof(
            outcome="costs-phases",
            detail=f"with it moved, no plan moves {moved} workloads in {phases} phases",
        )
    if probe.outcome == "costs-traffic":
        return StayProof(
            outcome="costs-traffic",
            detail=f"with it moved, no plan moves {moved} workloads in {phases} phases with Σ phase × chips "
            f"≤ {weighted}",
        )
    return StayProof(outcome="tie", detail="an equally good plan moves it instead (the solver broke the tie)")


def _group_name(group: tuple[str, ...]) -> str:
    return f"dependency:{group[1]}->{group[2]}" if group[0] == "dependency" else ":".join(group)


def _describe_group(ledgers: PlanLedgers, group: tuple[str, ...]) -> str:
    kind = group[0]
    if kind == "capacity":
        caps = ledgers.problem.capacity[group[1]]
        return f"the capacity of {group[1]} ({'/'.join(map(str, caps))} chips by phase)"
    if kind == "contract":
        return f"contract {group[1]}"
    if kind == "dependency":
        return f"{group[1]}'s dependency on {group[2]}"
    if kind == "risk":
        return f"the phase-1 risk limit for {group[1]}"
    return f"max_phases {ledgers.problem.max_phases}"


def _beyond_max_phases(ledgers: PlanLedgers, workload: str) -> str | None:
    """Why ``workload`` could only move after the last allowed phase, when that is what holds it."""
    problem, assignment = ledgers.problem, ledgers.assignment
    dependencies = problem.depends_on[workload]
    if any(dep not in assignment for dep in dependencies):
        return None  # a dependency that never moves holds it, not the phase limit
    earliest, because = 1, "nothing"
    for dep in dependencies:
        if assignment[dep][0] + 1 > earliest:
            earliest, because = assignment[dep][0] + 1, f"{dep} moves in phase {assignment[dep][0]}"
    if not problem.sensitivity_allowed(workload, 1) and earliest < 2:
        earliest, because = 2, "its sensitivity keeps it out of phase 1"
    if earliest <= problem.max_phases:
        return None
    return f"it could move in phase {earliest} at the earliest ({because}), beyond max_phases {problem.max_phases}"


def _best_exclusion(excluded: tuple[ClusterVerdict, ...]) -> str:
    for rule in _EXCLUSION_ORDER:
        for verdict in excluded:
            if verdict.rule == rule:
                return verdict.reason
    return excluded[0].reason if excluded else "no cluster is eligible"
