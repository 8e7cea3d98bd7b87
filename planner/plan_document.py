"""The migration plan: the stable JSON document (docs/plan-format.md) and what reads it.

A plan carries the rules' inputs as well as the decisions (clusters with their capacity per phase,
contracts, workloads), so that anyone can re-check it from the file alone (:mod:`planner.verify`).
``allocations`` of a phase is the complete state at its end, moving or not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.catalog import Provider
from planner.gates import GateCheck
from planner.spec import Contract, Sensitivity

PLAN_FORMAT_VERSION: Literal[1] = 1

BlockingRule = Literal[
    "no-target", "eligibility", "sharding", "dependency", "risk", "capacity", "contract", "max-phases", "schedule"
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrafficStep(_Model):
    """One step of a move's traffic shift, the gate to pass before the next, and how to undo it."""

    percent: int = Field(ge=1, le=100)
    gate: str
    rollback: str
    checks: tuple[GateCheck, ...] = Field(default=(), description="The gate, machine-readable (planner/gates.py).")


class Move(_Model):
    workload: str
    from_cluster: str
    to_cluster: str
    chips: int = Field(ge=1, description="Chips allocated on the destination (whole SKU units).")
    source_chips: int = Field(ge=0, description="Chips released on the source when the phase ends.")
    sku_units: int = Field(ge=1)
    tensor_parallel: int = Field(ge=1)
    pipeline_parallel: int = Field(ge=1)
    replicas: int = Field(ge=1)
    batch_per_replica: int = Field(ge=1)
    step_ms: float = Field(gt=0)
    traffic_steps: tuple[TrafficStep, ...]
    binding_rule: Literal["none", "dependency", "risk", "capacity", "contract", "schedule"] = Field(
        description="The rule that kept it out of the phase before (none: it moves in phase 1)."
    )
    why_this_phase: str
    why_this_cluster: str


class Allocation(_Model):
    workload: str
    cluster: str
    chips: int = Field(ge=0)


class ClusterUse(_Model):
    """A cluster in one phase: its capacity, the most it holds (both ends of moves), what it ends with."""

    cluster: str
    capacity_chips: int = Field(ge=0)
    peak_chips: int = Field(ge=0)
    end_chips: int = Field(ge=0)


class ContractCheck(_Model):
    """One limit of one contract at the end of a phase (``during`` when checked mid-phase)."""

    contract: str
    rule: Literal["min_share", "min_chips", "max_chips", "regions"]
    value: float
    limit: float
    margin: float = Field(description="How far inside the limit (negative: broken).")
    ok: bool
    detail: str = ""


class Economics(_Model):
    """The fleet's serving economics at the end of a phase, from the catalog's figures."""

    chips: int
    usd_per_hour: float
    watts: float
    tokens_per_s: float
    tokens_per_joule: float
    usd_per_million_tokens: float


class FleetState(_Model):
    allocations: tuple[Allocation, ...]
    provider_share: dict[str, float]
    tenant_provider_share: dict[str, dict[str, float]]
    economics: Economics


class Phase(FleetState):
    phase: int = Field(ge=1)
    moves: tuple[Move, ...]
    capacity: tuple[ClusterUse, ...]
    contracts: tuple[ContractCheck, ...]


class StayProof(_Model):
    """What forcing a staying workload to move does, as the solver found it: the proof that its stay binds."""

    outcome: Literal["ineligible", "infeasible", "displaces", "costs-phases", "costs-traffic", "tie", "not-checked"] = (
        Field(
            description="ineligible: no destination; infeasible: no plan keeps the named rules with it moved; "
            "displaces / costs-phases / costs-traffic: the best plan with it moved is worse on that level; tie: an "
            "equally good plan moves it; not-checked: the solver did not probe it (too big, or out of time)."
        )
    )
    rules: tuple[str, ...] = Field(
        default=(),
        description="For infeasible: rules that together admit no plan, each needed ('capacity:<cluster>', "
        "'contract:<name>', 'dependency:<workload>-><dependency>', 'risk:<workload>', 'max-phases').",
    )
    detail: str


class NotMigrated(_Model):
    workload: str
    cluster: str
    rule: BlockingRule
    reason: str
    proof: StayProof


class PlanCluster(_Model):
    name: str
    provider: Provider
    region: str
    tenant: str
    accelerator: str
    sku: str
    chips_per_sku: int
    capacity_by_phase: tuple[int, ...] = Field(description="Chips usable in phases 1..max_phases.")


class PlanWorkload(_Model):
    name: str
    tenant: str
    sensitivity: Sensitivity
    target: tuple[str, ...]
    depends_on: tuple[str, ...]
    tokens_per_s: float
    p99_ms_per_token: float


class ObjectiveLevel(_Model):
    """One level of the lexicographic objective: the plan's value, the proven bound, the gap, the status.

    A level's bound and status hold given the earlier levels' values (they are fixed before it is solved).
    """

    level: int = Field(ge=1, le=3)
    name: Literal["workloads_moved", "phases", "phase_weighted_chips"]
    sense: Literal["maximize", "minimize"]
    value: int = Field(ge=0)
    bound: int = Field(
        ge=0, description="No plan does better than this (proven by the solver, or by the fallback's bound)."
    )
    gap: int = Field(ge=0, description="|bound - value|: 0 when the level is proven optimal.")
    status: Literal["optimal", "feasible", "unknown"] = Field(
        description="optimal: proven; feasible: the solver found it but did not prove it; unknown: the solver found "
        "no plan itself (the greedy plan is published)."
    )


class SolverReport(_Model):
    """How the schedule was found and what is proven about it. Wall time is not here (it differs run to
    run; ``maiaplan plan`` prints it on standard error): the document is the same bytes for the same input."""

    solver: str
    version: str
    method: Literal["cp-sat", "greedy-fallback"]
    workers: int = Field(ge=1)
    random_seed: int
    time_limit_s: float = Field(gt=0, description="The search's limit, in CP-SAT deterministic seconds.")
    deterministic_time_s: float = Field(ge=0, description="CP-SAT deterministic time spent, all levels.")
    wall_backstop_hit: bool = Field(
        description="The wall-clock backstop stopped a level (an overloaded machine): only then may runs differ."
    )
    levels: tuple[ObjectiveLevel, ObjectiveLevel, ObjectiveLevel]
    note: str


class MigrationPlan(_Model):
    format_version: Literal[1] = PLAN_FORMAT_VERSION
    spec: str
    max_phases: int
    first_phase_max_sensitivity: Sensitivity
    lower_bound_phases: int = Field(ge=0)
    optimal: bool = Field(description="True only when the solver proved all three objective levels optimal.")
    optimality: str = Field(description="What is proven, level by level, in one sentence.")
    solver: SolverReport
    clusters: tuple[PlanCluster, ...]
    contracts: tuple[Contract, ...]
    workloads: tuple[PlanWorkload, ...]
    initial: FleetState
    phases: tuple[Phase, ...]
    not_migrated: tuple[NotMigrated, ...]

    def state_after(self, phase: int) -> FleetState:
        """The fleet at the end of ``phase`` (0: before the migration)."""
        return self.initial if phase == 0 else self.phases[phase - 1]

    def move_of(self, workload: str) -> tuple[int, Move] | None:
        """The phase and move of ``workload``, or None when it does not move."""
        for phase in self.phases:
            for move in phase.moves:
                if move.workload == workload:
                    return phase.phase, move
        return None


def allocations_at(plan: MigrationPlan, phase: int, step: int) -> tuple[Allocation, ...]:
    """The chips every workload holds in ``phase`` at traffic step ``step`` (a percent).

    Before the phase completes (``step < 100``) a moving workload holds chips at both ends; at
    100 the phase is complete and its sources are released.

    Raises
    ------
    ValueError
        For a phase outside 0..len(phases) or a step outside 1..100.
    """
    if not 0 <= phase <= len(plan.phases):
        raise ValueError(f"phase {phase} is outside 0..{len(plan.phases)}")
    if not 1 <= step <= 100:
        raise ValueError(f"step {step} is outside 1..100")
    if phase == 0 or step == 100:
        return plan.state_after(phase).allocations
    incoming = tuple(
        Allocation(workload=move.workload, cluster=move.to_cluster, chips=move.chips)
        for move in plan.phases[phase - 1].moves
    )
    return tuple(sorted((*plan.state_after(phase - 1).allocations, *incoming), key=lambda a: (a.workload, a.cluster)))
