"""TpuCluster and TpuPool on their own, under mocks."""

from __future__ import annotations

from collections import Counter

import pytest
from pulumi_mocks import Recording, run_pulumi, tags_of

from components.gcp import TpuCluster, TpuClusterArgs, TpuPool, TpuSlices
from components.images import tpu_runtime_version
from components.tags import ResourceTags


def cluster_args(*, resident: tuple[TpuSlices, ...] = (), cluster: str = "gcp-usc1-v5p") -> TpuClusterArgs:
    return TpuClusterArgs(
        tags=ResourceTags(tenant="anthropic", cluster=cluster, phase=0),
        region="us-central1",
        zone="us-central1-a",
        runtime_version=tpu_runtime_version("v5p-8"),
        ip_cidr_range="10.5.0.0/20",
        resident=resident,
    )


def deploy(args: TpuClusterArgs) -> Recording:
    return run_pulumi(lambda: TpuCluster("gcp-usc1-v5p", args))


def test_cluster_declares_a_private_network_and_one_vm_per_planned_slice() -> None:
    recording = deploy(cluster_args(resident=(TpuSlices("embed", "v5p-16", 2), TpuSlices("code-assist", "v5p-64", 1))))

    assert Counter(resource.type for resource in recording) == {
        "maiaplan:gcp:TpuCluster": 1,
        "gcp:compute/network:Network": 1,
        "gcp:compute/subnetwork:Subnetwork": 1,
        "gcp:compute/firewall:Firewall": 1,
        "maiaplan:gcp:TpuPool": 2,
        "gcp:tpu/v2Vm:V2Vm": 3,
    }
    assert recording.named("gcp-usc1-v5p-net").inputs["autoCreateSubnetworks"] is False
    subnetwork = recording.named("gcp-usc1-v5p-subnet").inputs
    assert (subnetwork["region"], subnetwork["ipCidrRange"]) == ("us-central1", "10.5.0.0/20")
    types = Counter(vm.inputs["acceleratorType"] for vm in recording.of_type("gcp:tpu/v2Vm:V2Vm"))
    assert types == {"v5p-16": 2, "v5p-64": 1}


def test_tpu_vms_have_no_external_ips_and_the_firewall_admits_only_the_subnetwork() -> None:
    recording = deploy(cluster_args(resident=(TpuSlices("embed", "v5p-16", 2),)))

    for vm in recording.of_type("gcp:tpu/v2Vm:V2Vm"):
        assert vm.inputs["networkConfig"] == {
            "enableExternalIps": False,
            "network": "gcp-usc1-v5p-net-id",
            "subnetwork": "gcp-usc1-v5p-subnet-id",
        }
        assert vm.inputs["zone"] == "us-central1-a"
        assert vm.inputs["runtimeVersion"] == "v2-alpha-tpuv5"
    firewall = recording.named("gcp-usc1-v5p-internal").inputs
    assert firewall["direction"] == "INGRESS"
    assert firewall["sourceRanges"] == ["10.5.0.0/20"]


def test_vms_are_labelled_in_lowercase_and_sit_under_their_pool() -> None:
    def program() -> None:
        args = TpuClusterArgs(**{**cluster_args().__dict__, "tags": ResourceTags("Anthropic", "GCP-usc1-v5p", 0)})
        cluster = TpuCluster("gcp-usc1-v5p", args)
        TpuPool("phase-1-embed", cluster.pool_args(TpuSlices("Embed", "v5p-16", 1), phase=1))

    recording = run_pulumi(program)
    (vm,) = recording.of_type("gcp:tpu/v2Vm:V2Vm")
    assert tags_of(vm) == {
        "tenant": "anthropic",
        "cluster": "gcp-usc1-v5p",
        "phase": "1",
        "managed-by": "maiaplan",
        "workload": "embed",
    }
    assert recording.parent_of(vm) == recording.named("phase-1-embed")
    untaggable = {"gcp:compute/network:Network", "gcp:compute/subnetwork:Subnetwork", "gcp:compute/firewall:Firewall"}
    assert {r.type for r in recording.custom() if tags_of(r) is None} == untaggable


def test_names_that_cannot_be_gcp_labels_are_refused_before_deploying() -> None:
    with pytest.raises(ValueError, match="not a GCP label value"):
        cluster_args(cluster="gcp.usc1")
    with pytest.raises(ValueError, match="at least 1 TPU slice"):
        TpuSlices("embed", "v5p-8", 0)
