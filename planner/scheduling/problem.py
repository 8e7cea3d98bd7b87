"""The scheduling problem of a spec: its workloads' destinations, and ledgers that apply the rules.

Rules every plan obeys (docs/planning.md):

- eligibility (:mod:`planner.eligibility`); a dependency has fully moved in a strictly earlier phase;
- capacity: in phase k a cluster holds at most its ``capacity_by_phase[k-1]`` chips, counting a
  moving workload at both ends (sources are released when the phase ends), and what it ends with
  fits every later phase's capacity; a cluster that shrinks below what it holds forces moves out;
- contracts (min_share, min_chips, max_chips, regions) hold for the contract's tenant both while a
  phase runs (both ends held) and at its end;
- phase 1 moves nothing above ``first_phase_max_sensitivity``; at most ``max_phases`` phases.

:class:`Problem` precomputes what every scheduler needs; :class:`Ledger` keeps one phase's running
totals and says which rule a move breaks (the arithmetic is :mod:`planner.rules`'s);
:class:`PlanLedgers` reads a fixed plan phase by phase, for the explanations and the full check.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import overload

from planner.catalog import Provider
from planner.eligibility import target_rank
from planner.errors import InputError
from planner.options import CompactOptions, Sizing, compact_options
from planner.plan_document import BlockingRule
from planner.rules import contract_breaches, later_capacity
from planner.spec import SENSITIVITY_RANK, Contract, MigrationSpec


@dataclass(frozen=True, slots=True)
class Candidate:
    """A destination a workload may move to, with the chips it would hold there and their sizing."""

    workload: str
    cluster: str
    chips: int
    sizing: Sizing


class Candidates(Sequence[Candidate]):
    """A workload's feasible destinations in preference order, made on access.

    Holds the ordered cluster names (shared between workloads with the same destinations and
    preferences) and one :class:`Sizing` per accelerator, not one object per cluster.
    """

    __slots__ = ("_options", "clusters", "workload")

    def __init__(self, workload: str, clusters: tuple[str, ...], options: CompactOptions) -> None:
        self.workload = workload
        self.clusters = clusters
        self._options = options

    def __len__(self) -> int:
        return len(self.clusters)

    @overload
    def __getitem__(self, index: int) -> Candidate: ...
    @overload
    def __getitem__(self, index: slice) -> list[Candidate]: ...
    def __getitem__(self, index: int | slice) -> Candidate | list[Candidate]:
        if isinstance(index, slice):
            return [self._make(c) for c in self.clusters[index]]
        return self._make(self.clusters[index])

    def __iter__(self) -> Iterator[Candidate]:
        return (self._make(c) for c in self.clusters)

    def _make(self, cluster: str) -> Candidate:
        sizing = self._options.sizing_on(cluster)
        return Candidate(self.workload, cluster, sizing.allocated_chips, sizing)

    def preferred(self) -> Candidates:
        """The first candidate alone."""
        return Candidates(self.workload, self.clusters[:1], self._options)

    def placements(self) -> Iterator[tuple[str, int]]:
        """(cluster, chips) of each candidate, in order, without making the candidates."""
        options = self._options
        for cluster in self.clusters:
            yield cluster, options.sizing_on(cluster).allocated_chips

    def chip_counts(self) -> list[int]:
        """The distinct chip counts of the candidates (one per accelerator)."""
        accelerators = {self._options.accelerator_of[c] for c in self.clusters}
        return sorted({self._options.by_accelerator[a].allocated_chips for a in accelerators})


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

    def __init__(self, spec: MigrationSpec) -> None:
        self.spec = spec
        self.options = compact_options(spec)
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
        self.candidates: dict[str, Candidates] = {}
        orders: dict[tuple[object, ...], tuple[str, ...]] = {}
        for workload in spec.workloads:
            opts = self.options[workload.name]
            key = (
                id(opts.destinations),
                workload.target,
                tuple((a, s.sharding.usd_per_hour if s.sharding else None) for a, s in opts.by_accelerator.items()),
            )
            if key not in orders:
                orders[key] = self._preference_order(workload.name, opts)
            if orders[key]:
                self.candidates[workload.name] = Candidates(workload.name, orders[key], opts)
        self._first_fitting: dict[tuple[str, int], int | None] = {}
        self.sensitivity_rank = {w.name: SENSITIVITY_RANK[w.sensitivity] for w in spec.workloads}
        self.first_phase_rank = SENSITIVITY_RANK[spec.migration.first_phase_max_sensitivity]
        self.depends_on = {w.name: w.depends_on for w in spec.workloads}
        self.movable = [w.name for w in spec.workloads if w.name in self.candidates]
        self._check_initial_fleet()

    def _preference_order(self, workload: str, options: CompactOptions) -> tuple[str, ...]:
        """The feasible destinations: first in target preference, then cost per hour, then name.

        Clusters are grouped by (target rank, accelerator) — within a group only the name differs —
        and the groups merged, so the sort costs O(D log D) comparisons of names at most.
        """
        spec_workload = self.spec.workload_by_name[workload]
        groups: dict[tuple[int, float, str], list[str]] = {}
        for cluster in options.destinations:
            sizing = options.sizing_on(cluster)
            if sizing.sharding is None:
                continue
            rank = target_rank(spec_workload, self.spec.cluster_by_name[cluster])
            key = (rank if rank is not None else 99, sizing.sharding.usd_per_hour, options.accelerator_of[cluster])
            groups.setdefault(key, []).append(cluster)
        ordered: list[str] = []
        for rank_cost in sorted({(rank, usd) for rank, usd, _ in groups}):
            same = [sorted(names) for (rank, usd, _), names in groups.items() if (rank, usd) == rank_cost]
            ordered.extend(heapq.merge(*same))
        return tuple(ordered)

    def first_phase_fitting(self, cluster: str, chips: int) -> int | None:
        """The first phase from which ``cluster``'s capacity (then and in every later phase) holds
        ``chips``, or None. Memoised per (cluster, chips)."""
        key = (cluster, chips)
        if key not in self._first_fitting:
            caps = self.capacity_from[cluster]
            self._first_fitting[key] = next((k + 1 for k in range(self.max_phases) if caps[k] >= chips), None)
        return self._first_fitting[key]

    def _check_initial_fleet(self) -> None:
        """Phase 1 holds the whole current fleet: it must fit every cluster and keep every contract.

        A capacity that falls below what a cluster holds only in a later phase is no error: it forces
        moves out before then, which the schedulers plan (and :func:`planner.scheduling.cpsat.solve`
        reports when no plan can).
        """
        ledger = Ledger(self, self.initial, phase=1)
        for index, cluster in enumerate(self.spec.clusters):
            held = ledger.end_load[cluster.name]
            capacity = self.capacity[cluster.name][0]
            if held > capacity:
                raise InputError(
                    self.spec.source_file,
                    f"clusters[{index}].capacity_by_phase[0]",
                    f"the workloads on {cluster.name} already hold {held} chips, {held - capacity} more than its "
                    f"capacity of {capacity} chips in phase 1 (which still holds every source); no plan can keep that.",
                    f"give {cluster.name} at least {held} chips in phase 1",
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

    def shrinking_clusters(self) -> dict[str, int]:
        """Clusters whose capacity later falls below what they hold now, with that first phase.

        Their workloads must (partly) move out before then: forced moves.
        """
        held: Counter[str] = Counter()
        for cluster, chips in self.initial.values():
            held[cluster] += chips
        return {
            name: next(k + 1 for k, cap in enumerate(caps) if cap < held[name])
            for name, caps in self.capacity.items()
            if min(caps) < held[name]
        }

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

    def full_during(self, cluster: str, chips: int) -> bool:
        """Whether ``cluster`` lacks room for ``chips`` more while this phase runs: the first check
        of :meth:`blocker`, without its sentence. Within a phase a cluster only fills up while it
        runs (sources are released at its end), so a cluster found full stays full."""
        return self.during_load[cluster] + chips > self.problem.capacity[cluster][self.phase - 1]

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
        later = later_capacity(self.problem.capacity[cluster], k)
        if later is not None and self.end_load[cluster] + candidate.chips > later:
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
        outside = [
            region
            for (tenant, provider, region), held in regions.items()
            if tenant == contract.tenant
            and provider == contract.provider
            and held > 0
            and contract.regions is not None
            and region not in contract.regions
        ]
        breaches = contract_breaches(contract, chips, total, outside)
        return Blocker("contract", f"{breaches[0].sentence} {when}") if breaches else None


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

    def blocker(self, workload: str, phase: int, candidates: Candidates) -> Blocker | None:
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
            for index, (cluster, chips) in enumerate(candidates.placements()):
                if first is not None and ledger.full_during(cluster, chips):
                    continue  # blocked by capacity; only the first candidate's sentence is reported
                found = ledger.blocker(start[workload], candidates[index])
                if found is None:
                    return None
                first = first or found
            return first
        finally:
            if planned_here:
                assert own is not None
                ledger.apply(start[workload], own[1])

    def broken_rules(self) -> list[str]:
        """Every capacity and contract limit the plan breaks, in any phase up to ``max_phases``.

        The schedulers' own check of a finished plan (a greedy plan under forced moves can miss one);
        :mod:`planner.verify` re-checks the published document independently.

        Complexity: O(K · (V + clusters + contracts · regions)).
        """
        problem = self.problem
        broken: list[str] = []
        for phase in range(1, problem.max_phases + 1):
            ledger = self.ledger(phase)
            for cluster, caps in problem.capacity.items():
                if ledger.during_load[cluster] > caps[phase - 1]:
                    broken.append(
                        f"{cluster} holds {ledger.during_load[cluster]} chips in phase {phase}, more than its "
                        f"capacity of {caps[phase - 1]}"
                    )
            for contracts in problem.contracts_of.values():
                for contract in contracts:
                    for during in (True, False):
                        found = ledger.contract_blocker(contract, during=during)
                        if found is not None:
                            broken.append(f"the plan {found.reason}")
        return broken
