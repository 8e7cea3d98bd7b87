"""One adapter per provider: how a plan's cluster becomes that cloud's component, and how its series are labelled.

Adding a cloud means adding its component module under ``components/`` and one adapter here; the
program (``__main__.py``) and the gates (:mod:`maiaplan.rollout`) find it in :data:`ADAPTERS`.

Metric labels: the gate reads a workload's series on a cluster by the labels the scrape attaches
from the resources' own tags (:class:`components.tags.ResourceTags`: ``cluster``, ``workload``), as
each provider's Prometheus service discovery exposes them (:attr:`ProviderAdapter.discovery_prefix`,
e.g. ``__meta_ec2_tag_cluster`` relabelled to ``cluster``). GCP labels carry lowercased values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from components.aws import AcceleratorCluster, AcceleratorClusterArgs, Ec2Instances
from components.azure import MaiaCluster, MaiaClusterArgs, MaiaNodes
from components.gcp import TpuCluster, TpuClusterArgs
from components.images import aws_image, azure_image, tpu_runtime_version
from components.phase import PoolArgs
from components.tags import ResourceTags
from deployment.moment import Moment, catalog_figure, sku_units, tpu_slices
from deployment.network import cluster_network
from deployment.settings import StackSettings, require
from planner.catalog import Provider
from planner.plan_document import Allocation, PlanCluster

ADMIN_USERNAME = "maiaplan"
METRIC_LABEL_KEYS = ("cluster", "workload")
"""The tags a scrape copies onto a workload's series: enough to tell its homes apart."""

ClusterComponent = MaiaCluster | AcceleratorCluster | TpuCluster


@dataclass(frozen=True)
class ClusterPlan:
    """What one cluster holds at a moment: its allocations, and those there since phase 0."""

    index: int
    cluster: PlanCluster
    held: tuple[Allocation, ...]
    resident: tuple[Allocation, ...]
    hardware_isolated: bool
    tags: ResourceTags

    @classmethod
    def of(cls, index: int, cluster: PlanCluster, moment: Moment) -> ClusterPlan:
        held = tuple(moment.held_on(cluster.name))
        return cls(
            index=index,
            cluster=cluster,
            held=held,
            resident=tuple(a for a in held if moment.arrival_phase(a) == 0),
            hardware_isolated=moment.spec.tenant_by_name[cluster.tenant].isolation == "hardware",
            tags=ResourceTags(tenant=cluster.tenant, cluster=cluster.name, phase=0),
        )


class ProviderAdapter(Protocol):
    """A provider's part of the program and of the gates."""

    provider: Provider
    discovery_prefix: str
    """Prometheus service discovery's meta label of a resource tag, without the tag's key."""

    def declare_cluster(self, plan: ClusterPlan, moment: Moment, settings: StackSettings) -> ClusterComponent:
        """Declare the cluster with the pools of the workloads that have been on it since phase 0."""
        ...

    def arriving_pool(
        self, component: ClusterComponent, cluster: PlanCluster, allocation: Allocation, moment: Moment, phase: int
    ) -> PoolArgs:
        """The pool that ``phase``'s move adds on the component for ``allocation``."""
        ...

    def metric_labels(self, cluster: PlanCluster, workload: str) -> dict[str, str]:
        """The label values of ``workload``'s series on ``cluster``."""
        ...


def _tag_labels(cluster: PlanCluster, workload: str) -> dict[str, str]:
    tags = ResourceTags(tenant=cluster.tenant, cluster=cluster.name, phase=0, workload=workload).as_dict()
    return {key: tags[key] for key in METRIC_LABEL_KEYS}


def _mismatch(component: ClusterComponent, expected: type[ClusterComponent]) -> TypeError:
    # The dispatch is by provider: a component of another provider is a bug, not bad input.
    return TypeError(f"expected a {expected.__name__}, got {type(component).__name__}")


class AzureAdapter:
    """Azure Maia clusters: a VM scale set per pool, dedicated hosts for hardware-isolated tenants."""

    provider: Provider = "azure"
    discovery_prefix = "__meta_azure_machine_tag_"

    def declare_cluster(self, plan: ClusterPlan, moment: Moment, settings: StackSettings) -> ClusterComponent:
        cluster, spec = plan.cluster, moment.spec
        network = cluster_network(plan.index, cluster.name, spec.source_file)
        ssh_key = require(
            "sshPublicKey",
            settings.ssh_public_key,
            f"Azure cluster {cluster.name} needs it for its nodes",
            '"$(cat ~/.ssh/id_ed25519.pub)"',
        )
        hardware = plan.hardware_isolated
        return MaiaCluster(
            cluster.name,
            MaiaClusterArgs(
                tags=plan.tags,
                location=cluster.region,
                hardware_isolation=hardware,
                vm_size=cluster.sku,
                image=azure_image(cluster.sku),
                admin_username=ADMIN_USERNAME,
                admin_ssh_public_key=ssh_key,
                address_space=network.address_space,
                subnet_prefix=network.subnet,
                dedicated_host_sku=catalog_figure(spec, cluster, "dedicated_host_sku") if hardware else None,
                # One Maia VM fills a server: a host per node the cluster holds now, moves included.
                dedicated_host_count=sum(sku_units(a, cluster) for a in plan.held) if hardware else 0,
                resident=[MaiaNodes(a.workload, sku_units(a, cluster)) for a in plan.resident],
            ),
        )

    def arriving_pool(
        self, component: ClusterComponent, cluster: PlanCluster, allocation: Allocation, moment: Moment, phase: int
    ) -> PoolArgs:
        if not isinstance(component, MaiaCluster):
            raise _mismatch(component, MaiaCluster)
        return component.pool_args(MaiaNodes(allocation.workload, sku_units(allocation, cluster)), phase)

    def metric_labels(self, cluster: PlanCluster, workload: str) -> dict[str, str]:
        return _tag_labels(cluster, workload)


class AwsAdapter:
    """AWS clusters (Trainium, GPUs): an auto-scaling group per pool, dedicated tenancy when isolated."""

    provider: Provider = "aws"
    discovery_prefix = "__meta_ec2_tag_"

    def declare_cluster(self, plan: ClusterPlan, moment: Moment, settings: StackSettings) -> ClusterComponent:
        cluster = plan.cluster
        network = cluster_network(plan.index, cluster.name, moment.spec.source_file)
        return AcceleratorCluster(
            cluster.name,
            AcceleratorClusterArgs(
                tags=plan.tags,
                region=cluster.region,
                hardware_isolation=plan.hardware_isolated,
                instance_type=cluster.sku,
                image=aws_image(cluster.sku),
                cidr_block=network.address_space,
                subnet_cidr_block=network.subnet,
                resident=[Ec2Instances(a.workload, sku_units(a, cluster)) for a in plan.resident],
            ),
        )

    def arriving_pool(
        self, component: ClusterComponent, cluster: PlanCluster, allocation: Allocation, moment: Moment, phase: int
    ) -> PoolArgs:
        if not isinstance(component, AcceleratorCluster):
            raise _mismatch(component, AcceleratorCluster)
        return component.pool_args(Ec2Instances(allocation.workload, sku_units(allocation, cluster)), phase)

    def metric_labels(self, cluster: PlanCluster, workload: str) -> dict[str, str]:
        return _tag_labels(cluster, workload)


class GcpAdapter:
    """GCP TPU clusters: a slice per model replica where the plan shards in whole hosts."""

    provider: Provider = "gcp"
    discovery_prefix = "__meta_gce_label_"

    def declare_cluster(self, plan: ClusterPlan, moment: Moment, settings: StackSettings) -> ClusterComponent:
        cluster, spec = plan.cluster, moment.spec
        network = cluster_network(plan.index, cluster.name, spec.source_file)
        return TpuCluster(
            cluster.name,
            TpuClusterArgs(
                tags=plan.tags,
                region=cluster.region,
                # TPU VMs need a zone: the spec's, else the provider's gcp:zone.
                zone=spec.cluster_by_name[cluster.name].zone,
                runtime_version=tpu_runtime_version(cluster.sku),
                ip_cidr_range=network.subnet,
                resident=[tpu_slices(a, cluster, spec, None) for a in plan.resident],
            ),
        )

    def arriving_pool(
        self, component: ClusterComponent, cluster: PlanCluster, allocation: Allocation, moment: Moment, phase: int
    ) -> PoolArgs:
        if not isinstance(component, TpuCluster):
            raise _mismatch(component, TpuCluster)
        return component.pool_args(tpu_slices(allocation, cluster, moment.spec, moment.arrival_move(allocation)), phase)

    def metric_labels(self, cluster: PlanCluster, workload: str) -> dict[str, str]:
        # GCP label values are lowercase: the scrape sees the tags as the resources carry them.
        return {key: value.lower() for key, value in _tag_labels(cluster, workload).items()}


ADAPTERS: Mapping[Provider, ProviderAdapter] = {
    adapter.provider: adapter for adapter in (AzureAdapter(), AwsAdapter(), GcpAdapter())
}
"""Every provider's adapter, by provider name."""


def promql_selector(cluster: PlanCluster, workload: str) -> str:
    """The PromQL label matchers of ``workload``'s series on ``cluster`` (a gate's ``${selector}``).

    Complexity: O(1).
    """
    labels = ADAPTERS[cluster.provider].metric_labels(cluster, workload)
    return ",".join(f'{key}="{_promql_string(value)}"' for key, value in labels.items())


def _promql_string(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
