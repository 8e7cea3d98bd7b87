"""dedicated-hardware: a hardware-isolated tenant's compute runs on hardware no other tenant shares.

Azure VMs and scale sets sit on a dedicated host group (or host); AWS instances and launch
templates use tenancy ``dedicated`` or ``host``; GCP instances (and instance templates) carry a
sole-tenant node affinity. TPU VMs are single-tenant by design and need nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any

from ..config import GuardConfig
from ..findings import Finding
from ..resources import (
    AWS_INSTANCE,
    AWS_LAUNCH_TEMPLATE,
    AZ_VM,
    AZ_VMSS,
    GCP_INSTANCE,
    GCP_INSTANCE_TEMPLATE,
    ResourceView,
)
from ..values import MISSING, get_path, is_unknown, items_of

DEDICATED_TENANCIES = ("dedicated", "host")
SOLE_TENANT_KEYS = ("compute.googleapis.com/node-group-name", "compute.googleapis.com/node-name")

# A placement check returns None when the resource is on dedicated hardware, else
# (offending property path, its value, what is wrong).
Placement = tuple[str, Any, str] | None


def _is_reference(value: Any) -> bool:
    """A ``{id: ...}`` sub-resource reference with an id (possibly unknown: an id not yet created)."""
    if not isinstance(value, Mapping):
        return False
    ref = value.get("id")
    return isinstance(ref, str) and bool(ref)


def _azure_placement(resource: ResourceView, paths: tuple[str, ...]) -> Placement:
    for path in paths:
        value = resource.get(path)
        if is_unknown(value):
            return path, value, f"{path} is unknown at preview"
        if _is_reference(value):
            return None
    what = "a dedicated host group or host" if len(paths) > 1 else "a dedicated host group"
    return paths[0], MISSING, f"it is not on {what}"


def _aws_placement(resource: ResourceView, prefix: str) -> Placement:
    tenancy = resource.get(f"{prefix}tenancy")
    if is_unknown(tenancy):
        return f"{prefix}tenancy", tenancy, "its tenancy is unknown at preview"
    if tenancy in DEDICATED_TENANCIES:
        return None
    # An instance placed on a given dedicated host is on dedicated hardware whatever the tenancy says.
    for host_path in (f"{prefix}hostId", f"{prefix}hostResourceGroupArn"):
        host = resource.get(host_path)
        if isinstance(host, str) and host:
            return None
    return f"{prefix}tenancy", tenancy, "its tenancy is not 'dedicated' or 'host'"


def _gcp_placement(resource: ResourceView) -> Placement:
    affinities = resource.get("scheduling.nodeAffinities")
    if is_unknown(affinities):
        return "scheduling.nodeAffinities", affinities, "its node affinities are unknown at preview"
    for affinity in items_of(affinities):
        key, operator, values = (get_path(affinity, name) for name in ("key", "operator", "values"))
        if is_unknown(key) or is_unknown(operator):
            return "scheduling.nodeAffinities", affinities, "its node affinities are unknown at preview"
        if key in SOLE_TENANT_KEYS and operator == "IN" and (is_unknown(values) or items_of(values)):
            return None
    return "scheduling.nodeAffinities", affinities, "it has no sole-tenant node affinity"


_PLACEMENTS: dict[str, tuple[Callable[[ResourceView], Placement], str]] = {
    AZ_VM: (
        lambda r: _azure_placement(r, ("hostGroup", "host")),
        "set hostGroup (or host) to a dedicated host group of this tenant: "
        "compute.VirtualMachine(host_group=SubResourceArgs(id=host_group.id)).",
    ),
    AZ_VMSS: (
        lambda r: _azure_placement(r, ("hostGroup",)),
        "set hostGroup to a dedicated host group of this tenant with automatic placement: "
        "compute.VirtualMachineScaleSet(host_group=SubResourceArgs(id=host_group.id)).",
    ),
    AWS_INSTANCE: (
        lambda r: _aws_placement(r, ""),
        "set tenancy = 'dedicated' (or 'host' with a host_id).",
    ),
    AWS_LAUNCH_TEMPLATE: (
        lambda r: _aws_placement(r, "placement."),
        "set placement = LaunchTemplatePlacementArgs(tenancy='dedicated') (or 'host').",
    ),
    GCP_INSTANCE: (
        _gcp_placement,
        "add scheduling.node_affinities = [{key: 'compute.googleapis.com/node-group-name', "
        "operator: 'IN', values: [<this tenant's sole-tenant node group>]}].",
    ),
    GCP_INSTANCE_TEMPLATE: (
        _gcp_placement,
        "add scheduling.node_affinities = [{key: 'compute.googleapis.com/node-group-name', "
        "operator: 'IN', values: [<this tenant's sole-tenant node group>]}].",
    ),
}


def _why_dedicated(resource: ResourceView, config: GuardConfig) -> str:
    tenant = resource.tenant
    if tenant is None:
        return "it carries no known 'tenant' tag, so it may belong to a hardware-isolated tenant"
    if tenant not in config.tenants:
        close = difflib.get_close_matches(tenant, list(config.tenants), n=1, cutoff=0.6)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        return f"its tenant '{tenant}' is not a configured tenant{hint}, so it is held to hardware isolation"
    return f"its tenant '{tenant}' has isolation 'hardware'"


def check_dedicated_hardware(resource: ResourceView, config: GuardConfig) -> list[Finding]:
    """A finding when a compute resource of a hardware-isolated (or unattributable) tenant may
    share hardware with another tenant. Complexity: O(size of the placement properties)."""
    rule = _PLACEMENTS.get(resource.type)
    if rule is None or config.isolation_of(resource.tenant) == "shared":
        return []
    placement, fix = rule
    result = placement(resource)
    if result is None:
        return []
    path, value, problem = result
    return [
        Finding.on(
            resource, "dedicated-hardware", f"{problem}, but {_why_dedicated(resource, config)}", path, value, fix
        )
    ]
