"""Where a stack stands in its plan, and the plan's chips in each cloud's units."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.gcp import TpuSlices
from planner.errors import InputError
from planner.plan_document import Allocation, MigrationPlan, Move, PlanCluster, allocations_at
from planner.spec import MigrationSpec


@dataclass(frozen=True)
class Moment:
    """Where the stack stands: the plan, the phase, the traffic step, and what each workload holds."""

    spec: MigrationSpec
    plan: MigrationPlan
    phase: int
    step: int
    allocations: tuple[Allocation, ...]
    arrivals: Mapping[tuple[str, str], tuple[int, Move]]
    """(workload, cluster) -> the phase and move that brought the workload there, for moves so far."""

    @classmethod
    def of(cls, spec: MigrationSpec, plan: MigrationPlan, phase: int, step: int) -> Moment:
        """The moment (``phase``, ``step``) of ``plan``.

        Complexity: O(a log a + m) for a allocations and m moves.
        """
        arrivals = {
            (move.workload, move.to_cluster): (planned.phase, move)
            for planned in plan.phases[:phase]
            for move in planned.moves
        }
        held = tuple(a for a in allocations_at(plan, phase, step) if a.chips > 0)
        return cls(spec, plan, phase, step, held, arrivals)

    def arrival_phase(self, allocation: Allocation) -> int:
        """The phase whose move brought the allocation's workload to its cluster (0: it was there)."""
        arrival = self.arrivals.get((allocation.workload, allocation.cluster))
        return arrival[0] if arrival is not None else 0

    def arrival_move(self, allocation: Allocation) -> Move | None:
        arrival = self.arrivals.get((allocation.workload, allocation.cluster))
        return arrival[1] if arrival is not None else None

    def percent_on_destination(self, phase: int) -> int:
        """The share of traffic a move of ``phase`` puts on its destination at this moment."""
        return self.step if phase == self.phase else 100

    def held_on(self, cluster: str) -> list[Allocation]:
        return [a for a in self.allocations if a.cluster == cluster]


def sku_units(allocation: Allocation, cluster: PlanCluster) -> int:
    """VMs, instances or TPU hosts of ``cluster``'s SKU holding the allocation's chips exactly.

    Raises
    ------
    ValueError
        When the chips are not whole SKU units (the planner allocates whole units: a bug, not bad input).
    """
    units, rest = divmod(allocation.chips, cluster.chips_per_sku)
    if rest:
        raise ValueError(
            f"the plan gives {allocation.workload} {allocation.chips} chips on {cluster.name}, "
            f"not a whole number of {cluster.sku} ({cluster.chips_per_sku} chips each)"
        )
    return units


def tpu_slices(allocation: Allocation, cluster: PlanCluster, spec: MigrationSpec, move: Move | None) -> TpuSlices:
    """The TPU slices of an allocation: one slice per model replica when the plan shards the workload
    there in whole hosts (each replica then has its ICI-connected slice), else one slice per host."""
    accelerator = spec.accelerators[spec.cluster_by_name[cluster.name].accelerator]
    replica_chips = move.tensor_parallel * move.pipeline_parallel if move is not None else 0
    if (
        move is not None
        and replica_chips % cluster.chips_per_sku == 0
        and replica_chips * move.replicas == allocation.chips
    ):
        return TpuSlices(allocation.workload, accelerator.tpu_accelerator_type(replica_chips), move.replicas)
    units = sku_units(allocation, cluster)
    return TpuSlices(allocation.workload, accelerator.tpu_accelerator_type(cluster.chips_per_sku), units)


def catalog_figure(spec: MigrationSpec, cluster: PlanCluster, figure: str) -> str:
    """A catalog figure of the cluster's accelerator that a hardware-isolated cluster needs.

    Raises
    ------
    InputError
        When the catalog does not know it.
    """
    value = getattr(spec.accelerator_of(spec.cluster_by_name[cluster.name]), figure)
    if value is None:
        raise InputError(
            spec.source_file,
            f"catalog.{cluster.accelerator}.{figure}",
            f"is not known, and hardware-isolated cluster {cluster.name} needs it",
            f"add {figure} to the catalog entry of {cluster.accelerator} in the spec",
        )
    return str(value)


def summary(moment: Moment) -> dict[str, Any]:
    """The stack's exports: where it stands, the moves so far, and the chips held per provider."""
    providers = {c.name: c.provider for c in moment.plan.clusters}
    chips: Counter[str] = Counter()
    for allocation in moment.allocations:
        chips[providers[allocation.cluster]] += allocation.chips
    moves: list[dict[str, Any]] = [
        {
            "phase": planned.phase,
            "workload": move.workload,
            "from": move.from_cluster,
            "to": move.to_cluster,
            "chips": move.chips,
            "percentOnDestination": moment.percent_on_destination(planned.phase),
        }
        for planned in moment.plan.phases[: moment.phase]
        for move in planned.moves
    ]
    return {
        "spec": moment.plan.spec,
        "phase": moment.phase,
        "step": moment.step,
        "plannedPhases": len(moment.plan.phases),
        "moves": moves,
        "chipsByProvider": {provider: chips[provider] for provider in sorted(chips)},
        "notMigrated": [{"workload": n.workload, "reason": n.reason} for n in moment.plan.not_migrated],
    }
