"""The per-provider tables: auto-names, invoke answers, reads."""

from __future__ import annotations

from pulumi_dryrun.providers import (
    autoname_property,
    generated_name,
    invoke_answer,
    profile_for,
    read_answer,
    render,
    stable_hex,
)


def test_aws_names_its_name_property_and_the_bucket_its_own() -> None:
    aws = profile_for("aws:ec2/securityGroup:SecurityGroup")
    assert autoname_property(aws, "aws:ec2/securityGroup:SecurityGroup", {}, frozenset({"name", "vpcId"})) == "name"
    assert autoname_property(aws, "aws:s3/bucket:Bucket", {}, frozenset({"bucket", "tags"})) == "bucket"
    assert autoname_property(aws, "aws:ec2/vpc:Vpc", {}, frozenset({"cidrBlock"})) is None
    assert autoname_property(aws, "aws:ec2/securityGroup:SecurityGroup", {"name": "given"}, frozenset({"name"})) is None


def test_azure_native_names_the_one_name_input_left_unset() -> None:
    azure = profile_for("azure-native:compute:DedicatedHost")
    names = frozenset({"hostGroupName", "resourceGroupName", "hostName", "location"})
    given = {"hostGroupName": "hg", "resourceGroupName": "rg"}
    assert autoname_property(azure, "azure-native:compute:DedicatedHost", given, names) == "hostName"
    assert autoname_property(azure, "azure-native:compute:DedicatedHost", {"hostGroupName": "hg"}, names) is None


def test_generated_names_are_stable_per_urn_and_shaped_per_provider() -> None:
    aws = profile_for("aws:s3/bucket:Bucket")
    azure = profile_for("azure-native:resources:ResourceGroup")
    urn = "urn:pulumi:dev::p::aws:s3/bucket:Bucket::logs"
    name = generated_name(aws, "logs", urn)
    assert name == generated_name(aws, "logs", urn)
    assert name != generated_name(aws, "logs", urn + "2")
    assert name.startswith("logs-") and len(name) == len("logs-") + 7
    rg = generated_name(azure, "rg", "urn:pulumi:dev::p::azure-native:resources:ResourceGroup::rg")
    assert rg.startswith("rg") and len(rg) == 2 + 8 and "-" not in rg


def test_canned_invokes_follow_the_stack_config() -> None:
    zones = invoke_answer(
        "aws:index/getAvailabilityZones:getAvailabilityZones", {"state": "available"}, {"aws:region": "eu-west-1"}
    )
    assert zones["names"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert zones["state"] == "available"
    defaults = invoke_answer("aws:index/getRegion:getRegion", {}, {})
    assert defaults["name"] == "us-east-1"
    group = invoke_answer(
        "azure-native:resources:getResourceGroup",
        {"resourceGroupName": "rg-a"},
        {"azure-native:subscriptionId": "1111"},
    )
    assert group["id"] == "/subscriptions/1111/resourceGroups/rg-a"
    assert invoke_answer("gcp:organizations/getProject:getProject", {}, {"gcp:project": "p1"})["projectId"] == "p1"


def test_any_other_invoke_gets_its_arguments_and_a_stable_id() -> None:
    first = invoke_answer("aws:ec2/getInstance:getInstance", {"instanceId": "i-1"}, {})
    again = invoke_answer("aws:ec2/getInstance:getInstance", {"instanceId": "i-1"}, {})
    other = invoke_answer("aws:ec2/getInstance:getInstance", {"instanceId": "i-2"}, {})
    assert first == again and first["instanceId"] == "i-1"
    assert first["id"].startswith("getInstance-") and first["id"] != other["id"]


def test_reads_and_templates() -> None:
    assert read_answer("pulumi:pulumi:StackReference", {"name": "org/p/dev"}) == {
        "name": "org/p/dev",
        "outputs": {},
        "secretOutputNames": [],
    }
    assert render({"a": ["{x}-{HASH4}", "{missing}"]}, {"x": "v"}, seed="s") == {
        "a": [f"v-{stable_hex('s', length=4).upper()}", "{missing}"]
    }
    assert len(stable_hex("x", length=100)) == 100
