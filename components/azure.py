"""Azure Maia clusters: the cluster's network and hosts, and one scale set per workload.

A :class:`MaiaCluster` holds what one cluster of the spec needs whoever runs on it: a resource
group, a virtual network whose subnet's security group denies inbound traffic from the Internet,
a proximity placement group, the identity the nodes run as, and, for a tenant whose isolation is
``hardware``, a dedicated host group with the dedicated hosts the cluster holds at this moment.

A :class:`MaiaNodePool` is one workload's nodes on such a cluster: a VM scale set of the catalog's
Maia VM size, ``nodes`` VMs, on the cluster's host group, with encryption at host, the cluster's
identity, and no public IP configuration. Pools of workloads that have not moved sit under their
cluster; pools a migration phase adds sit under that phase (see :mod:`components.phase`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_azure_native import compute, managedidentity, resources
from pulumi_azure_native import network as azure_network

from components.images import AzureImage
from components.tags import ResourceTags


@dataclass(frozen=True)
class MaiaClusterNetwork:
    """What a node pool needs of its cluster: where to put its VMs and what they attach to."""

    resource_group_name: pulumi.Input[str]
    location: str
    subnet_id: pulumi.Input[str]
    proximity_placement_group_id: pulumi.Input[str]
    identity_id: pulumi.Input[str]
    host_group_id: pulumi.Input[str] | None
    """The dedicated host group, for a hardware-isolated tenant; None on shared hardware."""


@dataclass(frozen=True)
class MaiaNodes:
    """One workload's share of a Maia cluster, in VMs (nodes) of the cluster's VM size."""

    workload: str
    nodes: int

    def __post_init__(self) -> None:
        if self.nodes < 1:
            raise ValueError(f"workload '{self.workload}' needs at least 1 node (got {self.nodes})")


@dataclass(frozen=True)
class MaiaNodePoolArgs:
    """Arguments of :class:`MaiaNodePool`; ``tags`` name the workload and the phase that adds it."""

    tags: ResourceTags
    vm_size: str
    nodes: int
    image: AzureImage
    admin_username: str
    admin_ssh_public_key: str
    network: MaiaClusterNetwork

    def __post_init__(self) -> None:
        self.tags.require_workload()
        if self.nodes < 1:
            raise ValueError(f"a node pool needs at least 1 node (got {self.nodes})")


@dataclass(frozen=True)
class MaiaClusterArgs:
    """Arguments of :class:`MaiaCluster`.

    ``dedicated_host_count`` is the number of dedicated hosts the cluster holds at this moment
    (computed by the caller from the plan); it must be 0 unless ``hardware_isolation``.
    ``resident`` lists the workloads that have run on this cluster since before the migration.
    """

    tags: ResourceTags
    location: str
    hardware_isolation: bool
    vm_size: str
    image: AzureImage
    admin_username: str
    admin_ssh_public_key: str
    address_space: str
    subnet_prefix: str
    dedicated_host_sku: str | None
    dedicated_host_count: int
    resident: Sequence[MaiaNodes] = ()

    def __post_init__(self) -> None:
        if self.tags.workload is not None:
            raise ValueError("a cluster's tags must not name a workload: it serves several")
        if self.dedicated_host_count < 0:
            raise ValueError(f"dedicated_host_count must be 0 or more (got {self.dedicated_host_count})")
        if self.hardware_isolation and not self.dedicated_host_sku:
            raise ValueError(f"cluster '{self.tags.cluster}' is hardware-isolated: it needs a dedicated_host_sku")
        if self.dedicated_host_count and not self.hardware_isolation:
            raise ValueError(
                f"cluster '{self.tags.cluster}' is on shared hardware: it has no dedicated hosts "
                f"(got dedicated_host_count={self.dedicated_host_count})"
            )


def _deny_internet_inbound(name: str) -> azure_network.SecurityRuleArgs:
    # Azure's default rules already end in DenyAllInBound; this explicit rule makes the intent
    # visible to reviewers and auditors, and outranks any Allow rule added later by hand.
    return azure_network.SecurityRuleArgs(
        name=f"{name}-deny-internet-inbound",
        description="No inbound traffic from the Internet to tenant compute.",
        access=azure_network.SecurityRuleAccess.DENY,
        direction=azure_network.SecurityRuleDirection.INBOUND,
        protocol=azure_network.SecurityRuleProtocol.ASTERISK,
        priority=100,
        source_address_prefix="Internet",
        source_port_range="*",
        destination_address_prefix="*",
        destination_port_range="*",
    )


class MaiaCluster(pulumi.ComponentResource):
    """One Azure Maia cluster: network, placement, identity, dedicated hosts, resident pools."""

    network: MaiaClusterNetwork
    resource_group: resources.ResourceGroup
    virtual_network: azure_network.VirtualNetwork
    subnet: azure_network.Subnet
    security_group: azure_network.NetworkSecurityGroup
    proximity_placement_group: compute.ProximityPlacementGroup
    identity: managedidentity.UserAssignedIdentity
    host_group: compute.DedicatedHostGroup | None
    hosts: list[compute.DedicatedHost]
    pools: list[MaiaNodePool]

    def __init__(self, name: str, args: MaiaClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("maiaplan:azure:MaiaCluster", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags.as_dict()

        self.resource_group = resources.ResourceGroup(f"{name}-rg", location=args.location, tags=tags, opts=child)
        group_name = self.resource_group.name
        self.security_group = azure_network.NetworkSecurityGroup(
            f"{name}-nsg",
            resource_group_name=group_name,
            location=args.location,
            security_rules=[_deny_internet_inbound(name)],
            tags=tags,
            opts=child,
        )
        self.virtual_network = azure_network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=group_name,
            location=args.location,
            address_space=azure_network.AddressSpaceArgs(address_prefixes=[args.address_space]),
            tags=tags,
            opts=child,
        )
        self.subnet = azure_network.Subnet(
            f"{name}-subnet",
            resource_group_name=group_name,
            virtual_network_name=self.virtual_network.name,
            address_prefix=args.subnet_prefix,
            network_security_group=azure_network.NetworkSecurityGroupArgs(id=self.security_group.id),
            # Nodes reach nothing outside the network unless a gateway is added deliberately.
            default_outbound_access=False,
            opts=child,
        )
        self.proximity_placement_group = compute.ProximityPlacementGroup(
            f"{name}-ppg",
            resource_group_name=group_name,
            location=args.location,
            proximity_placement_group_type=compute.ProximityPlacementGroupType.STANDARD,
            tags=tags,
            opts=child,
        )
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity", resource_group_name=group_name, location=args.location, tags=tags, opts=child
        )
        self.host_group = None
        self.hosts = []
        if args.hardware_isolation:
            self.host_group = compute.DedicatedHostGroup(
                f"{name}-hostgroup",
                resource_group_name=group_name,
                location=args.location,
                platform_fault_domain_count=1,
                # Scale sets can only be placed on a host group that places VMs automatically.
                support_automatic_placement=True,
                tags=tags,
                opts=child,
            )
            self.hosts = [
                compute.DedicatedHost(
                    f"{name}-host-{index}",
                    resource_group_name=group_name,
                    host_group_name=self.host_group.name,
                    location=args.location,
                    sku=compute.SkuArgs(name=args.dedicated_host_sku),  # checked present: hardware isolation
                    platform_fault_domain=0,
                    auto_replace_on_failure=True,
                    tags=tags,
                    opts=child,
                )
                for index in range(args.dedicated_host_count)
            ]

        self.network = MaiaClusterNetwork(
            resource_group_name=group_name,
            location=args.location,
            subnet_id=self.subnet.id,
            proximity_placement_group_id=self.proximity_placement_group.id,
            identity_id=self.identity.id,
            host_group_id=self.host_group.id if self.host_group is not None else None,
        )
        self.pools = [
            MaiaNodePool(f"{name}-{request.workload}", self.pool_args(request, phase=0), child)
            for request in args.resident
        ]
        self.register_outputs(
            {
                "resourceGroupName": group_name,
                "subnetId": self.subnet.id,
                "hostGroupId": self.network.host_group_id,
                "dedicatedHosts": len(self.hosts),
                "nodes": sum(request.nodes for request in args.resident),
            }
        )

    def pool_args(self, request: MaiaNodes, phase: int) -> MaiaNodePoolArgs:
        """The arguments of a node pool of this cluster for ``request``, added in ``phase``."""
        args = self._args
        return MaiaNodePoolArgs(
            tags=args.tags.for_workload(request.workload, phase),
            vm_size=args.vm_size,
            nodes=request.nodes,
            image=args.image,
            admin_username=args.admin_username,
            admin_ssh_public_key=args.admin_ssh_public_key,
            network=self.network,
        )


class MaiaNodePool(pulumi.ComponentResource):
    """One workload's Maia nodes: a VM scale set on its cluster's network and hosts."""

    scale_set: compute.VirtualMachineScaleSet

    def __init__(self, name: str, args: MaiaNodePoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("maiaplan:azure:MaiaNodePool", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        net = args.network
        workload = args.tags.require_workload()
        host_group = compute.SubResourceArgs(id=net.host_group_id) if net.host_group_id is not None else None

        self.scale_set = compute.VirtualMachineScaleSet(
            f"{name}-vmss",
            resource_group_name=net.resource_group_name,
            location=net.location,
            sku=compute.SkuArgs(name=args.vm_size, tier="Standard", capacity=args.nodes),
            orchestration_mode=compute.OrchestrationMode.UNIFORM,
            # Exactly `nodes` VMs: overprovisioning would briefly hold more chips than the plan allows.
            overprovision=False,
            platform_fault_domain_count=1,
            host_group=host_group,
            proximity_placement_group=compute.SubResourceArgs(id=net.proximity_placement_group_id),
            identity=compute.VirtualMachineScaleSetIdentityArgs(
                type=compute.ResourceIdentityType.USER_ASSIGNED,
                user_assigned_identities=[net.identity_id],
            ),
            # Nodes are replaced by the migration's own traffic steps, never behind its back.
            upgrade_policy=compute.UpgradePolicyArgs(mode=compute.UpgradeMode.MANUAL),
            virtual_machine_profile=compute.VirtualMachineScaleSetVMProfileArgs(
                os_profile=compute.VirtualMachineScaleSetOSProfileArgs(
                    computer_name_prefix=workload,
                    admin_username=args.admin_username,
                    linux_configuration=compute.LinuxConfigurationArgs(
                        disable_password_authentication=True,
                        ssh=compute.SshConfigurationArgs(
                            public_keys=[
                                compute.SshPublicKeyArgs(
                                    path=f"/home/{args.admin_username}/.ssh/authorized_keys",
                                    key_data=args.admin_ssh_public_key,
                                )
                            ]
                        ),
                    ),
                ),
                storage_profile=compute.VirtualMachineScaleSetStorageProfileArgs(
                    image_reference=compute.ImageReferenceArgs(
                        publisher=args.image.publisher,
                        offer=args.image.offer,
                        sku=args.image.sku,
                        version=args.image.version,
                    ),
                    os_disk=compute.VirtualMachineScaleSetOSDiskArgs(
                        create_option=compute.DiskCreateOptionTypes.FROM_IMAGE,
                        caching=compute.CachingTypes.READ_WRITE,
                        managed_disk=compute.VirtualMachineScaleSetManagedDiskParametersArgs(
                            storage_account_type=compute.StorageAccountTypes.PREMIUM_LRS
                        ),
                    ),
                ),
                network_profile=compute.VirtualMachineScaleSetNetworkProfileArgs(
                    network_interface_configurations=[
                        # No public_ip_address_configuration: nodes are reachable only inside the network.
                        compute.VirtualMachineScaleSetNetworkConfigurationArgs(
                            name=f"{name}-nic",
                            primary=True,
                            enable_accelerated_networking=True,
                            ip_configurations=[
                                compute.VirtualMachineScaleSetIPConfigurationArgs(
                                    name=f"{name}-ipconfig",
                                    primary=True,
                                    subnet=compute.ApiEntityReferenceArgs(id=net.subnet_id),
                                )
                            ],
                        )
                    ]
                ),
                security_profile=compute.SecurityProfileArgs(encryption_at_host=True),
            ),
            tags=args.tags.as_dict(),
            opts=child,
        )
        self.register_outputs({"scaleSetId": self.scale_set.id, "nodes": args.nodes, "vmSize": args.vm_size})
