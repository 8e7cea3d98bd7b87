"""Place a whole fleet state: every cluster's allocations on concrete chips of its network graph."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planner.errors import InputError
from planner.options import WorkloadOptions
from planner.placement import ClusterPlacement, PlacementError, ShardGroupDemand, place_shard_groups
from planner.plan_document import Allocation
from planner.sharding import ShardingChoice
from planner.spec import MigrationSpec, Workload
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


def place_fleet(
    spec: MigrationSpec, options: Mapping[str, WorkloadOptions], allocations: Sequence[Allocation]
) -> list[ClusterPlacement]:
    """Place the shard groups of every allocation, cluster by cluster, in spec order.

    Parameters
    ----------
    spec
        The spec (clusters, their topology and accelerator).
    options
        Every workload's options (:func:`planner.options.all_options`): the sharding of each allocation.
    allocations
        A fleet state, e.g. ``plan.state_after(k).allocations``.

    Returns
    -------
    list of ClusterPlacement
        One per cluster of the spec, empty clusters included.

    Raises
    ------
    InputError
        When a cluster's allocations cannot be placed (names the cluster and the shortfall).

    Complexity: O(chips) overall: the graph build and placement are linear per cluster.
    """
    placements = []
    for index, cluster in enumerate(spec.clusters):
        demands = []
        for allocation in allocations:
            if allocation.cluster != cluster.name or allocation.chips == 0:
                continue
            option = options[allocation.workload].on(cluster.name)
            assert option.sharding is not None
            demands.append(shard_group_demand(spec.workload_by_name[allocation.workload], option.sharding))
        try:
            placements.append(place_shard_groups(build_cluster_graph(spec, cluster), demands))
        except PlacementError as error:
            raise InputError(
                spec.source_file,
                f"clusters[{index}]",
                f"cannot place the shard groups of {cluster.name}: {error}",
                "enlarge the cluster's topology or move workloads elsewhere",
            ) from None
    return placements
