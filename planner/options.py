"""Each workload's options: its sharding on its current cluster and on every cluster it may move to.

A cluster allocates whole SKU units (VMs, instances, TPU hosts): a node is never split between
workloads, so an option's ``allocated_chips`` is the sharding's chips rounded up to whole units.
That is the figure the phase planner accounts, the Pulumi program sizes, and the policy counts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from planner.eligibility import ClusterVerdict, destinations, verdicts
from planner.errors import InputError
from planner.sharding import ShardingChoice, ShardingInfeasible, shard
from planner.spec import Cluster, MigrationSpec, Workload


class ClusterOption(BaseModel):
    """One workload on one cluster: how it would be sharded there, or why it cannot be."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: str
    cluster: str
    role: Literal["current", "destination"]
    sharding: ShardingChoice | None
    allocated_chips: int = Field(ge=0, description="Whole SKU units' worth of chips; 0 when infeasible.")
    sku_units: int = Field(ge=0)
    infeasible_reason: str = ""

    @model_validator(mode="after")
    def _sharding_or_reason(self) -> ClusterOption:
        if (self.sharding is None) == (not self.infeasible_reason):
            raise ValueError("an option has either a sharding or an infeasible_reason")
        return self

    @property
    def feasible(self) -> bool:
        return self.sharding is not None


class WorkloadOptions(BaseModel):
    """A workload's current option, its feasible destinations, and the clusters it may not use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: str
    current: ClusterOption
    destinations: tuple[ClusterOption, ...]
    excluded: tuple[ClusterVerdict, ...]

    @property
    def all(self) -> tuple[ClusterOption, ...]:
        """The current option, then the destinations."""
        return (self.current, *self.destinations)

    def on(self, cluster: str) -> ClusterOption:
        """The option on ``cluster``.

        Raises
        ------
        KeyError
            When ``cluster`` is neither the current cluster nor a destination.
        """
        for option in self.all:
            if option.cluster == cluster:
                return option
        raise KeyError(f"{self.workload} has no option on {cluster}")


def cluster_option(
    spec: MigrationSpec, workload: Workload, cluster: Cluster, role: Literal["current", "destination"]
) -> ClusterOption:
    """Shard ``workload`` on ``cluster``'s accelerator and round it up to whole SKU units.

    A workload's ``sharding:`` pin describes what runs today, so it applies on its current cluster.
    """
    accelerator = spec.accelerator_of(cluster)
    try:
        choice = shard(workload, accelerator, workload.sharding if role == "current" else None)
    except ShardingInfeasible as error:
        return ClusterOption(
            workload=workload.name,
            cluster=cluster.name,
            role=role,
            sharding=None,
            allocated_chips=0,
            sku_units=0,
            infeasible_reason=f"{workload.name} {error}",
        )
    units = accelerator.sku_units(choice.chips)
    return ClusterOption(
        workload=workload.name,
        cluster=cluster.name,
        role=role,
        sharding=choice,
        allocated_chips=units * accelerator.chips_per_sku,
        sku_units=units,
    )


def workload_options(spec: MigrationSpec, workload: Workload) -> WorkloadOptions:
    """Options of one workload.

    Raises
    ------
    InputError
        When the workload fits neither its current cluster nor any cluster it may move to; the
        message says by how much it misses on each.
    """
    current = cluster_option(spec, workload, spec.cluster_by_name[workload.current], "current")
    moves = [cluster_option(spec, workload, cluster, "destination") for cluster in destinations(spec, workload)]
    if not current.feasible and not any(option.feasible for option in moves):
        index = spec.workloads.index(workload)
        misses = "; ".join(option.infeasible_reason for option in (current, *moves))
        raise InputError(
            spec.source_file,
            f"workloads[{index}]",
            f"cannot be served on any accelerator it may use: {misses}.",
            "lower p99_ms_per_token or context_tokens, or target a larger accelerator",
        )
    return WorkloadOptions(
        workload=workload.name,
        current=current,
        destinations=tuple(moves),
        excluded=tuple(v for v in verdicts(spec, workload) if not v.eligible),
    )


def all_options(spec: MigrationSpec) -> dict[str, WorkloadOptions]:
    """Options of every workload of the spec, in spec order."""
    return {workload.name: workload_options(spec, workload) for workload in spec.workloads}
