"""Make the migration plan of a spec: schedule with the solver, prove, explain, assemble the document.

The steps, each in its own module: the problem and its ledgers (:mod:`planner.scheduling.problem`),
the greedy hint (:mod:`planner.scheduling.greedy`), the CP-SAT model (:mod:`planner.scheduling.cpsat`),
the explanations (:mod:`planner.explanations`) and the document (:mod:`planner.plan_document`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping

from planner.errors import InputError
from planner.explanations import why_stays, why_this_cluster, why_this_phase
from planner.gates import step_checks
from planner.plan_document import (
    Allocation,
    ClusterUse,
    ContractCheck,
    Economics,
    FleetState,
    MigrationPlan,
    Move,
    ObjectiveLevel,
    Phase,
    PlanCluster,
    PlanWorkload,
    SolverReport,
    TrafficStep,
)
from planner.rules import contract_breaches, share_holds
from planner.scheduling.cpsat import (
    PROBE_MAX_WORKLOADS,
    SOLVER,
    SOLVER_VERSION,
    NoFeasiblePlan,
    ProbeBudget,
    Solution,
    SolverSettings,
    StayProbe,
    Undecided,
    infeasible_rules,
    probe_stay,
    score,
    solve,
)
from planner.scheduling.greedy import schedule_greedy
from planner.scheduling.problem import Candidate, Ledger, Placement, PlanLedgers, Problem, moves_in
from planner.spec import MigrationSpec


def plan_migration(spec: MigrationSpec, settings: SolverSettings | None = None) -> MigrationPlan:
    """Plan the migration of ``spec``.

    Parameters
    ----------
    spec
        The migration spec.
    settings
        The solver's time limit (deterministic seconds), workers and seed; the defaults of
        :class:`SolverSettings` when None.

    Returns
    -------
    MigrationPlan
        Phases with their moves and end states, what stays and why, and per objective level the
        value, the proven bound and the status.

    Raises
    ------
    InputError
        When the current fleet cannot be described or already breaks a capacity or contract, or
        when no plan can make the moves a shrinking cluster forces (naming cluster, phase, shortfall).

    Complexity: the greedy O(K · V · D · C), the model O(V · D · K) within the time limit, one probe
    per staying workload up to :data:`PROBE_MAX_WORKLOADS` movable workloads.
    """
    settings = settings or SolverSettings()
    problem = Problem(spec)
    greedy = schedule_greedy(problem)
    try:
        solution = solve(problem, greedy, settings)
    except NoFeasiblePlan as error:
        raise _forced_move_error(problem, settings, error.proven) from None
    probes: dict[str, StayProbe] = {}
    if solution.method == "cp-sat" and len(problem.movable) <= PROBE_MAX_WORKLOADS:
        # The explanations may spend what the search left of the limit (deterministic seconds).
        budget = ProbeBudget(max(settings.time_limit_s - solution.deterministic_time_s, 0.0))
        optimum = score(solution.assignment)
        for name in problem.movable:
            if name not in solution.assignment:
                probes[name] = probe_stay(problem, name, optimum, settings, budget)
    return _assemble(problem, solution, settings, probes)


def _forced_move_error(problem: Problem, settings: SolverSettings, proven: bool) -> InputError:
    """The error for a spec whose shrinking clusters force moves no plan can make."""
    spec = problem.spec
    shrinking = problem.shrinking_clusters()
    try:
        cores = infeasible_rules(problem, settings, ProbeBudget(settings.time_limit_s)) or ()
    except Undecided:
        cores = ()
    core = next(
        (c for c in cores if any(g[0] == "capacity" and g[1] in shrinking for g in c)), cores[0] if cores else ()
    )
    named = [group[1] for group in core if group[0] == "capacity" and group[1] in shrinking]
    cluster_name = (named or sorted(shrinking) or [spec.clusters[0].name])[0]
    index = next(i for i, c in enumerate(spec.clusters) if c.name == cluster_name)
    held = sum(chips for cluster, chips in problem.initial.values() if cluster == cluster_name)
    phase = shrinking.get(cluster_name, 1)
    capacity = problem.capacity[cluster_name][phase - 1]
    others = [":".join(g) for g in core if g != ("capacity", cluster_name)]
    return InputError(
        spec.source_file,
        f"clusters[{index}].capacity_by_phase[{phase - 1}]",
        f"{cluster_name}'s capacity falls to {capacity} chips in phase {phase}, {held - capacity} chips short of the "
        f"{held} its workloads hold now, and "
        + ("no plan can move that much off it before then" if proven else "no plan found within the time limit does")
        + (f" while keeping {', '.join(others)}" if others else "")
        + (" (its workloads cannot all reach an eligible destination with room in time)." if proven else "."),
        f"keep {cluster_name} at {held} chips or more until phase {phase + 1}, add capacity or targets elsewhere, "
        "or raise max_phases" + ("" if proven else "; or raise --time-limit"),
    )


def _solver_report(solution: Solution, settings: SolverSettings) -> SolverReport:
    return SolverReport(
        solver=SOLVER,
        version=SOLVER_VERSION,
        method=solution.method,
        workers=settings.workers,
        random_seed=settings.seed,
        time_limit_s=settings.time_limit_s,
        deterministic_time_s=solution.deterministic_time_s,
        wall_backstop_hit=solution.wall_backstop_hit,
        levels=tuple(
            ObjectiveLevel(
                level=i + 1,
                name=level.name,
                sense=level.sense,
                value=level.value,
                bound=level.bound,
                gap=level.gap,
                status=level.status,
            )
            for i, level in enumerate(solution.levels)
        ),
        note=solution.note,
    )


def _optimality(solution: Solution) -> str:
    parts = []
    for level in solution.levels:
        if level.status == "optimal":
            parts.append(f"{level.name} {level.value} proven optimal")
        else:
            parts.append(f"{level.name} {level.value}, bound {level.bound} ({level.status})")
    how = "CP-SAT" if solution.method == "cp-sat" else "the greedy fallback"
    return f"{how}: " + "; ".join(parts)


def _assemble(
    problem: Problem, solution: Solution, settings: SolverSettings, probes: Mapping[str, StayProbe]
) -> MigrationPlan:
    spec = problem.spec
    assignment = solution.assignment
    optimum = score(assignment)
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
        lower_bound_phases=solution.levels[1].bound,
        optimal=solution.optimal,
        optimality=_optimality(solution),
        solver=_solver_report(solution, settings),
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
        not_migrated=tuple(
            why_stays(ledgers, w.name, probes.get(w.name), optimum) for w in spec.workloads if w.name not in assignment
        ),
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
        options = problem.options[name]
        sharding = (
            options.current.sharding
            if cluster_name == options.current.cluster
            else options.sizing_on(cluster_name).sharding
        )
        assert sharding is not None
        tokens_per_s += sharding.tokens_per_s
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
    """Each limit of each contract at the end of the phase; ``ok`` by :mod:`planner.rules`' exact test."""
    checks: list[ContractCheck] = []
    for contract in problem.spec.contracts:
        chips = ledger.end_chips[contract.tenant, contract.provider]
        total = ledger.end_total[contract.tenant]
        outside = sorted(
            region
            for (tenant, provider, region), held in ledger.end_regions.items()
            if tenant == contract.tenant
            and provider == contract.provider
            and held > 0
            and contract.regions is not None
            and region not in contract.regions
        )
        broken = {breach.limit for breach in contract_breaches(contract, chips, total, outside)}
        if contract.min_share is not None:
            share = chips / total if total else 0.0
            ok = share_holds(chips, total, contract.min_share)
            checks.append(_check(contract.name, "min_share", share, contract.min_share, share - contract.min_share, ok))
        if contract.min_chips is not None:
            margin = chips - contract.min_chips
            checks.append(
                _check(contract.name, "min_chips", chips, contract.min_chips, margin, "min_chips" not in broken)
            )
        if contract.max_chips is not None:
            margin = contract.max_chips - chips
            checks.append(
                _check(contract.name, "max_chips", chips, contract.max_chips, margin, "max_chips" not in broken)
            )
        if contract.regions is not None:
            checks.append(
                ContractCheck(
                    contract=contract.name,
                    rule="regions",
                    value=len(outside),
                    limit=0,
                    margin=-len(outside),
                    ok="regions" not in broken,
                    detail=", ".join(outside) or "all in " + ", ".join(contract.regions),
                )
            )
    return checks


def _check(contract: str, rule: str, value: float, limit: float, margin: float, ok: bool) -> ContractCheck:
    return ContractCheck(
        contract=contract, rule=rule, value=round(value, 4), limit=limit, margin=round(margin, 4), ok=ok
    )


def _move(ledgers: PlanLedgers, start: Mapping[str, Placement], candidate: Candidate, phase: int) -> Move:
    spec = ledgers.problem.spec
    workload = spec.workload_by_name[candidate.workload]
    sharding = candidate.sizing.sharding
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
        sku_units=candidate.sizing.sku_units,
        tensor_parallel=sharding.tensor_parallel,
        pipeline_parallel=sharding.pipeline_parallel,
        replicas=sharding.replicas,
        batch_per_replica=sharding.batch_per_replica,
        step_ms=round(sharding.step_ms, 2),
        traffic_steps=steps,
        **why_this_phase(ledgers, candidate.workload, phase),
        why_this_cluster=why_this_cluster(ledgers, candidate, phase),
    )
