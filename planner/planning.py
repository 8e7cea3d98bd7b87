"""Make the migration plan of a spec: schedule, prove, explain, and assemble the document."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

from planner.eligibility import ClusterVerdict
from planner.gates import step_checks
from planner.phases import (
    EXACT_SEARCH_MAX_WORKLOADS,
    Assignment,
    Candidate,
    Ledger,
    Placement,
    PlanLedgers,
    Problem,
    earliest_phases,
    moves_in,
    schedule_exact,
    schedule_greedy,
)
from planner.plan import (
    Allocation,
    ClusterUse,
    ContractCheck,
    Economics,
    FleetState,
    MigrationPlan,
    Move,
    NotMigrated,
    Phase,
    PlanCluster,
    PlanWorkload,
    TrafficStep,
)
from planner.spec import MigrationSpec

# Which exclusion explains best why a workload stays, most specific first.
_EXCLUSION_ORDER = ("exclusive", "region", "preferred", "target", "tenant")


def plan_migration(spec: MigrationSpec) -> MigrationPlan:
    """Plan the migration of ``spec``.

    Returns
    -------
    MigrationPlan
        Phases with their moves and end states, what stays and why, the lower bound on phases and
        whether the phase count is proven optimal.

    Raises
    ------
    InputError
        When the current fleet cannot be described or already breaks a capacity or contract.
    """
    problem = Problem(spec)
    assignment = schedule_greedy(problem)
    earliest = earliest_phases(problem)
    phases_used = max((phase for phase, _ in assignment.values()), default=0)
    if len(assignment) == len(earliest) and phases_used == _lower_bound(earliest, assignment):
        optimal, optimality = True, "the phase count equals the lower bound and every movable workload moves"
    elif len(problem.movable) <= EXACT_SEARCH_MAX_WORKLOADS:
        result = schedule_exact(problem, assignment)
        if result.complete:
            improved = result.assignment != assignment
            assignment = result.assignment
            optimal = True
            optimality = f"exact search of every schedule ({result.nodes:,} nodes)" + (
                " found a better plan than the heuristic" if improved else " confirms the heuristic's plan"
            )
        else:
            optimal, optimality = False, f"not proven: {result.reason}"
    else:
        optimal = False
        optimality = (
            f"not proven: {len(problem.movable)} movable workloads exceed the exact search's limit of "
            f"{EXACT_SEARCH_MAX_WORKLOADS}"
        )
    return _assemble(problem, assignment, _lower_bound(earliest, assignment), optimal, optimality)


def _lower_bound(earliest: Mapping[str, int], assignment: Assignment) -> int:
    """No plan moving these workloads needs fewer phases: the latest of their earliest phases."""
    return max((earliest[name] for name in assignment), default=0)


def _assemble(
    problem: Problem, assignment: Assignment, lower_bound: int, optimal: bool, optimality: str
) -> MigrationPlan:
    spec = problem.spec
    ledgers = PlanLedgers(problem, assignment)
    states = ledgers.states
    phases = []
    for phase in range(1, len(states)):
        moves = moves_in(assignment, phase)
        ledger = ledgers.ledger(phase)
        phases.append(
            Phase(
                phase=phase,
                moves=tuple(_move(ledgers, states[phase - 1], c, phase) for c in moves),
                capacity=tuple(
                    ClusterUse(
                        cluster=c.name,
                        capacity_chips=problem.capacity[c.name][phase - 1],
                        peak_chips=ledger.during_load[c.name],
                        end_chips=ledger.end_load[c.name],
                    )
                    for c in spec.clusters
                ),
                contracts=tuple(_contract_checks(problem, ledger)),
                **_fleet(problem, states[phase]).model_dump(),
            )
        )
    return MigrationPlan(
        spec=spec.name,
        max_phases=problem.max_phases,
        first_phase_max_sensitivity=spec.migration.first_phase_max_sensitivity,
        lower_bound_phases=lower_bound,
        optimal=optimal,
        optimality=optimality,
        clusters=tuple(
            PlanCluster(
                name=c.name,
                provider=c.provider,
                region=c.region,
                tenant=c.tenant,
                accelerator=c.accelerator,
                sku=spec.accelerator_of(c).sku,
                chips_per_sku=spec.accelerator_of(c).chips_per_sku,
                capacity_by_phase=tuple(problem.capacity[c.name]),
            )
            for c in spec.clusters
        ),
        contracts=spec.contracts,
        workloads=tuple(
            PlanWorkload(
                name=w.name,
                tenant=w.tenant,
                sensitivity=w.sensitivity,
                target=w.target,
                depends_on=w.depends_on,
                tokens_per_s=w.serving.tokens_per_s,
                p99_ms_per_token=w.serving.p99_ms_per_token,
            )
            for w in spec.workloads
        ),
        initial=_fleet(problem, states[0]),
        phases=tuple(phases),
        not_migrated=tuple(_why_stays(ledgers, w.name) for w in spec.workloads if w.name not in assignment),
    )


def _fleet(problem: Problem, state: Mapping[str, Placement]) -> FleetState:
    spec = problem.spec
    allocations = tuple(
        Allocation(workload=name, cluster=cluster, chips=chips) for name, (cluster, chips) in sorted(state.items())
    )
    by_provider: Counter[str] = Counter()
    by_tenant: defaultdict[str, Counter[str]] = defaultdict(Counter)
    usd_per_hour = watts = tokens_per_s = 0.0
    for name, (cluster_name, chips) in state.items():
        cluster = spec.cluster_by_name[cluster_name]
        accelerator = spec.accelerator_of(cluster)
        by_provider[cluster.provider] += chips
        by_tenant[problem.tenant_of[name]][cluster.provider] += chips
        usd_per_hour += chips * accelerator.price_per_chip_hour_usd
        watts += chips * accelerator.serving_power_w
        option = problem.options[name].on(cluster_name)
        assert option.sharding is not None
        tokens_per_s += option.sharding.tokens_per_s
    total = sum(by_provider.values())
    return FleetState(
        allocations=allocations,
        provider_share=_shares(by_provider),
        tenant_provider_share={tenant: _shares(counts) for tenant, counts in sorted(by_tenant.items())},
        economics=Economics(
            chips=total,
            usd_per_hour=round(usd_per_hour, 2),
            watts=round(watts, 1),
            tokens_per_s=round(tokens_per_s, 1),
            tokens_per_joule=round(tokens_per_s / watts, 4) if watts else 0.0,
            usd_per_million_tokens=round(usd_per_hour / (tokens_per_s * 3600) * 1e6, 4) if tokens_per_s else 0.0,
        ),
    )


def _shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {provider: round(chips / total, 4) for provider, chips in sorted(counts.items())} if total else {}


def _contract_checks(problem: Problem, ledger: Ledger) -> list[ContractCheck]:
    checks: list[ContractCheck] = []
    for contract in problem.spec.contracts:
        chips = ledger.end_chips[contract.tenant, contract.provider]
        total = ledger.end_total[contract.tenant]
        if contract.min_share is not None:
            share = chips / total if total else 0.0
            checks.append(_check(contract.name, "min_share", share, contract.min_share, share - contract.min_share))
        if contract.min_chips is not None:
            checks.append(_check(contract.name, "min_chips", chips, contract.min_chips, chips - contract.min_chips))
        if contract.max_chips is not None:
            checks.append(_check(contract.name, "max_chips", chips, contract.max_chips, contract.max_chips - chips))
        if contract.regions is not None:
            outside = sorted(
                region
                for (tenant, provider, region), held in ledger.end_regions.items()
                if tenant == contract.tenant
                and provider == contract.provider
                and held > 0
                and region not in contract.regions
            )
            checks.append(
                ContractCheck(
                    contract=contract.name,
                    rule="regions",
                    value=len(outside),
                    limit=0,
                    margin=-len(outside),
                    ok=not outside,
                    detail=", ".join(outside) or "all in " + ", ".join(contract.regions),
                )
            )
    return checks


def _check(contract: str, rule: str, value: float, limit: float, margin: float) -> ContractCheck:
    return ContractCheck(
        contract=contract,
        rule=rule,
        value=round(value, 4),
        limit=limit,
        margin=round(margin, 4),
        ok=margin >= -1e-9,
    )


def _move(ledgers: PlanLedgers, start: Mapping[str, Placement], candidate: Candidate, phase: int) -> Move:
    spec = ledgers.problem.spec
    workload = spec.workload_by_name[candidate.workload]
    sharding = candidate.option.sharding
    assert sharding is not None
    source_cluster, source_chips = start[candidate.workload]
    gate = (
        f"p99 ≤ {workload.serving.p99_ms_per_token:g} ms per token and error rate ≤ "
        f"{spec.migration.gate_max_error_rate:.2%} for {workload.name} on {candidate.cluster}"
    )
    steps = tuple(
        TrafficStep(
            percent=percent,
            gate=gate if percent < 100 else f"{gate}; then release {source_chips} chips on {source_cluster}",
            rollback=(
                f"shift {workload.name}'s traffic back to {source_cluster} (it still holds its {source_chips} "
                f"chips and weights) and drain {candidate.cluster}"
            ),
            checks=step_checks(workload, spec.migration, source_cluster, candidate.cluster, phase, percent),
        )
        for percent in spec.migration.traffic_steps
    )
    return Move(
        workload=workload.name,
        from_cluster=source_cluster,
        to_cluster=candidate.cluster,
        chips=candidate.chips,
        source_chips=source_chips,
        sku_units=candidate.option.sku_units,
        tensor_parallel=sharding.tensor_parallel,
        pipeline_parallel=sharding.pipeline_parallel,
        replicas=sharding.replicas,
        batch_per_replica=sharding.batch_per_replica,
        step_ms=round(sharding.step_ms, 2),
        traffic_steps=steps,
        **_why_this_phase(ledgers, candidate.workload, phase),
        why_this_cluster=_why_this_cluster(ledgers, candidate, phase),
    )


def _why_this_phase(ledgers: PlanLedgers, workload: str, phase: int) -> dict[str, str]:
    """``binding_rule`` and ``why_this_phase`` of a move: what kept it out of the phase before."""
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


def _why_this_cluster(ledgers: PlanLedgers, chosen: Candidate, phase: int) -> str:
    candidates = ledgers.problem.candidates[chosen.workload]
    if candidates[0] == chosen:
        assert chosen.option.sharding is not None
        return (
            f"{chosen.cluster}: first in target preference and cost of {len(candidates)} eligible "
            f"cluster{'s' if len(candidates) > 1 else ''} (${chosen.option.sharding.usd_per_hour:,.2f}/h)"
        )
    preferred = candidates[0]
    blocker = ledgers.blocker(chosen.workload, phase, [preferred])
    why = blocker.reason if blocker else "the schedule chose it to keep room elsewhere"
    return f"{chosen.cluster}: the preferred {preferred.cluster} could not take it: {why}"


def _why_stays(ledgers: PlanLedgers, workload: str) -> NotMigrated:
    problem = ledgers.problem
    spec = problem.spec
    options = problem.options[workload]
    cluster = options.current.cluster
    if not spec.workload_by_name[workload].target:
        return NotMigrated(workload=workload, cluster=cluster, rule="no-target", reason=f"{workload} has no target")
    if workload not in problem.candidates:
        infeasible = [o.infeasible_reason for o in options.destinations if not o.feasible]
        if infeasible:
            return NotMigrated(workload=workload, cluster=cluster, rule="sharding", reason="; ".join(infeasible))
        return NotMigrated(
            workload=workload, cluster=cluster, rule="eligibility", reason=_best_exclusion(options.excluded)
        )
    too_big = [
        f"{c.cluster} holds at most {max(problem.capacity[c.cluster])}"
        for c in problem.candidates[workload]
        if c.chips > max(problem.capacity[c.cluster])
    ]
    if len(too_big) == len(problem.candidates[workload]):
        chips = sorted({c.chips for c in problem.candidates[workload]})
        return NotMigrated(
            workload=workload,
            cluster=cluster,
            rule="capacity",
            reason=f"{workload} stays on {cluster}: it needs {'/'.join(map(str, chips))} chips, and "
            + ", ".join(too_big)
            + " in any phase",
        )
    reasons = []
    for phase in range(1, problem.max_phases + 1):
        blocker = ledgers.blocker(workload, phase, problem.candidates[workload])
        if blocker is None:
            continue
        reasons.append((phase, blocker))
    # The first phase where only capacity or a contract holds it says the most; else the last reason.
    binding = next(((p, b) for p, b in reasons if b.rule in ("capacity", "contract")), reasons[-1] if reasons else None)
    if binding is None:
        return NotMigrated(
            workload=workload,
            cluster=cluster,
            rule="schedule",
            reason=f"{workload} stays on {cluster}: no rule holds it, but the heuristic schedule found no place for it",
        )
    phase, blocker = binding
    beyond = _beyond_max_phases(ledgers, workload)
    if blocker.rule in ("dependency", "risk") and beyond is not None:
        return NotMigrated(
            workload=workload, cluster=cluster, rule="max-phases", reason=f"{workload} stays on {cluster}: {beyond}"
        )
    return NotMigrated(
        workload=workload,
        cluster=cluster,
        rule=blocker.rule,
        reason=f"{workload} stays on {cluster}: {blocker.reason}"
        + (f" (phase {phase})" if blocker.rule == "capacity" else ""),
    )


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
