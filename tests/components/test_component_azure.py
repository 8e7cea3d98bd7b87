"""MaiaCluster and MaiaNodePool on their own, under mocks."""

from __future__ import annotations

from collections import Counter

import pytest
from pulumi_mocks import Recording, Registered, run_pulumi, tags_of

from components.azure import MaiaCluster, MaiaClusterArgs, MaiaNodePool, MaiaNodes
from components.images import azure_image
from components.tags import ResourceTags

VM_SIZE = "Standard_NM4_Maia100_v1"


def cluster_args(
    *, hardware: bool = True, hosts: int = 6, resident: tuple[MaiaNodes, ...] = (), tenant: str = "anthropic"
) -> MaiaClusterArgs:
    return MaiaClusterArgs(
        tags=ResourceTags(tenant=tenant, cluster="az-eastus-maia", phase=0),
        location="eastus",
        hardware_isolation=hardware,
        vm_size=VM_SIZE,
        image=azure_image(VM_SIZE),
        admin_username="maiaplan",
        admin_ssh_public_key="ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx operators",
        address_space="10.4.0.0/16",
        subnet_prefix="10.4.0.0/20",
        dedicated_host_sku="NM4Maia100v1-Type1",
        dedicated_host_count=hosts if hardware else 0,
        resident=resident,
    )


def deploy(args: MaiaClusterArgs) -> Recording:
    return run_pulumi(lambda: MaiaCluster("az-eastus-maia", args))


def scale_sets(recording: Recording) -> list[Registered]:
    return recording.of_type("azure-native:compute:VirtualMachineScaleSet")


def test_hardware_cluster_declares_network_placement_identity_and_its_hosts() -> None:
    recording = deploy(cluster_args(hosts=6, resident=(MaiaNodes("router-small", 4), MaiaNodes("embed", 2))))

    counts = Counter(resource.type for resource in recording)
    assert counts == {
        "maiaplan:azure:MaiaCluster": 1,
        "azure-native:resources:ResourceGroup": 1,
        "azure-native:network:NetworkSecurityGroup": 1,
        "azure-native:network:VirtualNetwork": 1,
        "azure-native:network:Subnet": 1,
        "azure-native:compute:ProximityPlacementGroup": 1,
        "azure-native:managedidentity:UserAssignedIdentity": 1,
        "azure-native:compute:DedicatedHostGroup": 1,
        "azure-native:compute:DedicatedHost": 6,
        "maiaplan:azure:MaiaNodePool": 2,
        "azure-native:compute:VirtualMachineScaleSet": 2,
    }
    group = recording.named("az-eastus-maia-hostgroup")
    assert group.inputs["supportAutomaticPlacement"] is True
    for host in recording.of_type("azure-native:compute:DedicatedHost"):
        assert host.inputs["hostGroupName"] == "az-eastus-maia-hostgroup"
        assert host.inputs["sku"] == {"name": "NM4Maia100v1-Type1"}


def test_every_child_is_parented_and_named_from_the_component() -> None:
    recording = deploy(cluster_args(resident=(MaiaNodes("router-small", 4),)))
    cluster = recording.named("az-eastus-maia")
    pool = recording.named("az-eastus-maia-router-small")

    for resource in recording:
        if resource is cluster:
            continue
        assert resource.name.startswith("az-eastus-maia-")
        expected_parent = pool if resource.type == "azure-native:compute:VirtualMachineScaleSet" else cluster
        assert recording.parent_of(resource) == expected_parent


def test_scale_set_has_the_planned_nodes_on_the_host_group_with_encryption_at_host() -> None:
    recording = deploy(cluster_args(resident=(MaiaNodes("router-small", 4), MaiaNodes("embed", 2))))

    capacity = {s.inputs["tags"]["workload"]: s.inputs["sku"]["capacity"] for s in scale_sets(recording)}
    assert capacity == {"router-small": 4, "embed": 2}
    for scale_set in scale_sets(recording):
        inputs = scale_set.inputs
        assert inputs["sku"]["name"] == VM_SIZE
        assert inputs["overprovision"] is False
        assert inputs["hostGroup"] == {"id": "az-eastus-maia-hostgroup-id"}
        assert inputs["proximityPlacementGroup"] == {"id": "az-eastus-maia-ppg-id"}
        assert inputs["virtualMachineProfile"]["securityProfile"]["encryptionAtHost"] is True
        assert inputs["identity"] == {
            "type": "UserAssigned",
            "userAssignedIdentities": ["az-eastus-maia-identity-id"],
        }
        linux = inputs["virtualMachineProfile"]["osProfile"]["linuxConfiguration"]
        assert linux["disablePasswordAuthentication"] is True


def test_no_public_ip_configuration_and_no_inbound_from_the_internet() -> None:
    recording = deploy(cluster_args(resident=(MaiaNodes("router-small", 4),)))

    for scale_set in scale_sets(recording):
        nics = scale_set.inputs["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"]
        for nic in nics:
            for ip in nic["ipConfigurations"]:
                assert "publicIPAddressConfiguration" not in ip
                assert ip["subnet"] == {"id": "az-eastus-maia-subnet-id"}
    assert not recording.of_type("azure-native:network:PublicIPAddress")

    rules = recording.named("az-eastus-maia-nsg").inputs["securityRules"]
    inbound = [rule for rule in rules if rule["direction"] == "Inbound"]
    assert [rule["access"] for rule in inbound] == ["Deny"]
    assert inbound[0]["sourceAddressPrefix"] == "Internet"
    subnet = recording.named("az-eastus-maia-subnet")
    assert subnet.inputs["networkSecurityGroup"] == {"id": "az-eastus-maia-nsg-id"}
    assert subnet.inputs["defaultOutboundAccess"] is False


def test_shared_cluster_has_no_host_group_and_pools_float() -> None:
    recording = deploy(cluster_args(hardware=False, tenant="copilot", resident=(MaiaNodes("copilot-chat", 8),)))

    assert not recording.of_type("azure-native:compute:DedicatedHostGroup")
    assert not recording.of_type("azure-native:compute:DedicatedHost")
    (scale_set,) = scale_sets(recording)
    assert "hostGroup" not in scale_set.inputs
    assert scale_set.inputs["sku"]["capacity"] == 8


def test_every_taggable_resource_is_tagged_and_pools_name_their_workload() -> None:
    recording = deploy(cluster_args(resident=(MaiaNodes("router-small", 4),)))

    tagged = 0
    for resource in recording.custom():
        tags = tags_of(resource)
        if tags is None:
            continue
        tagged += 1
        expected = {"tenant": "anthropic", "cluster": "az-eastus-maia", "phase": "0", "managed-by": "maiaplan"}
        if resource.type == "azure-native:compute:VirtualMachineScaleSet":
            expected["workload"] = "router-small"
        assert tags == expected, resource.name
    assert tagged == len(recording.custom()) - 1  # all but the subnet, which Azure does not tag


def test_pool_args_for_a_later_phase_carry_that_phase_and_the_cluster_network() -> None:
    def program() -> None:
        cluster = MaiaCluster("az-eastus-maia", cluster_args())
        MaiaNodePool("phase-2-chat-fast", cluster.pool_args(MaiaNodes("chat-fast", 16), phase=2))

    recording = run_pulumi(program)
    scale_set = recording.named("phase-2-chat-fast-vmss")
    assert recording.parent_of(scale_set) == recording.named("phase-2-chat-fast")
    assert scale_set.inputs["tags"]["phase"] == "2"
    assert scale_set.inputs["tags"]["workload"] == "chat-fast"
    assert scale_set.inputs["sku"]["capacity"] == 16
    assert scale_set.inputs["hostGroup"] == {"id": "az-eastus-maia-hostgroup-id"}


def test_invalid_args_are_refused() -> None:
    with pytest.raises(ValueError, match="shared hardware"):
        MaiaClusterArgs(**{**cluster_args(hardware=False).__dict__, "dedicated_host_count": 2})
    with pytest.raises(ValueError, match="at least 1 node"):
        MaiaNodes("embed", 0)
    with pytest.raises(ValueError, match="must not name a workload"):
        MaiaClusterArgs(**{**cluster_args().__dict__, "tags": ResourceTags("anthropic", "c", 0, workload="w")})
