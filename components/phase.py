"""One migration phase: the parent of everything the phase adds or changes.

A :class:`MigrationPhase` holds the node pools of the workloads that move in it (on their new
homes) and their traffic shifts. The program chains phases with ``depends_on``, so the engine
creates phase k's resources only once phase k-1's exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.aws import AcceleratorPool, AcceleratorPoolArgs
from components.azure import MaiaNodePool, MaiaNodePoolArgs
from components.gcp import TpuPool, TpuPoolArgs
from components.traffic import TrafficShift, TrafficShiftArgs

PoolArgs = MaiaNodePoolArgs | AcceleratorPoolArgs | TpuPoolArgs
Pool = MaiaNodePool | AcceleratorPool | TpuPool


def node_pool(name: str, args: PoolArgs, opts: pulumi.ResourceOptions | None = None) -> Pool:
    """The pool component of ``args``'s provider."""
    if isinstance(args, MaiaNodePoolArgs):
        return MaiaNodePool(name, args, opts)
    if isinstance(args, AcceleratorPoolArgs):
        return AcceleratorPool(name, args, opts)
    return TpuPool(name, args, opts)


@dataclass(frozen=True)
class MigrationPhaseArgs:
    """Arguments of :class:`MigrationPhase`: the pools and traffic shifts of the phase's moves.

    Every pool's and shift's tags carry this phase, which is what makes them belong to it.
    """

    phase: int
    pools: Sequence[PoolArgs] = ()
    traffic_shifts: Sequence[TrafficShiftArgs] = ()

    def __post_init__(self) -> None:
        if self.phase < 1:
            raise ValueError(f"migration phases count from 1 (got {self.phase})")
        for item in (*self.pools, *self.traffic_shifts):
            if item.tags.phase != self.phase:
                raise ValueError(
                    f"workload '{item.tags.workload}' on '{item.tags.cluster}' is tagged phase "
                    f"{item.tags.phase}, not {self.phase}"
                )


class MigrationPhase(pulumi.ComponentResource):
    """One migration phase: the new homes of its moving workloads and their weighted routing."""

    pools: list[Pool]
    traffic_shifts: list[TrafficShift]

    def __init__(self, name: str, args: MigrationPhaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("maiaplan:migration:MigrationPhase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.pools = [node_pool(f"{name}-{pool.tags.workload}-{pool.tags.cluster}", pool, child) for pool in args.pools]
        self.traffic_shifts = [
            TrafficShift(f"{name}-{shift.tags.workload}-traffic", shift, child) for shift in args.traffic_shifts
        ]
        self.register_outputs(
            {"phase": args.phase, "pools": len(self.pools), "trafficShifts": len(self.traffic_shifts)}
        )
