"""URNs in the engine's form, default provider names, the CLI's short types."""

from __future__ import annotations

import pytest

from pulumi_dryrun.urns import (
    default_provider_name,
    display_type,
    make_urn,
    parse_urn,
    provider_package,
    resource_package,
    split_provider_reference,
    stack_urn,
)

STACK = "urn:pulumi:dev::proj::pulumi:pulumi:Stack::proj-dev"


def test_root_stack_urn() -> None:
    assert stack_urn("dev", "proj") == STACK


def test_top_level_resource_has_no_stack_prefix() -> None:
    assert make_urn("dev", "proj", STACK, "aws:s3/bucket:Bucket", "logs") == (
        "urn:pulumi:dev::proj::aws:s3/bucket:Bucket::logs"
    )


def test_nested_resource_carries_the_whole_chain_of_parent_types() -> None:
    component = make_urn("dev", "proj", STACK, "my:mod:Vpc", "net")
    child = make_urn("dev", "proj", component, "my:mod:Subnets", "subnets")
    grandchild = make_urn("dev", "proj", child, "gcp:compute/network:Network", "vpc-net")
    assert component == "urn:pulumi:dev::proj::my:mod:Vpc::net"
    assert child == "urn:pulumi:dev::proj::my:mod:Vpc$my:mod:Subnets::subnets"
    assert grandchild == "urn:pulumi:dev::proj::my:mod:Vpc$my:mod:Subnets$gcp:compute/network:Network::vpc-net"


def test_resource_without_parent_is_unqualified() -> None:
    assert make_urn("dev", "proj", None, "pulumi:providers:aws", "default_7_51_1") == (
        "urn:pulumi:dev::proj::pulumi:providers:aws::default_7_51_1"
    )


def test_parse_urn_keeps_a_name_with_separators() -> None:
    parts = parse_urn("urn:pulumi:dev::proj::a:b:C$d:e:F::name::with::colons")
    assert (parts.stack, parts.project, parts.qualified_type, parts.name) == (
        "dev",
        "proj",
        "a:b:C$d:e:F",
        "name::with::colons",
    )
    assert parts.type == "d:e:F"


@pytest.mark.parametrize("urn", ["", "urn:other:x", "urn:pulumi:dev::proj::only-type"])
def test_parse_urn_rejects_what_is_not_a_urn(urn: str) -> None:
    with pytest.raises(ValueError, match="not a Pulumi URN"):
        parse_urn(urn)


@pytest.mark.parametrize(
    ("version", "name"),
    [
        ("7.51.1", "default_7_51_1"),
        ("10.2.0", "default_10_2_0"),
        ("3.0.0-alpha.1", "default_3_0_0_alpha_1"),
        ("1.2.3+build.7", "default_1_2_3_build_7"),
        ("", "default"),
    ],
)
def test_default_provider_names(version: str, name: str) -> None:
    assert default_provider_name(version) == name


@pytest.mark.parametrize(
    ("type_", "short"),
    [
        ("aws:s3/bucket:Bucket", "aws:s3:Bucket"),
        ("aws:ec2/launchTemplate:LaunchTemplate", "aws:ec2:LaunchTemplate"),
        ("azure-native:compute:VirtualMachineScaleSet", "azure-native:compute:VirtualMachineScaleSet"),
        ("gcp:tpu/v2Vm:V2Vm", "gcp:tpu:V2Vm"),
        ("pulumi:pulumi:Stack", "pulumi:pulumi:Stack"),
        ("aws:index/provider:Provider", "aws:index:Provider"),
    ],
)
def test_display_type_drops_the_module_segment_that_repeats_the_name(type_: str, short: str) -> None:
    assert display_type(type_) == short


def test_packages_and_provider_references() -> None:
    assert provider_package("pulumi:providers:azure-native") == "azure-native"
    assert provider_package("aws:s3/bucket:Bucket") is None
    assert resource_package("pulumi:providers:gcp") == "gcp"
    assert resource_package("azure-native:network:VirtualNetwork") == "azure-native"
    reference = "urn:pulumi:dev::proj::pulumi:providers:aws::default_7_51_1::04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert split_provider_reference(reference) == (
        "urn:pulumi:dev::proj::pulumi:providers:aws::default_7_51_1",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    )
