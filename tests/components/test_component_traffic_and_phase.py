"""TrafficShift and MigrationPhase on their own, under mocks."""

from __future__ import annotations

import pulumi
import pytest
from pulumi_mocks import Recording, run_pulumi, tags_of

from components.aws import AcceleratorCluster, AcceleratorClusterArgs, Ec2Instances
from components.azure import MaiaCluster, MaiaClusterArgs, MaiaNodes
from components.gcp import TpuCluster, TpuClusterArgs, TpuSlices
from components.images import aws_image, azure_image, tpu_runtime_version
from components.phase import MigrationPhase, MigrationPhaseArgs
from components.tags import ResourceTags
from components.traffic import EXTERNAL_ENDPOINT, TrafficHome, TrafficShift, TrafficShiftArgs

OLD = TrafficHome("aws-use1-h100", "router-small.aws-use1-h100.serving.example.com")
NEW = TrafficHome("az-eastus-maia", "router-small.az-eastus-maia.serving.example.com")


def shift_args(step: int, *, phase: int = 1, workload: str = "router-small") -> TrafficShiftArgs:
    return TrafficShiftArgs(
        tags=ResourceTags("anthropic", "az-eastus-maia", phase, workload=workload),
        location="eastus",
        dns_relative_name=f"maia-pilot-{workload}",
        source=OLD,
        destination=NEW,
        percent_on_destination=step,
    )


def endpoints(recording: Recording) -> dict[str, tuple[str, float]]:
    (profile,) = recording.of_type("azure-native:trafficmanager:Profile")
    return {e["name"]: (e["target"], e["weight"]) for e in profile.inputs["endpoints"]}


@pytest.mark.parametrize("step", [1, 10, 50])
def test_a_step_splits_weights_between_the_old_and_the_new_home(step: int) -> None:
    recording = run_pulumi(lambda: TrafficShift("router-small-traffic", shift_args(step)))

    assert endpoints(recording) == {"aws-use1-h100": (OLD.target, 100 - step), "az-eastus-maia": (NEW.target, step)}
    (profile,) = recording.of_type("azure-native:trafficmanager:Profile")
    assert profile.inputs["trafficRoutingMethod"] == "Weighted"
    assert {e["type"] for e in profile.inputs["endpoints"]} == {EXTERNAL_ENDPOINT}
    assert profile.inputs["dnsConfig"]["relativeName"] == "maia-pilot-router-small"
    assert profile.inputs["resourceGroupName"] == "router-small-traffic-rg"


def test_a_completed_move_keeps_only_the_new_home() -> None:
    recording = run_pulumi(lambda: TrafficShift("router-small-traffic", shift_args(100)))
    assert endpoints(recording) == {"az-eastus-maia": (NEW.target, 100)}


def test_traffic_shift_resources_are_tagged_with_the_workload_and_parented() -> None:
    recording = run_pulumi(lambda: TrafficShift("router-small-traffic", shift_args(10, phase=2)))
    shift = recording.named("router-small-traffic")
    for resource in recording.custom():
        assert recording.parent_of(resource) == shift
        assert tags_of(resource) == {
            "tenant": "anthropic",
            "cluster": "az-eastus-maia",
            "phase": "2",
            "managed-by": "maiaplan",
            "workload": "router-small",
        }


@pytest.mark.parametrize("step", [0, 101])
def test_a_step_outside_1_to_100_is_refused(step: int) -> None:
    with pytest.raises(ValueError, match="1 to 100"):
        shift_args(step)


def test_a_shift_needs_two_different_homes() -> None:
    with pytest.raises(ValueError, match="two homes"):
        TrafficShiftArgs(**{**shift_args(10).__dict__, "source": NEW})


def clusters() -> tuple[MaiaCluster, AcceleratorCluster, TpuCluster]:
    maia = MaiaCluster(
        "az-eastus-maia",
        MaiaClusterArgs(
            tags=ResourceTags("anthropic", "az-eastus-maia", 0),
            location="eastus",
            hardware_isolation=True,
            vm_size="Standard_NM4_Maia100_v1",
            image=azure_image("Standard_NM4_Maia100_v1"),
            admin_username="maiaplan",
            admin_ssh_public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx operators",
            address_space="10.0.0.0/16",
            subnet_prefix="10.0.0.0/20",
            dedicated_host_sku="NM4Maia100v1-Type1",
            dedicated_host_count=4,
        ),
    )
    trn2 = AcceleratorCluster(
        "aws-use1-trn2",
        AcceleratorClusterArgs(
            tags=ResourceTags("anthropic", "aws-use1-trn2", 0),
            region="us-east-1",
            hardware_isolation=True,
            instance_type="trn2.48xlarge",
            image=aws_image("trn2.48xlarge"),
            cidr_block="10.3.0.0/16",
            subnet_cidr_block="10.3.0.0/20",
        ),
    )
    tpu = TpuCluster(
        "gcp-usc1-v5p",
        TpuClusterArgs(
            tags=ResourceTags("anthropic", "gcp-usc1-v5p", 0),
            region="us-central1",
            zone=None,
            runtime_version=tpu_runtime_version("v5p-8"),
            ip_cidr_range="10.5.0.0/20",
        ),
    )
    return maia, trn2, tpu


def two_phases() -> None:
    maia, trn2, tpu = clusters()
    first = MigrationPhase(
        "phase-1",
        MigrationPhaseArgs(
            phase=1,
            pools=[maia.pool_args(MaiaNodes("router-small", 2), phase=1)],
            traffic_shifts=[shift_args(100, phase=1)],
        ),
    )
    MigrationPhase(
        "phase-2",
        MigrationPhaseArgs(
            phase=2,
            pools=[
                maia.pool_args(MaiaNodes("safety-filter", 2), phase=2),
                trn2.pool_args(Ec2Instances("code-assist", 1), phase=2),
                tpu.pool_args(TpuSlices("chat-fast", "v5p-16", 2), phase=2),
            ],
            traffic_shifts=[shift_args(50, phase=2, workload="safety-filter")],
        ),
        pulumi.ResourceOptions(depends_on=[first]),
    )


def test_a_phase_parents_the_pools_and_shifts_of_its_moves() -> None:
    recording = run_pulumi(two_phases)
    phase_2 = recording.named("phase-2")

    children = {(child.type, child.name) for child in recording.children_of(phase_2)}
    assert children == {
        ("maiaplan:azure:MaiaNodePool", "phase-2-safety-filter-az-eastus-maia"),
        ("maiaplan:aws:AcceleratorPool", "phase-2-code-assist-aws-use1-trn2"),
        ("maiaplan:gcp:TpuPool", "phase-2-chat-fast-gcp-usc1-v5p"),
        ("maiaplan:migration:TrafficShift", "phase-2-safety-filter-traffic"),
    }
    phase_of_component = {"phase-1": "1", "phase-2": "2"}
    for resource in recording.custom():
        tags = tags_of(resource)
        if tags is None:
            continue
        phases = [a.name for a in recording.ancestors_of(resource) if a.type == "maiaplan:migration:MigrationPhase"]
        assert tags["phase"] == (phase_of_component[phases[0]] if phases else "0"), resource.name
    for name in ("phase-2-safety-filter-az-eastus-maia-vmss", "phase-1-router-small-az-eastus-maia-vmss"):
        assert recording.named(name).inputs["sku"]["capacity"] == 2
    assert len(recording.of_type("gcp:tpu/v2Vm:V2Vm")) == 2


def test_each_phase_waits_for_everything_the_previous_phase_declared() -> None:
    recording = run_pulumi(two_phases)
    phase_1 = recording.named("phase-1")
    phase_2 = recording.named("phase-2")

    declared_by_phase_1 = {r.urn for r in recording.custom() if phase_1 in recording.ancestors_of(r)}
    assert declared_by_phase_1
    assert declared_by_phase_1 <= set(phase_2.dependencies)
    assert not set(phase_1.dependencies)


def test_pools_and_shifts_of_another_phase_are_refused() -> None:
    with pytest.raises(ValueError, match="tagged phase 2, not 1"):
        MigrationPhaseArgs(phase=1, traffic_shifts=[shift_args(10, phase=2)])
    with pytest.raises(ValueError, match="count from 1"):
        MigrationPhaseArgs(phase=0)
