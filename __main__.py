"""The maiaplan Pulumi program: a migration plan, realised at one moment (a phase and a traffic step).

Stack config (``stacks/Pulumi.<stack>.yaml``):

- ``maiaplan:spec``: the migration spec, relative to this project.
- ``maiaplan:phase``: the phase to realise, 0 (nothing moved yet) to the plan's last phase.
- ``maiaplan:step``: the phase's traffic step, a percent from the spec's ``migration.traffic_steps``;
  100 means the phase is complete and its sources are released.
- ``maiaplan:sshPublicKey``: the key operators log in with on Azure nodes (required with Azure clusters).
- ``maiaplan:servingDomain``: the DNS domain under which every home of a workload serves it, as
  ``<workload>.<cluster>.<domain>``; the traffic shifts route between those names (required once a
  workload moves).

The program plans the spec, then declares every cluster with the pools it holds at that moment
(the workloads that never moved sit under their cluster), one :class:`MigrationPhase` per phase up
to ``phase`` (the pools its moves added and their traffic shifts), each depending on the one
before, and exports a summary: phase, step, moves, chips per provider.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from components.aws import AcceleratorCluster, AcceleratorClusterArgs, Ec2Instances
from components.azure import MaiaCluster, MaiaClusterArgs, MaiaNodes
from components.gcp import TpuCluster, TpuClusterArgs, TpuSlices
from components.images import aws_image, azure_image, tpu_runtime_version
from components.phase import MigrationPhase, MigrationPhaseArgs, PoolArgs
from components.tags import ResourceTags
from components.traffic import TrafficHome, TrafficShiftArgs
from planner.errors import InputError
from planner.plan_builder import plan_migration
from planner.plan_document import Allocation, MigrationPlan, Move, PlanCluster, allocations_at
from planner.spec import MigrationSpec, load_spec

PROJECT_DIR = Path(__file__).resolve().parent
ADMIN_USERNAME = "maiaplan"
_SSH_PUBLIC_KEY = re.compile(r"(ssh-(rsa|ed25519)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?")
_DOMAIN = re.compile(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class StackConfigError(InputError, pulumi.RunError):
    """Missing or invalid stack config. A RunError, so that the Pulumi CLI prints it without a traceback."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        super().__init__(f"stacks/Pulumi.{pulumi.get_stack()}.yaml", f"maiaplan:{key}", problem, fix)


@dataclass(frozen=True)
class StackSettings:
    """The stack's config, read and checked."""

    spec_path: Path
    phase: int
    step: int
    ssh_public_key: str | None
    serving_domain: str | None


def _integer(config: pulumi.Config, key: str, meaning: str) -> int:
    text = config.get(key)
    if text is None:
        raise StackConfigError(key, "is not set", f"pulumi config set maiaplan:{key} <{meaning}>")
    try:
        return int(text)
    except ValueError:
        raise StackConfigError(key, f"must be a whole number ({meaning}), got '{text}'", "") from None


def read_settings(config: pulumi.Config) -> StackSettings:
    """Read the stack's ``maiaplan:*`` config.

    Raises
    ------
    StackConfigError
        Naming the key that is missing or invalid.
    """
    spec = config.get("spec")
    if not spec:
        raise StackConfigError("spec", "is not set", "pulumi config set maiaplan:spec examples/maia-pilot.yaml")
    spec_path = PROJECT_DIR / spec
    if not spec_path.is_file():
        raise StackConfigError("spec", f"names no file: {spec_path}", "give the spec's path relative to the project")
    ssh_public_key = config.get("sshPublicKey")
    if ssh_public_key is not None and not _SSH_PUBLIC_KEY.fullmatch(ssh_public_key.strip()):
        raise StackConfigError(
            "sshPublicKey", "is not an OpenSSH public key", "paste one line of a .pub file (ssh-ed25519 AAAA… name)"
        )
    serving_domain = config.get("servingDomain")
    if serving_domain is not None and not _DOMAIN.fullmatch(serving_domain):
        raise StackConfigError(
            "servingDomain", f"'{serving_domain}' is not a DNS domain", "use lowercase labels, e.g. serving.example.com"
        )
    return StackSettings(
        spec_path=spec_path,
        phase=_integer(config, "phase", "a migration phase, 0 = nothing moved yet"),
        step=_integer(config, "step", "a percent from migration.traffic_steps"),
        ssh_public_key=ssh_public_key.strip() if ssh_public_key else None,
        serving_domain=serving_domain,
    )


def check_moment(settings: StackSettings, spec: MigrationSpec, plan: MigrationPlan) -> None:
    """Check that the configured phase and step exist in this plan and spec."""
    last = len(plan.phases)
    if not 0 <= settings.phase <= last:
        raise StackConfigError(
            "phase",
            f"is {settings.phase}, but the plan of '{spec.name}' has phases 0 to {last}",
            f"set it to a phase from 0 to {last}",
        )
    steps = spec.migration.traffic_steps
    if settings.step not in steps:
        raise StackConfigError(
            "step",
            f"is {settings.step}, which is not one of migration.traffic_steps {list(steps)}",
            f"set it to one of {', '.join(map(str, steps))}",
        )


def _require(key: str, value: str | None, needed_for: str, example: str) -> str:
    if value is None:
        raise StackConfigError(key, f"is not set, and {needed_for}", f"pulumi config set maiaplan:{key} {example}")
    return value


def _require_figure(spec: MigrationSpec, cluster: PlanCluster, figure: str) -> str:
    value = getattr(spec.accelerator_of(spec.cluster_by_name[cluster.name]), figure)
    if value is None:
        raise InputError(
            spec.source_file,
            f"catalog.{cluster.accelerator}.{figure}",
            f"is not known, and hardware-isolated cluster {cluster.name} needs it",
            f"add {figure} to the catalog entry of {cluster.accelerator} in the spec",
        )
    return str(value)


# --- sizes: the plan's chips in each cloud's units -------------------------------------------------


def sku_units(allocation: Allocation, cluster: PlanCluster) -> int:
    """VMs, instances or TPU hosts of ``cluster``'s SKU holding the allocation's chips exactly."""
    units, rest = divmod(allocation.chips, cluster.chips_per_sku)
    if rest:  # the planner allocates whole SKU units: this is a bug, not bad input
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


# --- declaring ------------------------------------------------------------------------------------


ClusterComponent = MaiaCluster | AcceleratorCluster | TpuCluster


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
        arrivals = {
            (move.workload, move.to_cluster): (planned.phase, move)
            for planned in plan.phases[:phase]
            for move in planned.moves
        }
        held = tuple(a for a in allocations_at(plan, phase, step) if a.chips > 0)
        return cls(spec, plan, phase, step, held, arrivals)

    def arrival_phase(self, allocation: Allocation) -> int:
        arrival = self.arrivals.get((allocation.workload, allocation.cluster))
        return arrival[0] if arrival is not None else 0

    def arrival_move(self, allocation: Allocation) -> Move | None:
        arrival = self.arrivals.get((allocation.workload, allocation.cluster))
        return arrival[1] if arrival is not None else None

    def percent_on_destination(self, phase: int) -> int:
        return self.step if phase == self.phase else 100


def declare_cluster(index: int, cluster: PlanCluster, moment: Moment, settings: StackSettings) -> ClusterComponent:
    """Declare one cluster with the pools of the workloads that have been on it since phase 0."""
    spec = moment.spec
    held = [a for a in moment.allocations if a.cluster == cluster.name]
    resident = [a for a in held if moment.arrival_phase(a) == 0]
    hardware = spec.tenant_by_name[cluster.tenant].isolation == "hardware"
    tags = ResourceTags(tenant=cluster.tenant, cluster=cluster.name, phase=0)
    if index > 255:
        raise InputError(
            spec.source_file,
            f"clusters[{index}]",
            f"maiaplan gives each cluster a 10.<n>.0.0/16 network, so a spec holds at most 256 clusters; "
            f"{cluster.name} is cluster {index + 1}",
            "split the fleet into several specs and stacks",
        )
    network, subnet = f"10.{index}.0.0/16", f"10.{index}.0.0/20"

    if cluster.provider == "azure":
        ssh_key = _require(
            "sshPublicKey",
            settings.ssh_public_key,
            f"Azure cluster {cluster.name} needs it for its nodes",
            '"$(cat ~/.ssh/id_ed25519.pub)"',
        )
        return MaiaCluster(
            cluster.name,
            MaiaClusterArgs(
                tags=tags,
                location=cluster.region,
                hardware_isolation=hardware,
                vm_size=cluster.sku,
                image=azure_image(cluster.sku),
                admin_username=ADMIN_USERNAME,
                admin_ssh_public_key=ssh_key,
                address_space=network,
                subnet_prefix=subnet,
                dedicated_host_sku=_require_figure(spec, cluster, "dedicated_host_sku") if hardware else None,
                # One Maia VM fills a server: a host per node the cluster holds now, moves included.
                dedicated_host_count=sum(sku_units(a, cluster) for a in held) if hardware else 0,
                resident=[MaiaNodes(a.workload, sku_units(a, cluster)) for a in resident],
            ),
        )
    if cluster.provider == "aws":
        return AcceleratorCluster(
            cluster.name,
            AcceleratorClusterArgs(
                tags=tags,
                region=cluster.region,
                hardware_isolation=hardware,
                instance_type=cluster.sku,
                image=aws_image(cluster.sku),
                cidr_block=network,
                subnet_cidr_block=subnet,
                resident=[Ec2Instances(a.workload, sku_units(a, cluster)) for a in resident],
            ),
        )
    return TpuCluster(
        cluster.name,
        TpuClusterArgs(
            tags=tags,
            region=cluster.region,
            # TPU VMs need a zone: the spec's, else the provider's gcp:zone.
            zone=spec.cluster_by_name[cluster.name].zone,
            runtime_version=tpu_runtime_version(cluster.sku),
            ip_cidr_range=subnet,
            resident=[tpu_slices(a, cluster, spec, None) for a in resident],
        ),
    )


def arriving_pool_args(
    component: ClusterComponent, cluster: PlanCluster, allocation: Allocation, moment: Moment, phase: int
) -> PoolArgs:
    """The pool a phase's move adds on ``component`` for ``allocation``."""
    if isinstance(component, MaiaCluster):
        return component.pool_args(MaiaNodes(allocation.workload, sku_units(allocation, cluster)), phase)
    if isinstance(component, AcceleratorCluster):
        return component.pool_args(Ec2Instances(allocation.workload, sku_units(allocation, cluster)), phase)
    move = moment.arrival_move(allocation)
    return component.pool_args(tpu_slices(allocation, cluster, moment.spec, move), phase)


def traffic_shift_args(moment: Moment, phase: int, move: Move, settings: StackSettings) -> TrafficShiftArgs:
    """The weighted routing of one move: Traffic Manager in the new home's Azure region (else the old's)."""
    plan = moment.plan
    clusters = {c.name: c for c in plan.clusters}
    source, destination = clusters[move.from_cluster], clusters[move.to_cluster]
    tenant = next(w.tenant for w in plan.workloads if w.name == move.workload)
    azure_regions = [c.region for c in (destination, source) if c.provider == "azure"] + [
        c.region for c in plan.clusters if c.provider == "azure" and c.tenant == tenant
    ]
    if not azure_regions:
        index = next(i for i, w in enumerate(moment.spec.workloads) if w.name == move.workload)
        raise InputError(
            moment.spec.source_file,
            f"workloads[{index}]",
            f"moving {move.workload} needs an Azure region for its Traffic Manager profile, and tenant {tenant} "
            "has no Azure cluster",
            f"give tenant {tenant} an Azure cluster, or keep {move.workload} where it is",
        )
    domain = _require(
        "servingDomain",
        settings.serving_domain,
        f"the move of {move.workload} routes traffic between its homes' serving names",
        "serving.example.com",
    )
    return TrafficShiftArgs(
        tags=ResourceTags(tenant=tenant, cluster=destination.name, phase=phase, workload=move.workload),
        location=azure_regions[0],
        dns_relative_name=f"{plan.spec}-{move.workload}",
        source=TrafficHome(source.name, f"{move.workload}.{source.name}.{domain}"),
        destination=TrafficHome(destination.name, f"{move.workload}.{destination.name}.{domain}"),
        percent_on_destination=moment.percent_on_destination(phase),
    )


def declare(moment: Moment, settings: StackSettings) -> dict[str, Any]:
    """Declare every cluster, and the phases up to the moment's; return the stack's summary."""
    plan = moment.plan
    clusters = {c.name: c for c in plan.clusters}
    components = {c.name: declare_cluster(index, c, moment, settings) for index, c in enumerate(plan.clusters)}

    previous: MigrationPhase | None = None
    for planned in plan.phases[: moment.phase]:
        arriving = [a for a in moment.allocations if moment.arrival_phase(a) == planned.phase]
        previous = MigrationPhase(
            f"phase-{planned.phase}",
            MigrationPhaseArgs(
                phase=planned.phase,
                pools=[
                    arriving_pool_args(components[a.cluster], clusters[a.cluster], a, moment, planned.phase)
                    for a in arriving
                ],
                traffic_shifts=[traffic_shift_args(moment, planned.phase, m, settings) for m in planned.moves],
            ),
            pulumi.ResourceOptions(depends_on=[previous] if previous is not None else None),
        )
    return summary(moment)


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


def main() -> dict[str, Any]:
    """Run the program: read the config, plan, declare, export the summary."""
    settings = read_settings(pulumi.Config("maiaplan"))
    spec = load_spec(settings.spec_path)
    plan = plan_migration(spec)
    check_moment(settings, spec, plan)
    exports = declare(Moment.of(spec, plan, settings.phase, settings.step), settings)
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
