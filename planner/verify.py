"""Re-check a plan against the migration rules from its JSON document alone.

The plan document carries the rules' inputs (clusters with capacity per phase, contracts,
workloads with tenant, target, sensitivity and dependencies), so this module needs no spec, no
catalog and none of the planner's algorithms: it is the independent check of the planner.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from planner.plan_document import MigrationPlan
from planner.spec import SENSITIVITY_RANK


def verify_plan(document: Mapping[str, Any]) -> list[str]:
    """Every rule the plan breaks, as sentences; empty when it keeps them all.

    Parameters
    ----------
    document
        A plan as JSON data (``json.loads`` of ``maiaplan plan --format json``).

    Returns
    -------
    list of str
        One sentence per broken rule.

    Raises
    ------
    pydantic.ValidationError
        When the document is not a plan of the documented format.

    Complexity: O(P · (A + M · C)) for P phases, A allocations, M moves and C contracts.
    """
    plan = MigrationPlan.model_validate(document)
    problems: list[str] = []
    clusters = {c.name: c for c in plan.clusters}
    workloads = {w.name: w for w in plan.workloads}
    if len(plan.phases) > plan.max_phases:
        problems.append(f"{len(plan.phases)} phases exceed max_phases {plan.max_phases}")
    moved_in: dict[str, int] = {}
    state = {a.workload: (a.cluster, a.chips) for a in plan.initial.allocations}
    if set(state) != set(workloads):
        problems.append("the initial allocations do not list every workload exactly once")
    for phase in plan.phases:
        k = phase.phase
        during: list[tuple[str, str, int]] = [(w, c, chips) for w, (c, chips) in state.items()]
        expected_end = dict(state)
        for move in phase.moves:
            w = move.workload
            workload = workloads.get(w)
            if workload is None or move.to_cluster not in clusters:
                problems.append(f"phase {k}: move of {w} names an unknown workload or cluster")
                continue
            if w in moved_in:
                problems.append(f"phase {k}: {w} already moved in phase {moved_in[w]}")
            if state.get(w, ("", 0))[0] != move.from_cluster:
                problems.append(f"phase {k}: {w} moves from {move.from_cluster} but runs on {state.get(w)}")
            problems.extend(f"phase {k}: {w}: {p}" for p in _eligibility(plan, w, move.from_cluster, move.to_cluster))
            for dep in workload.depends_on:
                if moved_in.get(dep, k) >= k:
                    problems.append(f"phase {k}: {w} moves before its dependency {dep} has fully moved")
            if k == 1 and SENSITIVITY_RANK[workload.sensitivity] > SENSITIVITY_RANK[plan.first_phase_max_sensitivity]:
                problems.append(f"phase 1: {w} is '{workload.sensitivity}', above first_phase_max_sensitivity")
            during.append((w, move.to_cluster, move.chips))
            expected_end[w] = (move.to_cluster, move.chips)
            moved_in[w] = k
        end = {a.workload: (a.cluster, a.chips) for a in phase.allocations}
        if end != expected_end:
            problems.append(f"phase {k}: the allocations are not the start of the phase with its moves applied")
        problems.extend(_capacity(plan, k, during))
        problems.extend(_contracts(plan, k, during, "while"))
        problems.extend(_contracts(plan, k, [(w, c, chips) for w, (c, chips) in end.items()], "at the end of"))
        state = end
    problems.extend(_final_fits(plan, state))
    stays = {n.workload for n in plan.not_migrated}
    if stays != set(workloads) - set(moved_in):
        problems.append("not_migrated does not list exactly the workloads that do not move")
    return problems


def _eligibility(plan: MigrationPlan, workload: str, source: str, destination: str) -> list[str]:
    clusters = {c.name: c for c in plan.clusters}
    w = next(x for x in plan.workloads if x.name == workload)
    to = clusters[destination]
    problems = []
    if to.tenant != w.tenant:
        problems.append(f"{destination} belongs to tenant {to.tenant}, not {w.tenant}")
    ranks = [i for i, entry in enumerate(w.target) if entry in (to.provider, to.name)]
    here = [i for i, entry in enumerate(w.target) if entry in (clusters[source].provider, source)]
    if not ranks:
        problems.append(f"{destination} is not in its target {list(w.target)}")
    elif here and ranks[0] >= here[0]:
        problems.append(f"{destination} is not preferred over {source} in its target {list(w.target)}")
    for contract in plan.contracts:
        if contract.tenant != w.tenant:
            continue
        if workload in contract.exclusive_workloads and to.provider != contract.provider:
            problems.append(f"contract {contract.name} keeps it on {contract.provider}")
        if contract.regions is not None and to.provider == contract.provider and to.region not in contract.regions:
            problems.append(f"{destination} is in {to.region}, outside contract {contract.name}'s regions")
    return problems


def _capacity(plan: MigrationPlan, k: int, during: list[tuple[str, str, int]]) -> list[str]:
    """Phase ``k`` holds every start allocation and every move's destination: it fits the phase's capacity."""
    peak: Counter[str] = Counter()
    for _, cluster, chips in during:
        peak[cluster] += chips
    return [
        f"phase {k}: {c.name} holds {peak[c.name]} chips > capacity {c.capacity_by_phase[k - 1]}"
        for c in plan.clusters
        if peak[c.name] > c.capacity_by_phase[k - 1]
    ]


def _final_fits(plan: MigrationPlan, state: Mapping[str, tuple[str, int]]) -> list[str]:
    """After the last phase with a move, the fleet stays as it is: it fits every remaining phase."""
    held: Counter[str] = Counter()
    for cluster, chips in state.values():
        held[cluster] += chips
    problems = []
    for c in plan.clusters:
        for later in range(len(plan.phases), plan.max_phases):
            if held[c.name] > c.capacity_by_phase[later]:
                problems.append(
                    f"after phase {len(plan.phases)}: {c.name} keeps {held[c.name]} chips > capacity "
                    f"{c.capacity_by_phase[later]} of phase {later + 1}"
                )
                break
    return problems


def _contracts(plan: MigrationPlan, k: int, holdings: list[tuple[str, str, int]], when: str) -> list[str]:
    clusters = {c.name: c for c in plan.clusters}
    tenant_of = {w.name: w.tenant for w in plan.workloads}
    problems = []
    for contract in plan.contracts:
        mine = [(clusters[c], chips) for w, c, chips in holdings if tenant_of[w] == contract.tenant]
        total = sum(chips for _, chips in mine)
        on_provider = sum(chips for c, chips in mine if c.provider == contract.provider)
        prefix = f"phase {k} ({when}): contract {contract.name}"
        # Exact, like planner.rules but written apart: the decimal the spec wrote against the chip ratio.
        if (
            contract.min_share is not None
            and total
            and Fraction(on_provider, total) < Fraction(str(contract.min_share))
        ):
            problems.append(f"{prefix}: {contract.provider} share {on_provider / total:.3f} < {contract.min_share}")
        if contract.min_chips is not None and on_provider < contract.min_chips:
            problems.append(f"{prefix}: {on_provider} {contract.provider} chips < min_chips {contract.min_chips}")
        if contract.max_chips is not None and on_provider > contract.max_chips:
            problems.append(f"{prefix}: {on_provider} {contract.provider} chips > max_chips {contract.max_chips}")
        if contract.regions is not None:
            outside = {
                c.region
                for c, chips in mine
                if c.provider == contract.provider and chips and c.region not in contract.regions
            }
            if outside:
                problems.append(f"{prefix}: {contract.provider} chips in {sorted(outside)}, outside its regions")
    return problems
