"""Order the migration into phases within dependencies, capacity ramps, contracts and risk.

Rules every plan obeys (docs/planning.md):

- eligibility (:mod:`planner.eligibility`); a dependency has fully moved in a strictly earlier phase;
- capacity: in phase k a cluster holds at most its ``capacity_by_phase[k-1]`` chips, counting a
  moving workload at both ends (sources are released when the phase ends), and what it ends with
  fits every later phase's capacity;
- contracts (min_share, min_chips, max_chips, regions) hold for the contract's tenant both while a
  phase runs (both ends held) and at its end;
- phase 1 moves nothing above ``first_phase_max_sensitivity``; at most ``max_phases`` phases.

Objective, in order: the most workloads moved; the fewest phases; the most chip-weighted traffic
moved early. :func:`schedule_greedy` is a list scheduler (critical path first, then lower
sensitivity, then more chips); :func:`schedule_exact` searches every schedule of a small instance
and so proves (or improves) the greedy's result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx

from planner.catalog import Provider
from planner.eligibility import target_rank
from planner.errors import InputError
from planner.options import ClusterOption, WorkloadOptions, all_options
from planner.plan import BlockingRule
from planner.spec import SENSITIVITY_RANK, Contract, MigrationSpec

# Above this many movable workloads the exact search is not attempted.
EXACT_SEARCH_MAX_WORKLOADS = 12
# Search nodes (partial schedules) the exact search may visit before it gives up proving.
EXACT_SEARCH_NODE_BUDGET = 200_000


@dataclass(frozen=True)
class Candidate:
    """A destination a workload may move to, with the chips it would hold there."""

    workload: str
    cluster: str
    chips: int
    option: ClusterOption


@dataclass(frozen=True)
class Blocker:
    """Why a workload cannot move to a cluster in a phase: the rule and the sentence."""

    rule: BlockingRule
    reason: str


Placement = tuple[str, int]  # (cluster, chips)
Assignment = dict[str, tuple[int, Candidate]]  # workload -> (phase, destination)


class Problem:
    """Everything the schedulers need from a spec, precomputed once.

    Raises
    ------
    InputError
        When the current fleet already breaks a capacity or a contract (no plan could keep it).
    """

    def __init__(self, spec: MigrationSpec, options: Mapping[str, WorkloadOptions] | None = None) -> None:
        self.spec = spec
        self.options = dict(options) if options is not None else all_options(spec)
        self.max_phases = spec.migration.max_phases
        self.capacity = {
            c.name: [spec.capacity_in_phase(c, k) for k in range(1, self.max_phases + 1)] for c in spec.clusters
        }
        # The least capacity a cluster has from phase k on: what anything placed in phase k must fit.
        self.capacity_from = {
            name: [min(caps[k:]) for k in range(self.max_phases)] for name, caps in self.capacity.items()
        }
        self.cluster_provider: dict[str, Provider] = {c.name: c.provider for c in spec.clusters}
        self.cluster_region = {c.name: c.region for c in spec.clusters}
        self.tenant_of = {w.name: w.tenant for w in spec.workloads}
        self.contracts_of: dict[str, list[Contract]] = {t.name: [] for t in spec.tenants}
        for contract in spec.contracts:
            self.contracts_of[contract.tenant].append(contract)
        self.initial: dict[str, Placement] = {}
        for index, workload in enumerate(spec.workloads):
            current = self.options[workload.name].current
            if not current.feasible:
                raise InputError(
                    spec.source_file,
                    f"workloads[{index}].current",
                    f"the performance model cannot serve {workload.name} on its current cluster "
                    f"{workload.current}: {current.infeasible_reason}.",
                    "check serving targets and the catalog figures (the current fleet must be describable)",
                )
            self.initial[workload.name] = (current.cluster, current.allocated_chips)
        self.candidates: dict[str, list[Candidate]] = {}
        for name, opts in self.options.items():
            feasible = [Candidate(name, o.cluster, o.allocated_chips, o) for o in opts.destinations if o.feasible]
            if feasible:  # first in target preference, then cost per hour, then name
                self.candidates[name] = sorted(feasible, key=self._preference)
        self.sensitivity_rank = {w.name: SENSITIVITY_RANK[w.sensitivity] for w in spec.workloads}
        self.first_phase_rank = SENSITIVITY_RANK[spec.migration.first_phase_max_sensitivity]
        self.depends_on = {w.name: w.depends_on for w in spec.workloads}
        self.movable = [w.name for w in spec.workloads if w.name in self.candidates]
        self._check_initial_fleet()

    def _preference(self, candidate: Candidate) -> tuple[int, float, str]:
        workload = self.spec.workload_by_name[candidate.workload]
        rank = target_rank(workload, self.spec.cluster_by_name[candidate.cluster])
        assert candidate.option.sharding is not None
        return (rank if rank is not None else 99, candidate.option.sharding.usd_per_hour, candidate.cluster)

    def _check_initial_fleet(self) -> None:
        ledger = Ledger(self, self.initial, phase=1)
        for index, cluster in enumerate(self.spec.clusters):
            held = ledger.end_load[cluster.name]
            caps = self.capacity[cluster.name]
            if held > caps[0]:
                raise InputError(
                    self.spec.source_file,
                    f"clusters[{index}].capacity_by_phase[0]",
                    f"the workloads on {cluster.name} already hold {held} chips, more than its capacity of "
                    f"{caps[0]} chips in phase 1; no plan can keep that.",
                    f"give {cluster.name} at least {held} chips in phase 1",
                )
            shrinks = next((k for k, cap in enumerate(caps) if cap < held), None)
            if shrinks is not None:
                raise InputError(
                    self.spec.source_file,
                    f"clusters[{index}].capacity_by_phase[{shrinks}]",
                    f"{cluster.name}'s capacity falls to {caps[shrinks]} chips in phase {shrinks + 1}, below the "
                    f"{held} chips its workloads hold now; maiaplan does not yet plan moves forced by a shrinking "
                    "cluster (a ramp may only go down on chips nobody holds).",
                    f"keep it at {held} chips or more, or move the workloads off it in the spec first",
                )
        for tenant, contracts in self.contracts_of.items():
            for contract in contracts:
                broken = ledger.contract_blocker(contract, during=False)
                if broken is not None:
                    index = self.spec.contracts.index(contract)
                    raise InputError(
                        self.spec.source_file,
                        f"contracts[{index}]",
                        f"the current fleet of tenant {tenant} already breaks contract {contract.name}: "
                        f"{broken.reason}; no allocation reachable by the migration can meet it.",
                        "correct the contract's limits or the workloads' current clusters",
                    )

    def sensitivity_allowed(self, workload: str, phase: int) -> bool:
        return phase > 1 or self.sensitivity_rank[workload] <= self.first_phase_rank


class Ledger:
    """Running totals of one phase: loads and tenant chips while it runs and at its end.

    Adding a move and checking one is O(contracts of the tenant), so a phase of n moves costs O(n).
    """

    def __init__(self, problem: Problem, start: Mapping[str, Placement], phase: int) -> None:
        self.problem = problem
        self.phase = phase
        self.during_load: Counter[str] = Counter()
        self.end_load: Counter[str] = Counter()
        self.during_chips: Counter[tuple[str, str]] = Counter()  # (tenant, provider)
        self.end_chips: Counter[tuple[str, str]] = Counter()
        self.during_total: Counter[str] = Counter()
        self.end_total: Counter[str] = Counter()
        self.during_regions: Counter[tuple[str, str, str]] = Counter()  # (tenant, provider, region)
        self.end_regions: Counter[tuple[str, str, str]] = Counter()
        for workload, (cluster, chips) in start.items():
            self._hold(workload, cluster, chips, during=True, end=True, sign=1)

    def _hold(self, workload: str, cluster: str, chips: int, *, during: bool, end: bool, sign: int) -> None:
        tenant = self.problem.tenant_of[workload]
        provider = self.problem.cluster_provider[cluster]
        region = self.problem.cluster_region[cluster]
        for active, load, by_provider, total, regions in (
            (during, self.during_load, self.during_chips, self.during_total, self.during_regions),
            (end, self.end_load, self.end_chips, self.end_total, self.end_regions),
        ):
            if active:
                load[cluster] += sign * chips
                by_provider[tenant, provider] += sign * chips
                total[tenant] += sign * chips
                regions[tenant, provider, region] += sign * chips

    def apply(self, source: Placement, candidate: Candidate, sign: int = 1) -> None:
        """Add (or with ``sign=-1`` take back) a move: both ends while it runs, the destination after."""
        self._hold(candidate.workload, candidate.cluster, candidate.chips, during=True, end=True, sign=sign)
        self._hold(candidate.workload, source[0], source[1], during=False, end=True, sign=-sign)

    def blocker(self, source: Placement, candidate: Candidate) -> Blocker | None:
        """Why this move cannot join the phase now, or None when it can."""
        k = self.phase
        cluster = candidate.cluster
        capacity = self.problem.capacity[cluster][k - 1]
        if self.during_load[cluster] + candidate.chips > capacity:
            free = max(0, capacity - self.during_load[cluster])
            return Blocker(
                "capacity",
                f"{cluster} has room for {free} more chips in phase {k} (capacity {capacity}, "
                f"holding {self.during_load[cluster]}); it needs {candidate.chips}",
            )
        if k < self.problem.max_phases:
            later = self.problem.capacity_from[cluster][k]
            if self.end_load[cluster] + candidate.chips > later:
                return Blocker(
                    "capacity",
                    f"{cluster} falls to {later} chips in a later phase, too few to keep "
                    f"{self.end_load[cluster] + candidate.chips} chips after phase {k}",
                )
        self.apply(source, candidate)
        try:
            for contract in self.problem.contracts_of[self.problem.tenant_of[candidate.workload]]:
                for during in (False, True):
                    found = self.contract_blocker(contract, during=during)
                    if found is not None:
                        return Blocker(found.rule, f"moving it {found.reason}")
        finally:
            self.apply(source, candidate, sign=-1)
        return None

    def contract_blocker(self, contract: Contract, *, during: bool) -> Blocker | None:
        """The first limit of ``contract`` the phase breaks (while running or at its end)."""
        chips_by = self.during_chips if during else self.end_chips
        totals = self.during_total if during else self.end_total
        regions = self.during_regions if during else self.end_regions
        chips = chips_by[contract.tenant, contract.provider]
        total = totals[contract.tenant]
        when = f"{'while' if during else 'at the end of'} phase {self.phase}"
        name, provider = contract.name, contract.provider
        if contract.min_share is not None and total > 0 and chips / total < contract.min_share - 1e-12:
            return Blocker(
                "contract",
                f"drops {name}'s {provider} share to {chips / total:.2f} < {contract.min_share:.2f} {when}",
            )
        if contract.min_chips is not None and chips < contract.min_chips:
            return Blocker("contract", f"drops {name}'s {provider} chips to {chips} < {contract.min_chips} {when}")
        if contract.max_chips is not None and chips > contract.max_chips:
            return Blocker("contract", f"raises {name}'s {provider} chips to {chips} > {contract.max_chips} {when}")
        if contract.regions is not None:
            for (tenant, prov, region), held in regions.items():
                if tenant == contract.tenant and prov == provider and held > 0 and region not in contract.regions:
                    return Blocker("contract", f"puts {held} chips in {region}, outside {name}'s regions {when}")
        return None


# --- scheduling ------------------------------------------------------------------------------


def chain_lengths(graph: nx.DiGraph) -> dict[str, int]:
    """For each vertex, the vertices on the longest path that starts at it (1 for a sink).

    Complexity: O(V + E).
    """
    length: dict[str, int] = {}
    for vertex in reversed(list(nx.topological_sort(graph))):
        length[vertex] = 1 + max((length[s] for s in graph.successors(vertex)), default=0)
    return length


def earliest_phases(problem: Problem) -> dict[str, int]:
    """The earliest phase each movable workload could move in on its own: its dependencies each a
    phase earlier, risk, and the first phase a destination's capacity (from then on) could hold it.
    Workloads that cannot be moved at all are absent.

    Complexity: O(V + E + V · destinations · phases).
    """
    earliest: dict[str, int] = {}
    for name in nx.topological_sort(problem.spec.dependency_graph):
        if name not in problem.candidates or any(dep not in earliest for dep in problem.depends_on[name]):
            continue
        first = 1 if problem.sensitivity_allowed(name, 1) else 2
        first = max([first, *(earliest[dep] + 1 for dep in problem.depends_on[name])])
        by_capacity = [
            k
            for candidate in problem.candidates[name]
            for k in range(1, problem.max_phases + 1)
            if problem.capacity_from[candidate.cluster][k - 1] >= candidate.chips
        ]
        if not by_capacity:
            continue
        phase = max(first, min(by_capacity))
        if phase <= problem.max_phases:
            earliest[name] = phase
    return earliest


def schedule_greedy(problem: Problem) -> Assignment:
    """List-schedule the movable workloads phase by phase.

    In each phase, the workloads whose dependencies have moved are tried in order of the longest
    dependency chain they start, then lower sensitivity, then more chips; each goes to its first
    destination (target preference, then cost) that keeps capacity and contracts.

    Complexity: O(K · (V log V + V · D · C)) for K phases, V workloads, D destinations each and
    C contracts per tenant.
    """
    chains = chain_lengths(problem.spec.dependency_graph)
    biggest = {name: max(c.chips for c in cands) for name, cands in problem.candidates.items()}
    order = sorted(
        problem.movable,
        key=lambda w: (-chains[w], problem.sensitivity_rank[w], -biggest[w], w),
    )
    state = dict(problem.initial)
    assignment: Assignment = {}
    for phase in range(1, problem.max_phases + 1):
        ledger = Ledger(problem, state, phase)
        accepted: list[Candidate] = []
        for name in order:
            if name in assignment or not problem.sensitivity_allowed(name, phase):
                continue
            if any(dep not in assignment or assignment[dep][0] >= phase for dep in problem.depends_on[name]):
                continue
            for candidate in problem.candidates[name]:
                if ledger.blocker(state[name], candidate) is None:
                    ledger.apply(state[name], candidate)
                    assignment[name] = (phase, candidate)
                    accepted.append(candidate)
                    break
        for candidate in accepted:
            state[candidate.workload] = (candidate.cluster, candidate.chips)
    return assignment


def _score(assignment: Assignment) -> tuple[int, int, int]:
    """Smaller is better: most moved, fewest phases, most chip-weighted traffic early."""
    phases = max((phase for phase, _ in assignment.values()), default=0)
    weighted = sum(phase * candidate.chips for phase, candidate in assignment.values())
    return (-len(assignment), phases, weighted)


@dataclass
class ExactResult:
    assignment: Assignment
    complete: bool
    nodes: int
    reason: str = ""


@dataclass
class _Search:
    problem: Problem
    best: Assignment
    budget: int
    nodes: int = 0
    seen: set[tuple[int, frozenset[tuple[str, int, str]]]] = field(default_factory=set)


class _BudgetExhausted(Exception):
    pass


def schedule_exact(problem: Problem, start: Assignment, budget: int = EXACT_SEARCH_NODE_BUDGET) -> ExactResult:
    """Search every schedule (every subset of ready workloads and destinations, per phase) for the
    best one by (most moved, fewest phases, chip-weighted earliness), starting from ``start``'s score.

    Returns
    -------
    ExactResult
        The best assignment found; ``complete`` when the whole space was searched (it is optimal).

    Complexity: exponential in the number of workloads; bounded by ``budget`` search nodes.
    """
    search = _Search(problem, dict(start), budget)
    try:
        _search_phase(search, 1, dict(problem.initial), {})
    except _BudgetExhausted:
        return ExactResult(search.best, False, search.nodes, f"the search budget of {budget:,} nodes ran out")
    return ExactResult(search.best, True, search.nodes)


def _search_phase(search: _Search, phase: int, state: dict[str, Placement], assignment: Assignment) -> None:
    problem = search.problem
    if _score(assignment) < _score(search.best):
        search.best = dict(assignment)
    if phase > problem.max_phases:
        return
    remaining = [w for w in problem.movable if w not in assignment]
    best_moved, best_phases, _ = _score(search.best)
    best_moved = -best_moved
    if len(assignment) + len(remaining) < best_moved:
        return  # cannot move as many
    if len(assignment) + len(remaining) == best_moved and phase > best_phases and remaining:
        return  # moving them all would take more phases than the best
    key = (phase, frozenset((w, p, c.cluster) for w, (p, c) in assignment.items()))
    if key in search.seen:
        return
    search.seen.add(key)
    ready = [
        w
        for w in remaining
        if problem.sensitivity_allowed(w, phase)
        and all(dep in assignment and assignment[dep][0] < phase for dep in problem.depends_on[w])
    ]
    ledger = Ledger(problem, state, phase)
    _choose_moves(search, phase, state, assignment, ready, 0, ledger, [])


def _choose_moves(
    search: _Search,
    phase: int,
    state: dict[str, Placement],
    assignment: Assignment,
    ready: list[str],
    index: int,
    ledger: Ledger,
    chosen: list[Candidate],
) -> None:
    search.nodes += 1
    if search.nodes > search.budget:
        raise _BudgetExhausted
    if index == len(ready):
        next_state = dict(state)
        next_assignment = dict(assignment)
        for candidate in chosen:
            next_state[candidate.workload] = (candidate.cluster, candidate.chips)
            next_assignment[candidate.workload] = (phase, candidate)
        _search_phase(search, phase + 1, next_state, next_assignment)
        return
    name = ready[index]
    for candidate in search.problem.candidates[name]:
        if ledger.blocker(state[name], candidate) is None:
            ledger.apply(state[name], candidate)
            chosen.append(candidate)
            _choose_moves(search, phase, state, assignment, ready, index + 1, ledger, chosen)
            chosen.pop()
            ledger.apply(state[name], candidate, sign=-1)
    _choose_moves(search, phase, state, assignment, ready, index + 1, ledger, chosen)


def states_by_phase(problem: Problem, assignment: Assignment) -> list[dict[str, Placement]]:
    """``[initial, after phase 1, …, after the last phase with a move]``."""
    last = max((phase for phase, _ in assignment.values()), default=0)
    states = [dict(problem.initial)]
    for phase in range(1, last + 1):
        state = dict(states[-1])
        for name, (moved_in, candidate) in assignment.items():
            if moved_in == phase:
                state[name] = (candidate.cluster, candidate.chips)
        states.append(state)
    return states


def moves_in(assignment: Assignment, phase: int) -> list[Candidate]:
    return sorted((c for p, c in assignment.values() if p == phase), key=lambda c: c.workload)


class PlanLedgers:
    """A fixed plan's phases as ledgers (each built once), to ask why a workload is not elsewhere."""

    def __init__(self, problem: Problem, assignment: Assignment) -> None:
        self.problem = problem
        self.assignment = assignment
        self.states = states_by_phase(problem, assignment)
        self._ledgers: dict[int, Ledger] = {}

    def start_of(self, phase: int) -> dict[str, Placement]:
        return self.states[min(phase - 1, len(self.states) - 1)]

    def ledger(self, phase: int) -> Ledger:
        """Phase ``phase`` with all its planned moves applied."""
        if phase not in self._ledgers:
            start = self.start_of(phase)
            ledger = Ledger(self.problem, start, phase)
            for candidate in moves_in(self.assignment, phase):
                ledger.apply(start[candidate.workload], candidate)
            self._ledgers[phase] = ledger
        return self._ledgers[phase]

    def blocker(self, workload: str, phase: int, candidates: Iterable[Candidate]) -> Blocker | None:
        """Why ``workload`` could not join ``phase`` of this plan (other moves as planned), or None.

        Checks, in order: dependencies, risk, then each candidate's capacity and contracts; the
        returned blocker is the first candidate's (the preferred destination's).

        Complexity: O(D · C) after the phase's ledger is built (O(V) once per phase).
        """
        assignment = self.assignment
        for dep in self.problem.depends_on[workload]:
            if dep not in assignment:
                return Blocker("dependency", f"it waits for {dep}, which does not move")
            if assignment[dep][0] >= phase:
                moved_in = assignment[dep][0]
                return Blocker(
                    "dependency", f"it waits for {dep}, which moves in phase {moved_in} (it must move first)"
                )
        if not self.problem.sensitivity_allowed(workload, phase):
            return Blocker(
                "risk",
                f"its sensitivity '{self.problem.spec.workload_by_name[workload].sensitivity}' is above "
                f"first_phase_max_sensitivity '{self.problem.spec.migration.first_phase_max_sensitivity}' in phase 1",
            )
        start = self.start_of(phase)
        ledger = self.ledger(phase)
        own = assignment.get(workload)
        planned_here = own is not None and own[0] == phase
        if planned_here:
            assert own is not None
            ledger.apply(start[workload], own[1], sign=-1)
        try:
            first: Blocker | None = None
            for candidate in candidates:
                found = ledger.blocker(start[workload], candidate)
                if found is None:
                    return None
                first = first or found
            return first
        finally:
            if planned_here:
                assert own is not None
                ledger.apply(start[workload], own[1])
