"""A clean multi-cloud stack as the engine would preview it, and seeded violations of maiaplan-guard.

The clean stack has two tenants (``anthropic``, hardware-isolated; ``copilot``, shared) on Azure,
AWS and GCP, built like the maiaplan components build them: provider type tokens, camelCase
property names, references to resources created in the same preview as unknown ids with the
engine's property dependencies. Each :class:`Seed` changes it in one way that exactly one policy
must catch, on the resources it names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pulumi_dryrun.resources import UNKNOWN, ResourceRecord

STACK = "dev"
PROJECT = "maiaplan"
ROOT_TYPE = "pulumi:pulumi:Stack"
ROOT = f"urn:pulumi:{STACK}::{PROJECT}::{ROOT_TYPE}::{PROJECT}-{STACK}"

# Policy names (the pack's public interface; spelled out here on purpose).
TAGS = "maiaplan-tags"
DEDICATED = "dedicated-hardware"
INGRESS = "no-public-ingress"
ENCRYPTION = "encryption-at-host"
BOUNDARY = "tenant-network-boundary"
CONTRACTS = "contract-limits"

TENANTS = [{"name": "anthropic", "isolation": "hardware"}, {"name": "copilot", "isolation": "shared"}]
CONTRACT_LIST = [
    {
        "name": "aws-strategic",
        "tenant": "anthropic",
        "provider": "aws",
        "min_share": 0.35,
        "exclusive_workloads": ["research-eval"],
    },
    {"name": "gcp-commit", "tenant": "anthropic", "provider": "gcp", "min_chips": 20},
    {
        "name": "azure-maia-lease",
        "tenant": "anthropic",
        "provider": "azure",
        "max_chips": 64,
        "regions": ["eastus", "westus3"],
    },
]
CHIPS_PER_SKU = {
    "Standard_NM4_Maia100_v1": 4,
    "trn2.48xlarge": 16,
    "inf2.48xlarge": 12,
    "p5.48xlarge": 8,
    "p5e.48xlarge": 8,
    "a3-highgpu-8g": 8,  # a GCP GPU machine type the built-in catalog does not list
}

# The --policy-pack-config document of the clean stack.
GUARD_CONFIG: dict[str, Any] = {
    DEDICATED: {"tenants": TENANTS},
    BOUNDARY: {"tenants": TENANTS},
    CONTRACTS: {"contracts": CONTRACT_LIST, "chips_per_sku": CHIPS_PER_SKU},
}

_COMPONENTS = {
    "azure": ("maiaplan:azure:MaiaCluster", "maiaplan:azure:MaiaNodePool"),
    "aws": ("maiaplan:aws:AcceleratorCluster", "maiaplan:aws:AcceleratorPool"),
    "gcp": ("maiaplan:gcp:TpuCluster", "maiaplan:gcp:TpuPool"),
}
_PROVIDER_TYPES = {
    "azure": "pulumi:providers:azure-native",
    "aws": "pulumi:providers:aws",
    "gcp": "pulumi:providers:gcp",
}


def tags(tenant: str, cluster: str, workload: str | None = None, phase: int = 0) -> dict[str, str]:
    values = {"tenant": tenant, "cluster": cluster, "phase": str(phase), "managed-by": "maiaplan"}
    if workload:
        values["workload"] = workload
    return values


def asg_tags(values: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in values.items()]


@dataclass(frozen=True)
class Corpus:
    """A stack of records by logical name, with copy-on-write edits for seeding violations."""

    records: Mapping[str, ResourceRecord]

    def urn(self, name: str) -> str:
        return self.records[name].urn

    def list(self) -> list[ResourceRecord]:
        return list(self.records.values())

    def _with(self, name: str, record: ResourceRecord) -> Corpus:
        return Corpus({**self.records, name: record})

    def set(self, name: str, path: str, value: Any) -> Corpus:
        """Set the input at dotted ``path`` (list indexes as numbers)."""
        record = self.records[name]
        return self._with(name, replace(record, inputs=_set_path(record.inputs, path.split("."), value)))

    def delete(self, name: str, path: str) -> Corpus:
        record = self.records[name]
        return self._with(name, replace(record, inputs=_delete_path(record.inputs, path.split("."))))

    def refer(self, name: str, prop: str, targets: Sequence[str]) -> Corpus:
        """Make property ``prop`` of ``name`` depend on ``targets`` (replacing what it depended on)."""
        record = self.records[name]
        deps = {k: v for k, v in record.property_dependencies.items() if k != prop}
        if targets:
            deps[prop] = tuple(self.urn(t) for t in targets)
        flat = tuple(dict.fromkeys(u for urns in deps.values() for u in urns))
        return self._with(name, replace(record, property_dependencies=deps, dependencies=flat))

    def add(self, name: str, record: ResourceRecord) -> Corpus:
        return self._with(name, record)


def _set_path(value: Any, path: list[str], new: Any) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(value, list):
        copy = list(value)
        index = int(head)
        copy[index] = _set_path(copy[index], rest, new) if rest else new
        return copy
    copy_map = dict(value)
    copy_map[head] = _set_path(copy_map.get(head, {}), rest, new) if rest else new
    return copy_map


def _delete_path(value: Any, path: list[str]) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(value, list):
        copy = list(value)
        index = int(head)
        if rest:
            copy[index] = _delete_path(copy[index], rest)
        else:
            del copy[index]
        return copy
    copy_map = dict(value)
    if rest:
        copy_map[head] = _delete_path(copy_map[head], rest)
    else:
        del copy_map[head]
    return copy_map


class _Builder:
    """Registers records the way the engine would see a maiaplan program's preview."""

    def __init__(self) -> None:
        self.records: dict[str, ResourceRecord] = {}
        self._qualified: dict[str, str] = {}
        self.records["stack"] = ResourceRecord(
            urn=ROOT, type=ROOT_TYPE, name=f"{PROJECT}-{STACK}", custom=False, inputs={}
        )
        for family, provider_type in _PROVIDER_TYPES.items():
            name = f"default_{family}"
            inputs = {
                "aws": {"region": "us-east-1"},
                "gcp": {"project": "anthropic-serving", "region": "us-central1"},
                "azure": {"location": "eastus"},
            }[family]
            self.records[f"provider-{family}"] = ResourceRecord(
                urn=f"urn:pulumi:{STACK}::{PROJECT}::{provider_type}::{name}",
                type=provider_type,
                name=name,
                custom=True,
                inputs=inputs,
                id=UNKNOWN,
            )

    def provider_ref(self, family: str) -> str:
        return f"{self.records[f'provider-{family}'].urn}::{UNKNOWN}"

    def add(
        self,
        name: str,
        type_: str,
        inputs: Mapping[str, Any],
        *,
        parent: str | None = None,
        refs: Mapping[str, Sequence[str]] | None = None,
        custom: bool = True,
    ) -> str:
        parent_qualified = self._qualified.get(parent or "", "")
        qualified = f"{parent_qualified}${type_}" if parent_qualified else type_
        self._qualified[name] = qualified
        deps = {prop: tuple(self.records[t].urn for t in targets) for prop, targets in (refs or {}).items()}
        family = {"azure-native": "azure", "aws": "aws", "gcp": "gcp"}.get(type_.split(":", 1)[0])
        record = ResourceRecord(
            urn=f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{name}",
            type=type_,
            name=name,
            custom=custom,
            inputs=dict(inputs),
            parent=self.records[parent].urn if parent else ROOT,
            dependencies=tuple(dict.fromkeys(u for urns in deps.values() for u in urns)),
            property_dependencies=deps,
            provider=self.provider_ref(family) if custom and family else None,
            id=UNKNOWN if custom else None,
        )
        self.records[name] = record
        return record.urn

    def component(self, name: str, family: str, pool: bool = False, parent: str | None = None) -> str:
        return self.add(name, _COMPONENTS[family][1 if pool else 0], {}, parent=parent, custom=False)


def _azure_cluster(b: _Builder, name: str, tenant: str, hardware: bool, address: str) -> None:
    t = tags(tenant, name)
    b.component(name, "azure")
    b.add(
        f"{name}-rg",
        "azure-native:resources:ResourceGroup",
        {"location": "eastus", "resourceGroupName": f"{name}-rg1a2b3c", "tags": t},
        parent=name,
    )
    rg = {"resourceGroupName": [f"{name}-rg"]}
    b.add(
        f"{name}-nsg",
        "azure-native:network:NetworkSecurityGroup",
        {
            "resourceGroupName": UNKNOWN,
            "location": "eastus",
            "networkSecurityGroupName": f"{name}-nsg55aa66",
            "securityRules": [
                {
                    "name": f"{name}-deny-internet-inbound",
                    "access": "Deny",
                    "direction": "Inbound",
                    "protocol": "*",
                    "priority": 100,
                    "sourceAddressPrefix": "Internet",
                    "sourcePortRange": "*",
                    "destinationAddressPrefix": "*",
                    "destinationPortRange": "*",
                },
                {
                    "name": f"{name}-allow-vnet",
                    "access": "Allow",
                    "direction": "Inbound",
                    "protocol": "*",
                    "priority": 200,
                    "sourceAddressPrefix": "VirtualNetwork",
                    "sourcePortRange": "*",
                    "destinationAddressPrefix": "*",
                    "destinationPortRange": "*",
                },
            ],
            "tags": t,
        },
        parent=name,
        refs=rg,
    )
    b.add(
        f"{name}-vnet",
        "azure-native:network:VirtualNetwork",
        {
            "resourceGroupName": UNKNOWN,
            "location": "eastus",
            "virtualNetworkName": f"{name}-vnet9f8e7d",
            "addressSpace": {"addressPrefixes": [address]},
            "tags": t,
        },
        parent=name,
        refs=rg,
    )
    b.add(
        f"{name}-subnet",
        "azure-native:network:Subnet",
        {
            "resourceGroupName": UNKNOWN,
            "virtualNetworkName": UNKNOWN,
            "subnetName": f"{name}-subnet4c4c4c",
            "addressPrefix": address.replace("/16", "/20"),
            "networkSecurityGroup": {"id": UNKNOWN},
            "defaultOutboundAccess": False,
        },
        parent=name,
        refs={**rg, "virtualNetworkName": [f"{name}-vnet"], "networkSecurityGroup": [f"{name}-nsg"]},
    )
    if hardware:
        b.add(
            f"{name}-ppg",
            "azure-native:compute:ProximityPlacementGroup",
            {
                "resourceGroupName": UNKNOWN,
                "location": "eastus",
                "proximityPlacementGroupType": "Standard",
                "tags": t,
            },
            parent=name,
            refs=rg,
        )
        b.add(
            f"{name}-hostgroup",
            "azure-native:compute:DedicatedHostGroup",
            {
                "resourceGroupName": UNKNOWN,
                "location": "eastus",
                "hostGroupName": f"{name}-hostgroup0d0d0d",
                "platformFaultDomainCount": 1,
                "supportAutomaticPlacement": True,
                "tags": t,
            },
            parent=name,
            refs=rg,
        )
        b.add(
            f"{name}-host-0",
            "azure-native:compute:DedicatedHost",
            {
                "resourceGroupName": UNKNOWN,
                "hostGroupName": UNKNOWN,
                "location": "eastus",
                "sku": {"name": "MaiaHost-Type1"},
                "platformFaultDomain": 0,
                "autoReplaceOnFailure": True,
                "tags": t,
            },
            parent=name,
            refs={**rg, "hostGroupName": [f"{name}-hostgroup"]},
        )


def _azure_pool(b: _Builder, cluster: str, tenant: str, workload: str, capacity: int, hardware: bool) -> None:
    pool = f"{cluster}-{workload}"
    b.component(pool, "azure", pool=True, parent=cluster)
    inputs: dict[str, Any] = {
        "resourceGroupName": UNKNOWN,
        "location": "eastus",
        "sku": {"name": "Standard_NM4_Maia100_v1", "tier": "Standard", "capacity": capacity},
        "orchestrationMode": "Uniform",
        "overprovision": False,
        "platformFaultDomainCount": 1,
        "upgradePolicy": {"mode": "Manual"},
        "virtualMachineProfile": {
            "securityProfile": {"encryptionAtHost": True},
            "networkProfile": {
                "networkInterfaceConfigurations": [
                    {
                        "name": f"{pool}-nic",
                        "primary": True,
                        "enableAcceleratedNetworking": True,
                        "ipConfigurations": [{"name": f"{pool}-ipconfig", "primary": True, "subnet": {"id": UNKNOWN}}],
                    }
                ]
            },
        },
        "tags": tags(tenant, cluster, workload),
    }
    refs = {"resourceGroupName": [f"{cluster}-rg"], "virtualMachineProfile": [f"{cluster}-subnet"]}
    if hardware:
        inputs["hostGroup"] = {"id": UNKNOWN}
        inputs["proximityPlacementGroup"] = {"id": UNKNOWN}
        refs |= {"hostGroup": [f"{cluster}-hostgroup"], "proximityPlacementGroup": [f"{cluster}-ppg"]}
    b.add(f"{pool}-vmss", "azure-native:compute:VirtualMachineScaleSet", inputs, parent=pool, refs=refs)


def _aws_network(b: _Builder, name: str, tenant: str, cidr: str) -> None:
    t = tags(tenant, name)
    b.component(name, "aws")
    b.add(
        f"{name}-vpc",
        "aws:ec2/vpc:Vpc",
        {"region": "us-east-1", "cidrBlock": cidr, "enableDnsSupport": True, "enableDnsHostnames": True, "tags": t},
        parent=name,
    )
    vpc = {"vpcId": [f"{name}-vpc"]}
    b.add(
        f"{name}-subnet",
        "aws:ec2/subnet:Subnet",
        {
            "region": "us-east-1",
            "vpcId": UNKNOWN,
            "cidrBlock": cidr.replace("/16", "/20"),
            "mapPublicIpOnLaunch": False,
            "tags": t,
        },
        parent=name,
        refs=vpc,
    )
    b.add(
        f"{name}-sg",
        "aws:ec2/securityGroup:SecurityGroup",
        {
            "region": "us-east-1",
            "vpcId": UNKNOWN,
            "description": "Cluster members only",
            "ingress": [{"description": "from members", "protocol": "-1", "fromPort": 0, "toPort": 0, "self": True}],
            "egress": [
                {"description": "to this VPC", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": [cidr]}
            ],
            "tags": t,
        },
        parent=name,
        refs=vpc,
    )


def clean_corpus() -> Corpus:
    """The clean stack: no policy of maiaplan-guard (configured with :data:`GUARD_CONFIG`) flags it."""
    b = _Builder()
    # --- Azure: anthropic on dedicated hosts, copilot on shared hardware, both in eastus.
    _azure_cluster(b, "az-eastus-maia", "anthropic", hardware=True, address="10.0.0.0/16")
    _azure_pool(b, "az-eastus-maia", "anthropic", "router-small", capacity=8, hardware=True)
    maia = "az-eastus-maia"
    rg = {"resourceGroupName": [f"{maia}-rg"]}
    b.add(
        f"{maia}-allow-lb",
        "azure-native:network:SecurityRule",
        {
            "resourceGroupName": UNKNOWN,
            "networkSecurityGroupName": UNKNOWN,
            "access": "Allow",
            "direction": "Inbound",
            "protocol": "Tcp",
            "priority": 300,
            "sourceAddressPrefix": "AzureLoadBalancer",
            "sourcePortRange": "*",
            "destinationAddressPrefix": "*",
            "destinationPortRange": "443",
        },
        parent=maia,
        refs={**rg, "networkSecurityGroupName": [f"{maia}-nsg"]},
    )
    b.add(
        f"{maia}-vnet-b",
        "azure-native:network:VirtualNetwork",
        {
            "resourceGroupName": UNKNOWN,
            "location": "eastus",
            "virtualNetworkName": f"{maia}-vnet-b1b1b1",
            "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
            "tags": tags("anthropic", maia),
        },
        parent=maia,
        refs=rg,
    )
    b.add(
        f"{maia}-peering",
        "azure-native:network:VirtualNetworkPeering",
        {
            "resourceGroupName": UNKNOWN,
            "virtualNetworkName": UNKNOWN,
            "remoteVirtualNetwork": {"id": UNKNOWN},
            "allowForwardedTraffic": False,
            "allowVirtualNetworkAccess": True,
        },
        parent=maia,
        refs={**rg, "virtualNetworkName": [f"{maia}-vnet"], "remoteVirtualNetwork": [f"{maia}-vnet-b"]},
    )
    b.add(
        f"{maia}-ops-nic",
        "azure-native:network:NetworkInterface",
        {
            "resourceGroupName": UNKNOWN,
            "location": "eastus",
            "ipConfigurations": [{"name": "ops-ipconfig", "subnet": {"id": UNKNOWN}}],
            "tags": tags("anthropic", maia),
        },
        parent=maia,
        refs={**rg, "ipConfigurations": [f"{maia}-subnet"]},
    )
    b.add(
        f"{maia}-ops-vm",
        "azure-native:compute:VirtualMachine",
        {
            "resourceGroupName": UNKNOWN,
            "location": "eastus",
            "hardwareProfile": {"vmSize": "Standard_NM4_Maia100_v1"},
            "hostGroup": {"id": UNKNOWN},
            "securityProfile": {"encryptionAtHost": True},
            "networkProfile": {"networkInterfaces": [{"id": UNKNOWN, "primary": True}]},
            "tags": tags("anthropic", maia, "safety-filter"),
        },
        parent=maia,
        refs={**rg, "hostGroup": [f"{maia}-hostgroup"], "networkProfile": [f"{maia}-ops-nic"]},
    )
    _azure_cluster(b, "az-eastus-copilot", "copilot", hardware=False, address="10.20.0.0/16")
    _azure_pool(b, "az-eastus-copilot", "copilot", "copilot-chat", capacity=4, hardware=False)

    # --- AWS: anthropic's trn2 pool (launch template + auto-scaling group) and an h100 instance,
    # their VPCs peered; a copilot VPC nearby.
    trn2 = "aws-use1-trn2"
    _aws_network(b, trn2, "anthropic", "10.1.0.0/16")
    t = tags("anthropic", trn2)
    b.add(
        f"{trn2}-https-in",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {
            "region": "us-east-1",
            "securityGroupId": UNKNOWN,
            "cidrIpv4": "10.1.0.0/16",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "tags": t,
        },
        parent=trn2,
        refs={"securityGroupId": [f"{trn2}-sg"]},
    )
    b.add(
        f"{trn2}-placement",
        "aws:ec2/placementGroup:PlacementGroup",
        {"region": "us-east-1", "strategy": "cluster", "tags": t},
        parent=trn2,
    )
    pool = f"{trn2}-research-eval"
    pool_tags = tags("anthropic", trn2, "research-eval")
    b.component(pool, "aws", pool=True, parent=trn2)
    b.add(
        f"{pool}-lt",
        "aws:ec2/launchTemplate:LaunchTemplate",
        {
            "region": "us-east-1",
            "instanceType": "trn2.48xlarge",
            "imageId": "ami-0abcdef1234567890",
            "placement": {"groupName": UNKNOWN, "tenancy": "dedicated"},
            "blockDeviceMappings": [
                {
                    "deviceName": "/dev/xvda",
                    "ebs": {"encrypted": "true", "volumeType": "gp3", "deleteOnTermination": "true"},
                }
            ],
            "networkInterfaces": [
                {
                    "deviceIndex": 0,
                    "associatePublicIpAddress": "false",
                    "securityGroups": [UNKNOWN],
                    "deleteOnTermination": "true",
                }
            ],
            "metadataOptions": {"httpEndpoint": "enabled", "httpTokens": "required"},
            "tagSpecifications": [{"resourceType": "instance", "tags": pool_tags}],
            "updateDefaultVersion": True,
            "tags": pool_tags,
        },
        parent=pool,
        refs={"placement": [f"{trn2}-placement"], "networkInterfaces": [f"{trn2}-sg"]},
    )
    b.add(
        f"{pool}-asg",
        "aws:autoscaling/group:Group",
        {
            "region": "us-east-1",
            "desiredCapacity": 4,
            "minSize": 4,
            "maxSize": 4,
            "vpcZoneIdentifiers": [UNKNOWN],
            "launchTemplate": {"id": UNKNOWN, "version": "$Default"},
            "tags": asg_tags(pool_tags),
        },
        parent=pool,
        refs={"vpcZoneIdentifiers": [f"{trn2}-subnet"], "launchTemplate": [f"{pool}-lt"]},
    )
    h100 = "aws-use1-h100"
    _aws_network(b, h100, "anthropic", "10.3.0.0/16")
    b.add(
        f"{h100}-ops",
        "aws:ec2/instance:Instance",
        {
            "region": "us-east-1",
            "instanceType": "p5.48xlarge",
            "ami": "ami-0abcdef1234567890",
            "tenancy": "dedicated",
            "associatePublicIpAddress": False,
            "rootBlockDevice": {"encrypted": True, "volumeType": "gp3"},
            "ebsBlockDevices": [{"deviceName": "/dev/sdb", "encrypted": True, "volumeSize": 500}],
            "subnetId": UNKNOWN,
            "vpcSecurityGroupIds": [UNKNOWN],
            "tags": tags("anthropic", h100, "router-small"),
        },
        parent=h100,
        refs={"subnetId": [f"{h100}-subnet"], "vpcSecurityGroupIds": [f"{h100}-sg"]},
    )
    b.add(
        f"{h100}-peering",
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection",
        {
            "region": "us-east-1",
            "vpcId": UNKNOWN,
            "peerVpcId": UNKNOWN,
            "autoAccept": True,
            "tags": tags("anthropic", h100),
        },
        parent=h100,
        refs={"vpcId": [f"{h100}-vpc"], "peerVpcId": [f"{trn2}-vpc"]},
    )
    _aws_network(b, "aws-use1-copilot", "copilot", "10.30.0.0/16")

    # --- GCP: anthropic's TPU v5p pool, and a sole-tenant GPU VM in a second network, peered.
    v5p = "gcp-usc1-v5p"
    b.component(v5p, "gcp")
    b.add(
        f"{v5p}-net",
        "gcp:compute/network:Network",
        {
            "name": f"{v5p}-net-5e5e5e",
            "autoCreateSubnetworks": False,
            "routingMode": "REGIONAL",
        },
        parent=v5p,
    )
    net = {"network": [f"{v5p}-net"]}
    b.add(
        f"{v5p}-subnet",
        "gcp:compute/subnetwork:Subnetwork",
        {
            "name": f"{v5p}-subnet-6f6f6f",
            "network": UNKNOWN,
            "region": "us-central1",
            "ipCidrRange": "10.2.0.0/20",
            "privateIpGoogleAccess": True,
        },
        parent=v5p,
        refs=net,
    )
    b.add(
        f"{v5p}-internal",
        "gcp:compute/firewall:Firewall",
        {
            "name": f"{v5p}-internal-7a7a7a",
            "network": UNKNOWN,
            "direction": "INGRESS",
            "sourceRanges": ["10.2.0.0/20"],
            "allows": [{"protocol": "tcp"}, {"protocol": "udp"}, {"protocol": "icmp"}],
        },
        parent=v5p,
        refs=net,
    )
    tpu_pool = f"{v5p}-embed"
    b.component(tpu_pool, "gcp", pool=True, parent=v5p)
    b.add(
        f"{tpu_pool}-0",
        "gcp:tpu/v2Vm:V2Vm",
        {
            "name": f"{tpu_pool}-0-8b8b8b",
            "zone": "us-central1-a",
            "runtimeVersion": "v2-alpha-tpuv5",
            "acceleratorType": "v5p-32",
            "networkConfig": {"network": UNKNOWN, "subnetwork": UNKNOWN, "enableExternalIps": False},
            "labels": tags("anthropic", v5p, "embed"),
        },
        parent=tpu_pool,
        refs={"networkConfig": [f"{v5p}-net", f"{v5p}-subnet"]},
    )
    b.add(
        f"{v5p}-net-b",
        "gcp:compute/network:Network",
        {
            "name": f"{v5p}-net-b-9c9c9c",
            "autoCreateSubnetworks": False,
        },
        parent=v5p,
    )
    b.add(
        f"{v5p}-nodes",
        "gcp:compute/nodeGroup:NodeGroup",
        {
            "name": f"{v5p}-nodes-adadad",
            "zone": "us-central1-a",
            "nodeTemplate": UNKNOWN,
            "initialSize": 1,
        },
        parent=v5p,
    )
    b.add(
        f"{v5p}-gpu-ops",
        "gcp:compute/instance:Instance",
        {
            "name": f"{v5p}-gpu-ops-bebebe",
            "zone": "us-central1-a",
            "machineType": "a3-highgpu-8g",
            "bootDisk": {"initializeParams": {"image": "debian-cloud/debian-12"}},
            "networkInterfaces": [{"network": UNKNOWN}],
            "scheduling": {
                "nodeAffinities": [
                    {"key": "compute.googleapis.com/node-group-name", "operator": "IN", "values": [UNKNOWN]}
                ]
            },
            "labels": tags("anthropic", v5p, "code-assist"),
        },
        parent=v5p,
        refs={"networkInterfaces": [f"{v5p}-net-b"], "scheduling": [f"{v5p}-nodes"]},
    )
    b.add(
        f"{v5p}-peering",
        "gcp:compute/networkPeering:NetworkPeering",
        {
            "name": f"{v5p}-peering-cfcfcf",
            "network": UNKNOWN,
            "peerNetwork": UNKNOWN,
        },
        parent=v5p,
        refs={"network": [f"{v5p}-net"], "peerNetwork": [f"{v5p}-net-b"]},
    )
    return Corpus(dict(b.records))


# --- Seeded violations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """One violation seeded into the clean stack: the policy that must catch it, on ``subjects``
    (resource names, or ``"stack"`` for the root stack), and no other policy anywhere."""

    name: str
    policy: str
    cloud: str
    mutate: Callable[[Corpus], Corpus]
    subjects: tuple[str, ...]


MAIA_VMSS = "az-eastus-maia-router-small-vmss"
COPILOT_VMSS = "az-eastus-copilot-copilot-chat-vmss"
OPS_VM = "az-eastus-maia-ops-vm"
ASG = "aws-use1-trn2-research-eval-asg"
LT = "aws-use1-trn2-research-eval-lt"
H100 = "aws-use1-h100-ops"
TPU = "gcp-usc1-v5p-embed-0"
GPU_VM = "gcp-usc1-v5p-gpu-ops"
FIREWALL = "gcp-usc1-v5p-internal"
NSG = "az-eastus-maia-nsg"
AWS_SG = "aws-use1-trn2-sg"

_NIC0 = "virtualMachineProfile.networkProfile.networkInterfaceConfigurations.0.ipConfigurations.0"


def _copilot_tpu(c: Corpus) -> Corpus:
    """A copilot TPU VM added into anthropic's GCP network."""
    tpu = c.records[TPU]
    labels = tags("copilot", "gcp-usc1-v5p", "copilot-chat")
    copilot = replace(
        tpu, urn=tpu.urn.replace(TPU, "copilot-tpu-0"), name="copilot-tpu-0", inputs={**tpu.inputs, "labels": labels}
    )
    return c.add("copilot-tpu-0", copilot)


def _copilot_instance_on_node_group(c: Corpus, alone: bool = False) -> Corpus:
    """A copilot GPU instance, in a network of its own, whose node affinity names anthropic's
    sole-tenant node group (by name, as a user writes it); ``alone``: anthropic's instance left it."""
    vm = c.records[GPU_VM]
    group = c.records["gcp-usc1-v5p-nodes"].inputs["name"]
    inputs = {
        **vm.inputs,
        "name": "copilot-gpu-3c3c3c",
        "networkInterfaces": [{"network": "projects/copilot/global/networks/default"}],
        "scheduling": {
            "nodeAffinities": [{"key": "compute.googleapis.com/node-group-name", "operator": "IN", "values": [group]}]
        },
        "labels": tags("copilot", "gcp-usc1-copilot", "copilot-chat"),
    }
    copilot = replace(
        vm,
        urn=f"{ROOT.rsplit('::', 2)[0]}::gcp:compute/instance:Instance::copilot-gpu",
        name="copilot-gpu",
        inputs=inputs,
        parent=ROOT,
        property_dependencies={},
        dependencies=(),
    )
    c = c.add("copilot-gpu", copilot)
    if alone:  # anthropic's own instance moves to a node named outright: the group holds copilot only
        c = (
            c.set(GPU_VM, "scheduling.nodeAffinities.0.key", "compute.googleapis.com/node-name")
            .set(GPU_VM, "scheduling.nodeAffinities.0.values", ["gcp-usc1-v5p-node-1"])
            .refer(GPU_VM, "scheduling", [])
        )
    return c


SEEDS: tuple[Seed, ...] = (
    # maiaplan-tags
    Seed(
        "azure-vmss-managed-by-wrong",
        TAGS,
        "azure",
        lambda c: c.set(MAIA_VMSS, "tags.managed-by", "terraform"),
        (MAIA_VMSS,),
    ),
    Seed("azure-nsg-managed-by-unknown", TAGS, "azure", lambda c: c.set(NSG, "tags.managed-by", UNKNOWN), (NSG,)),
    Seed(
        "aws-asg-managed-by-missing",
        TAGS,
        "aws",
        lambda c: c.set(ASG, "tags", [t for t in c.records[ASG].inputs["tags"] if t["key"] != "managed-by"]),
        (ASG,),
    ),
    Seed("aws-sg-managed-by-missing", TAGS, "aws", lambda c: c.delete(AWS_SG, "tags.managed-by"), (AWS_SG,)),
    Seed("gcp-tpu-managed-by-label-missing", TAGS, "gcp", lambda c: c.delete(TPU, "labels.managed-by"), (TPU,)),
    # dedicated-hardware
    Seed(
        "azure-vmss-no-host-group",
        DEDICATED,
        "azure",
        lambda c: c.delete(MAIA_VMSS, "hostGroup").refer(MAIA_VMSS, "hostGroup", []),
        (MAIA_VMSS,),
    ),
    Seed(
        "azure-vm-no-host",
        DEDICATED,
        "azure",
        lambda c: c.delete(OPS_VM, "hostGroup").refer(OPS_VM, "hostGroup", []),
        (OPS_VM,),
    ),
    Seed(
        "aws-launch-template-default-tenancy",
        DEDICATED,
        "aws",
        lambda c: c.set(LT, "placement.tenancy", "default"),
        (LT,),
    ),
    Seed(
        "aws-launch-template-tenancy-unknown",
        DEDICATED,
        "aws",
        lambda c: c.set(LT, "placement.tenancy", UNKNOWN),
        (LT,),
    ),
    Seed("aws-instance-no-tenancy", DEDICATED, "aws", lambda c: c.delete(H100, "tenancy"), (H100,)),
    Seed(
        "gcp-instance-no-node-affinity",
        DEDICATED,
        "gcp",
        lambda c: c.delete(GPU_VM, "scheduling").refer(GPU_VM, "scheduling", []),
        (GPU_VM,),
    ),
    Seed(
        "gcp-instance-affinity-not-in",
        DEDICATED,
        "gcp",
        lambda c: c.set(GPU_VM, "scheduling.nodeAffinities.0.operator", "NOT_IN"),
        (GPU_VM,),
    ),
    # no-public-ingress
    Seed(
        "azure-vmss-public-ip-config",
        INGRESS,
        "azure",
        lambda c: c.set(MAIA_VMSS, f"{_NIC0}.publicIPAddressConfiguration", {"name": "pip"}),
        (MAIA_VMSS,),
    ),
    Seed(
        "azure-nsg-allow-any",
        INGRESS,
        "azure",
        lambda c: c.set(NSG, "securityRules.1.sourceAddressPrefix", "*"),
        (NSG,),
    ),
    Seed(
        "azure-nsg-allow-internet-in-prefixes",
        INGRESS,
        "azure",
        lambda c: c.delete(NSG, "securityRules.1.sourceAddressPrefix").set(
            NSG, "securityRules.1.sourceAddressPrefixes", ["10.0.0.0/8", "Internet"]
        ),
        (NSG,),
    ),
    Seed(
        "azure-nsg-rule-source-unknown",
        INGRESS,
        "azure",
        lambda c: c.set(NSG, "securityRules.1.sourceAddressPrefix", UNKNOWN),
        (NSG,),
    ),
    Seed(
        "azure-security-rule-open",
        INGRESS,
        "azure",
        lambda c: c.set("az-eastus-maia-allow-lb", "sourceAddressPrefix", "0.0.0.0/0"),
        ("az-eastus-maia-allow-lb",),
    ),
    Seed(
        "azure-nic-public-ip",
        INGRESS,
        "azure",
        lambda c: c.set("az-eastus-maia-ops-nic", "ipConfigurations.0.publicIPAddress", {"id": UNKNOWN}),
        ("az-eastus-maia-ops-nic",),
    ),
    Seed(
        "aws-sg-ingress-open-ipv4",
        INGRESS,
        "aws",
        lambda c: c.set(AWS_SG, "ingress.0.cidrBlocks", ["0.0.0.0/0"]),
        (AWS_SG,),
    ),
    Seed(
        "aws-sg-ingress-open-ipv6",
        INGRESS,
        "aws",
        lambda c: c.set(AWS_SG, "ingress.0.ipv6CidrBlocks", ["::/0"]),
        (AWS_SG,),
    ),
    Seed(
        "aws-ingress-rule-open",
        INGRESS,
        "aws",
        lambda c: c.set("aws-use1-trn2-https-in", "cidrIpv4", "0.0.0.0/0"),
        ("aws-use1-trn2-https-in",),
    ),
    Seed("aws-instance-public-ip", INGRESS, "aws", lambda c: c.set(H100, "associatePublicIpAddress", True), (H100,)),
    Seed(
        "aws-launch-template-public-ip",
        INGRESS,
        "aws",
        lambda c: c.set(LT, "networkInterfaces.0.associatePublicIpAddress", "true"),
        (LT,),
    ),
    Seed(
        "aws-subnet-maps-public-ips",
        INGRESS,
        "aws",
        lambda c: c.set("aws-use1-trn2-subnet", "mapPublicIpOnLaunch", True),
        ("aws-use1-trn2-subnet",),
    ),
    Seed("gcp-firewall-open", INGRESS, "gcp", lambda c: c.set(FIREWALL, "sourceRanges", ["0.0.0.0/0"]), (FIREWALL,)),
    Seed("gcp-firewall-no-source", INGRESS, "gcp", lambda c: c.delete(FIREWALL, "sourceRanges"), (FIREWALL,)),
    Seed("gcp-tpu-external-ips", INGRESS, "gcp", lambda c: c.set(TPU, "networkConfig.enableExternalIps", True), (TPU,)),
    Seed(
        "gcp-instance-access-config",
        INGRESS,
        "gcp",
        lambda c: c.set(GPU_VM, "networkInterfaces.0.accessConfigs", [{}]),
        (GPU_VM,),
    ),
    # encryption-at-host
    Seed(
        "azure-vmss-no-encryption-at-host",
        ENCRYPTION,
        "azure",
        lambda c: c.set(MAIA_VMSS, "virtualMachineProfile.securityProfile.encryptionAtHost", False),
        (MAIA_VMSS,),
    ),
    Seed(
        "azure-vmss-encryption-unknown",
        ENCRYPTION,
        "azure",
        lambda c: c.set(MAIA_VMSS, "virtualMachineProfile.securityProfile.encryptionAtHost", UNKNOWN),
        (MAIA_VMSS,),
    ),
    Seed("azure-vm-no-security-profile", ENCRYPTION, "azure", lambda c: c.delete(OPS_VM, "securityProfile"), (OPS_VM,)),
    Seed(
        "aws-launch-template-unencrypted",
        ENCRYPTION,
        "aws",
        lambda c: c.set(LT, "blockDeviceMappings.0.ebs.encrypted", "false"),
        (LT,),
    ),
    Seed("aws-launch-template-no-mappings", ENCRYPTION, "aws", lambda c: c.delete(LT, "blockDeviceMappings"), (LT,)),
    Seed("aws-instance-no-root-device", ENCRYPTION, "aws", lambda c: c.delete(H100, "rootBlockDevice"), (H100,)),
    Seed(
        "aws-instance-ebs-unencrypted",
        ENCRYPTION,
        "aws",
        lambda c: c.set(H100, "ebsBlockDevices.0.encrypted", False),
        (H100,),
    ),
    # tenant-network-boundary
    Seed(
        "azure-copilot-vmss-in-anthropic-subnet",
        BOUNDARY,
        "azure",
        lambda c: c.refer(COPILOT_VMSS, "virtualMachineProfile", ["az-eastus-maia-subnet"]),
        (COPILOT_VMSS,),
    ),
    Seed(
        "azure-copilot-vmss-on-anthropic-host-group",
        BOUNDARY,
        "azure",
        lambda c: c.set(COPILOT_VMSS, "hostGroup", {"id": UNKNOWN}).refer(
            COPILOT_VMSS, "hostGroup", ["az-eastus-maia-hostgroup"]
        ),
        (COPILOT_VMSS,),
    ),
    Seed(
        "azure-copilot-vmss-subnet-by-arm-id",
        BOUNDARY,
        "azure",
        lambda c: c.set(
            COPILOT_VMSS,
            f"{_NIC0}.subnet.id",
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/az-eastus-maia-rg1a2b3c"
            "/providers/Microsoft.Network/virtualNetworks/az-eastus-maia-vnet9f8e7d/subnets/default",
        ).refer(COPILOT_VMSS, "virtualMachineProfile", []),
        (COPILOT_VMSS,),
    ),
    Seed(
        "azure-peering-to-copilot",
        BOUNDARY,
        "azure",
        lambda c: c.refer("az-eastus-maia-peering", "remoteVirtualNetwork", ["az-eastus-copilot-vnet"]),
        ("az-eastus-maia-peering",),
    ),
    Seed(
        "azure-inline-peering-to-copilot",
        BOUNDARY,
        "azure",
        lambda c: c.set(
            "az-eastus-maia-vnet-b",
            "virtualNetworkPeerings",
            [{"name": "to-copilot", "remoteVirtualNetwork": {"id": UNKNOWN}}],
        ).refer("az-eastus-maia-vnet-b", "virtualNetworkPeerings", ["az-eastus-copilot-vnet"]),
        ("az-eastus-maia-vnet-b",),
    ),
    Seed(
        "aws-peering-to-unknown-vpc",
        BOUNDARY,
        "aws",
        lambda c: c.set("aws-use1-h100-peering", "peerVpcId", "vpc-0a1b2c3d4e5f60718").refer(
            "aws-use1-h100-peering", "peerVpcId", []
        ),
        ("aws-use1-h100-peering",),
    ),
    Seed(
        "aws-asg-in-copilot-subnet",
        BOUNDARY,
        "aws",
        lambda c: c.refer(ASG, "vpcZoneIdentifiers", ["aws-use1-copilot-subnet"]),
        (ASG,),
    ),
    Seed(
        "gcp-peering-to-foreign-network",
        BOUNDARY,
        "gcp",
        lambda c: c.set("gcp-usc1-v5p-peering", "peerNetwork", "projects/partner/global/networks/shared").refer(
            "gcp-usc1-v5p-peering", "peerNetwork", []
        ),
        ("gcp-usc1-v5p-peering",),
    ),
    # Both TPU VMs share the network; the peering of a network nobody can own is unprovable too.
    Seed(
        "gcp-network-shared-with-copilot", BOUNDARY, "gcp", _copilot_tpu, (TPU, "copilot-tpu-0", "gcp-usc1-v5p-peering")
    ),
    # Sole-tenant nodes are hardware their tenant owns: nobody else's instance on them, shared or not.
    Seed(
        "gcp-copilot-instance-on-anthropic-node-group",
        BOUNDARY,
        "gcp",
        _copilot_instance_on_node_group,
        ("copilot-gpu",),
    ),
    Seed(
        "gcp-copilot-instance-alone-on-anthropic-node-group",
        BOUNDARY,
        "gcp",
        lambda c: _copilot_instance_on_node_group(c, alone=True),
        ("copilot-gpu",),
    ),
    # contract-limits
    Seed("azure-over-max-chips", CONTRACTS, "azure", lambda c: c.set(MAIA_VMSS, "sku.capacity", 16), ("stack",)),
    Seed(
        "azure-region-not-contracted",
        CONTRACTS,
        "azure",
        lambda c: c.set(MAIA_VMSS, "location", "westus2"),
        (MAIA_VMSS,),
    ),
    Seed(
        "azure-region-from-resource-group",
        CONTRACTS,
        "azure",
        lambda c: c.delete(MAIA_VMSS, "location").set("az-eastus-maia-rg", "location", "westus2"),
        (MAIA_VMSS,),
    ),
    Seed(
        "azure-unknown-vm-size",
        CONTRACTS,
        "azure",
        lambda c: c.set(MAIA_VMSS, "sku.name", "Standard_ND96isr_H100_v5"),
        (MAIA_VMSS,),
    ),
    Seed(
        "azure-capacity-unknown", CONTRACTS, "azure", lambda c: c.set(MAIA_VMSS, "sku.capacity", UNKNOWN), (MAIA_VMSS,)
    ),
    Seed(
        "aws-below-min-share",
        CONTRACTS,
        "aws",
        lambda c: c.set(ASG, "desiredCapacity", 1).set(ASG, "minSize", 1).set(ASG, "maxSize", 1),
        ("stack",),
    ),
    Seed("aws-instance-type-unknown", CONTRACTS, "aws", lambda c: c.set(H100, "instanceType", UNKNOWN), (H100,)),
    Seed("gcp-below-min-chips", CONTRACTS, "gcp", lambda c: c.set(TPU, "acceleratorType", "v5p-16"), ("stack",)),
    Seed(
        "gcp-exclusive-workload-elsewhere",
        CONTRACTS,
        "gcp",
        lambda c: c.set(TPU, "labels.workload", "research-eval"),
        (TPU,),
    ),
)
