"""Integers restored exactly where a provider's schema (its generated SDK) says integer."""

from __future__ import annotations

import json

import pulumi_aws.autoscaling as autoscaling
import pulumi_aws.ec2 as ec2
import pulumi_azure_native.compute as compute
import pulumi_gcp.tpu as tpu

from pulumi_dryrun.child.describe import describe
from pulumi_dryrun.resources import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN
from pulumi_dryrun.schema import ResourceSchema, Shape, parse_schema, restore_integers


def schema_of(resource_class: type) -> ResourceSchema:
    """The schema as the engine gets it: described in the program's process, sent as JSON, parsed."""
    return parse_schema(json.loads(json.dumps(describe(resource_class))))


def resource_shape(resource_class: type) -> Shape:
    return schema_of(resource_class).shape


def test_nested_integers_of_a_launch_template() -> None:
    shape = resource_shape(ec2.LaunchTemplate)
    restored = restore_integers(
        {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": 200.0, "iops": 3000.0}}]},
        shape,
    )
    ebs = restored["blockDeviceMappings"][0]["ebs"]
    assert ebs == {"volumeSize": 200, "iops": 3000}
    assert all(type(value) is int for value in ebs.values())


def test_integers_of_a_group_and_strings_left_alone() -> None:
    restored = restore_integers(
        {"desiredCapacity": 3.0, "maxSize": 4.0, "name": "3.0", "tags": [{"key": "a", "propagateAtLaunch": True}]},
        resource_shape(autoscaling.Group),
    )
    assert restored == {
        "desiredCapacity": 3,
        "maxSize": 4,
        "name": "3.0",
        "tags": [{"key": "a", "propagateAtLaunch": True}],
    }
    assert type(restored["desiredCapacity"]) is int
    assert restored["tags"][0]["propagateAtLaunch"] is True


def test_a_number_the_schema_calls_number_stays_a_float() -> None:
    # azure-native types sku.capacity as a number (int64 in Azure's spec), platformFaultDomainCount as integer.
    restored = restore_integers(
        {"sku": {"capacity": 5.0, "name": "Standard_NM4_Maia100_v1"}, "platformFaultDomainCount": 1.0},
        resource_shape(compute.VirtualMachineScaleSet),
    )
    assert type(restored["sku"]["capacity"]) is float
    assert type(restored["platformFaultDomainCount"]) is int


def test_secrets_unknowns_and_untyped_properties() -> None:
    shape = resource_shape(autoscaling.Group)
    secret = {SECRET_SIG_KEY: SECRET_SIG, "value": 2.0}
    restored = restore_integers(
        {"minSize": secret, "maxSize": UNKNOWN, "unheardOf": 7.0, "desiredCapacity": 2.5}, shape
    )
    assert restored["minSize"] == {SECRET_SIG_KEY: SECRET_SIG, "value": 2}
    assert type(restored["minSize"]["value"]) is int
    assert restored["maxSize"] == UNKNOWN
    assert type(restored["unheardOf"]) is float
    assert restored["desiredCapacity"] == 2.5


def test_input_and_output_names_come_from_the_generated_classes() -> None:
    inputs = schema_of(tpu.V2Vm).input_names
    outputs = schema_of(tpu.V2Vm).output_names
    assert {"acceleratorType", "networkConfig", "zone"} <= inputs
    assert {"state", "networkEndpoints"} <= outputs - inputs
    # The package namespace shadows VirtualNetworkArgs with a nested input type; the resource's
    # own module has the resource's args.
    import pulumi_azure_native.network as network

    assert "virtualNetworkName" in schema_of(network.VirtualNetwork).input_names


def test_a_malformed_description_is_refused() -> None:
    import pytest

    for document in ({}, {"shape": {"kind": "object", "type": "nowhere"}}, {"shape": {"kind": "int"}, "inputs": [1]}):
        with pytest.raises(ValueError):
            parse_schema(document)
