"""AWS accelerator clusters (Trainium, Inferentia, H100/H200): network and placement, per-workload pools.

An :class:`AcceleratorCluster` holds what one cluster of the spec needs whoever runs on it: a VPC
without an Internet gateway, a subnet that assigns no public IPs, a security group that admits
only traffic from its own members (what EFA and collective traffic need), and a ``cluster``
placement group so that the instances share one low-latency network spine.

An :class:`AcceleratorPool` is one workload's instances on such a cluster: a launch template of the
catalog's instance type (dedicated tenancy for a hardware-isolated tenant, encrypted volumes, no
public IP, IMDSv2 only) and an auto scaling group pinned at the planned number of instances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from pulumi_aws import autoscaling, ec2

from components.images import AwsImage
from components.tags import ResourceTags


@dataclass(frozen=True)
class AcceleratorClusterNetwork:
    """What a pool needs of its cluster: region, subnet, security group and placement group."""

    region: str
    subnet_id: pulumi.Input[str]
    security_group_id: pulumi.Input[str]
    placement_group_name: pulumi.Input[str]


@dataclass(frozen=True)
class Ec2Instances:
    """One workload's share of an AWS cluster, in instances of the cluster's instance type."""

    workload: str
    instances: int

    def __post_init__(self) -> None:
        if self.instances < 1:
            raise ValueError(f"workload '{self.workload}' needs at least 1 instance (got {self.instances})")


@dataclass(frozen=True)
class AcceleratorPoolArgs:
    """Arguments of :class:`AcceleratorPool`; ``tags`` name the workload and the phase that adds it."""

    tags: ResourceTags
    instance_type: str
    instances: int
    image: AwsImage
    hardware_isolation: bool
    network: AcceleratorClusterNetwork

    def __post_init__(self) -> None:
        self.tags.require_workload()
        if self.instances < 1:
            raise ValueError(f"a pool needs at least 1 instance (got {self.instances})")


@dataclass(frozen=True)
class AcceleratorClusterArgs:
    """Arguments of :class:`AcceleratorCluster`.

    ``resident`` lists the workloads that have run on this cluster since before the migration.
    """

    tags: ResourceTags
    region: str
    hardware_isolation: bool
    instance_type: str
    image: AwsImage
    cidr_block: str
    subnet_cidr_block: str
    resident: Sequence[Ec2Instances] = ()

    def __post_init__(self) -> None:
        if self.tags.workload is not None:
            raise ValueError("a cluster's tags must not name a workload: it serves several")


class AcceleratorCluster(pulumi.ComponentResource):
    """One AWS accelerator cluster: private VPC, subnet, security group, placement group, resident pools."""

    network: AcceleratorClusterNetwork
    vpc: ec2.Vpc
    subnet: ec2.Subnet
    security_group: ec2.SecurityGroup
    placement_group: ec2.PlacementGroup
    pools: list[AcceleratorPool]

    def __init__(self, name: str, args: AcceleratorClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("maiaplan:aws:AcceleratorCluster", name, None, opts)
        self._args = args
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags.as_dict()

        self.vpc = ec2.Vpc(
            f"{name}-vpc",
            region=args.region,
            cidr_block=args.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=tags,
            opts=child,
        )
        # One subnet: a cluster placement group lives in a single availability zone.
        self.subnet = ec2.Subnet(
            f"{name}-subnet",
            region=args.region,
            vpc_id=self.vpc.id,
            cidr_block=args.subnet_cidr_block,
            map_public_ip_on_launch=False,
            tags=tags,
            opts=child,
        )
        self.security_group = ec2.SecurityGroup(
            f"{name}-sg",
            region=args.region,
            vpc_id=self.vpc.id,
            description="Cluster members only: all traffic between members (EFA, collectives), none from outside.",
            ingress=[
                ec2.SecurityGroupIngressArgs(
                    description="from members of this cluster", protocol="-1", from_port=0, to_port=0, self=True
                )
            ],
            egress=[
                ec2.SecurityGroupEgressArgs(
                    description="to members of this cluster", protocol="-1", from_port=0, to_port=0, self=True
                ),
                ec2.SecurityGroupEgressArgs(
                    description="to this cluster's VPC (endpoints, model stores)",
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_blocks=[args.cidr_block],
                ),
            ],
            tags=tags,
            opts=child,
        )
        self.placement_group = ec2.PlacementGroup(
            f"{name}-placement", region=args.region, strategy=ec2.PlacementStrategy.CLUSTER, tags=tags, opts=child
        )
        self.network = AcceleratorClusterNetwork(
            region=args.region,
            subnet_id=self.subnet.id,
            security_group_id=self.security_group.id,
            placement_group_name=self.placement_group.name,
        )
        self.pools = [
            AcceleratorPool(f"{name}-{request.workload}", self.pool_args(request, phase=0), child)
            for request in args.resident
        ]
        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "subnetId": self.subnet.id,
                "placementGroup": self.placement_group.name,
                "instances": sum(request.instances for request in args.resident),
            }
        )

    def pool_args(self, request: Ec2Instances, phase: int) -> AcceleratorPoolArgs:
        """The arguments of a pool of this cluster for ``request``, added in ``phase``."""
        args = self._args
        return AcceleratorPoolArgs(
            tags=args.tags.for_workload(request.workload, phase),
            instance_type=args.instance_type,
            instances=request.instances,
            image=args.image,
            hardware_isolation=args.hardware_isolation,
            network=self.network,
        )


class AcceleratorPool(pulumi.ComponentResource):
    """One workload's instances: a launch template and an auto scaling group of fixed size."""

    launch_template: ec2.LaunchTemplate
    group: autoscaling.Group

    def __init__(self, name: str, args: AcceleratorPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("maiaplan:aws:AcceleratorPool", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        net = args.network
        tags = args.tags.as_dict()

        self.launch_template = ec2.LaunchTemplate(
            f"{name}-lt",
            region=net.region,
            instance_type=args.instance_type,
            image_id=args.image.image_id,
            placement=ec2.LaunchTemplatePlacementArgs(
                group_name=net.placement_group_name,
                tenancy="dedicated" if args.hardware_isolation else "default",
            ),
            block_device_mappings=[
                ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=args.image.root_device_name,
                    ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        encrypted="true", volume_type="gp3", delete_on_termination="true"
                    ),
                )
            ],
            network_interfaces=[
                ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    associate_public_ip_address="false",
                    security_groups=[net.security_group_id],
                    delete_on_termination="true",
                )
            ],
            metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(http_endpoint="enabled", http_tokens="required"),
            tag_specifications=[
                ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            update_default_version=True,
            tags=tags,
            opts=child,
        )
        self.group = autoscaling.Group(
            f"{name}-asg",
            region=net.region,
            # Pinned: the plan, not a scaling policy, decides how many chips this workload holds.
            desired_capacity=args.instances,
            min_size=args.instances,
            max_size=args.instances,
            vpc_zone_identifiers=[net.subnet_id],
            launch_template=autoscaling.GroupLaunchTemplateArgs(id=self.launch_template.id, version="$Default"),
            tags=[
                autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True) for key, value in tags.items()
            ],
            opts=child,
        )
        self.register_outputs(
            {"groupName": self.group.name, "instances": args.instances, "instanceType": args.instance_type}
        )
