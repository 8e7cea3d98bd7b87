"""The Pulumi program, run in-process under mocks for every phase and traffic step of the example."""

from __future__ import annotations

import functools
import re
import runpy
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi_mocks import Recording, Registered, run_pulumi, tags_of

from planner.errors import InputError
from planner.plan_builder import plan_migration
from planner.plan_document import MigrationPlan, allocations_at
from planner.spec import MigrationSpec, load_spec

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = str(ROOT / "__main__.py")
SPEC = load_spec(ROOT / "examples" / "maia-pilot.yaml")
PLAN = plan_migration(SPEC)
STEPS = SPEC.migration.traffic_steps
MOMENTS = [(0, 100)] + [(phase.phase, step) for phase in PLAN.phases for step in STEPS]
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQS0Po0VTOi7rEDo5ikiJkBf/6vOnyDomwpww+VVxwJ maiaplan-operators"
BASE_CONFIG = {
    "maiaplan:spec": "examples/maia-pilot.yaml",
    "maiaplan:sshPublicKey": SSH_KEY,
    "maiaplan:servingDomain": "serving.example.com",
}
PHASE_COMPONENT = "maiaplan:migration:MigrationPhase"
CLUSTER_COMPONENTS = {"maiaplan:azure:MaiaCluster", "maiaplan:aws:AcceleratorCluster", "maiaplan:gcp:TpuCluster"}
OPEN_INBOUND = {"0.0.0.0/0", "::/0", "*", "Internet", "Any"}


def run_program(config: dict[str, str], stack: str = "test") -> Recording:
    return run_pulumi(lambda: runpy.run_path(PROGRAM, run_name="__main__"), config=config, stack=stack)


@functools.cache
def at(phase: int, step: int) -> Recording:
    return run_program({**BASE_CONFIG, "maiaplan:phase": str(phase), "maiaplan:step": str(step)})


def moment_id(moment: tuple[int, int]) -> str:
    return f"phase{moment[0]}-step{moment[1]}"


# --- independent readings of the recorded resources ------------------------------------------------


def chips_by_pool(recording: Recording, spec: MigrationSpec) -> dict[tuple[str, str], int]:
    """(workload, cluster) -> chips, counted from the resources the way the policy pack does."""
    per_sku = {a.sku: a.chips_per_sku for a in spec.accelerators.values() if a.tpu_cores_per_chip is None}
    tpu_cores = {a.sku: a.tpu_cores_per_chip for a in spec.accelerators.values() if a.tpu_cores_per_chip}
    chips: Counter[tuple[str, str]] = Counter()
    for resource in recording.custom():
        tags = tags_of(resource) or {}
        key = (tags.get("workload", ""), tags.get("cluster", ""))
        if resource.type == "azure-native:compute:VirtualMachineScaleSet":
            sku = resource.inputs["sku"]
            chips[key] += int(sku["capacity"]) * per_sku[sku["name"]]
        elif resource.type == "aws:autoscaling/group:Group":
            template = recording.with_id(resource.inputs["launchTemplate"]["id"])
            assert template is not None
            chips[key] += int(resource.inputs["desiredCapacity"]) * per_sku[template.inputs["instanceType"]]
        elif resource.type == "gcp:tpu/v2Vm:V2Vm":
            generation, cores = resource.inputs["acceleratorType"].rsplit("-", 1)
            chips[key] += int(cores) // tpu_cores[generation]
    return dict(chips)


def tenant_of(recording: Recording, resource: Registered, plan: MigrationPlan) -> str:
    """A resource's tenant: its tag, or (untaggable resources) its cluster's tenant."""
    tags = tags_of(resource)
    if tags:
        return tags["tenant"]
    (cluster,) = [a for a in recording.ancestors_of(resource) if a.type in CLUSTER_COMPONENTS]
    return next(c.tenant for c in plan.clusters if c.name == cluster.name)


def cluster_tag(resource: Registered) -> str:
    tags = tags_of(resource)
    assert tags is not None, f"{resource.type} is not taggable"
    return tags["cluster"]


def phase_components(recording: Recording) -> list[str]:
    return sorted(r.name for r in recording.of_type(PHASE_COMPONENT))


def weights(recording: Recording, workload: str, phase: int) -> dict[str, float]:
    shift = recording.named(f"phase-{phase}-{workload}-traffic")
    (profile,) = [r for r in recording.children_of(shift) if r.type == "azure-native:trafficmanager:Profile"]
    return {endpoint["name"]: endpoint["weight"] for endpoint in profile.inputs["endpoints"]}


# --- every moment -----------------------------------------------------------------------------------


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_every_size_equals_the_plans_allocation(moment: tuple[int, int]) -> None:
    planned = {(a.workload, a.cluster): a.chips for a in allocations_at(PLAN, *moment) if a.chips}
    assert chips_by_pool(at(*moment), SPEC) == planned


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_declares_every_cluster_and_only_the_phases_so_far(moment: tuple[int, int]) -> None:
    phase, _ = moment
    recording = at(*moment)

    clusters = {r.name for r in recording if r.type in CLUSTER_COMPONENTS}
    assert clusters == {c.name for c in PLAN.clusters}
    assert phase_components(recording) == [f"phase-{k}" for k in range(1, phase + 1)]
    for resource in recording.custom():
        tags = tags_of(resource)
        if tags is not None:
            assert int(tags["phase"]) <= phase, resource.name
    later_moves = {m.workload for p in PLAN.phases[phase:] for m in p.moves}
    shifts = {r.name for r in recording.of_type("maiaplan:migration:TrafficShift")}
    assert not {name for name in shifts if any(f"-{w}-traffic" in name for w in later_moves)}


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_pools_sit_under_their_cluster_or_the_phase_that_moved_them(moment: tuple[int, int]) -> None:
    recording = at(*moment)
    for pool in recording:
        if pool.type not in {"maiaplan:azure:MaiaNodePool", "maiaplan:aws:AcceleratorPool", "maiaplan:gcp:TpuPool"}:
            continue
        parent = recording.parent_of(pool)
        assert parent is not None
        (tags,) = {tuple(sorted((tags_of(c) or {}).items())) for c in recording.children_of(pool)}
        tag = dict(tags)
        if tag["phase"] == "0":
            assert (parent.type, parent.name) in {(t, tag["cluster"]) for t in CLUSTER_COMPONENTS}
        else:
            assert (parent.type, parent.name) == (PHASE_COMPONENT, f"phase-{tag['phase']}")


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_every_taggable_resource_is_tagged(moment: tuple[int, int]) -> None:
    pool_types = {"azure-native:compute:VirtualMachineScaleSet", "aws:autoscaling/group:Group", "gcp:tpu/v2Vm:V2Vm"}
    for resource in at(*moment).custom():
        tags = tags_of(resource)
        if tags is None:
            continue
        assert {"tenant", "cluster", "phase", "managed-by"} <= set(tags), resource.name
        assert tags["managed-by"] == "maiaplan"
        if resource.type in pool_types or resource.type == "azure-native:trafficmanager:Profile":
            assert tags.get("workload"), resource.name
        if resource.type.startswith("gcp:"):
            assert all(value == value.lower() for value in tags.values())


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_no_public_ip_and_no_open_inbound_rule(moment: tuple[int, int]) -> None:
    recording = at(*moment)
    assert not [r for r in recording.custom() if "PublicIP" in r.type or r.type.endswith("eip:Eip")]
    for resource in recording.custom():
        inputs = resource.inputs
        if resource.type == "azure-native:compute:VirtualMachineScaleSet":
            nics = inputs["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"]
            assert all("publicIPAddressConfiguration" not in ip for nic in nics for ip in nic["ipConfigurations"])
        elif resource.type == "azure-native:network:NetworkSecurityGroup":
            for rule in inputs["securityRules"]:
                if rule["direction"] == "Inbound" and rule["access"] == "Allow":
                    assert rule.get("sourceAddressPrefix") not in OPEN_INBOUND, resource.name
        elif resource.type == "aws:ec2/launchTemplate:LaunchTemplate":
            assert all(nic["associatePublicIpAddress"] == "false" for nic in inputs["networkInterfaces"])
        elif resource.type == "aws:ec2/subnet:Subnet":
            assert inputs["mapPublicIpOnLaunch"] is False
        elif resource.type == "aws:ec2/securityGroup:SecurityGroup":
            for rule in inputs["ingress"]:
                assert not OPEN_INBOUND & set(rule.get("cidrBlocks", []) + rule.get("ipv6CidrBlocks", []))
        elif resource.type == "gcp:compute/firewall:Firewall":
            assert not OPEN_INBOUND & set(inputs["sourceRanges"])
        elif resource.type == "gcp:tpu/v2Vm:V2Vm":
            assert inputs["networkConfig"]["enableExternalIps"] is False


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_hardware_isolated_tenants_are_on_dedicated_hosts_or_tenancy(moment: tuple[int, int]) -> None:
    recording = at(*moment)
    isolation = {t.name: t.isolation for t in SPEC.tenants}
    checked = Counter[str]()
    for resource in recording.custom():
        tenant = tenant_of(recording, resource, PLAN)
        if resource.type == "azure-native:compute:VirtualMachineScaleSet":
            host_group = resource.inputs.get("hostGroup")
            if isolation[tenant] == "hardware":
                assert host_group is not None, resource.name
                referenced = recording.with_id(host_group["id"])
                assert referenced is not None and referenced.type == "azure-native:compute:DedicatedHostGroup"
            else:
                assert host_group is None
            checked[isolation[tenant]] += 1
        elif resource.type == "aws:ec2/launchTemplate:LaunchTemplate":
            expected = "dedicated" if isolation[tenant] == "hardware" else "default"
            assert resource.inputs["placement"]["tenancy"] == expected
            checked[isolation[tenant]] += 1
    assert checked["hardware"] and checked["shared"]  # both kinds of tenant are exercised


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_dedicated_hosts_hold_every_node_of_their_cluster(moment: tuple[int, int]) -> None:
    recording = at(*moment)
    hosts = Counter(cluster_tag(r) for r in recording.of_type("azure-native:compute:DedicatedHost"))
    nodes = Counter[str]()
    for scale_set in recording.of_type("azure-native:compute:VirtualMachineScaleSet"):
        if "hostGroup" in scale_set.inputs:
            nodes[cluster_tag(scale_set)] += int(scale_set.inputs["sku"]["capacity"])
    assert hosts == nodes


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_no_resource_references_another_tenants_network_or_hosts(moment: tuple[int, int]) -> None:
    recording = at(*moment)
    references = 0
    for resource in recording.custom():
        tenant = tenant_of(recording, resource, PLAN)
        for referenced in recording.references_of(resource):
            references += 1
            assert tenant_of(recording, referenced, PLAN) == tenant, f"{resource.name} -> {referenced.name}"
    assert references


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_summary_exports_phase_moves_and_chips_per_provider(moment: tuple[int, int]) -> None:
    phase, step = moment
    exports = at(*moment).exports
    providers = {c.name: c.provider for c in PLAN.clusters}
    chips = Counter[str]()
    for allocation in allocations_at(PLAN, phase, step):
        chips[providers[allocation.cluster]] += allocation.chips
    assert exports["phase"] == phase and exports["step"] == step
    assert exports["chipsByProvider"] == {p: n for p, n in sorted(chips.items()) if n}
    assert [(m["phase"], m["workload"]) for m in exports["moves"]] == [
        (p.phase, m.workload) for p in PLAN.phases[:phase] for m in p.moves
    ]
    assert {m["percentOnDestination"] for m in exports["moves"] if m["phase"] < phase} <= {100}


# --- across the steps of a phase and across phases --------------------------------------------------


def urns(recording: Recording) -> set[str]:
    return {r.urn for r in recording}


def declared(recording: Recording) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Every registration as (type, name, parent's name, inputs): comparable across stacks."""
    parents = {r.urn: r.name for r in recording}
    return [(r.type, r.name, parents.get(r.parent, ""), dict(r.inputs)) for r in recording]


@pytest.mark.parametrize("phase", [p.phase for p in PLAN.phases])
def test_within_a_phase_steps_change_weights_then_100_releases_the_sources(phase: int) -> None:
    moves = PLAN.phases[phase - 1].moves
    partial = [s for s in STEPS if s < 100]
    for step in partial:
        assert urns(at(phase, step)) == urns(at(phase, partial[0]))
        for move in moves:
            assert weights(at(phase, step), move.workload, phase) == {
                move.from_cluster: 100 - step,
                move.to_cluster: step,
            }

    before, after = at(phase, partial[-1]), at(phase, 100)
    assert urns(after) <= urns(before)
    released = [r for r in before.custom() if r.urn not in urns(after)]
    sources = {(m.workload, m.from_cluster) for m in moves}
    source_clusters = {m.from_cluster for m in moves}
    for resource in released:
        tags = tags_of(resource) or {}
        is_source_pool = (tags.get("workload"), tags.get("cluster")) in sources
        is_source_host = resource.type == "azure-native:compute:DedicatedHost" and tags["cluster"] in source_clusters
        assert is_source_pool or is_source_host, resource.name
    still_there = [
        r for r in after.custom() if ((tags_of(r) or {}).get("workload"), (tags_of(r) or {}).get("cluster")) in sources
    ]
    assert not still_there
    for move in moves:
        assert weights(after, move.workload, phase) == {move.to_cluster: 100}


@pytest.mark.parametrize("phase", [p.phase for p in PLAN.phases])
def test_a_new_phase_only_adds_to_the_completed_previous_one(phase: int) -> None:
    previous = at(phase - 1, 100)
    current = at(phase, STEPS[0])
    assert urns(previous) <= urns(current)
    phase_name = f"phase-{phase}"
    added = [r for r in current if r.urn not in urns(previous)]
    for resource in added:
        in_phase = any(a.name == phase_name for a in current.ancestors_of(resource)) or resource.name == phase_name
        is_new_host = resource.type == "azure-native:compute:DedicatedHost"
        assert in_phase or is_new_host, resource.name
    if phase > 1:
        current_phase = current.named(phase_name)
        previous_phase = current.named(f"phase-{phase - 1}")
        earlier = {r.urn for r in current.custom() if previous_phase in current.ancestors_of(r)}
        assert earlier <= set(current_phase.dependencies)


# --- the example stacks -----------------------------------------------------------------------------


def stack_config(name: str) -> dict[str, str]:
    document = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{name}.yaml").read_text(encoding="utf-8"))
    return {key: str(value) for key, value in document["config"].items()}


@pytest.mark.parametrize(
    ("stack", "phase", "step"),
    [("pilot", 1, 1), ("midway", 2, 50), ("final", len(PLAN.phases), 100)],
)
def test_each_example_stack_realises_its_moment(stack: str, phase: int, step: int) -> None:
    config = stack_config(stack)
    assert (int(config["maiaplan:phase"]), int(config["maiaplan:step"])) == (phase, step)
    recording = run_program(config, stack=stack)
    assert (recording.exports["phase"], recording.exports["step"]) == (phase, step)
    # Same config, same declarations: the stack's run matches the moment's run in every input.
    assert declared(recording) == declared(at(phase, step))


def test_midway_is_a_middle_phase() -> None:
    assert 1 < int(stack_config("midway")["maiaplan:phase"]) < len(PLAN.phases)


# --- bad config -------------------------------------------------------------------------------------


def complete_config(**changes: str | None) -> dict[str, str]:
    config = {**BASE_CONFIG, "maiaplan:phase": "1", "maiaplan:step": "10"}
    for key, value in changes.items():
        if value is None:
            config.pop(f"maiaplan:{key}")
        else:
            config[f"maiaplan:{key}"] = value
    return config


@pytest.mark.parametrize(
    ("changes", "key", "problem"),
    [
        ({"spec": None}, "spec", "is not set"),
        ({"spec": "examples/missing.yaml"}, "spec", "names no file"),
        ({"phase": None}, "phase", "is not set"),
        ({"phase": "one"}, "phase", "must be a whole number"),
        ({"phase": "4"}, "phase", "has phases 0 to 3"),
        ({"phase": "-1"}, "phase", "has phases 0 to 3"),
        ({"step": None}, "step", "is not set"),
        ({"step": "25"}, "step", "not one of migration.traffic_steps"),
        ({"sshPublicKey": None}, "sshPublicKey", "is not set"),
        ({"sshPublicKey": "AAAA not a key"}, "sshPublicKey", "not an OpenSSH public key"),
        ({"servingDomain": None}, "servingDomain", "is not set"),
        ({"servingDomain": "Not A Domain"}, "servingDomain", "is not a DNS domain"),
    ],
)
def test_missing_or_invalid_config_is_an_error_naming_the_key(changes: dict[str, Any], key: str, problem: str) -> None:
    with pytest.raises(InputError) as raised:
        run_program(complete_config(**changes), stack="pilot")
    assert raised.value.path == f"maiaplan:{key}"
    assert raised.value.file == "stacks/Pulumi.pilot.yaml"
    assert re.search(problem, raised.value.problem)


def test_phase_0_needs_no_serving_domain() -> None:
    recording = run_program(complete_config(phase="0", step="100", servingDomain=None))
    assert not recording.of_type("maiaplan:migration:TrafficShift")
