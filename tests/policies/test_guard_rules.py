"""Fast unit tests of the pack's rules: plain functions of resource views and typed configuration."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from maiaplan_guard.checks.boundary import check_tenant_network_boundary
from maiaplan_guard.checks.contracts import Chips, Uncountable, check_contract_limits, chips_of, region_of
from maiaplan_guard.checks.dedicated import check_dedicated_hardware
from maiaplan_guard.checks.encryption import check_encryption_at_host
from maiaplan_guard.checks.ingress import check_no_public_ingress
from maiaplan_guard.checks.tags import check_tags
from maiaplan_guard.config import ConfigError, Contract, GuardConfig, Waiver, parse_config
from maiaplan_guard.findings import Finding, apply_waivers
from maiaplan_guard.graph import StackGraph, StackResource
from maiaplan_guard.resources import ResourceView, read_tags

from pulumi_dryrun.resources import UNKNOWN

TENANTS = {"anthropic": "hardware", "copilot": "shared"}
CONFIG = GuardConfig(tenants=TENANTS)


def view(type_: str, props: dict[str, Any], name: str = "r") -> ResourceView:
    return ResourceView.of(type_, f"urn:pulumi:dev::maiaplan::{type_}::{name}", name, props)


def node(type_: str, name: str, props: dict[str, Any], **kwargs: Any) -> StackResource:
    return StackResource.of_stack(type_, f"urn:pulumi:dev::maiaplan::{type_}::{name}", name, props, **kwargs)


def anthropic(**extra: str) -> dict[str, str]:
    return {"tenant": "anthropic", "managed-by": "maiaplan", **extra}


# --- tags -------------------------------------------------------------------------------------------


def test_tags_of_each_cloud_shape_are_read() -> None:
    assert read_tags("azure-native:compute:VirtualMachine", {"tags": {"tenant": "a"}}).get("tenant") == "a"
    asg = read_tags(
        "aws:autoscaling/group:Group", {"tags": [{"key": "tenant", "value": "a", "propagateAtLaunch": True}]}
    )
    assert asg.get("tenant") == "a"
    merged = read_tags("aws:ec2/vpc:Vpc", {"tags": {"cluster": "c"}, "tagsAll": {"tenant": "a", "cluster": "x"}})
    assert merged.values == {"cluster": "c", "tenant": "a"}  # the program's own tags win over provider defaults
    assert read_tags("gcp:tpu/v2Vm:V2Vm", {"labels": {"tenant": "a"}}).get("tenant") == "a"
    assert read_tags("gcp:tpu/v2Vm:V2Vm", {"tags": {"tenant": "a"}}).get("tenant") is None  # GCP tags are not labels


def test_an_untagged_taggable_resource_lacks_every_required_tag() -> None:
    findings = check_tags(view("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}), GuardConfig())
    assert [f.rule for f in findings] == ["tag-tenant", "tag-managed-by"]


def test_untaggable_and_non_cloud_resources_are_not_checked() -> None:
    assert check_tags(view("azure-native:network:Subnet", {"addressPrefix": "10.0.0.0/24"}), GuardConfig()) == []
    assert check_tags(view("maiaplan:azure:MaiaCluster", {}), GuardConfig()) == []
    assert check_tags(view("pulumi:providers:aws", {"region": "us-east-1"}), GuardConfig()) == []


def test_a_type_outside_the_list_is_checked_when_it_declares_tags() -> None:
    findings = check_tags(view("aws:s3/bucket:Bucket", {"tags": {"tenant": "anthropic"}}), GuardConfig())
    assert [f.rule for f in findings] == ["tag-managed-by"]


def test_gcp_label_values_compare_lowercased_and_required_tags_are_configurable() -> None:
    tpu = view("gcp:tpu/v2Vm:V2Vm", {"labels": {"tenant": "anthropic", "managed-by": "MaiaPlan"}})
    assert check_tags(tpu, GuardConfig()) == []
    config = parse_config({"required_tags": {"tenant": None, "cost-center": "ai-serving"}})
    assert [f.problem for f in check_tags(tpu, config)] == ["it carries no 'cost-center' label"]


def test_a_tag_map_unknown_at_preview_is_one_finding() -> None:
    findings = check_tags(view("azure-native:compute:VirtualMachine", {"tags": UNKNOWN}), GuardConfig())
    assert [f.rule for f in findings] == ["tags-known-at-preview"]


# --- dedicated-hardware -----------------------------------------------------------------------------


def test_shared_tenants_need_no_dedicated_hardware() -> None:
    vmss = view("azure-native:compute:VirtualMachineScaleSet", {"tags": {"tenant": "copilot"}})
    assert check_dedicated_hardware(vmss, CONFIG) == []


def test_an_unlisted_tenant_is_held_to_hardware_isolation_with_a_suggestion() -> None:
    vmss = view("azure-native:compute:VirtualMachineScaleSet", {"tags": {"tenant": "copliot"}})
    [finding] = check_dedicated_hardware(vmss, CONFIG)
    assert "'copliot' is not a configured tenant — did you mean 'copilot'?" in finding.message


def test_a_resource_without_tenant_is_held_to_hardware_isolation() -> None:
    [finding] = check_dedicated_hardware(view("aws:ec2/instance:Instance", {"instanceType": "p5.48xlarge"}), CONFIG)
    assert "carries no known 'tenant' tag" in finding.problem


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        ("azure-native:compute:VirtualMachine", {"host": {"id": "/subscriptions/s/hostGroups/g/hosts/h"}}),
        ("azure-native:compute:VirtualMachine", {"hostGroup": {"id": UNKNOWN}}),
        ("aws:ec2/instance:Instance", {"tenancy": "host"}),
        ("aws:ec2/instance:Instance", {"hostId": "h-0123456789abcdef0"}),
        ("aws:ec2/launchTemplate:LaunchTemplate", {"placement": {"hostResourceGroupArn": "arn:aws:rg"}}),
        (
            "gcp:compute/instanceTemplate:InstanceTemplate",
            {
                "scheduling": {
                    "nodeAffinities": [{"key": "compute.googleapis.com/node-name", "operator": "IN", "values": ["n1"]}]
                }
            },
        ),
        ("gcp:tpu/v2Vm:V2Vm", {}),  # single-tenant by design
    ],
)
def test_dedicated_placements_pass(type_: str, props: dict[str, Any]) -> None:
    labels = "labels" if type_.startswith("gcp") else "tags"
    assert check_dedicated_hardware(view(type_, {**props, labels: {"tenant": "anthropic"}}), CONFIG) == []


def test_a_host_group_reference_unknown_as_a_whole_is_not_waved_through() -> None:
    vm = view("azure-native:compute:VirtualMachine", {"hostGroup": UNKNOWN, "tags": {"tenant": "anthropic"}})
    [finding] = check_dedicated_hardware(vm, CONFIG)
    assert "hostGroup is unknown at preview" in finding.problem


# --- no-public-ingress ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        ("azure-native:network:SecurityRule", {"direction": "Outbound", "access": "Allow", "sourceAddressPrefix": "*"}),
        (
            "azure-native:network:SecurityRule",
            {"direction": "Inbound", "access": "Deny", "sourceAddressPrefix": "Internet"},
        ),
        ("aws:ec2/securityGroupRule:SecurityGroupRule", {"type": "egress", "cidrBlocks": ["0.0.0.0/0"]}),
        ("aws:ec2/securityGroup:SecurityGroup", {"egress": [{"cidrBlocks": ["0.0.0.0/0"]}]}),
        (
            "gcp:compute/firewall:Firewall",
            {"direction": "EGRESS", "allows": [{"protocol": "tcp"}], "destinationRanges": ["0.0.0.0/0"]},
        ),
        ("gcp:compute/firewall:Firewall", {"denies": [{"protocol": "all"}], "sourceRanges": ["0.0.0.0/0"]}),
        (
            "gcp:compute/firewall:Firewall",
            {"allows": [{"protocol": "tcp"}], "sourceRanges": ["0.0.0.0/0"], "disabled": True},
        ),
        ("gcp:compute/firewall:Firewall", {"allows": [{"protocol": "tcp"}], "sourceTags": ["lb"]}),
    ],
)
def test_closed_or_outbound_rules_pass(type_: str, props: dict[str, Any]) -> None:
    assert check_no_public_ingress(view(type_, props), GuardConfig()) == []


def test_an_aws_ingress_rule_of_type_ingress_open_to_the_world_is_caught() -> None:
    rule = view("aws:ec2/securityGroupRule:SecurityGroupRule", {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"]})
    [finding] = check_no_public_ingress(rule, GuardConfig())
    assert finding.value == "cidrBlocks.0 = '0.0.0.0/0'"


def test_gcp_ipv6_access_and_listed_tpu_network_configs_are_public() -> None:
    instance = view(
        "gcp:compute/instance:Instance",
        {"networkInterfaces": [{"network": "n", "ipv6AccessConfigs": [{"networkTier": "PREMIUM"}]}]},
    )
    assert len(check_no_public_ingress(instance, GuardConfig())) == 1
    tpu = view("gcp:tpu/v2Vm:V2Vm", {"networkConfigs": [{"enableExternalIps": False}, {"enableExternalIps": True}]})
    [finding] = check_no_public_ingress(tpu, GuardConfig())
    assert finding.value == "networkConfigs.1.enableExternalIps = True"


def test_an_unknown_network_profile_is_reported() -> None:
    vmss = view("azure-native:compute:VirtualMachineScaleSet", {"virtualMachineProfile": {"networkProfile": UNKNOWN}})
    [finding] = check_no_public_ingress(vmss, GuardConfig())
    assert "unknown at preview" in finding.problem


# --- encryption-at-host -----------------------------------------------------------------------------


def test_launch_template_mappings_without_ebs_do_not_count_as_encrypted_roots() -> None:
    lt = view(
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"blockDeviceMappings": [{"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}]},
    )
    [finding] = check_encryption_at_host(lt, GuardConfig())
    assert "left to the AMI" in finding.problem
    boolean = view(
        "aws:ec2/launchTemplate:LaunchTemplate",
        {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": True}}]},
    )
    assert check_encryption_at_host(boolean, GuardConfig()) == []


# --- waivers and configuration ----------------------------------------------------------------------


def finding(urn: str = "urn:a", tags: dict[str, str] | None = None) -> Finding:
    return Finding(urn, "Vpc 'a'", "r", "bad", "x", "fix it.", tags or {})


def test_a_waiver_applies_through_its_expiry_date_and_reports_its_reason() -> None:
    waiver = Waiver(reason="migration window", expires=dt.date(2026, 3, 31), urn="urn:a")
    [on_last_day] = apply_waivers([finding()], [waiver], dt.date(2026, 3, 31))
    assert on_last_day.waived and on_last_day.message.startswith("waived: Vpc 'a' breaks rule 'r'")
    assert "Waiver: migration window (expires 2026-03-31)." in on_last_day.message
    [day_after] = apply_waivers([finding()], [waiver], dt.date(2026, 4, 1))
    assert not day_after.waived
    assert "A waiver expired on 2026-03-31: migration window" in day_after.message


def test_tag_selector_waivers_match_all_their_tags_case_insensitively() -> None:
    waiver = Waiver(reason="r", expires=dt.date(2030, 1, 1), tags={"cluster": "GCP-A", "tenant": "anthropic"})
    tagged = finding(tags={"cluster": "gcp-a", "tenant": "anthropic", "phase": "1"})
    other = finding(urn="urn:b", tags={"cluster": "gcp-a"})
    reports = apply_waivers([tagged, other], [waiver], dt.date(2026, 1, 1))
    assert [r.waived for r in reports] == [True, False]


def test_config_defaults_and_shapes() -> None:
    config = parse_config({})
    assert config.chips_per_sku["trn2.48xlarge"] == 16 and config.waivers == ()
    assert config.isolation_of("anyone") == "hardware"
    parsed = parse_config(
        {"chips_per_sku": {"x": 8.0}, "contracts": [{"name": "c", "tenant": "A", "provider": "aws", "max_chips": 64.0}]}
    )
    assert parsed.chips_per_sku == {"x": 8}  # numbers arrive as floats through the protocol
    assert parsed.contracts == (Contract("c", "a", "aws", max_chips=64),)
    for bad in (
        {"waivers": [{"urn": "u", "reason": "r", "expires": "2026-02-30"}]},
        {"waivers": [{"urn": "u", "tags": {"a": "b"}, "reason": "r", "expires": "2026-01-01"}]},
        {"contracts": [{"name": "c", "tenant": "t", "provider": "oracle"}]},
        {"chips_per_sku": {"x": 1.5}},
    ):
        with pytest.raises(ConfigError):
            parse_config(bad)


# --- tenant-network-boundary ------------------------------------------------------------------------


def test_a_resource_group_named_by_value_is_a_container() -> None:
    rg = node("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "shared-rg", "tags": anthropic()})
    nsg = node(
        "azure-native:network:NetworkSecurityGroup",
        "nsg",
        {"resourceGroupName": "Shared-RG", "tags": {"tenant": "copilot", "managed-by": "maiaplan"}},
    )
    [finding] = check_tenant_network_boundary(StackGraph([rg, nsg]), CONFIG)
    assert finding.urn == nsg.urn
    assert finding.problem == "it belongs to tenant 'copilot' but sits in a container of tenant 'anthropic'"
    assert finding.value == "ResourceGroup 'rg' (via property 'resourceGroupName')"


def test_azure_outputs_name_resources_by_name() -> None:
    # Stack policies see outputs, where an Azure resource's own name is `name`.
    rg = node("azure-native:resources:ResourceGroup", "rg", {"name": "shared-rg", "tags": anthropic()})
    vnet = node(
        "azure-native:network:VirtualNetwork",
        "vnet",
        {"name": "net", "resourceGroupName": "shared-rg", "tags": anthropic()},
    )

    def nic(group: str) -> StackResource:
        subnet = f"/subscriptions/s/resourceGroups/{group}/providers/Microsoft.Network/virtualNetworks/NET/subnets/a"
        return node(
            "azure-native:network:NetworkInterface",
            f"nic-{group}",
            {"tags": {"tenant": "copilot"}, "ipConfigurations": [{"subnet": {"id": subnet}}]},
        )

    inside, elsewhere = nic("shared-rg"), nic("other-rg")  # a VNet of the same name in another group
    graph = StackGraph([rg, vnet, inside, elsewhere])
    assert [ref.target.name for ref in graph.references(inside)] == ["rg", "vnet"]
    assert graph.references(elsewhere) == []
    [finding] = check_tenant_network_boundary(graph, CONFIG)
    assert finding.urn == inside.urn


def test_aws_ids_of_existing_resources_are_followed() -> None:
    vpc = node("aws:ec2/vpc:Vpc", "vpc", {"id": "vpc-0123", "tags": anthropic()})
    subnet = node("aws:ec2/subnet:Subnet", "subnet", {"vpcId": "vpc-0123", "tags": {"tenant": "copilot"}})
    [finding] = check_tenant_network_boundary(StackGraph([vpc, subnet]), CONFIG)
    assert finding.urn == subnet.urn


def test_an_untagged_resource_in_a_hardware_tenants_container_is_flagged_but_not_in_a_shared_one() -> None:
    rg = node("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "g", "tags": anthropic()})
    vm = node("azure-native:compute:VirtualMachine", "vm", {"resourceGroupName": "g"})
    [finding] = check_tenant_network_boundary(StackGraph([rg, vm]), CONFIG)
    assert finding.problem == "it belongs to no tenant but sits in a container of tenant 'anthropic'"
    shared_rg = node(
        "azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "g", "tags": {"tenant": "copilot"}}
    )
    assert check_tenant_network_boundary(StackGraph([shared_rg, vm]), CONFIG) == []


def test_children_inherit_the_tenant_of_a_component_that_registers_tags() -> None:
    component = node("maiaplan:azure:MaiaCluster", "c", {"tags": {"tenant": "copilot"}})
    rg = node("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "g", "tags": anthropic()})
    subnet = node("azure-native:network:Subnet", "s", {"resourceGroupName": "g"}, parent=component.urn)
    graph = StackGraph([component, rg, subnet])
    assert graph.tenant(subnet.urn) == "copilot"
    [finding] = check_tenant_network_boundary(graph, CONFIG)
    assert finding.urn == subnet.urn


def test_a_peering_to_a_listed_external_network_passes_and_to_another_tenants_fails() -> None:
    vpc = node("aws:ec2/vpc:Vpc", "vpc", {"tags": anthropic()})
    peering = node(
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        "p",
        {"vpcId": UNKNOWN, "peerVpcId": "vpc-hub", "tags": anthropic()},
        property_dependencies={"vpcId": [vpc.urn]},
        dependencies=[vpc.urn],
    )
    graph = StackGraph([vpc, peering])
    assert (
        check_tenant_network_boundary(graph, GuardConfig(tenants=TENANTS, external_networks={"vpc-hub": "anthropic"}))
        == []
    )
    [finding] = check_tenant_network_boundary(
        graph, GuardConfig(tenants=TENANTS, external_networks={"vpc-hub": "copilot"})
    )
    assert finding.rule == "peering-within-tenant"
    [unknown] = check_tenant_network_boundary(
        StackGraph(
            [
                vpc,
                node(
                    peering.type,
                    "p",
                    {**peering.props, "peerVpcId": UNKNOWN},
                    property_dependencies={"vpcId": [vpc.urn]},
                ),
            ]
        ),
        CONFIG,
    )
    assert "unknown at preview and depends on no network" in unknown.problem


def test_every_inline_peering_of_a_vnet_is_judged_on_its_own() -> None:
    # One inline peering to a network of the stack must not vouch for another to a foreign network.
    a = node(
        "azure-native:network:VirtualNetwork",
        "a",
        {"virtualNetworkName": "a", "resourceGroupName": "g", "tags": anthropic()},
    )
    b = node(
        "azure-native:network:VirtualNetwork",
        "b",
        {"virtualNetworkName": "b", "resourceGroupName": "g", "tags": anthropic()},
    )
    b_id = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/b"
    foreign_id = "/subscriptions/x/resourceGroups/other/providers/Microsoft.Network/virtualNetworks/foreign"
    peerings = [
        {"name": "to-b", "remoteVirtualNetwork": {"id": b_id}},
        {"name": "to-foreign", "remoteVirtualNetwork": {"id": foreign_id}},
    ]
    peered = node(a.type, "a", {**a.props, "virtualNetworkPeerings": peerings})
    [finding] = check_tenant_network_boundary(StackGraph([peered, b]), CONFIG)
    assert finding.rule == "peering-within-tenant" and "foreign" in finding.value
    only_b = node(a.type, "a", {**a.props, "virtualNetworkPeerings": peerings[:1]})
    assert check_tenant_network_boundary(StackGraph([only_b, b]), CONFIG) == []


def test_an_elastic_ip_attached_to_compute_is_public_ingress() -> None:
    attached = check_no_public_ingress(view("aws:ec2/eip:Eip", {"instance": "i-0abc", "domain": "vpc"}), CONFIG)
    assert [f.problem for f in attached] == ["an Elastic IP (a public address) is attached to compute"]
    association = view(
        "aws:ec2/eipAssociation:EipAssociation", {"allocationId": "eipalloc-1", "networkInterfaceId": UNKNOWN}
    )
    assert "unknown at preview" in check_no_public_ingress(association, CONFIG)[0].problem
    assert check_no_public_ingress(view("aws:ec2/eip:Eip", {"domain": "vpc"}), CONFIG) == []  # allocated, not attached


# --- contract-limits --------------------------------------------------------------------------------


def test_tpu_chips_from_accelerator_type_or_topology() -> None:
    graph = StackGraph([])
    config = GuardConfig()
    for accelerator, chips in (("v5p-32", 16), ("v5litepod-16", 16), ("v6e-8", 8)):
        tpu = node("gcp:tpu/v2Vm:V2Vm", "t", {"acceleratorType": accelerator})
        assert chips_of(graph, tpu, config) == Chips(chips, chips)
    topology = node("gcp:tpu/v2Vm:V2Vm", "t", {"acceleratorConfig": {"type": "V5P", "topology": "2x2x4"}})
    assert chips_of(graph, topology, config) == Chips(16, 16)
    with pytest.raises(Uncountable, match="not in tpu_cores_per_chip"):
        chips_of(graph, node("gcp:tpu/v2Vm:V2Vm", "t", {"acceleratorType": "v4-8"}), config)


def test_mixed_instance_overrides_count_as_a_range_and_capacity_falls_back_to_min_size() -> None:
    asg = node(
        "aws:autoscaling/group:Group",
        "g",
        {
            "minSize": 2,
            "mixedInstancesPolicy": {
                "launchTemplate": {"overrides": [{"instanceType": "p5.48xlarge"}, {"instanceType": "trn2.48xlarge"}]}
            },
        },
    )
    assert chips_of(StackGraph([asg]), asg, GuardConfig()) == Chips(16, 32)


def test_gcp_instances_count_machine_type_and_guest_accelerators() -> None:
    instance = node(
        "gcp:compute/instance:Instance",
        "i",
        {
            "machineType": "zones/us-central1-a/machineTypes/n1-standard-8",
            "guestAccelerators": [{"type": "nvidia-l4", "count": 2}],
        },
    )
    config = GuardConfig(chips_per_sku={"n1-standard-8": 0})
    assert chips_of(StackGraph([instance]), instance, config) == Chips(2, 2)


def test_regions_come_from_the_resource_its_group_or_its_provider() -> None:
    rg = node("azure-native:resources:ResourceGroup", "rg", {"resourceGroupName": "g", "location": "West US 3"})
    vmss = node("azure-native:compute:VirtualMachineScaleSet", "v", {"resourceGroupName": "g"})
    instance = node("aws:ec2/instance:Instance", "i", {}, provider_props={"region": "eu-west-1"})
    zonal = node("aws:ec2/instance:Instance", "z", {"availabilityZone": "us-east-2b"})
    tpu = node("gcp:tpu/v2Vm:V2Vm", "t", {}, provider_props={"zone": "europe-west4-a"})
    graph = StackGraph([rg, vmss, instance, zonal, tpu])
    assert [region_of(graph, r) for r in (vmss, instance, zonal, tpu)] == [
        "westus3",
        "eu-west-1",
        "us-east-2",
        "europe-west4",
    ]


def test_min_share_is_judged_on_the_low_end_against_the_high_end_elsewhere() -> None:
    aws = node("aws:ec2/instance:Instance", "i", {"instanceType": "p5.48xlarge", "tags": {"tenant": "a"}})
    azure = node(
        "azure-native:compute:VirtualMachineScaleSet",
        "v",
        {"sku": {"name": "Standard_NM4_Maia100_v1", "capacity": 1}, "tags": {"tenant": "a"}},
    )
    config = GuardConfig(contracts=(Contract("share", "a", "aws", min_share=0.7),))
    [finding] = check_contract_limits(StackGraph([aws, azure]), config)
    assert finding.value.startswith("66.7% (8 of 12 chips")
    assert (
        check_contract_limits(
            StackGraph([aws, azure]), GuardConfig(contracts=(Contract("share", "a", "aws", min_share=0.6),))
        )
        == []
    )


def test_unattributed_compute_is_reported_when_contracts_exist() -> None:
    vmss = node(
        "azure-native:compute:VirtualMachineScaleSet", "v", {"sku": {"name": "Standard_NM4_Maia100_v1", "capacity": 2}}
    )
    config = GuardConfig(contracts=(Contract("lease", "a", "azure", max_chips=100),))
    [finding] = check_contract_limits(StackGraph([vmss]), config)
    assert finding.rule == "chips-countable" and "carries no 'tenant' tag" in finding.problem
    assert check_contract_limits(StackGraph([vmss]), GuardConfig()) == []
