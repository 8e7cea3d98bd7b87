"""GCP TPU clusters: a private network per cluster, per-workload pools of TPU VM slices.

A :class:`TpuCluster` holds what one cluster of the spec needs whoever runs on it: a VPC network
without default subnets, one regional subnetwork with Private Google Access (TPU VMs reach Cloud
Storage without external IPs), and a firewall rule admitting traffic only from inside that
subnetwork; GCP's implied rules deny every other ingress.

A :class:`TpuPool` is one workload's TPU capacity on such a cluster: ``slices`` TPU VMs
(``tpu.V2Vm``) of the planned accelerator type (``v5p-16`` = 8 v5p chips), without external IPs.
TPU VMs are single-tenant by design, so hardware isolation needs nothing more here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_gcp import compute, tpu

from components.tags import ResourceTags


@dataclass(frozen=True)
class TpuClusterNetwork:
    """What a pool needs of its cluster: where its TPU VMs go and the network they join."""

    zone: str | None
    """The TPU zone; None uses the provider's configured ``gcp:zone``."""
    network_id: pulumi.Input[str]
    subnetwork_id: pulumi.Input[str]


@dataclass(frozen=True)
class TpuSlices:
    """One workload's share of a TPU cluster: ``slices`` slices of one accelerator type."""

    workload: str
    accelerator_type: str
    slices: int

    def __post_init__(self) -> None:
        if self.slices < 1:
            raise ValueError(f"workload '{self.workload}' needs at least 1 TPU slice (got {self.slices})")


@dataclass(frozen=True)
class TpuPoolArgs:
    """Arguments of :class:`TpuPool`; ``tags`` name the workload and the phase that adds it."""

    tags: ResourceTags
    accelerator_type: str
    slices: int
    runtime_version: str
    network: TpuClusterNetwork

    def __post_init__(self) -> None:
        self.tags.require_workload()
        if self.slices < 1:
            raise ValueError(f"a TPU pool needs at least 1 slice (got {self.slices})")


@dataclass(frozen=True)
class TpuClusterArgs:
    """Arguments of :class:`TpuCluster`.

    ``runtime_version`` is the TPU VM software of the cluster's TPU generation; ``resident`` lists
    the workloads that have run on this cluster since before the migration.
    """

    tags: ResourceTags
    region: str
    zone: str | None
    runtime_version: str
    ip_cidr_range: str
    resident: Sequence[TpuSlices] = ()

    def __post_init__(self) -> None:
        if self.tags.workload is not None:
            raise ValueError("a cluster's tags must not name a workload: it serves several")
        self.tags.gcp_labels()  # fails early when a name cannot become a GCP label


class TpuCluster(pulumi.ComponentResource):
    """One GCP TPU cluster: private network, subnetwork, internal-only firewall, resident pools."""

    network: TpuClusterNetwork
    vpc: compute.Network
    subnetwork: compute.Subnetwork
    firewall: compute.Firewall
    pools: list[TpuPool]

    def __init__(self, name: str, args: TpuClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("maiaplan:gcp:TpuCluster", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)

        self.vpc = compute.Network(
            f"{name}-net",
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description=f"maiaplan cluster {args.tags.cluster} of tenant {args.tags.tenant}",
            opts=child,
        )
        self.subnetwork = compute.Subnetwork(
            f"{name}-subnet",
            network=self.vpc.id,
            region=args.region,
            ip_cidr_range=args.ip_cidr_range,
            private_ip_google_access=True,
            opts=child,
        )
        self.firewall = compute.Firewall(
            f"{name}-internal",
            network=self.vpc.id,
            direction="INGRESS",
            source_ranges=[args.ip_cidr_range],
            allows=[compute.FirewallAllowArgs(protocol=protocol) for protocol in ("tcp", "udp", "icmp")],
            description="Traffic between this cluster's TPU VMs only.",
            opts=child,
        )
        self.network = TpuClusterNetwork(zone=args.zone, network_id=self.vpc.id, subnetwork_id=self.subnetwork.id)
        self.pools = [
            TpuPool(f"{name}-{request.workload}", self.pool_args(request, phase=0), child) for request in args.resident
        ]
        self.register_outputs(
            {
                "networkId": self.vpc.id,
                "subnetworkId": self.subnetwork.id,
                "slices": sum(request.slices for request in args.resident),
            }
        )

    def pool_args(self, request: TpuSlices, phase: int) -> TpuPoolArgs:
        """The arguments of a pool of this cluster for ``request``, added in ``phase``."""
        args = self._args
        return TpuPoolArgs(
            tags=args.tags.for_workload(request.workload, phase),
            accelerator_type=request.accelerator_type,
            slices=request.slices,
            runtime_version=args.runtime_version,
            network=self.network,
        )


class TpuPool(pulumi.ComponentResource):
    """One workload's TPU slices: ``slices`` TPU VMs of one accelerator type, no external IPs."""

    vms: list[tpu.V2Vm]

    def __init__(self, name: str, args: TpuPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("maiaplan:gcp:TpuPool", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        net = args.network
        labels = args.tags.gcp_labels()

        self.vms = [
            tpu.V2Vm(
                f"{name}-{index}",
                zone=net.zone,
                runtime_version=args.runtime_version,
                accelerator_type=args.accelerator_type,
                network_config=tpu.V2VmNetworkConfigArgs(
                    network=net.network_id,
                    subnetwork=net.subnetwork_id,
                    enable_external_ips=False,
                ),
                labels=labels,
                description=f"{args.tags.workload} slice {index} of {args.slices}",
                opts=child,
            )
            for index in range(args.slices)
        ]
        self.register_outputs(
            {"slices": args.slices, "acceleratorType": args.accelerator_type, "vmIds": [vm.id for vm in self.vms]}
        )
