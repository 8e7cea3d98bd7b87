"""The type tokens and camelCase property names the pack and its corpus use are the providers' own.

Each token resolves to the installed SDK's resource class; every property path of every corpus
record (clean and seeded) is one the SDK itself produces for that type, as captured from SDK
resources registered under Pulumi mocks; the pack's taggable types are exactly those with tags
(labels on GCP).
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pytest
from guard_corpus import SEEDS, clean_corpus
from maiaplan_guard import resources as guard_types
from maiaplan_guard.checks.boundary import PEERINGS
from maiaplan_guard.checks.dedicated import _PLACEMENTS
from maiaplan_guard.checks.encryption import _CHECKS as ENCRYPTION_CHECKS
from maiaplan_guard.checks.ingress import _CHECKS as INGRESS_CHECKS
from pulumi.runtime import settings

from pulumi_dryrun.resources import ResourceRecord

# Loading whole provider modules and running the SDK under mocks takes seconds; the SDKs' own
# deprecation notices about unrelated resources are not ours to act on.
pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

_PACKAGES = {"azure-native": "pulumi_azure_native", "aws": "pulumi_aws", "gcp": "pulumi_gcp"}
_USER_KEYED = frozenset({"tags", "labels", "tagsAll"})  # maps whose keys are the user's, not the schema's


def sdk_class(token: str) -> type:
    package, module, name = token.split(":")
    return getattr(importlib.import_module(f"{_PACKAGES[package]}.{module.split('/')[0]}"), name)  # type: ignore[no-any-return]


def pack_tokens() -> set[str]:
    values = [getattr(guard_types, name) for name in dir(guard_types) if name.isupper()]
    tokens = {v for v in values if isinstance(v, str) and v.split(":", 1)[0] in _PACKAGES}
    tables = (_PLACEMENTS, INGRESS_CHECKS, ENCRYPTION_CHECKS, PEERINGS)
    return tokens | {token for table in tables for token in table}


def corpus_records() -> list[ResourceRecord]:
    records = clean_corpus().list()
    for seed in SEEDS:
        records += seed.mutate(clean_corpus()).list()
    return [r for r in records if r.custom and r.type.split(":", 1)[0] in _PACKAGES]


def paths(value: Any, prefix: str = "") -> set[str]:
    """Key paths with list positions as ``[]``; user-keyed maps (tags) end the path."""
    found = {prefix} if prefix else set()
    if isinstance(value, Mapping):
        if prefix.rsplit(".", 1)[-1] in _USER_KEYED:
            return found
        for key, item in value.items():
            found |= paths(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for item in value:
            found |= paths(item, f"{prefix}[]")
    return found


def test_every_type_token_names_an_sdk_resource_class() -> None:
    tokens = pack_tokens() | {r.type for r in corpus_records()}
    for token in sorted(tokens):
        cls = sdk_class(token)
        assert issubclass(cls, pulumi.CustomResource), token
        assert f"'{token}'" in inspect.getsource(cls), f"{cls.__name__} does not register as {token}"


def has_tags(token: str) -> bool:
    parameters = inspect.signature(sdk_class(token)._internal_init).parameters  # type: ignore[attr-defined]
    return ("labels" if token.startswith("gcp:") else "tags") in parameters


def test_the_taggable_types_are_the_ones_whose_sdk_takes_tags() -> None:
    assert all(has_tags(token) for token in guard_types.TAGGABLE_TYPES)
    untagged = {t for t in pack_tokens() | {r.type for r in corpus_records()} if t not in guard_types.TAGGABLE_TYPES}
    assert not [token for token in untagged if has_tags(token)]


class _Echo(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, list[Mapping[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs.setdefault(args.typ, []).append(args.inputs)
        return f"{args.name}-id", {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise AssertionError(f"unexpected invoke {args.token}")


def _exemplars() -> None:
    """One SDK resource of each type the corpus uses, with every property the corpus sets."""
    from pulumi_aws import autoscaling, ec2, vpc
    from pulumi_azure_native import compute, network, resources
    from pulumi_gcp import compute as gce
    from pulumi_gcp import tpu

    tags = {"tenant": "t"}
    resources.ResourceGroup("rg", resource_group_name="rg", location="eastus", tags=tags)
    rule: dict[str, Any] = {
        "name": "r",
        "access": "Allow",
        "direction": "Inbound",
        "protocol": "*",
        "priority": 100,
        "source_address_prefix": "*",
        "source_address_prefixes": ["*"],
        "source_port_range": "*",
        "destination_address_prefix": "*",
        "destination_port_range": "*",
    }
    network.NetworkSecurityGroup(
        "nsg",
        resource_group_name="rg",
        location="eastus",
        network_security_group_name="n",
        security_rules=[network.SecurityRuleArgs(**rule)],
        tags=tags,
    )
    network.SecurityRule(
        "rule",
        resource_group_name="rg",
        network_security_group_name="n",
        **{k: v for k, v in rule.items() if k != "name"},
    )
    network.VirtualNetwork(
        "vnet",
        resource_group_name="rg",
        location="eastus",
        virtual_network_name="v",
        address_space=network.AddressSpaceArgs(address_prefixes=["10.0.0.0/16"]),
        virtual_network_peerings=[
            network.VirtualNetworkPeeringArgs(name="p", remote_virtual_network=network.SubResourceArgs(id="r"))
        ],
        tags=tags,
    )
    network.Subnet(
        "subnet",
        resource_group_name="rg",
        virtual_network_name="v",
        subnet_name="s",
        address_prefix="10.0.0.0/20",
        network_security_group=network.NetworkSecurityGroupArgs(id="n"),
        default_outbound_access=False,
    )
    network.VirtualNetworkPeering(
        "peering",
        resource_group_name="rg",
        virtual_network_name="v",
        remote_virtual_network=network.SubResourceArgs(id="r"),
        allow_forwarded_traffic=False,
        allow_virtual_network_access=True,
    )
    network.NetworkInterface(
        "nic",
        resource_group_name="rg",
        location="eastus",
        tags=tags,
        ip_configurations=[
            network.NetworkInterfaceIPConfigurationArgs(
                name="ip", subnet=network.SubnetArgs(id="s"), public_ip_address=network.PublicIPAddressArgs(id="p")
            )
        ],
    )
    compute.ProximityPlacementGroup(
        "ppg", resource_group_name="rg", location="eastus", proximity_placement_group_type="Standard", tags=tags
    )
    compute.DedicatedHostGroup(
        "hg",
        resource_group_name="rg",
        location="eastus",
        host_group_name="hg",
        platform_fault_domain_count=1,
        support_automatic_placement=True,
        tags=tags,
    )
    compute.DedicatedHost(
        "host",
        resource_group_name="rg",
        host_group_name="hg",
        location="eastus",
        sku=compute.SkuArgs(name="x"),
        platform_fault_domain=0,
        auto_replace_on_failure=True,
        tags=tags,
    )
    ref = compute.SubResourceArgs(id="x")
    compute.VirtualMachineScaleSet(
        "vmss",
        resource_group_name="rg",
        location="eastus",
        tags=tags,
        sku=compute.SkuArgs(name="s", tier="Standard", capacity=1),
        orchestration_mode="Uniform",
        overprovision=False,
        platform_fault_domain_count=1,
        upgrade_policy=compute.UpgradePolicyArgs(mode=compute.UpgradeMode.MANUAL),
        host_group=ref,
        proximity_placement_group=ref,
        virtual_machine_profile=compute.VirtualMachineScaleSetVMProfileArgs(
            security_profile=compute.SecurityProfileArgs(encryption_at_host=True),
            network_profile=compute.VirtualMachineScaleSetNetworkProfileArgs(
                network_interface_configurations=[
                    compute.VirtualMachineScaleSetNetworkConfigurationArgs(
                        name="n",
                        primary=True,
                        enable_accelerated_networking=True,
                        ip_configurations=[
                            compute.VirtualMachineScaleSetIPConfigurationArgs(
                                name="i",
                                primary=True,
                                subnet=compute.ApiEntityReferenceArgs(id="s"),
                                public_ip_address_configuration=compute.VirtualMachineScaleSetPublicIPAddressConfigurationArgs(
                                    name="p"
                                ),
                            )
                        ],
                    )
                ]
            ),
        ),
    )
    compute.VirtualMachine(
        "vm",
        resource_group_name="rg",
        location="eastus",
        tags=tags,
        hardware_profile=compute.HardwareProfileArgs(vm_size="s"),
        host_group=ref,
        security_profile=compute.SecurityProfileArgs(encryption_at_host=True),
        network_profile=compute.NetworkProfileArgs(
            network_interfaces=[compute.NetworkInterfaceReferenceArgs(id="n", primary=True)]
        ),
    )

    atags = {"tenant": "t"}
    ec2.Vpc(
        "vpc",
        region="us-east-1",
        cidr_block="10.1.0.0/16",
        enable_dns_support=True,
        enable_dns_hostnames=True,
        tags=atags,
    )
    ec2.Subnet(
        "subnet", region="us-east-1", vpc_id="v", cidr_block="10.1.0.0/20", map_public_ip_on_launch=False, tags=atags
    )
    ec2.SecurityGroup(
        "sg",
        region="us-east-1",
        vpc_id="v",
        description="d",
        tags=atags,
        ingress=[
            ec2.SecurityGroupIngressArgs(
                description="d",
                protocol="-1",
                from_port=0,
                to_port=0,
                self=True,
                cidr_blocks=["c"],
                ipv6_cidr_blocks=["c"],
            )
        ],
        egress=[ec2.SecurityGroupEgressArgs(description="d", protocol="-1", from_port=0, to_port=0, cidr_blocks=["c"])],
    )
    vpc.SecurityGroupIngressRule(
        "in",
        region="us-east-1",
        security_group_id="sg",
        cidr_ipv4="c",
        ip_protocol="tcp",
        from_port=443,
        to_port=443,
        tags=atags,
    )
    ec2.PlacementGroup("pg", region="us-east-1", strategy="cluster", tags=atags)
    ec2.LaunchTemplate(
        "lt",
        region="us-east-1",
        instance_type="t",
        image_id="ami",
        update_default_version=True,
        tags=atags,
        placement=ec2.LaunchTemplatePlacementArgs(group_name="pg", tenancy="dedicated"),
        block_device_mappings=[
            ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    encrypted="true", volume_type="gp3", delete_on_termination="true"
                ),
            )
        ],
        network_interfaces=[
            ec2.LaunchTemplateNetworkInterfaceArgs(
                device_index=0,
                associate_public_ip_address="false",
                security_groups=["sg"],
                delete_on_termination="true",
            )
        ],
        metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(http_endpoint="enabled", http_tokens="required"),
        tag_specifications=[ec2.LaunchTemplateTagSpecificationArgs(resource_type="instance", tags=atags)],
    )
    autoscaling.Group(
        "asg",
        region="us-east-1",
        desired_capacity=1,
        min_size=1,
        max_size=1,
        vpc_zone_identifiers=["s"],
        launch_template=autoscaling.GroupLaunchTemplateArgs(id="lt", version="$Default"),
        tags=[autoscaling.GroupTagArgs(key="tenant", value="t", propagate_at_launch=True)],
    )
    ec2.Instance(
        "instance",
        region="us-east-1",
        instance_type="p5.48xlarge",
        ami="ami",
        tenancy="dedicated",
        associate_public_ip_address=False,
        subnet_id="s",
        vpc_security_group_ids=["sg"],
        tags=atags,
        root_block_device=ec2.InstanceRootBlockDeviceArgs(encrypted=True, volume_type="gp3"),
        ebs_block_devices=[ec2.InstanceEbsBlockDeviceArgs(device_name="/dev/sdb", encrypted=True, volume_size=500)],
    )
    ec2.VpcPeeringConnection("peering", region="us-east-1", vpc_id="v", peer_vpc_id="p", auto_accept=True, tags=atags)

    gce.Network("net", name="n", auto_create_subnetworks=False, routing_mode="REGIONAL")
    gce.Subnetwork(
        "subnet",
        name="s",
        network="n",
        region="us-central1",
        ip_cidr_range="10.2.0.0/20",
        private_ip_google_access=True,
    )
    gce.Firewall(
        "fw",
        name="f",
        network="n",
        direction="INGRESS",
        source_ranges=["c"],
        allows=[gce.FirewallAllowArgs(protocol="tcp")],
    )
    tpu.V2Vm(
        "tpu",
        name="t",
        zone="us-central1-a",
        runtime_version="v",
        accelerator_type="v5p-32",
        network_config=tpu.V2VmNetworkConfigArgs(network="n", subnetwork="s", enable_external_ips=False),
        labels=tags,
    )
    gce.NodeGroup("nodes", name="g", zone="us-central1-a", node_template="t", initial_size=1)
    gce.Instance(
        "instance",
        name="i",
        zone="us-central1-a",
        machine_type="m",
        labels=tags,
        boot_disk=gce.InstanceBootDiskArgs(initialize_params=gce.InstanceBootDiskInitializeParamsArgs(image="i")),
        network_interfaces=[
            gce.InstanceNetworkInterfaceArgs(
                network="n", access_configs=[gce.InstanceNetworkInterfaceAccessConfigArgs()]
            )
        ],
        scheduling=gce.InstanceSchedulingArgs(
            node_affinities=[gce.InstanceSchedulingNodeAffinityArgs(key="k", operator="IN", values=["g"])]
        ),
    )
    gce.NetworkPeering("peering", name="p", network="n", peer_network="p")


@pytest.fixture(scope="module")
def sdk_shapes() -> dict[str, set[str]]:
    settings.ROOT.set(None)  # the SDK keeps the root stack of an earlier mock run
    mocks = _Echo()
    pulumi.runtime.set_mocks(mocks, project="maiaplan", stack="shapes", preview=True)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> pulumi.Output[None]:
        _exemplars()
        return pulumi.Output.from_input(None)

    run()
    return {
        typ: set().union(*(paths(json.loads(json.dumps(i))) for i in inputs)) for typ, inputs in mocks.inputs.items()
    }


def test_every_corpus_property_path_is_one_the_sdk_produces(sdk_shapes: dict[str, set[str]]) -> None:
    unknown: dict[str, set[str]] = {}
    for record in corpus_records():
        missing = paths(dict(record.inputs)) - sdk_shapes.get(record.type, set())
        if missing:
            unknown.setdefault(record.type, set()).update(missing)
    assert unknown == {}
