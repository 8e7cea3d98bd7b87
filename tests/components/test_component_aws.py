"""AcceleratorCluster and AcceleratorPool on their own, under mocks."""

from __future__ import annotations

from collections import Counter

import pytest
from pulumi_mocks import Recording, run_pulumi, tags_of

from components.aws import AcceleratorCluster, AcceleratorClusterArgs, AcceleratorPool, Ec2Instances
from components.images import aws_image
from components.tags import ResourceTags

OPEN_RANGES = {"0.0.0.0/0", "::/0"}


def cluster_args(*, hardware: bool = True, resident: tuple[Ec2Instances, ...] = ()) -> AcceleratorClusterArgs:
    return AcceleratorClusterArgs(
        tags=ResourceTags(tenant="anthropic", cluster="aws-use1-trn2", phase=0),
        region="us-east-1",
        hardware_isolation=hardware,
        instance_type="trn2.48xlarge",
        image=aws_image("trn2.48xlarge"),
        cidr_block="10.3.0.0/16",
        subnet_cidr_block="10.3.0.0/20",
        resident=resident,
    )


def deploy(args: AcceleratorClusterArgs) -> Recording:
    return run_pulumi(lambda: AcceleratorCluster("aws-use1-trn2", args))


def test_cluster_declares_private_network_placement_and_one_pool_per_resident_workload() -> None:
    recording = deploy(cluster_args(resident=(Ec2Instances("chat-fast", 6), Ec2Instances("research-eval", 10))))

    assert Counter(resource.type for resource in recording) == {
        "maiaplan:aws:AcceleratorCluster": 1,
        "aws:ec2/vpc:Vpc": 1,
        "aws:ec2/subnet:Subnet": 1,
        "aws:ec2/securityGroup:SecurityGroup": 1,
        "aws:ec2/placementGroup:PlacementGroup": 1,
        "maiaplan:aws:AcceleratorPool": 2,
        "aws:ec2/launchTemplate:LaunchTemplate": 2,
        "aws:autoscaling/group:Group": 2,
    }
    assert recording.named("aws-use1-trn2-placement").inputs["strategy"] == "cluster"
    assert recording.named("aws-use1-trn2-subnet").inputs["mapPublicIpOnLaunch"] is False
    for resource in recording.custom():
        assert resource.inputs["region"] == "us-east-1"


def test_children_are_parented_to_their_component() -> None:
    recording = deploy(cluster_args(resident=(Ec2Instances("chat-fast", 6),)))
    cluster = recording.named("aws-use1-trn2")
    pool = recording.named("aws-use1-trn2-chat-fast")

    assert recording.parent_of(pool) == cluster
    for resource in recording.custom():
        owner = pool if resource.name.startswith("aws-use1-trn2-chat-fast-") else cluster
        assert recording.parent_of(resource) == owner, resource.name


def test_group_is_pinned_at_the_planned_instances_of_the_launch_template() -> None:
    recording = deploy(cluster_args(resident=(Ec2Instances("chat-fast", 6), Ec2Instances("research-eval", 10))))

    for workload, instances in (("chat-fast", 6), ("research-eval", 10)):
        group = recording.named(f"aws-use1-trn2-{workload}-asg")
        assert (group.inputs["desiredCapacity"], group.inputs["minSize"], group.inputs["maxSize"]) == (
            instances,
            instances,
            instances,
        )
        assert group.inputs["launchTemplate"]["id"] == f"aws-use1-trn2-{workload}-lt-id"
        assert group.inputs["vpcZoneIdentifiers"] == ["aws-use1-trn2-subnet-id"]
        template = recording.named(f"aws-use1-trn2-{workload}-lt")
        assert template.inputs["instanceType"] == "trn2.48xlarge"
        assert template.inputs["imageId"].startswith("resolve:ssm:/aws/service/neuron/")


def test_hardware_isolated_tenant_gets_dedicated_tenancy_in_the_placement_group() -> None:
    dedicated = deploy(cluster_args(hardware=True, resident=(Ec2Instances("chat-fast", 2),)))
    shared = deploy(cluster_args(hardware=False, resident=(Ec2Instances("chat-fast", 2),)))

    placement = dedicated.named("aws-use1-trn2-chat-fast-lt").inputs["placement"]
    assert placement == {"tenancy": "dedicated", "groupName": "aws-use1-trn2-placement"}
    assert shared.named("aws-use1-trn2-chat-fast-lt").inputs["placement"]["tenancy"] == "default"


def test_volumes_are_encrypted_and_no_public_ip_or_open_inbound_rule_exists() -> None:
    recording = deploy(cluster_args(resident=(Ec2Instances("chat-fast", 2),)))

    template = recording.named("aws-use1-trn2-chat-fast-lt").inputs
    assert [mapping["ebs"]["encrypted"] for mapping in template["blockDeviceMappings"]] == ["true"]
    assert [nic["associatePublicIpAddress"] for nic in template["networkInterfaces"]] == ["false"]
    assert template["networkInterfaces"][0]["securityGroups"] == ["aws-use1-trn2-sg-id"]
    assert template["metadataOptions"]["httpTokens"] == "required"

    ingress = recording.named("aws-use1-trn2-sg").inputs["ingress"]
    assert ingress and all(rule["self"] is True for rule in ingress)
    for rule in ingress:
        assert not OPEN_RANGES & set(rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", []))


def test_every_taggable_resource_is_tagged_and_instances_inherit_the_tags() -> None:
    recording = deploy(cluster_args(resident=(Ec2Instances("chat-fast", 2),)))

    for resource in recording.custom():
        tags = tags_of(resource)
        assert tags is not None, resource.type
        expected = {"tenant": "anthropic", "cluster": "aws-use1-trn2", "phase": "0", "managed-by": "maiaplan"}
        if resource.name.startswith("aws-use1-trn2-chat-fast-"):
            expected["workload"] = "chat-fast"
        assert tags == expected, resource.name
    group = recording.named("aws-use1-trn2-chat-fast-asg")
    assert all(tag["propagateAtLaunch"] is True for tag in group.inputs["tags"])
    specifications = recording.named("aws-use1-trn2-chat-fast-lt").inputs["tagSpecifications"]
    assert {spec["resourceType"] for spec in specifications} == {"instance", "volume", "network-interface"}


def test_pool_added_by_a_phase_carries_its_phase() -> None:
    def program() -> None:
        cluster = AcceleratorCluster("aws-use1-trn2", cluster_args())
        AcceleratorPool("phase-3-code-assist", cluster.pool_args(Ec2Instances("code-assist", 3), phase=3))

    recording = run_pulumi(program)
    group = recording.named("phase-3-code-assist-asg")
    assert {tag["key"]: tag["value"] for tag in group.inputs["tags"]}["phase"] == "3"
    assert group.inputs["desiredCapacity"] == 3


def test_a_pool_without_instances_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1 instance"):
        Ec2Instances("chat-fast", 0)
