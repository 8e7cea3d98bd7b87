"""The stack as stack policies see it: resources, tenants, and what refers to what.

A resource refers to another through the engine's dependency lists (a property's dependencies, or
``dependsOn``), which hold even at preview when ids are unknown, and through id or name values it
holds (an Azure resource id, a GCP network path, an AWS ``vpc-…`` id, an Azure ``resourceGroupName``)
that match a resource of the stack. A resource's tenant is its own ``tenant`` tag, else its nearest
ancestor's (components may pass it down), else, for what cannot carry tags, its container's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from .resources import (
    AWS_LAUNCH_TEMPLATE,
    AWS_PLACEMENT_GROUP,
    AZ_HOST,
    AZ_HOST_GROUP,
    AZ_NSG,
    AZ_RESOURCE_GROUP,
    AZ_SUBNET,
    AZ_VNET,
    CONTAINER_TYPES,
    GCP_NETWORK,
    GCP_NODE_GROUP,
    GCP_SUBNETWORK,
    ROOT_STACK_TYPE,
    TAGGABLE_TYPES,
    ResourceView,
    read_tags,
)
from .values import get_path, is_unknown, string_leaves


@dataclass(frozen=True)
class StackResource(ResourceView):
    """A resource of the stack with its place in it: parent, dependencies, provider settings."""

    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    provider_props: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of_stack(
        cls,
        resource_type: str,
        urn: str,
        name: str,
        props: Mapping[str, Any],
        *,
        parent: str | None = None,
        dependencies: Sequence[str] = (),
        property_dependencies: Mapping[str, Sequence[str]] | None = None,
        provider_props: Mapping[str, Any] | None = None,
    ) -> StackResource:
        return cls(
            type=resource_type,
            urn=urn,
            name=name,
            props=props,
            tags=read_tags(resource_type, props),
            parent=parent,
            dependencies=tuple(dependencies),
            property_dependencies={k: tuple(v) for k, v in (property_dependencies or {}).items()},
            provider_props=provider_props or {},
        )


@dataclass(frozen=True)
class Reference:
    """``source`` refers to ``target`` through top-level property ``prop`` (``dependsOn`` for an
    explicit dependency)."""

    prop: str
    target: StackResource


# Identity keys: (kind, key). Azure names are case-insensitive, and unique only within a resource
# group, so Azure keys carry the group when known ("rg/name") and also exist without it ("*/name").
_ARM_SEGMENTS: Final = re.compile(
    r"/resourcegroups/(?P<rg>[^/]+)"
    r"|/providers/microsoft\.network/virtualnetworks/(?P<vnet>[^/]+)(?:/subnets/(?P<subnet>[^/]+))?"
    r"|/providers/microsoft\.network/networksecuritygroups/(?P<nsg>[^/]+)"
    r"|/providers/microsoft\.compute/hostgroups/(?P<hostgroup>[^/]+)(?:/hosts/(?P<host>[^/]+))?",
    re.IGNORECASE,
)
_GCP_PATH: Final = re.compile(r"/(?P<kind>networks|subnetworks|nodeGroups)/(?P<name>[^/]+)$")
_GCP_KINDS: Final = {"networks": "gcp-network", "subnetworks": "gcp-subnetwork", "nodeGroups": "gcp-nodegroup"}

# Properties holding a bare name (Azure, GCP) or an id (AWS) of another resource.
_AZURE_NAME_PROPS: Final = {
    "resourceGroupName": "azure-rg",
    "virtualNetworkName": "azure-vnet",
    "networkSecurityGroupName": "azure-nsg",
    "hostGroupName": "azure-hostgroup",
}
_GCP_NAME_PROPS: Final = {"network": "gcp-network", "subnetwork": "gcp-subnetwork", "peerNetwork": "gcp-network"}
_ID_PROPS: Final = ("id", "arn", "selfLink")
_TAG_PROPS: Final = frozenset({"tags", "tagsAll", "labels", "effectiveLabels", "pulumiLabels"})


def _azure_key(kind: str, rg: str | None, name: str) -> tuple[str, str]:
    """An Azure identity key: names are case-insensitive and unique only within a resource group,
    so the key carries the group (``*`` when it is not known)."""
    return kind, f"{(rg or '*').lower()}/{name.lower()}"


def _azure_identity(kind: str, rg: str | None, name: str) -> Iterator[tuple[str, str]]:
    yield _azure_key(kind, rg, name)
    yield f"{kind}@any-group", name.lower()


def _identities(resource: StackResource) -> Iterator[tuple[str, str]]:
    """The keys under which other resources may name ``resource``."""
    props = resource.props

    def known(prop: str) -> str | None:
        value = props.get(prop)
        return value if isinstance(value, str) and value and not is_unknown(value) else None

    for prop in _ID_PROPS:
        if value := known(prop):
            yield "id", value

    # An Azure resource's own name is an input named after its type (autonamed at check); its
    # outputs, which stack policies see, carry it as `name`.
    own = {
        AZ_RESOURCE_GROUP: "resourceGroupName",
        AZ_VNET: "virtualNetworkName",
        AZ_NSG: "networkSecurityGroupName",
        AZ_HOST_GROUP: "hostGroupName",
        AZ_SUBNET: "subnetName",
        AZ_HOST: "hostName",
    }
    name = (known(own[resource.type]) or known("name")) if resource.type in own else None
    rg = None if resource.type == AZ_RESOURCE_GROUP else known("resourceGroupName")
    if resource.type == AZ_RESOURCE_GROUP and name:
        yield "azure-rg", name.lower()
    kinds = {AZ_VNET: "azure-vnet", AZ_NSG: "azure-nsg", AZ_HOST_GROUP: "azure-hostgroup"}
    if resource.type in kinds and name:
        yield from _azure_identity(kinds[resource.type], rg, name)
    parent = {AZ_SUBNET: ("azure-subnet", "virtualNetworkName"), AZ_HOST: ("azure-host", "hostGroupName")}
    if resource.type in parent and name and (outer := known(parent[resource.type][1])):
        yield from _azure_identity(parent[resource.type][0], rg, f"{outer}/{name}")
    gcp_named = {GCP_NETWORK: "gcp-network", GCP_SUBNETWORK: "gcp-subnetwork", GCP_NODE_GROUP: "gcp-nodegroup"}
    if resource.type in gcp_named and (name := known("name")):
        yield gcp_named[resource.type], name
    if resource.type in (AWS_PLACEMENT_GROUP, AWS_LAUNCH_TEMPLATE) and (name := known("name")):
        yield resource.type, name


def _referenced_keys(resource: StackResource, path: str, value: str) -> Iterator[tuple[str, str]]:
    """The identity keys a string property value names."""
    family = resource.family
    last = path.rsplit(".", 1)[-1]
    if family == "azure":
        if value.startswith("/"):
            rg = None
            for match in _ARM_SEGMENTS.finditer(value):
                if match["rg"]:
                    rg = match["rg"]
                    yield "azure-rg", rg.lower()
                elif match["vnet"]:
                    yield _azure_key("azure-vnet", rg, match["vnet"])
                    if match["subnet"]:
                        yield _azure_key("azure-subnet", rg, f"{match['vnet']}/{match['subnet']}")
                elif match["nsg"]:
                    yield _azure_key("azure-nsg", rg, match["nsg"])
                elif match["hostgroup"]:
                    yield _azure_key("azure-hostgroup", rg, match["hostgroup"])
                    if match["host"]:
                        yield _azure_key("azure-host", rg, f"{match['hostgroup']}/{match['host']}")
        elif last in _AZURE_NAME_PROPS and "." not in path:
            kind = _AZURE_NAME_PROPS[last]
            if kind == "azure-rg":
                yield kind, value.lower()
            else:
                rg = resource.props.get("resourceGroupName")
                known_rg = rg if isinstance(rg, str) and not is_unknown(rg) else None
                yield _azure_key(kind, known_rg, value)
    elif family == "gcp":
        path_match = _GCP_PATH.search(value)
        if path_match:
            yield _GCP_KINDS[path_match["kind"]], path_match["name"]
        elif last in _GCP_NAME_PROPS:
            yield _GCP_NAME_PROPS[last], value
        elif ".nodeAffinities." in f".{path}" and ".values." in f".{path}.":
            yield "gcp-nodegroup", value
        yield "id", value
    elif family == "aws":
        if last == "groupName" and path.startswith("placement"):
            yield AWS_PLACEMENT_GROUP, value
        elif last == "name" and "launchTemplate" in path:
            yield AWS_LAUNCH_TEMPLATE, value
        else:
            yield "id", value


def can_carry_tags(resource: ResourceView) -> bool:
    """Whether the resource could carry a ``tenant`` tag itself."""
    return resource.type in TAGGABLE_TYPES or resource.tags.present


class StackGraph:
    """The resources of one stack, indexed for tenant and reference lookups.

    Building it is O(number of resources); :meth:`references` is O(size of one resource's
    properties + its dependencies), memoized; :meth:`member_tenants` builds the reverse index once,
    O(total property size); :meth:`tenant` is O(depth of the parent and container chains), memoized.
    """

    def __init__(self, resources: Sequence[StackResource]) -> None:
        self.resources: list[StackResource] = list(resources)
        self.by_urn: dict[str, StackResource] = {r.urn: r for r in self.resources}
        self.root_urn: str = next((r.urn for r in self.resources if r.type == ROOT_STACK_TYPE), "")
        self._identities: dict[tuple[str, str], list[StackResource]] = {}
        for resource in self.resources:
            for key in dict.fromkeys(_identities(resource)):
                self._identities.setdefault(key, []).append(resource)
        self._inherited: dict[tuple[str, str], str | None] = {}
        self._tenants: dict[str, str | None] = {}
        self._references: dict[str, list[Reference]] = {}
        self._referrers: dict[str, list[StackResource]] | None = None
        self._children: dict[str, list[StackResource]] | None = None

    def inherited_tag(self, urn: str, key: str) -> str | None:
        """Tag ``key`` of the resource, else of its nearest ancestor that has it; lowercased."""
        cached = self._inherited.get((urn, key), ...)
        if cached is not ...:
            return cached
        chain: list[str] = []
        value: str | None = None
        current: str | None = urn
        while current is not None and current not in chain:
            if (current, key) in self._inherited:
                value = self._inherited[(current, key)]
                break
            chain.append(current)
            resource = self.by_urn.get(current)
            if resource is None:
                break
            own = resource.tags.get(key)
            if own:
                value = own.lower()
                break
            current = resource.parent
        for visited in chain:
            self._inherited[(visited, key)] = value
        return value

    def tenant(self, urn: str) -> str | None:
        """The tenant that owns a resource: its ``tenant`` tag, else its nearest ancestor's; for a
        resource that cannot carry tags (an Azure subnet, a GCP subnetwork), else the one tenant of
        the containers it sits in (a subnet belongs to its network's tenant)."""
        if urn in self._tenants:
            return self._tenants[urn]
        self._tenants[urn] = None  # a cycle through containers resolves to no tenant
        tenant = self.inherited_tag(urn, "tenant")
        resource = self.by_urn.get(urn)
        if tenant is None and resource is not None and not can_carry_tags(resource):
            owners = {
                self.tenant(ref.target.urn) for ref in self.references(resource) if ref.target.type in CONTAINER_TYPES
            }
            tenant = owners.pop() if len(owners) == 1 else None
        self._tenants[urn] = tenant
        return tenant

    def member_tenants(self, urn: str) -> set[str]:
        """The tenants of the resources that refer to resource ``urn`` (its members, for a container)."""
        if self._referrers is None:
            self._referrers = {}
            for resource in self.resources:
                for ref in self.references(resource):
                    self._referrers.setdefault(ref.target.urn, []).append(resource)
        return {t for r in self._referrers.get(urn, []) if (t := self.tenant(r.urn)) is not None}

    def sibling_tenants(self, urn: str) -> set[str]:
        """The tenants tagged on the resources under ``urn``'s parent (its component: the cluster it
        was created for), ``urn`` itself and the stack root's direct children aside.

        Complexity: O(resources) on the first call, then O(resources under the parent)."""
        if self._children is None:
            self._children = {}
            for member in self.resources:
                if member.parent is not None:
                    self._children.setdefault(member.parent, []).append(member)
        resource = self.by_urn.get(urn)
        if resource is None or resource.parent is None or resource.parent == self.root_urn:
            return set()
        tenants: set[str] = set()
        pending = list(self._children.get(resource.parent, []))
        while pending:
            child = pending.pop()
            if child.urn != urn:
                if own := child.tags.get("tenant"):
                    tenants.add(own.lower())
                pending.extend(self._children.get(child.urn, []))
        return tenants

    def network_tenant(self, urn: str) -> str | None:
        """A network's tenant: its owner, else the one tenant of everything in it."""
        owner = self.tenant(urn)
        if owner is not None:
            return owner
        members = self.member_tenants(urn)
        return members.pop() if len(members) == 1 else None

    def references(self, resource: StackResource) -> list[Reference]:
        """Every resource of the stack that ``resource`` refers to, once per (property, target)."""
        cached = self._references.get(resource.urn)
        if cached is not None:
            return cached
        seen: dict[tuple[str, str], Reference] = {}

        def add(prop: str, target: StackResource | None) -> None:
            if target is not None and target.urn != resource.urn:
                seen.setdefault((prop, target.urn), Reference(prop, target))

        for prop, urns in resource.property_dependencies.items():
            for urn in urns:
                add(prop, self.by_urn.get(urn))
        through_props = {urn for urns in resource.property_dependencies.values() for urn in urns}
        for urn in resource.dependencies:
            if urn not in through_props:
                add("dependsOn", self.by_urn.get(urn))
        for path, value in string_leaves(resource.props):
            top = path.split(".", 1)[0]
            if top in _TAG_PROPS or not value or is_unknown(value):
                continue
            for key in _referenced_keys(resource, path, value):
                for target in self._lookup(key):
                    add(top, target)
        found = list(seen.values())
        self._references[resource.urn] = found
        return found

    def _lookup(self, key: tuple[str, str]) -> list[StackResource]:
        kind, value = key
        if kind == "azure-rg" or not kind.startswith("azure-"):
            return self._identities.get(key, [])
        group, name = value.split("/", 1)
        if group == "*":  # the reference does not say which group: any resource of that name
            return self._identities.get((f"{kind}@any-group", name), [])
        # Else that group's, or one whose own group is not known yet (unknown at preview).
        return self._identities.get(key) or self._identities.get((kind, f"*/{name}"), [])

    def named_by(self, resource: StackResource, path: str, value: str, types: frozenset[str]) -> list[StackResource]:
        """The resources of ``types`` that the one string ``value`` at ``path`` of ``resource`` names."""
        found: dict[str, StackResource] = {}
        for key in _referenced_keys(resource, path, value):
            for target in self._lookup(key):
                if target.type in types and target.urn != resource.urn:
                    found.setdefault(target.urn, target)
        return list(found.values())

    def depended_on_through(
        self, resource: StackResource, props: Sequence[str], types: frozenset[str]
    ) -> list[StackResource]:
        """The resources of ``types`` whose outputs the engine says flow into ``props`` of ``resource``."""
        urns = {urn for prop in props for urn in resource.property_dependencies.get(prop, ())}
        return [self.by_urn[urn] for urn in sorted(urns) if urn in self.by_urn and self.by_urn[urn].type in types]

    def referenced_through(
        self, resource: StackResource, props: Sequence[str], types: frozenset[str]
    ) -> list[StackResource]:
        """The resources of ``types`` that ``resource`` refers to through any of ``props``."""
        found: dict[str, StackResource] = {}
        for ref in self.references(resource):
            if ref.prop in props and ref.target.type in types:
                found.setdefault(ref.target.urn, ref.target)
        return list(found.values())


def known_strings(resource: ResourceView, props: Sequence[str]) -> list[tuple[str, Any]]:
    """(path, value) of every string under ``props``, unknowns included, for messages."""
    found: list[tuple[str, Any]] = []
    for prop in props:
        value = get_path(resource.props, prop)
        if is_unknown(value):
            found.append((prop, value))
        else:
            found.extend((f"{prop}.{p}" if p else prop, v) for p, v in string_leaves(value))
    return found
