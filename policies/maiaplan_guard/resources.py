"""Resource type tokens, provider families, tags, and the view every rule reads.

Type tokens and property names are the providers' own (pulumi-azure-native 3, pulumi-aws 7,
pulumi-gcp 10), as the engine hands them to analyzers after the provider's check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from .values import MISSING, get_path, is_unknown

# --- Azure (pulumi-azure-native) -------------------------------------------------------------------
AZ_VM: Final = "azure-native:compute:VirtualMachine"
AZ_VMSS: Final = "azure-native:compute:VirtualMachineScaleSet"
AZ_HOST_GROUP: Final = "azure-native:compute:DedicatedHostGroup"
AZ_HOST: Final = "azure-native:compute:DedicatedHost"
AZ_PPG: Final = "azure-native:compute:ProximityPlacementGroup"
AZ_IDENTITY: Final = "azure-native:managedidentity:UserAssignedIdentity"
AZ_RESOURCE_GROUP: Final = "azure-native:resources:ResourceGroup"
AZ_VNET: Final = "azure-native:network:VirtualNetwork"
AZ_SUBNET: Final = "azure-native:network:Subnet"
AZ_NSG: Final = "azure-native:network:NetworkSecurityGroup"
AZ_SECURITY_RULE: Final = "azure-native:network:SecurityRule"
AZ_PEERING: Final = "azure-native:network:VirtualNetworkPeering"
AZ_NIC: Final = "azure-native:network:NetworkInterface"
AZ_PUBLIC_IP: Final = "azure-native:network:PublicIPAddress"

# --- AWS (pulumi-aws) ------------------------------------------------------------------------------
AWS_INSTANCE: Final = "aws:ec2/instance:Instance"
AWS_EIP: Final = "aws:ec2/eip:Eip"
AWS_EIP_ASSOCIATION: Final = "aws:ec2/eipAssociation:EipAssociation"
AWS_LAUNCH_TEMPLATE: Final = "aws:ec2/launchTemplate:LaunchTemplate"
AWS_ASG: Final = "aws:autoscaling/group:Group"
AWS_VPC: Final = "aws:ec2/vpc:Vpc"
AWS_SUBNET: Final = "aws:ec2/subnet:Subnet"
AWS_SECURITY_GROUP: Final = "aws:ec2/securityGroup:SecurityGroup"
AWS_SG_RULE: Final = "aws:ec2/securityGroupRule:SecurityGroupRule"
AWS_SG_INGRESS_RULE: Final = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
AWS_PEERING: Final = "aws:ec2/vpcPeeringConnection:VpcPeeringConnection"
AWS_PLACEMENT_GROUP: Final = "aws:ec2/placementGroup:PlacementGroup"
AWS_DEDICATED_HOST: Final = "aws:ec2/dedicatedHost:DedicatedHost"

# --- GCP (pulumi-gcp) ------------------------------------------------------------------------------
GCP_TPU: Final = "gcp:tpu/v2Vm:V2Vm"
GCP_INSTANCE: Final = "gcp:compute/instance:Instance"
GCP_INSTANCE_TEMPLATE: Final = "gcp:compute/instanceTemplate:InstanceTemplate"
GCP_NETWORK: Final = "gcp:compute/network:Network"
GCP_SUBNETWORK: Final = "gcp:compute/subnetwork:Subnetwork"
GCP_FIREWALL: Final = "gcp:compute/firewall:Firewall"
GCP_PEERING: Final = "gcp:compute/networkPeering:NetworkPeering"
GCP_NODE_GROUP: Final = "gcp:compute/nodeGroup:NodeGroup"

ROOT_STACK_TYPE: Final = "pulumi:pulumi:Stack"

# Types that take tags (Azure, AWS) or labels (GCP): maiaplan-tags expects tenant and managed-by on
# each. Any other resource that carries a tags/labels property is checked too.
TAGGABLE_TYPES: Final[frozenset[str]] = frozenset(
    {
        AZ_VM,
        AZ_VMSS,
        AZ_HOST_GROUP,
        AZ_HOST,
        AZ_PPG,
        AZ_IDENTITY,
        AZ_RESOURCE_GROUP,
        AZ_VNET,
        AZ_NSG,
        AZ_NIC,
        AZ_PUBLIC_IP,
        AWS_INSTANCE,
        AWS_EIP,
        AWS_LAUNCH_TEMPLATE,
        AWS_ASG,
        AWS_VPC,
        AWS_SUBNET,
        AWS_SECURITY_GROUP,
        AWS_SG_INGRESS_RULE,
        AWS_PEERING,
        AWS_PLACEMENT_GROUP,
        AWS_DEDICATED_HOST,
        GCP_TPU,
        GCP_INSTANCE,
        GCP_INSTANCE_TEMPLATE,
    }
)

# Where a network or hardware can be shared (a proximity or placement group co-locates hosts): a
# resource of one tenant must not sit in another's.
CONTAINER_TYPES: Final[frozenset[str]] = frozenset(
    {
        AZ_RESOURCE_GROUP,
        AZ_VNET,
        AZ_SUBNET,
        AZ_NSG,
        AZ_HOST_GROUP,
        AZ_HOST,
        AZ_PPG,
        AWS_VPC,
        AWS_SUBNET,
        AWS_SECURITY_GROUP,
        AWS_PLACEMENT_GROUP,
        AWS_DEDICATED_HOST,
        GCP_NETWORK,
        GCP_SUBNETWORK,
        GCP_NODE_GROUP,
    }
)

NETWORK_TYPES: Final[frozenset[str]] = frozenset({AZ_VNET, AWS_VPC, GCP_NETWORK})

PROVIDER_FAMILIES: Final[Mapping[str, str]] = {"azure-native": "azure", "aws": "aws", "gcp": "gcp"}


def provider_family(resource_type: str) -> str | None:
    """``azure``, ``aws`` or ``gcp`` for a cloud resource type token, else None."""
    return PROVIDER_FAMILIES.get(resource_type.split(":", 1)[0])


@dataclass(frozen=True)
class Tags:
    """A resource's tags (labels on GCP) as the rules read them.

    ``unknown`` is True when the whole tag map is unknown at preview; ``unknown_keys`` names tags
    whose values are. ``present`` is False when the resource declares no tag property at all.
    """

    values: Mapping[str, str] = field(default_factory=dict)
    unknown_keys: frozenset[str] = frozenset()
    unknown: bool = False
    present: bool = False

    def get(self, key: str) -> str | None:
        return self.values.get(key)


# Tag properties by provider family: the first holds what the program set, the others what the
# provider merged in (provider-level default tags/labels), present in outputs and some previews.
_TAG_PROPERTIES: Final[Mapping[str, tuple[str, ...]]] = {
    "azure": ("tags",),
    "aws": ("tags", "tagsAll"),
    "gcp": ("labels", "effectiveLabels", "pulumiLabels"),
}


def read_tags(resource_type: str, props: Mapping[str, Any]) -> Tags:
    """The tags of a resource, merged over its tag properties (see :data:`_TAG_PROPERTIES`).

    An AWS auto-scaling group's ``tags`` is a list of ``{key, value, propagateAtLaunch}``. Other
    resources (components) are read through a ``tags`` mapping if they register one.
    """
    family = provider_family(resource_type)
    values: dict[str, str] = {}
    unknown_keys: set[str] = set()
    unknown = False
    present = False
    # A component may register tags among its inputs; its children inherit the tenant from it.
    for prop in _TAG_PROPERTIES[family] if family is not None else ("tags",):
        raw = props.get(prop, MISSING)
        if raw is MISSING or raw is None:
            continue
        present = True
        if is_unknown(raw):
            unknown = True
            continue
        pairs: list[tuple[Any, Any]]
        if isinstance(raw, Mapping):
            pairs = list(raw.items())
        elif isinstance(raw, list):
            pairs = [(get_path(item, "key"), get_path(item, "value")) for item in raw]
        else:
            continue
        for key, value in pairs:
            if not isinstance(key, str):
                if is_unknown(key):
                    unknown = True
                continue
            if is_unknown(value):
                unknown_keys.add(key)
            elif isinstance(value, str):
                values.setdefault(key, value)
                unknown_keys.discard(key)
    return Tags(values=values, unknown_keys=frozenset(unknown_keys - values.keys()), unknown=unknown, present=present)


@dataclass(frozen=True)
class ResourceView:
    """One resource as a rule sees it: type, URN, name and plain properties (unknowns kept)."""

    type: str
    urn: str
    name: str
    props: Mapping[str, Any]
    tags: Tags = field(default_factory=Tags)

    @classmethod
    def of(cls, resource_type: str, urn: str, name: str, props: Mapping[str, Any]) -> ResourceView:
        return cls(type=resource_type, urn=urn, name=name, props=props, tags=read_tags(resource_type, props))

    @property
    def family(self) -> str | None:
        return provider_family(self.type)

    @property
    def kind(self) -> str:
        """The type's last segment (``VirtualMachineScaleSet``), as messages name it."""
        return self.type.rsplit(":", 1)[-1]

    @property
    def label(self) -> str:
        """How messages name the resource: ``VirtualMachineScaleSet 'az-eastus-maia'``."""
        return f"{self.kind} '{self.name}'"

    @property
    def tenant(self) -> str | None:
        """The resource's own ``tenant`` tag, lowercased (GCP labels are lowercase), if known."""
        value = self.tags.get("tenant")
        return value.lower() if value else None

    def get(self, path: str) -> Any:
        return get_path(self.props, path)
