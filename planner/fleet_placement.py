"""Place a whole fleet state: every cluster's allocations on concrete chips of its network graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from planner.errors import InputError
from planner.options import WorkloadOptions
from planner.placement import ClusterPlacement, PlacementError, ShardGroupDemand, place_shard_groups
from planner.plan_document import Allocation
from planner.sharding import ShardingChoice
from planner.spec import Cluster, MigrationSpec, Workload
from planner.topology import build_cluster_graph


def shard_group_demand(workload: Workload, sharding: ShardingChoice) -> ShardGroupDemand:
    """What placement needs of a workload sharded ``sharding``: its groups' shape and count."""
    return ShardGroupDemand(
        workload=workload.name,
        tenant=workload.tenant,
        tensor_parallel=sharding.tensor_parallel,
        pipeline_parallel=sharding.pipeline_parallel,
        replicas=sharding.replicas,
    )


class FleetClusterPlacement(BaseModel):
    """One cluster at the end of a phase, counted as the plan counts it: its capacity in that phase
    (the ramp's entry), the chips the plan allocates there (whole SKU units), and where its shard
    groups sit on the chip graph."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    phase: int = Field(ge=0)
    capacity_chips: int = Field(ge=0, description="Chips usable in the phase: capacity_by_phase, else the size.")
    allocated_chips: int = Field(ge=0, description="Chips the plan allocates: whole SKU units, as plan counts.")
    allocated_by_workload: dict[str, int]
    placement: ClusterPlacement

    @property
    def free_chips(self) -> int:
        """Capacity the plan leaves unallocated in the phase."""
        return self.capacity_chips - self.allocated_chips

    @property
    def stranded_chips(self) -> int:
        """Allocated chips no shard group uses: the rest of a SKU unit a workload holds whole."""
        return self.allocated_chips - self.placement.used_chips


def phase_capacity(spec: MigrationSpec, cluster: Cluster, phase: int) -> int:
    """Chips ``cluster`` may hold at the end of ``phase`` (0, before the migration: as phase 1 starts)."""
    return spec.capacity_in_phase(cluster, max(phase, 1))


def place_fleet(
    spec: MigrationSpec, options: Mapping[str, WorkloadOptions], allocations: Sequence[Allocation], phase: int = 0
) -> list[FleetClusterPlacement]:
    """Place the shard groups of every allocation, cluster by cluster, in spec order.

    Parameters
    ----------
    spec
        The spec (clusters, their topology, accelerator and capacity ramp).
    options
        Every workload's options (:func:`planner.options.all_options`): the sharding of each allocation.
    allocations
        A fleet state, e.g. ``plan.state_after(phase).allocations``: chips in whole SKU units.
    phase
        The phase whose end ``allocations`` describe (0: before the migration), for the capacity.

    Returns
    -------
    list of FleetClusterPlacement
        One per cluster of the spec, empty clusters included. A ramp's chips are the cluster's
        first racks: groups are laid out from the first rack on.

    Raises
    ------
    InputError
        When a cluster's allocations exceed its capacity in the phase or cannot be placed (names
        the cluster and the shortfall).

    Complexity: O(chips) overall: the graph build and placement are linear per cluster.
    """
    placements = []
    for index, cluster in enumerate(spec.clusters):
        demands = []
        allocated: dict[str, int] = {}
        for allocation in allocations:
            if allocation.cluster != cluster.name or allocation.chips == 0:
                continue
            option = options[allocation.workload].on(cluster.name)
            assert option.sharding is not None
            demands.append(shard_group_demand(spec.workload_by_name[allocation.workload], option.sharding))
            allocated[allocation.workload] = allocation.chips
        capacity = phase_capacity(spec, cluster, phase)
        if sum(allocated.values()) > capacity:
            raise InputError(
                spec.source_file,
                f"clusters[{index}]",
                f"the fleet allocates {sum(allocated.values())} chips on {cluster.name} at the end of phase {phase}, "
                f"more than its capacity of {capacity} chips then",
                "raise its capacity_by_phase entry, or plan again",
            )
        try:
            placed = place_shard_groups(build_cluster_graph(spec, cluster), demands)
        except PlacementError as error:
            raise InputError(
                spec.source_file,
                f"clusters[{index}]",
                f"cannot place the shard groups of {cluster.name}: {error}",
                "enlarge the cluster's topology or move workloads elsewhere",
            ) from None
        placements.append(
            FleetClusterPlacement(
                phase=phase,
                capacity_chips=capacity,
                allocated_chips=sum(allocated.values()),
                allocated_by_workload=allocated,
                placement=placed,
            )
        )
    return placements
