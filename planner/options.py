"""Each workload's options: its sharding on its current cluster and on every cluster it may move to.

A cluster allocates whole SKU units (VMs, instances, TPU hosts): a node is never split between
workloads, so an option's ``allocated_chips`` is the sharding's chips rounded up to whole units.
That is the figure the phase planner accounts, the Pulumi program sizes, and the policy counts.

An option depends on the cluster only through its accelerator (the sharding reads the workload's
model and serving targets, the accelerator and, on the current cluster, the workload's pin; SKU
rounding reads the accelerator): :func:`sizing` computes it once per (workload, accelerator, role),
and :class:`CompactOptions` shares it across every cluster of that accelerator, so a fleet of
thousands of clusters costs one sharding per accelerator, not one per cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from planner.catalog import Accelerator
from planner.eligibility import ClusterVerdict, destinations, verdicts
from planner.errors import InputError
from planner.sharding import ShardingChoice, ShardingInfeasible, shard
from planner.spec import Cluster, MigrationSpec, Workload

Role = Literal["current", "destination"]


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


@dataclass(frozen=True, slots=True)
class Sizing:
    """A workload's sharding on one accelerator, rounded up to whole SKU units (or why it cannot be).

    Whatever cluster of that accelerator it lands on, the option is the same.
    """

    sharding: ShardingChoice | None
    allocated_chips: int
    sku_units: int
    infeasible_reason: str

    @property
    def feasible(self) -> bool:
        return self.sharding is not None

    def on(self, workload: str, cluster: str, role: Role) -> ClusterOption:
        """This sizing as the option of ``workload`` on ``cluster``."""
        return ClusterOption(
            workload=workload,
            cluster=cluster,
            role=role,
            sharding=self.sharding,
            allocated_chips=self.allocated_chips,
            sku_units=self.sku_units,
            infeasible_reason=self.infeasible_reason,
        )


def sizing(workload: Workload, accelerator: Accelerator, role: Role) -> Sizing:
    """Shard ``workload`` on ``accelerator`` and round it up to whole SKU units.

    A workload's ``sharding:`` pin describes what runs today, so it applies on its current cluster.
    """
    try:
        choice = shard(workload, accelerator, workload.sharding if role == "current" else None)
    except ShardingInfeasible as error:
        return Sizing(None, 0, 0, f"{workload.name} {error}")
    units = accelerator.sku_units(choice.chips)
    return Sizing(choice, units * accelerator.chips_per_sku, units, "")


def cluster_option(spec: MigrationSpec, workload: Workload, cluster: Cluster, role: Role) -> ClusterOption:
    """Shard ``workload`` on ``cluster``'s accelerator and round it up to whole SKU units."""
    return sizing(workload, spec.accelerator_of(cluster), role).on(workload.name, cluster.name, role)


@dataclass(frozen=True)
class CompactOptions:
    """A workload's options with one :class:`Sizing` per accelerator of its destinations.

    ``destinations`` are the eligible clusters in spec order (an interned tuple, shared by every
    workload with the same destinations); ``by_accelerator`` sizes the workload on each of their
    accelerators. O(destinations) pointers per workload, one sharding per accelerator.
    """

    workload: str
    current: ClusterOption
    destinations: tuple[str, ...]
    by_accelerator: dict[str, Sizing]
    accelerator_of: dict[str, str]  # the spec's cluster -> accelerator map, shared

    def sizing_on(self, cluster: str) -> Sizing:
        return self.by_accelerator[self.accelerator_of[cluster]]

    def feasible_anywhere(self) -> bool:
        return self.current.feasible or any(s.feasible for s in self.by_accelerator.values())

    def infeasible_reasons(self) -> list[str]:
        """Why the workload cannot be sharded on each destination that cannot hold it, in spec order."""
        return [self.sizing_on(c).infeasible_reason for c in self.destinations if not self.sizing_on(c).feasible]


class _OptionBuilder:
    """Builds :class:`CompactOptions` for the workloads of one spec, sharing destination tuples."""

    def __init__(self, spec: MigrationSpec) -> None:
        self.spec = spec
        self.accelerator_of = {c.name: c.accelerator for c in spec.clusters}
        self._interned: dict[tuple[str, ...], tuple[str, ...]] = {}

    def options(self, workload: Workload) -> CompactOptions:
        spec = self.spec
        current_cluster = spec.cluster_by_name[workload.current]
        current = cluster_option(spec, workload, current_cluster, "current")
        names = tuple(c.name for c in destinations(spec, workload))
        names = self._interned.setdefault(names, names)
        by_accelerator: dict[str, Sizing] = {}
        for name in names:
            accelerator = self.accelerator_of[name]
            if accelerator not in by_accelerator:
                by_accelerator[accelerator] = sizing(
                    workload, spec.accelerator_of(spec.cluster_by_name[name]), "destination"
                )
        compact = CompactOptions(workload.name, current, names, by_accelerator, self.accelerator_of)
        if not compact.feasible_anywhere():
            index = spec.workloads.index(workload)
            misses = "; ".join([current.infeasible_reason, *compact.infeasible_reasons()])
            raise InputError(
                spec.source_file,
                f"workloads[{index}]",
                f"cannot be served on any accelerator it may use: {misses}.",
                "lower p99_ms_per_token or context_tokens, or target a larger accelerator",
            )
        return compact


def workload_options(spec: MigrationSpec, workload: Workload) -> WorkloadOptions:
    """Options of one workload, one :class:`ClusterOption` per destination cluster.

    Raises
    ------
    InputError
        When the workload fits neither its current cluster nor any cluster it may move to; the
        message says by how much it misses on each.
    """
    compact = _OptionBuilder(spec).options(workload)
    return WorkloadOptions(
        workload=workload.name,
        current=compact.current,
        destinations=tuple(compact.sizing_on(c).on(workload.name, c, "destination") for c in compact.destinations),
        excluded=tuple(v for v in verdicts(spec, workload) if not v.eligible),
    )


def compact_options(spec: MigrationSpec) -> dict[str, CompactOptions]:
    """Options of every workload of the spec, in spec order, one sizing per (workload, accelerator).

    What the phase planner uses: O(V · accelerators) shardings and O(V · D) pointers for V
    workloads with D destinations each.

    Raises
    ------
    InputError
        As :func:`workload_options`.
    """
    builder = _OptionBuilder(spec)
    return {workload.name: builder.options(workload) for workload in spec.workloads}


def all_options(spec: MigrationSpec) -> dict[str, WorkloadOptions]:
    """Options of every workload of the spec, in spec order."""
    return {workload.name: workload_options(spec, workload) for workload in spec.workloads}
