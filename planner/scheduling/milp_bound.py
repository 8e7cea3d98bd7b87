"""A second prover for an objective level: the CP-SAT model as a MILP for HiGHS (scipy.optimize.milp).

CP-SAT finds the plans; on some packings it leaves a level's bound at the LP relaxation's value and
does not close the gap by search within the limit, where a MILP branch and cut (HiGHS's cuts and
LP-guided branching) closes it in a fraction of a second (docs/planning.md, "Proofs"). This module
reads the CP-SAT model's proto — every constraint is linear over booleans, or a clause, an
implication or an at-most-one — into a MILP with the same objective and asks HiGHS only for a
*bound*, and for its best solution, which the caller publishes only when it keeps every rule
(:class:`planner.scheduling.problem.PlanLedgers`) and beats CP-SAT's.

Determinism: HiGHS's MIP search is sequential and stops at a node limit (:data:`NODE_LIMIT`), not
at a time, so the same model gives the same bound whatever the machine's load; a wall-clock
backstop only stops a pathologically slowed run, as for CP-SAT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib.metadata import version

import numpy as np
from ortools.sat import cp_model_pb2
from ortools.sat.python import cp_model
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix

SOLVER = f"HiGHS (scipy {version('scipy')})"
# HiGHS's branch-and-bound nodes per level; above MAX_VARIABLES booleans the MILP is not tried
# (the fleets where CP-SAT stops at an LP bound are small packings; a big model's LPs are slow).
NODE_LIMIT = 1_000
MAX_VARIABLES = 5_000
# The objective is an integer: a float bound within this of an integer is that integer (HiGHS's
# feasibility tolerances are 1e-6 and below).
INTEGER_TOLERANCE = 1e-6


@dataclass(frozen=True)
class MilpBound:
    """What HiGHS proved about a level: the bound, whether its search finished (then the bound is the
    optimum of the model as given), and its best solution (one truth value per model variable), if any."""

    bound: int
    finished: bool
    solution: tuple[bool, ...] | None
    clock_stopped: bool  # the wall-clock backstop, not the node limit, stopped HiGHS


class _Rows:
    """Sparse rows ``lo ≤ Σ coefficient · x ≤ hi`` over the model's booleans."""

    def __init__(self) -> None:
        self.data: list[float] = []
        self.columns: list[int] = []
        self.pointers: list[int] = [0]
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, terms: dict[int, int], lower: float, upper: float) -> None:
        for column, coefficient in terms.items():
            if coefficient:
                self.columns.append(column)
                self.data.append(float(coefficient))
        self.pointers.append(len(self.columns))
        self.lower.append(lower)
        self.upper.append(upper)

    def clause(self, literals: list[int]) -> None:
        """At least one literal true: Σ x (positive) + Σ (1 − x) (negated) ≥ 1."""
        terms, negated = _literal_terms(literals)
        self.add(terms, 1 - negated, math.inf)

    def at_most_one(self, literals: list[int]) -> None:
        """At most one literal true: Σ x (positive) + Σ (1 − x) (negated) ≤ 1."""
        terms, negated = _literal_terms(literals)
        self.add(terms, -math.inf, 1 - negated)


def _literal_terms(literals: list[int]) -> tuple[dict[int, int], int]:
    """Σ of literals as coefficients per variable (a negated literal ``-i-1`` is ``1 − x_i``) and the
    number of negated ones (the constant)."""
    terms: dict[int, int] = {}
    negated = 0
    for literal in literals:
        if literal >= 0:
            terms[literal] = terms.get(literal, 0) + 1
        else:
            terms[-literal - 1] = terms.get(-literal - 1, 0) - 1
            negated += 1
    return terms, negated


def _rows_of(proto: cp_model_pb2.CpModelProto) -> _Rows | None:
    """The constraints as MILP rows, or None when one is not of a kind read here."""
    rows = _Rows()
    for constraint in proto.constraints:
        kind = constraint.WhichOneof("constraint")
        not_enforced = [-literal - 1 for literal in constraint.enforcement_literal]
        if kind == "bool_or":
            rows.clause([*constraint.bool_or.literals, *not_enforced])
        elif kind == "bool_and":
            for literal in constraint.bool_and.literals:
                rows.clause([literal, *not_enforced])
        elif kind == "at_most_one" and not not_enforced:
            rows.at_most_one(list(constraint.at_most_one.literals))
        elif kind == "exactly_one" and not not_enforced:
            literals = list(constraint.exactly_one.literals)
            rows.clause(literals)
            rows.at_most_one(literals)
        elif kind == "linear" and not not_enforced and len(constraint.linear.domain) == 2:
            terms: dict[int, int] = {}
            for variable, coefficient in zip(constraint.linear.vars, constraint.linear.coeffs, strict=True):
                terms[variable] = terms.get(variable, 0) + coefficient
            low, high = constraint.linear.domain
            rows.add(
                terms,
                -math.inf if low <= cp_model.INT_MIN else float(low),
                math.inf if high >= cp_model.INT_MAX else float(high),
            )
        else:
            return None
    return rows


def milp_bound(model: cp_model.CpModel, wall_s: float) -> MilpBound | None:
    """The bound HiGHS proves on ``model``'s objective (in the model's sense), or None when the model
    holds a constraint not read here, is too big, or HiGHS stopped without a bound.

    Parameters
    ----------
    model
        A CP-SAT model over booleans with a linear objective (the earlier levels as constraints).
    wall_s
        The wall-clock backstop, seconds.

    Returns
    -------
    MilpBound or None
        The bound (an integer, in the objective's sense), whether HiGHS finished, its solution.

    Complexity: O(terms) to build; the search is bounded by :data:`NODE_LIMIT` nodes.
    """
    proto = model.proto
    count = len(proto.variables)
    if count > MAX_VARIABLES or not proto.HasField("objective") or wall_s <= 0:
        return None
    if any(len(v.domain) != 2 or v.domain[0] < 0 or v.domain[1] > 1 for v in proto.variables):
        return None  # booleans only (every variable of the schedule model is one)
    rows = _rows_of(proto)
    if rows is None:
        return None
    objective = proto.objective
    scale = objective.scaling_factor or 1.0
    maximize = scale < 0
    costs = np.zeros(count)
    for variable, coefficient in zip(objective.vars, objective.coeffs, strict=True):
        costs[variable] += coefficient
    matrix = csr_matrix((rows.data, rows.columns, rows.pointers), shape=(len(rows.lower), count))
    lower = np.array([v.domain[0] for v in proto.variables], dtype=float)
    upper = np.array([v.domain[-1] for v in proto.variables], dtype=float)
    result = milp(
        costs,
        integrality=np.ones(count),
        bounds=Bounds(lower, upper),
        constraints=LinearConstraint(matrix, np.array(rows.lower), np.array(rows.upper)) if rows.lower else None,
        options={"node_limit": NODE_LIMIT, "time_limit": wall_s, "mip_rel_gap": 0.0, "presolve": True},
    )
    dual = getattr(result, "mip_dual_bound", None)
    if result.status == 2:
        return None  # infeasible as read: the caller keeps CP-SAT's own bound
    if dual is None or not math.isfinite(dual):
        return None
    # The proto's objective is minimised as Σ coeffs · x + offset, then scaled (negative when maximising).
    internal = math.ceil(dual + objective.offset - INTEGER_TOLERANCE)
    bound = round(internal * scale) if maximize else internal
    solution = None if result.x is None else tuple(bool(value > 0.5) for value in result.x)
    nodes = getattr(result, "mip_node_count", None)
    clock_stopped = result.status == 1 and (nodes is None or nodes < NODE_LIMIT)
    return MilpBound(int(bound), result.status == 0, solution, clock_stopped)
