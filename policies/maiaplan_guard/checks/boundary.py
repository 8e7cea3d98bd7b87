"""tenant-network-boundary (stack): tenants share no network, resource group or host group.

Peerings (Azure VNet peerings, standalone or inline in a VNet; AWS VPC peerings; GCP network
peerings) join only networks of one tenant, and every network end must be provably some tenant's.
No resource of one tenant sits in another tenant's resource group, network, subnet, security group,
host group, dedicated host, placement group or node group; a resource with no tenant must not sit in
a hardware-isolated tenant's container either (and vice versa), since nothing proves it is theirs. A
container that cannot carry tags (a GCP network) belongs to nobody, so it must not be shared by
resources of several tenants; a network's tenant, for peerings, is then the one tenant inside it.
A GCP sole-tenant node group cannot carry labels either, but it is hardware a tenant owns: its
owner is the hardware-isolated tenant among those on it and beside it, and nobody else's instance
may sit on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import GuardConfig
from ..findings import Finding
from ..graph import StackGraph, StackResource, can_carry_tags, known_strings
from ..resources import (
    AWS_PEERING,
    AZ_PEERING,
    AZ_VNET,
    CONTAINER_TYPES,
    GCP_NODE_GROUP,
    GCP_PEERING,
    NETWORK_TYPES,
)
from ..values import describe, is_unknown

RULE_PEERING = "peering-within-tenant"
RULE_CONTAINMENT = "no-foreign-container"

# Peering resource type -> (local-side properties, remote-side properties); () = the resource itself.
PEERINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    AZ_PEERING: (("virtualNetworkName",), ("remoteVirtualNetwork",)),
    AWS_PEERING: (("vpcId",), ("peerVpcId",)),
    GCP_PEERING: (("network",), ("peerNetwork",)),
    AZ_VNET: ((), ("virtualNetworkPeerings",)),
}

PEERING_FIX = (
    "peer only networks of one tenant, referenced by their resources' ids in this stack; "
    "for a network outside the stack, name its owner in tenant-network-boundary's external_networks."
)


@dataclass(frozen=True)
class _End:
    """One end of a peering: a network of the stack, an external network, or something unprovable."""

    label: str
    tenant: str | None
    problem: str | None = None


def _external_tenant(value: str, config: GuardConfig) -> str | None:
    for key in (value, value.rstrip("/").rsplit("/", 1)[-1]):
        if key in config.external_networks:
            return config.external_networks[key]
    return None


def _names_a_network(path: str, props: tuple[str, ...]) -> bool:
    """Whether a string leaf under the peering's end properties is a network reference (an id or the
    property itself), rather than e.g. an inline peering's own name."""
    return path in props or path.endswith(".id")


def _ends(graph: StackGraph, peering: StackResource, props: tuple[str, ...], config: GuardConfig) -> list[_End]:
    """Every network a peering's ``props`` name, each judged on its own: one inline peering that
    resolves to a network of the stack proves nothing about the others."""
    if not props:
        return [_End(peering.label, graph.network_tenant(peering.urn))]
    # An unknown value in a property the engine says depends on stack networks is one of their outputs.
    depended = graph.depended_on_through(peering, props, NETWORK_TYPES)
    ends: dict[str, _End] = {n.urn: _End(n.label, graph.network_tenant(n.urn)) for n in depended}
    for path, value in known_strings(peering, props):
        if not _names_a_network(path, props):
            continue
        if is_unknown(value):
            if not depended:
                ends[path] = _End(
                    f"{path} = {describe(value)}", None, "is unknown at preview and depends on no network of the stack"
                )
        elif named := graph.named_by(peering, path, value, NETWORK_TYPES):
            ends.update({n.urn: _End(n.label, graph.network_tenant(n.urn)) for n in named})
        elif (tenant := _external_tenant(value, config)) is not None:
            ends[path] = _End(f"external network {value!r}", tenant)
        else:
            ends[path] = _End(
                f"{path} = {value!r}", None, "names no network of the stack and no external_networks entry"
            )
    if not ends and peering.type != AZ_VNET:
        return [_End(f"{'/'.join(props)} = not set", None, "is not set")]
    return list(ends.values())


def _check_peering(graph: StackGraph, peering: StackResource, config: GuardConfig) -> list[Finding]:
    local_props, remote_props = PEERINGS[peering.type]
    remote = _ends(graph, peering, remote_props, config)
    if not remote:
        return []
    ends = _ends(graph, peering, local_props, config) + remote

    def finding(problem: str, value: str) -> Finding:
        return Finding(peering.urn, peering.label, RULE_PEERING, problem, value, PEERING_FIX, peering.tags.values)

    findings = [
        finding(f"a peered network {end.problem}, so the peering cannot be shown to stay within one tenant", end.label)
        for end in ends
        if end.problem
    ]
    untenanted = [end for end in ends if not end.problem and end.tenant is None]
    findings += [
        finding(
            "a peered network carries no 'tenant' tag, so the peering cannot be shown to stay within one tenant",
            end.label,
        )
        for end in untenanted
    ]
    tenants = sorted({end.tenant for end in ends if end.tenant is not None})
    if len(tenants) > 1:
        joined = "; ".join(f"{end.label} (tenant '{end.tenant}')" for end in ends if end.tenant is not None)
        findings.append(finding(f"it joins networks of different tenants {tenants}", joined))
    return findings


def _node_group_owner(graph: StackGraph, group: StackResource, config: GuardConfig) -> str | None:
    """Who owns a GCP sole-tenant node group, which cannot carry labels: hardware is a tenant's own.

    The tenants that could own it are those of the instances on it and those of the resources
    created beside it (under its component, the cluster it was made for). The one hardware-isolated
    tenant among them owns it, for it is the tenant that asked for sole-tenant hardware; else the
    one tenant, if there is only one. Anyone else's instance on it sits in a foreign container.
    """
    candidates = graph.member_tenants(group.urn) | graph.sibling_tenants(group.urn)
    hardware = sorted(t for t in candidates if config.isolation_of(t) == "hardware")
    if len(hardware) == 1:
        return hardware[0]
    return next(iter(candidates)) if len(candidates) == 1 and not hardware else None


def _check_containment(graph: StackGraph, resource: StackResource, config: GuardConfig) -> list[Finding]:
    tenant = graph.tenant(resource.urn)
    remote_props = PEERINGS.get(resource.type, ((), ()))[1]
    foreign: dict[tuple[str | None, bool], list[str]] = {}  # (other tenant, shared) -> containers
    for ref in graph.references(resource):
        container = ref.target
        if container.type not in CONTAINER_TYPES or ref.prop in remote_props:
            continue
        owner = graph.tenant(container.urn)
        if owner is None and container.type == GCP_NODE_GROUP:
            owner = _node_group_owner(graph, container, config)
        if owner is None and not can_carry_tags(container):
            # Nobody owns it (a GCP network): it must not be shared by several tenants.
            others = sorted(graph.member_tenants(container.urn) - {tenant}) if tenant is not None else []
            if not others:
                continue
            owner, shared = others[0], True
            entry = f"{container.label}, also holding tenant(s) {others}"
        else:
            if owner == tenant:
                continue
            # One side unattributed: nothing proves they belong together, which matters when the other
            # side is hardware-isolated. A resource that cannot carry a tag and inherits none is nobody's.
            if tenant is None and (not can_carry_tags(resource) or config.isolation_of(owner) != "hardware"):
                continue
            if owner is None and config.isolation_of(tenant) != "hardware":
                continue
            shared, entry = False, container.label
        via = "an explicit dependsOn" if ref.prop == "dependsOn" else f"property '{ref.prop}'"
        entry = f"{entry} (via {via})"
        if entry not in foreign.setdefault((owner, shared), []):
            foreign[(owner, shared)].append(entry)
    own = f"tenant '{tenant}'" if tenant else "no tenant"

    def problem(owner: str | None, shared: bool) -> str:
        if shared:
            return f"it belongs to {own} but shares an unowned container with tenant '{owner}'"
        return f"it belongs to {own} but sits in a container of {f'tenant {owner!r}' if owner else 'no tenant'}"

    return [
        Finding(
            urn=resource.urn,
            subject=resource.label,
            rule=RULE_CONTAINMENT,
            problem=problem(owner, shared),
            value=", ".join(containers),
            fix="create it in its own tenant's resource group / network / host group, or tag both with the "
            "same 'tenant' if they do belong together.",
            tags=resource.tags.values,
        )
        for (owner, shared), containers in foreign.items()
    ]


def check_tenant_network_boundary(graph: StackGraph, config: GuardConfig) -> list[Finding]:
    """Findings for cross-tenant peerings and for resources in another tenant's containers.

    Complexity: O(total property size + dependencies) over the stack.
    """
    findings: list[Finding] = []
    for resource in graph.resources:
        if resource.family is None:
            continue
        if resource.type in PEERINGS:
            findings += _check_peering(graph, resource, config)
        findings += _check_containment(graph, resource, config)
    return findings
