"""The CP-SAT model of the migration: every rule of docs/planning.md, solved lexicographically.

One model over every choice the rules leave open — which workload moves, to which eligible
destination, in which phase. Its variables are ``on[w, d, k]``: workload ``w`` is on destination
``d`` by the end of phase ``k`` (monotone in ``k``; at most one destination per workload). From them,
linearly:

- *moved by phase k*: ``M[w, k] = Σ_d on[w, d, k]``; the source is held while ``M[w, k-1] = 0``;
- **capacity** of cluster c in phase k (both ends held):
  ``Σ_{w on c now} chips_w · (1 − M[w, k−1]) + Σ_{(w, d) on c} chips_wd · on[w, d, k] ≤ capacity[c, k]``
  for every phase up to ``max_phases``, so what a cluster ends with also fits every later phase, and a
  cluster that shrinks below what it holds forces moves out before it shrinks;
- **contracts** of tenant t on provider p, while phase k runs and at its end: the same sums over the
  tenant's chips on p and in all; ``min_share = n/d`` exactly as ``d · chips − n · total ≥ 0``
  (:func:`planner.rules.share_terms`), ``min_chips``, ``max_chips``; ``regions`` hold by construction
  (eligibility offers no destination outside them, and the current fleet is checked);
- **dependencies**: ``M[w, k] ≤ M[v, k−1]`` for each ``v`` in ``depends_on`` (strictly earlier);
- **risk**: ``M[w, 1] = 0`` above ``first_phase_max_sensitivity``; **max_phases**: the horizon.

Objective, lexicographically: (1) maximise workloads moved; (2) with that fixed, minimise the
phases used (``Σ_k used[k]``, :func:`_phase_count`); (3) with both fixed, minimise Σ phase × chips.
The greedy plan is the first hint; each level's solution hints the next. Each level reports its
value, its bound and its status; a level is *optimal* only when proven — by CP-SAT, or by the plan
meeting a bound that needs no search (:func:`greedy_bounds`).

Determinism: a fixed seed, the time limit as CP-SAT *deterministic* time (``max_deterministic_time``)
and, with several workers, ``interleave_search`` — the same input gives the same plan whatever the
machine's load. A wall-clock backstop (:data:`WALL_BACKSTOP_FACTOR` × the limit) only stops a
pathologically slowed run; the report says when it did, because only then may two runs differ.
"""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Literal

from ortools.sat.python import cp_model

from planner.rules import share_terms
from planner.scheduling.greedy import chain_lengths, earliest_phases
from planner.scheduling.milp_bound import SOLVER as MILP_SOLVER
from planner.scheduling.milp_bound import milp_bound
from planner.scheduling.problem import Assignment, PlanLedgers, Problem

SOLVER = "OR-Tools CP-SAT"
SOLVER_VERSION = version("ortools")
# The wall-clock backstop, as a multiple of the (deterministic) time limit.
WALL_BACKSTOP_FACTOR = 3.0
# Above this many on[w, d, k] variables the full model is not built: the greedy plan is published
# with the bounds of :func:`greedy_bounds` instead (docs/planning.md, "Scale").
MAX_MODEL_VARIABLES = 400_000

Status = Literal["optimal", "feasible", "unknown"]
LevelName = Literal["workloads_moved", "phases", "phase_weighted_chips"]
RuleGroup = tuple[
    str, ...
]  # ("capacity", cluster) | ("contract", name) | ("dependency", w, v) | ("risk", w) | ("max-phases",)


@dataclass(frozen=True)
class SolverSettings:
    """How long and with how many workers CP-SAT may search; the seed that makes it reproducible."""

    time_limit_s: float = 10.0
    workers: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0:
            raise ValueError(f"the time limit must be positive (got {self.time_limit_s})")
        if self.workers < 1:
            raise ValueError(f"at least one worker is needed (got {self.workers})")


@dataclass(frozen=True)
class LevelResult:
    """One objective level: the value of the published plan, the proven bound, and the status."""

    name: LevelName
    sense: Literal["maximize", "minimize"]
    value: int
    bound: int
    status: Status

    @property
    def gap(self) -> int:
        return abs(self.bound - self.value)


@dataclass(frozen=True)
class Solution:
    """The schedule to publish and what is proven about it."""

    assignment: Assignment
    levels: tuple[LevelResult, LevelResult, LevelResult]
    method: Literal["cp-sat", "greedy-fallback"]
    deterministic_time_s: float
    wall_backstop_hit: bool
    note: str

    @property
    def optimal(self) -> bool:
        return all(level.status == "optimal" for level in self.levels)


class NoFeasiblePlan(Exception):
    """No schedule keeps every rule (a forced move cannot be made: ``proven``), or none was found in
    time and the greedy plan breaks a rule; :func:`infeasible_rules` says which rules."""

    def __init__(self, proven: bool) -> None:
        super().__init__("no plan keeps every rule" if proven else "no plan found within the limit")
        self.proven = proven


@dataclass
class ScheduleModel:
    """The CP-SAT model of a problem (module docstring), optionally with rule groups that can be
    switched off (for explanations).

    Parameters
    ----------
    problem
        The scheduling problem.
    phases
        The horizon; ``max_phases`` unless relaxed (then ``max_phases`` is a rule group).
    relaxable
        When true, every rule group is enforced only under its own literal (``groups``), so that
        CP-SAT's ``sufficient_assumptions_for_infeasibility`` can name the rules a forced choice
        breaks; no variable is pruned by the earliest phases.
    symmetric
        Break the symmetry of interchangeable workloads (:meth:`_break_symmetry`); off when a probe
        forces one particular workload to move.

    Complexity: O(V · D · K) variables and O(K · (clusters + contracts)) constraints of O(V · D) terms.
    """

    problem: Problem
    phases: int
    relaxable: bool = False
    symmetric: bool = True
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    on: dict[str, list[list[cp_model.IntVar | int]]] = field(default_factory=dict)
    groups: dict[RuleGroup, cp_model.IntVar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problem = self.problem
        K = self.phases
        earliest = {} if self.relaxable else earliest_phases(problem)
        for name in problem.movable:
            if not self.relaxable and name not in earliest:
                continue
            rows: list[list[cp_model.IntVar | int]] = []
            for index, candidate in enumerate(problem.candidates[name]):
                first = 1
                if not self.relaxable:
                    fits = problem.first_phase_fitting(candidate.cluster, candidate.chips)
                    first = max(earliest[name], fits if fits is not None else K + 1)
                row: list[cp_model.IntVar | int] = [0] * (K + 1)
                for k in range(first, K + 1):
                    var = self.model.new_bool_var(f"on[{name},{index},{k}]")
                    row[k] = var
                    previous = row[k - 1]
                    if isinstance(previous, cp_model.IntVar):
                        self.model.add_implication(previous, var)
                rows.append(row)
            if any(isinstance(row[K], cp_model.IntVar) for row in rows):
                self.on[name] = rows
                self.model.add_at_most_one(row[K] for row in rows if isinstance(row[K], cp_model.IntVar))
        self._dependencies_and_risk()
        if self.symmetric:
            self._break_symmetry()
        self._capacity()
        self._contracts()
        if self.relaxable and problem.max_phases < K:
            enforce = self._group(("max-phases",))
            for rows in self.on.values():
                for row in rows:
                    self._enforce(self.model.add(row[K] - row[problem.max_phases] == 0), enforce)

    # --- expressions ------------------------------------------------------------------------------
    def moved_by(self, name: str, k: int) -> cp_model.LinearExpr:
        """``M[w, k]``: 1 when ``name`` has moved by the end of phase ``k`` (0 for a workload without variables)."""
        rows = self.on.get(name)
        return cp_model.LinearExpr.sum([row[k] for row in rows] if rows is not None and k > 0 else [])

    def _group(self, group: RuleGroup) -> cp_model.IntVar | None:
        if not self.relaxable:
            return None
        if group not in self.groups:
            self.groups[group] = self.model.new_bool_var(":".join(group))
        return self.groups[group]

    @staticmethod
    def _enforce(constraint: cp_model.Constraint, literal: cp_model.IntVar | None) -> None:
        if literal is not None:
            constraint.only_enforce_if(literal)

    def _sum_holding(
        self, sources: Sequence[tuple[str, int]], arrivals: Sequence[tuple[str, int, int]], source_k: int, arrive_k: int
    ) -> cp_model.LinearExpr:
        """Σ chips of ``sources`` not yet moved by phase ``source_k`` + Σ chips of ``arrivals`` there by ``arrive_k``."""
        variables: list[cp_model.IntVar] = []
        coefficients: list[int] = []
        constant = 0
        for name, chips in sources:
            constant += chips
            rows = self.on.get(name)
            if rows is not None and source_k > 0:
                for row in rows:
                    var = row[source_k]
                    if isinstance(var, cp_model.IntVar):
                        variables.append(var)
                        coefficients.append(-chips)
        for name, index, chips in arrivals:
            rows = self.on.get(name)
            if rows is None:
                continue
            var = rows[index][arrive_k]
            if isinstance(var, cp_model.IntVar):
                variables.append(var)
                coefficients.append(chips)
        return cp_model.LinearExpr.weighted_sum(variables, coefficients) + constant

    # --- rules ------------------------------------------------------------------------------------
    def _dependencies_and_risk(self) -> None:
        problem = self.problem
        for name in self.on:
            for dep in problem.depends_on[name]:
                enforce = self._group(("dependency", name, dep))
                for k in range(1, self.phases + 1):
                    self._enforce(self.model.add(self.moved_by(name, k) <= self.moved_by(dep, k - 1)), enforce)
            if not problem.sensitivity_allowed(name, 1):
                self._enforce(self.model.add(self.moved_by(name, 1) == 0), self._group(("risk", name)))

    def _break_symmetry(self) -> None:
        """Interchangeable workloads move in name order: the first never later than the next.

        Two workloads are interchangeable when swapping their schedules changes no rule and no
        objective: same tenant, current cluster and chips there, same destinations with the same
        chips, same risk class, and no dependency either way. Sound: any plan sorted this way is a
        plan of the same value; it spares the solver proving each permutation anew.
        """
        problem = self.problem
        depended = {dep for name in problem.depends_on for dep in problem.depends_on[name]}
        classes: dict[tuple[object, ...], list[str]] = defaultdict(list)
        for name in self.on:
            if problem.depends_on[name] or name in depended:
                continue
            key = (
                problem.tenant_of[name],
                problem.initial[name],
                tuple(problem.candidates[name].placements()),
                problem.sensitivity_allowed(name, 1),
                tuple(isinstance(v, cp_model.IntVar) for row in self.on[name] for v in row),
            )
            classes[key].append(name)
        for names in classes.values():
            for first, second in itertools.pairwise(names):
                for k in range(1, self.phases + 1):
                    self.model.add(self.moved_by(first, k) >= self.moved_by(second, k))

    def _arrivals(self) -> tuple[dict[str, list[tuple[str, int]]], dict[str, list[tuple[str, int, int]]]]:
        """Per cluster: the workloads there now ``(w, chips)``, and the possible arrivals ``(w, d, chips)``."""
        sources: dict[str, list[tuple[str, int]]] = defaultdict(list)
        arrivals: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for name, (cluster, chips) in self.problem.initial.items():
            sources[cluster].append((name, chips))
        for name in self.on:
            for index, (cluster, chips) in enumerate(self.problem.candidates[name].placements()):
                arrivals[cluster].append((name, index, chips))
        return sources, arrivals

    def capacity_in(self, cluster: str, k: int) -> int:
        """A cluster's capacity in phase ``k``, also beyond ``max_phases`` (relaxed horizons)."""
        problem = self.problem
        if k <= problem.max_phases:
            return problem.capacity[cluster][k - 1]
        return problem.spec.capacity_in_phase(problem.spec.cluster_by_name[cluster], k)

    def _capacity(self) -> None:
        sources, arrivals = self._arrivals()
        for cluster in self.problem.capacity:
            enforce = self._group(("capacity", cluster))
            for k in range(1, self.phases + 1):
                held = self._sum_holding(sources[cluster], arrivals[cluster], k - 1, k)
                self._enforce(self.model.add(held <= self.capacity_in(cluster, k)), enforce)

    def _contracts(self) -> None:
        problem = self.problem
        provider_of = problem.cluster_provider
        for contract in problem.spec.contracts:
            enforce = self._group(("contract", contract.name))
            mine = [name for name, tenant in problem.tenant_of.items() if tenant == contract.tenant]
            sources_all = [(name, problem.initial[name][1]) for name in mine]
            sources_on = [
                (name, chips)
                for name, chips in sources_all
                if provider_of[problem.initial[name][0]] == contract.provider
            ]
            arrivals_all = [
                (name, index, chips)
                for name in mine
                if name in self.on
                for index, (_, chips) in enumerate(problem.candidates[name].placements())
            ]
            arrivals_on = [
                a for a in arrivals_all if provider_of[problem.candidates[a[0]].clusters[a[1]]] == contract.provider
            ]
            for k in range(1, self.phases + 1):
                for source_k in (k - 1, k):  # while phase k runs (sources held), then at its end
                    chips = self._sum_holding(sources_on, arrivals_on, source_k, k)
                    if contract.min_share is not None:
                        numerator, denominator = share_terms(contract.min_share)
                        total = self._sum_holding(sources_all, arrivals_all, source_k, k)
                        self._enforce(self.model.add(denominator * chips - numerator * total >= 0), enforce)
                    if contract.min_chips is not None:
                        self._enforce(self.model.add(chips >= contract.min_chips), enforce)
                    if contract.max_chips is not None:
                        self._enforce(self.model.add(chips <= contract.max_chips), enforce)

    # --- objectives -------------------------------------------------------------------------------
    def moved_count(self) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.sum([self.moved_by(name, self.phases) for name in self.on])

    def phase_weighted_chips(self) -> cp_model.LinearExpr:
        """Σ over moves of phase × destination chips."""
        K = self.phases
        variables: list[cp_model.IntVar] = []
        coefficients: list[int] = []
        for name, rows in self.on.items():
            for row, (_, chips) in zip(rows, self.problem.candidates[name].placements(), strict=True):
                for k in range(1, K + 1):
                    var = row[k]
                    if isinstance(var, cp_model.IntVar):
                        variables.append(var)
                        coefficients.append(chips * (K if k == K else -1))
        return cp_model.LinearExpr.weighted_sum(variables, coefficients)

    def hint(self, assignment: Assignment) -> None:
        """Hint ``assignment`` (replacing any earlier hint)."""
        self.model.clear_hints()  # type: ignore[no-untyped-call]
        for name, rows in self.on.items():
            chosen = assignment.get(name)
            for index, row in enumerate(rows):
                candidate = self.problem.candidates[name][index]
                for k, var in enumerate(row):
                    if isinstance(var, cp_model.IntVar):
                        here = chosen is not None and chosen[1].cluster == candidate.cluster and chosen[0] <= k
                        self.model.add_hint(var, here)

    def read(self, solver: cp_model.CpSolver) -> Assignment:
        """The assignment of the solver's current solution."""
        return self._read(lambda var: bool(solver.value(var)))

    def read_values(self, values: Sequence[bool]) -> Assignment:
        """The assignment of one truth value per model variable (by index), e.g. another solver's."""
        return self._read(lambda var: values[var.index])

    def _read(self, value: Callable[[cp_model.IntVar], bool]) -> Assignment:
        assignment: Assignment = {}
        for name, rows in self.on.items():
            for index, row in enumerate(rows):
                phase = next((k for k, var in enumerate(row) if isinstance(var, cp_model.IntVar) and value(var)), None)
                if phase is not None:
                    assignment[name] = (phase, self.problem.candidates[name][index])
        return assignment

    @property
    def variables(self) -> int:
        return sum(1 for rows in self.on.values() for row in rows for var in row if isinstance(var, cp_model.IntVar))


def model_size(problem: Problem) -> int:
    """How many ``on[w, d, k]`` variables the full model would have (without building it).

    Complexity: O(V · D).
    """
    earliest = earliest_phases(problem)
    size = 0
    for name, first in earliest.items():
        for cluster, chips in problem.candidates[name].placements():
            fits = problem.first_phase_fitting(cluster, chips)
            if fits is not None:
                size += problem.max_phases + 1 - max(first, fits)
    return size


def _parameters(solver: cp_model.CpSolver, settings: SolverSettings, deterministic_s: float, wall_s: float) -> None:
    parameters = solver.parameters
    parameters.random_seed = settings.seed
    parameters.num_workers = settings.workers
    parameters.interleave_search = settings.workers > 1
    # Batches of one task: on the generated 20–40-workload fleets this proved all three levels in two
    # thirds of the default batching's time, and the hard 1,000-workload fleet fully (docs/benchmarks.md).
    parameters.interleave_batch_size = 1
    parameters.max_deterministic_time = max(deterministic_s, 0.01)
    parameters.max_time_in_seconds = max(wall_s, 0.01)
    parameters.log_search_progress = False


def _run(solver: cp_model.CpSolver, model: cp_model.CpModel) -> str:
    """Solve and return the status name: OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN or MODEL_INVALID."""
    return solver.status_name(solver.solve(model))


def score(assignment: Assignment) -> tuple[int, int, int]:
    """(moved, phases, Σ phase × chips) of a schedule."""
    return (
        len(assignment),
        max((phase for phase, _ in assignment.values()), default=0),
        sum(phase * candidate.chips for phase, candidate in assignment.values()),
    )


def solve(problem: Problem, greedy: Assignment, settings: SolverSettings) -> Solution:
    """The best schedule CP-SAT finds within the limit, lexicographically, with what it proved.

    Parameters
    ----------
    problem
        The scheduling problem.
    greedy
        The greedy schedule: the first hint, and the fallback.
    settings
        Time limit (deterministic seconds, shared by the three levels), workers, seed.

    Returns
    -------
    Solution
        The published schedule, per level its value, bound and status.

    Raises
    ------
    NoFeasiblePlan
        When no schedule keeps every rule (a forced move cannot be made), or none was found within
        the limit and the greedy plan breaks a rule.

    Complexity: the model is O(V · D · K); the search is bounded by the time limit.
    """
    greedy_ok = not PlanLedgers(problem, greedy).broken_rules()
    if model_size(problem) > MAX_MODEL_VARIABLES:
        if not greedy_ok:
            raise NoFeasiblePlan(proven=False)
        return greedy_solution(
            problem,
            greedy,
            f"the full model would exceed {MAX_MODEL_VARIABLES:,} variables: the greedy plan, with bounds",
        )
    started = time.monotonic()
    wall_budget = settings.time_limit_s * WALL_BACKSTOP_FACTOR
    schedule = ScheduleModel(problem, problem.max_phases)
    objectives: tuple[tuple[LevelName, Literal["maximize", "minimize"], cp_model.LinearExpr], ...] = (
        ("workloads_moved", "maximize", schedule.moved_count()),
        ("phases", "minimize", _phase_count(schedule)),
        ("phase_weighted_chips", "minimize", schedule.phase_weighted_chips()),
    )
    used = 0.0
    backstop = False
    levels: list[LevelResult] = []
    best = greedy if greedy_ok else None
    by_bounds: list[str] = []
    by_milp: list[str] = []
    for level, (name, sense, objective) in enumerate(objectives):
        if best is not None and score(best)[level] == greedy_bounds(problem, len(best))[level]:
            # The best plan so far meets a bound that needs no search: proven without the solver.
            value = score(best)[level]
            levels.append(LevelResult(name, sense, value, value, "optimal"))
            by_bounds.append(name)
            schedule.model.add(objective >= value if sense == "maximize" else objective <= value)
            continue
        if best is not None:
            schedule.hint(best)
        if sense == "maximize":
            schedule.model.maximize(objective)
        else:
            schedule.model.minimize(objective)
        # Level 1 may use half of the limit; each later level a share of what is left.
        budget = settings.time_limit_s / 2 if level == 0 else (settings.time_limit_s - used) / (3 - level)
        wall_left = wall_budget - (time.monotonic() - started)
        solver = cp_model.CpSolver()
        _parameters(solver, settings, budget, wall_left)
        status = _run(solver, schedule.model)
        spent = solver.response_proto.deterministic_time
        used += spent
        if status not in ("OPTIMAL", "INFEASIBLE") and spent < budget * 0.99:
            backstop = True  # the wall clock, not the deterministic limit, stopped this level
        if status == "INFEASIBLE" and level == 0:
            raise NoFeasiblePlan(proven=True)
        found = schedule.read(solver) if status in ("OPTIMAL", "FEASIBLE") else None
        if found is not None and (best is None or _better(found, best)):
            best = found
        second = None
        adopted = False  # HiGHS's plan replaced the best one
        if status != "OPTIMAL":
            # CP-SAT stopped at its limit: HiGHS on the same model, for a bound and perhaps a better plan.
            second = milp_bound(schedule.model, WALL_BACKSTOP_FACTOR * max(settings.time_limit_s, 1.0))
            backstop = backstop or (second is not None and second.clock_stopped)
            alternative = None if second is None or second.solution is None else schedule.read_values(second.solution)
            if (
                alternative is not None
                and (best is None or _better(alternative, best))
                and not PlanLedgers(problem, alternative).broken_rules()
            ):
                best, adopted = alternative, True
        if best is None:
            raise NoFeasiblePlan(proven=False)
        value = score(best)[level]
        if found is None:  # CP-SAT found nothing, so it proved nothing either
            bound = greedy_bounds(problem, len(best))[level]
        else:
            # Every level counts something: no bound is below 0 or above the workloads that could move.
            bound = (
                min(max(round(solver.best_objective_bound), 0), len(problem.movable))
                if level == 0
                else max(round(solver.best_objective_bound), 0)
            )
        if second is not None:
            bound = min(bound, second.bound) if sense == "maximize" else max(bound, second.bound)
        proven = status == "OPTIMAL" or bound == value
        if proven and status != "OPTIMAL" and second is not None and second.bound == value:
            by_milp.append(name)
        levels.append(
            LevelResult(
                name,
                sense,
                value,
                bound,
                "optimal" if proven else "feasible" if found is not None or adopted else "unknown",
            )
        )
        # Keep this level's value while the next levels are solved.
        schedule.model.add(objective >= value if sense == "maximize" else objective <= value)
    assert best is not None  # every level either found a plan or raised
    preferred = ""
    if best is not greedy and len(problem.movable) <= PREFERENCE_MAX_WORKLOADS:
        best, changed = prefer_destinations(problem, best)
        if changed:
            preferred = f"; {changed} move(s) sent to a destination earlier in target preference at no cost"
    note = (
        "every level proven optimal"
        if all(level.status == "optimal" for level in levels)
        else "CP-SAT reached the time limit before proving every level"
    )
    if by_bounds:
        note += f"; {', '.join(by_bounds)} by meeting a bound that needs no search"
    if by_milp:
        note += f"; {', '.join(by_milp)} by {MILP_SOLVER}'s MILP bound on the same model"
    return Solution(best, (levels[0], levels[1], levels[2]), "cp-sat", round(used, 3), backstop, note + preferred)


# Above this many movable workloads the preference pass (one full-plan check per swap tried) is skipped.
PREFERENCE_MAX_WORKLOADS = 200


def prefer_destinations(problem: Problem, assignment: Assignment) -> tuple[Assignment, int]:
    """Move each workload, in name order, to the destination earliest in its target preference (then
    cost) with the same chips, in the same phase, where the whole plan still keeps every rule: the
    three objective levels stay as they are (the solver is indifferent between such destinations).

    Returns
    -------
    tuple
        The assignment and how many moves changed destination.

    Complexity: O(V · D · K · (V + clusters + contracts)).
    """
    result = dict(assignment)
    changed = 0
    for name in sorted(result):
        phase, chosen = result[name]
        for candidate in problem.candidates[name]:
            if candidate == chosen:
                break
            if candidate.chips != chosen.chips:
                continue
            trial = {**result, name: (phase, candidate)}
            if not PlanLedgers(problem, trial).broken_rules():
                result, changed = trial, changed + 1
                break
    return result, changed


def _phase_count(schedule: ScheduleModel) -> cp_model.LinearExpr:
    """The phases used, ``Σ_k used[k]``, with ``used[k]`` true when any move is in phase k or later.

    Monotone booleans with one implication per (workload, destination, phase) — a move arriving after
    phase k−1 needs ``used[k]`` — bound far tighter than ``L ≥ phase of each move``.
    """
    model = schedule.model
    K = schedule.phases
    used = [model.new_bool_var(f"used[{k}]") for k in range(1, K + 1)]
    for k in range(1, K):
        model.add_implication(used[k], used[k - 1])
    for rows in schedule.on.values():
        for row in rows:
            last = row[K]
            if not isinstance(last, cp_model.IntVar):
                continue
            for k in range(1, K + 1):
                before = row[k - 1]
                if isinstance(before, cp_model.IntVar):
                    model.add_bool_or([before, ~last, used[k - 1]])  # on by K but not by k−1: a move in k or later
                else:
                    model.add_implication(last, used[k - 1])
    return cp_model.LinearExpr.sum(used)


def _better(found: Assignment, best: Assignment) -> bool:
    """Whether ``found`` is better than ``best`` on the lexicographic objective."""
    moved, phases, weighted = score(found)
    best_moved, best_phases, best_weighted = score(best)
    return (-moved, phases, weighted) < (-best_moved, best_phases, best_weighted)


def greedy_bounds(problem: Problem, moved: int) -> tuple[int, int, int]:
    """Bounds no plan can beat, without search, for the greedy fallback.

    (1) No plan moves more than the workloads that could move on their own (each has an earliest
    phase); (2) any plan moving ``moved`` of them uses at least the ``moved``-th smallest earliest
    phase; (3) its Σ phase × chips is at least the sum of the ``moved`` smallest
    ``earliest phase × fewest chips``.

    Complexity: O(V log V + V · D).
    """
    earliest = earliest_phases(problem)
    phases = sorted(earliest.values())
    weights = sorted(first * min(problem.candidates[name].chip_counts()) for name, first in earliest.items())
    return (len(earliest), phases[moved - 1] if moved else 0, sum(weights[:moved]))


def greedy_solution(problem: Problem, greedy: Assignment, note: str) -> Solution:
    """The greedy schedule as the published plan, with :func:`greedy_bounds`."""
    values = score(greedy)
    bounds = greedy_bounds(problem, values[0])
    names: tuple[LevelName, ...] = ("workloads_moved", "phases", "phase_weighted_chips")
    senses: tuple[Literal["maximize", "minimize"], ...] = ("maximize", "minimize", "minimize")
    levels = [
        LevelResult(names[i], senses[i], values[i], bounds[i], "optimal" if values[i] == bounds[i] else "feasible")
        for i in range(3)
    ]
    return Solution(greedy, (levels[0], levels[1], levels[2]), "greedy-fallback", 0.0, False, note)


# --- explanations: which rules a forced choice breaks ---------------------------------------------
# Stays are probed by the solver only up to this many movable workloads.
PROBE_MAX_WORKLOADS = 80
# The most deterministic seconds one solve of a probe may take.
PROBE_SOLVE_LIMIT_S = 0.5
# How many independent reasons an explanation looks for.
MAX_CORES = 2
# The rule families of the relaxable model, least telling first (an explanation keeps the last).
RULE_FAMILIES = ("max-phases", "risk", "dependency", "contract", "capacity")


@dataclass
class ProbeBudget:
    """Deterministic seconds the explanations' solves may still spend, all probes together."""

    seconds: float

    def limit(self) -> float:
        return min(PROBE_SOLVE_LIMIT_S, self.seconds)

    def spend(self, solver: cp_model.CpSolver) -> None:
        self.seconds -= solver.response_proto.deterministic_time

    @property
    def exhausted(self) -> bool:
        return self.seconds <= 0.01


def relaxed_horizon(problem: Problem) -> int:
    """A horizon long enough that ``max_phases`` can be one of the rules a probe switches off."""
    return problem.max_phases + max(chain_lengths(problem.spec.dependency_graph).values(), default=0) + 1


def _probe_solve(
    model: cp_model.CpModel, settings: SolverSettings, budget: ProbeBudget
) -> tuple[str, cp_model.CpSolver]:
    solver = cp_model.CpSolver()
    parameters = solver.parameters
    # Cores need a single worker; presolve off avoids a core that names literals outside the
    # assumptions (google/or-tools#5141).
    parameters.num_workers = 1
    parameters.cp_model_presolve = False
    parameters.random_seed = settings.seed
    parameters.max_deterministic_time = max(budget.limit(), 0.01)
    parameters.max_time_in_seconds = max(budget.limit(), 0.01) * WALL_BACKSTOP_FACTOR
    status = _run(solver, model)
    budget.spend(solver)
    return status, solver


class Undecided(Exception):
    """A probe's solve stopped at its limit without an answer."""


def infeasible_rules(
    problem: Problem, settings: SolverSettings, budget: ProbeBudget, must_move: str | None = None
) -> tuple[tuple[RuleGroup, ...], ...] | None:
    """Independent sets of rules that each make every schedule infeasible (with ``must_move`` forced
    to move, when given); None when a schedule exists.

    Each set comes from CP-SAT's ``sufficient_assumptions_for_infeasibility``, shrunk by deletion so
    that every rule in it is needed (without any one of them a schedule exists); the next set is
    sought with the rules already named switched off, up to :data:`MAX_CORES` sets.

    Raises
    ------
    Undecided
        When a solve reaches its limit first.

    Complexity: O(MAX_CORES · groups) solves of the relaxable model (:class:`ScheduleModel`).
    """
    schedule = ScheduleModel(problem, relaxed_horizon(problem), relaxable=True, symmetric=False)
    if must_move is not None:
        if must_move not in schedule.on:
            return None
        schedule.model.add(schedule.moved_by(must_move, schedule.phases) == 1)

    def core_of(assumed: Sequence[RuleGroup]) -> list[RuleGroup] | None:
        schedule.model.clear_assumptions()
        schedule.model.add_assumptions([schedule.groups[group] for group in assumed])
        status, solver = _probe_solve(schedule.model, settings, budget)
        if status in ("OPTIMAL", "FEASIBLE"):
            return None
        if status != "INFEASIBLE":
            raise Undecided
        named = set(solver.sufficient_assumptions_for_infeasibility())
        return [group for group in assumed if schedule.groups[group].index in named] or list(assumed)

    cores: list[tuple[RuleGroup, ...]] = []
    remaining = sorted(schedule.groups)
    while len(cores) < MAX_CORES:
        core = core_of(remaining)
        if core is None:
            break
        # Delete the least telling rules first, so that capacity and contracts stay named when either would do.
        for group in sorted(core, key=lambda g: (RULE_FAMILIES.index(g[0]), g)):
            if core_of([g for g in core if g != group]) is not None:
                core.remove(group)
        cores.append(tuple(core))
        remaining = [group for group in remaining if group not in core]
        if not core:
            break  # infeasible with no rule at all: nothing more to name
    return tuple(cores) if cores else None


StayOutcome = Literal["infeasible", "displaces", "costs-phases", "costs-traffic", "tie", "unproven"]


@dataclass(frozen=True)
class StayProbe:
    """What forcing a staying workload to move does: which rules it breaks, or which level it costs."""

    outcome: StayOutcome
    cores: tuple[tuple[RuleGroup, ...], ...] = ()


def probe_stay(
    problem: Problem, workload: str, optimum: tuple[int, int, int], settings: SolverSettings, budget: ProbeBudget
) -> StayProbe:
    """Force ``workload`` to move: the rules that then admit no plan, or the first objective level on
    which every plan with it moved is worse than ``optimum`` (a decision per level: is there a plan
    with it moved that is as good?), or a tie.

    Complexity: a few solves, each within :data:`PROBE_SOLVE_LIMIT_S` deterministic seconds and
    the shared ``budget``.
    """
    if budget.exhausted:
        return StayProbe("unproven")
    try:
        cores = infeasible_rules(problem, settings, budget, must_move=workload)
    except Undecided:
        return StayProbe("unproven")
    if cores is not None:
        return StayProbe("infeasible", cores)
    schedule = ScheduleModel(problem, problem.max_phases, symmetric=False)
    if workload not in schedule.on:
        return StayProbe("unproven")
    schedule.model.add(schedule.moved_by(workload, problem.max_phases) == 1)
    moved, phases, weighted = optimum
    levels: tuple[tuple[StayOutcome, cp_model.BoundedLinearExpression | bool], ...] = (
        ("displaces", schedule.moved_count() >= moved),
        ("costs-phases", _phase_count(schedule) <= phases),
        ("costs-traffic", schedule.phase_weighted_chips() <= weighted),
    )
    for outcome, as_good in levels:
        if budget.exhausted:
            return StayProbe("unproven")
        schedule.model.add(as_good)
        status, _ = _probe_solve(schedule.model, settings, budget)
        if status == "INFEASIBLE":
            return StayProbe(outcome)
        if status not in ("OPTIMAL", "FEASIBLE"):
            return StayProbe("unproven")
    return StayProbe("tie")
