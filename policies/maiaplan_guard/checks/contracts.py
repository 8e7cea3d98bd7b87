"""contract-limits (stack): each configured cloud contract holds for the stack as deployed.

Chips per resource: scale-set capacity × chips per VM size, a VM's size, an auto-scaling group's
desired capacity (else its minimum) × chips per instance type (from its launch template, or the
range over its mixed-instances overrides), an instance's type, a TPU slice's type
(``v5p-32`` = 32 TensorCores = 16 chips) or topology, a GCP instance's machine type plus its guest
accelerators. Per contract, the tenant's chips on the contract's provider are checked against
``max_chips``, ``min_chips`` and ``min_share`` (of the tenant's chips on every provider), each
counted resource's region against ``regions``, and a resource tagged with one of
``exclusive_workloads`` must not be on another provider.

Counts are ranges (low, high) so that an ambiguous SKU choice is judged conservatively: upper
bounds use the high end, lower bounds the low end. Anything that cannot be counted (an unknown SKU,
a capacity unknown at preview, an unattributable resource) is a finding of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..config import Contract, GuardConfig
from ..findings import Finding
from ..graph import StackGraph, StackResource
from ..resources import (
    AWS_ASG,
    AWS_INSTANCE,
    AWS_LAUNCH_TEMPLATE,
    AZ_RESOURCE_GROUP,
    AZ_VM,
    AZ_VMSS,
    GCP_INSTANCE,
    GCP_TPU,
)
from ..values import MISSING, describe, get_path, is_unknown, items_of

RULE_UNCOUNTABLE = "chips-countable"
RULE_MAX = "max-chips"
RULE_MIN = "min-chips"
RULE_SHARE = "min-share"
RULE_REGION = "regions"
RULE_EXCLUSIVE = "exclusive-workloads"

_TPU_TYPE = re.compile(r"^(?P<prefix>[a-z0-9]+)-(?P<cores>[0-9]+)$")
_ZONE_SUFFIX = re.compile(r"^(?P<region>[a-z]+(?:-[a-z]+)+-[0-9]+)[a-z]$")  # AWS: us-east-1a -> us-east-1


@dataclass(frozen=True)
class Chips:
    """A chip count as a range: ``low == high`` unless the SKU is one of several."""

    low: int
    high: int

    def __add__(self, other: Chips) -> Chips:
        return Chips(self.low + other.low, self.high + other.high)

    def __str__(self) -> str:
        return str(self.low) if self.low == self.high else f"{self.low}–{self.high}"


NO_CHIPS = Chips(0, 0)


class Uncountable(Exception):
    """A compute resource whose chips cannot be counted: (property path, value, why, fix)."""

    def __init__(self, path: str, value: object, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.path, self.value, self.problem, self.fix = path, value, problem, fix


def _known_text(resource: StackResource, path: str, what: str, fix: str) -> str:
    value = resource.get(path)
    if is_unknown(value):
        raise Uncountable(path, value, f"its {what} is unknown at preview", fix)
    if not isinstance(value, str) or not value:
        raise Uncountable(path, value, f"its {what} is not set", fix)
    return value


def _count(resource: StackResource, path: str, fallback: str | None = None) -> int:
    value = resource.get(path)
    if (value is MISSING or value is None) and fallback is not None:
        path, value = fallback, resource.get(fallback)
    fix = f"set {path} to a literal number."
    if is_unknown(value):
        raise Uncountable(path, value, "its capacity is unknown at preview", fix)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise Uncountable(path, value, "its capacity is not a number", fix)
    return int(value)


def _per_sku(sku: str, path: str, config: GuardConfig) -> int:
    sku = sku.rstrip("/").rsplit("/", 1)[-1]  # GCP machine types may be given as URLs
    if sku not in config.chips_per_sku:
        raise Uncountable(
            path,
            sku,
            "its SKU is not in contract-limits' chips_per_sku table",
            f"add chips_per_sku['{sku}'] (0 for a SKU without accelerators) to contract-limits' config, "
            "e.g. with `maiaplan policy-config` from a spec whose catalog lists it.",
        )
    return config.chips_per_sku[sku]


def _launch_template_types(graph: StackGraph, resource: StackResource) -> list[tuple[str, str]]:
    """(path, instance type) of the EC2 instance types an instance or auto-scaling group launches."""
    overrides = resource.get("mixedInstancesPolicy.launchTemplate.overrides")
    types = [
        (f"mixedInstancesPolicy.launchTemplate.overrides.{i}.instanceType", get_path(o, "instanceType"))
        for i, o in enumerate(items_of(overrides) if not is_unknown(overrides) else [])
    ]
    types = [(path, value) for path, value in types if value is not MISSING and value is not None]
    if types:
        return types
    templates = graph.referenced_through(
        resource, ("launchTemplate", "mixedInstancesPolicy"), frozenset({AWS_LAUNCH_TEMPLATE})
    )
    return [(f"{template.label}.instanceType", template.get("instanceType")) for template in templates]


def _aws_chips_per_instance(graph: StackGraph, resource: StackResource, config: GuardConfig) -> Chips:
    own = resource.get("instanceType")
    types = [("instanceType", own)] if own is not MISSING and own is not None else []
    fix = (
        "set instance_type to a literal instance type."
        if types
        else "set instance_type on the launch template (of this stack) the resource launches from."
    )
    types = types or _launch_template_types(graph, resource)
    if not types:
        raise Uncountable(
            "launchTemplate",
            resource.get("launchTemplate"),
            "its instance type cannot be found (no instanceType, no launch template of the stack)",
            fix,
        )
    counts = []
    for path, value in types:
        if is_unknown(value):
            raise Uncountable(path, value, "its instance type is unknown at preview", fix)
        if not isinstance(value, str) or not value:
            raise Uncountable(path, value, "its instance type is not set", fix)
        counts.append(_per_sku(value, path, config))
    return Chips(min(counts), max(counts))


def _tpu_chips(resource: StackResource, config: GuardConfig) -> int:
    fix = "set accelerator_type to '<prefix>-<cores>' (e.g. 'v5p-32') or accelerator_config.topology."
    accelerator = resource.get("acceleratorType")
    if is_unknown(accelerator):
        raise Uncountable("acceleratorType", accelerator, "its accelerator type is unknown at preview", fix)
    if isinstance(accelerator, str) and accelerator:
        match = _TPU_TYPE.match(accelerator)
        if not match:
            raise Uncountable("acceleratorType", accelerator, "its accelerator type is not '<prefix>-<cores>'", fix)
        prefix, cores = match["prefix"], int(match["cores"])
        if prefix not in config.tpu_cores_per_chip:
            raise Uncountable(
                "acceleratorType",
                accelerator,
                "its TPU generation is not in tpu_cores_per_chip",
                f"add tpu_cores_per_chip['{prefix}'] to contract-limits' config.",
            )
        return math.ceil(cores / config.tpu_cores_per_chip[prefix])
    topology = resource.get("acceleratorConfig.topology")
    if is_unknown(topology):
        raise Uncountable("acceleratorConfig.topology", topology, "its topology is unknown at preview", fix)
    if isinstance(topology, str) and re.fullmatch(r"[0-9]+(x[0-9]+)*", topology):
        return math.prod(int(dim) for dim in topology.split("x"))
    raise Uncountable("acceleratorType", accelerator, "it names neither an accelerator type nor a topology", fix)


def _gcp_instance_chips(resource: StackResource, config: GuardConfig) -> int:
    machine = _known_text(resource, "machineType", "machine type", "set machine_type to a literal machine type.")
    chips = _per_sku(machine, "machineType", config)
    accelerators = resource.get("guestAccelerators")
    if is_unknown(accelerators):
        raise Uncountable(
            "guestAccelerators",
            accelerators,
            "its guest accelerators are unknown at preview",
            "set guest_accelerators literally.",
        )
    for i, accelerator in enumerate(items_of(accelerators)):
        count = get_path(accelerator, "count")
        if is_unknown(count) or isinstance(count, bool) or not isinstance(count, int | float):
            raise Uncountable(
                f"guestAccelerators.{i}.count",
                count,
                "a guest accelerator count is not known",
                "set guest_accelerators[].count to a literal number.",
            )
        chips += int(count)
    return chips


def chips_of(graph: StackGraph, resource: StackResource, config: GuardConfig) -> Chips | None:
    """The accelerator chips ``resource`` runs, or None for what runs none (templates, networks…).

    Raises
    ------
    Uncountable
        When the resource is compute whose chips cannot be counted.
    """
    if resource.type == AZ_VMSS:
        sku = _known_text(resource, "sku.name", "VM size", "set sku.name to a literal VM size.")
        chips = _per_sku(sku, "sku.name", config) * _count(resource, "sku.capacity")
        return Chips(chips, chips)
    if resource.type == AZ_VM:
        size = _known_text(resource, "hardwareProfile.vmSize", "VM size", "set hardware_profile.vm_size literally.")
        per_vm = _per_sku(size, "hardwareProfile.vmSize", config)
        return Chips(per_vm, per_vm)
    if resource.type == AWS_INSTANCE:
        return _aws_chips_per_instance(graph, resource, config)
    if resource.type == AWS_ASG:
        per_instance = _aws_chips_per_instance(graph, resource, config)
        count = _count(resource, "desiredCapacity", fallback="minSize")
        return Chips(per_instance.low * count, per_instance.high * count)
    if resource.type == GCP_TPU:
        chips = _tpu_chips(resource, config)
        return Chips(chips, chips)
    if resource.type == GCP_INSTANCE:
        chips = _gcp_instance_chips(resource, config)
        return Chips(chips, chips)
    return None


def _known(value: object) -> str | None:
    return value if isinstance(value, str) and value and not is_unknown(value) else None


def region_of(graph: StackGraph, resource: StackResource) -> str | None:
    """The region a compute resource runs in, or None when it cannot be told."""
    family = resource.family
    if family == "azure":
        location = _known(resource.get("location"))
        if location is None:
            groups = graph.referenced_through(resource, ("resourceGroupName",), frozenset({AZ_RESOURCE_GROUP}))
            locations = {_known(group.get("location")) for group in groups}
            location = locations.pop() if len(locations) == 1 else None
        return location.replace(" ", "").lower() if location else None
    if family == "aws":
        # pulumi-aws 7 takes a region per resource; else the provider's.
        region = _known(resource.get("region")) or _known(resource.provider_props.get("region"))
        if region:
            return region
        zones = [resource.get("availabilityZone"), *items_of(resource.get("availabilityZones"))]
        regions = {m["region"] for z in zones if (zone := _known(z)) and (m := _ZONE_SUFFIX.match(zone))}
        return regions.pop() if len(regions) == 1 else None
    if family == "gcp":
        zone = _known(resource.get("zone")) or _known(resource.provider_props.get("zone"))
        if zone:
            return zone.rsplit("-", 1)[0]
        return _known(resource.get("region")) or _known(resource.provider_props.get("region"))
    return None


def _largest(contributors: Iterable[tuple[StackResource, Chips]], limit: int = 5) -> str:
    ranked = sorted(contributors, key=lambda item: (-item[1].high, item[0].urn))
    shown = ", ".join(f"{r.label}: {chips}" for r, chips in ranked[:limit])
    return shown + (f", and {len(ranked) - limit} more" if len(ranked) > limit else "")


def _contract_finding(graph: StackGraph, contract: Contract, rule: str, problem: str, value: str, fix: str) -> Finding:
    return Finding(graph.root_urn, f"contract '{contract.name}'", rule, problem, value, fix)


def check_contract_limits(graph: StackGraph, config: GuardConfig) -> list[Finding]:
    """Findings for every configured contract the stack would break.

    Complexity: O(resources × contracts) plus the references of AWS compute to launch templates.
    """
    if not config.contracts:
        return []
    contracted = {contract.tenant for contract in config.contracts}
    findings: list[Finding] = []
    counted: dict[tuple[str, str], list[tuple[StackResource, Chips]]] = {}

    def resource_finding(resource: StackResource, rule: str, problem: str, value: str, fix: str) -> Finding:
        return Finding(resource.urn, resource.label, rule, problem, value, fix, resource.tags.values)

    for resource in graph.resources:
        family = resource.family
        if family is None:
            continue
        tenant = graph.tenant(resource.urn)
        workload = graph.inherited_tag(resource.urn, "workload")
        for contract in config.contracts:
            if (
                workload
                and workload in contract.exclusive_workloads
                and family != contract.provider
                and (tenant is None or tenant == contract.tenant)
            ):
                findings.append(
                    resource_finding(
                        resource,
                        RULE_EXCLUSIVE,
                        f"workload '{workload}' is exclusive to {contract.provider} under contract '{contract.name}'",
                        f"provider {family}",
                        f"run '{workload}' on {contract.provider} only, or change the contract's exclusive_workloads.",
                    )
                )
        try:
            chips = chips_of(graph, resource, config)
        except Uncountable as error:
            if tenant is None or tenant in contracted:
                findings.append(
                    resource_finding(
                        resource,
                        RULE_UNCOUNTABLE,
                        f"its accelerator chips cannot be counted: {error.problem}",
                        f"{error.path} = {describe(error.value)}",
                        error.fix,
                    )
                )
            continue
        if chips is None:
            continue
        if tenant is None:
            findings.append(
                resource_finding(
                    resource,
                    RULE_UNCOUNTABLE,
                    f"it runs {chips} chips but carries no 'tenant' tag, so no contract can count them",
                    "tenant = not set",
                    "tag the resource (or its component) with its tenant.",
                )
            )
            continue
        counted.setdefault((tenant, family), []).append((resource, chips))
        for contract in config.contracts:
            if contract.tenant != tenant or contract.provider != family or not contract.regions:
                continue
            region = region_of(graph, resource)
            if region is None:
                findings.append(
                    resource_finding(
                        resource,
                        RULE_REGION,
                        f"its region cannot be told, so contract '{contract.name}' (regions {list(contract.regions)}) "
                        "cannot be checked",
                        "region = unknown",
                        "set location / zone literally (or the provider's region).",
                    )
                )
            elif region not in contract.regions:
                findings.append(
                    resource_finding(
                        resource,
                        RULE_REGION,
                        f"contract '{contract.name}' allows only regions {list(contract.regions)}",
                        f"region {region!r}",
                        f"move it to one of {list(contract.regions)}, or amend the contract.",
                    )
                )

    def total(tenant: str, provider: str) -> Chips:
        return sum((chips for _, chips in counted.get((tenant, provider), [])), NO_CHIPS)

    for contract in config.contracts:
        mine = total(contract.tenant, contract.provider)
        listing = _largest(counted.get((contract.tenant, contract.provider), [])) or "no resources"
        where = f"tenant '{contract.tenant}' on {contract.provider}"
        if contract.max_chips is not None and mine.high > contract.max_chips:
            findings.append(
                _contract_finding(
                    graph,
                    contract,
                    RULE_MAX,
                    f"{where} would run more than max_chips {contract.max_chips}",
                    f"{mine} chips ({listing})",
                    "lower the capacity on this provider, or raise the contract's max_chips.",
                )
            )
        if contract.min_chips is not None and mine.low < contract.min_chips:
            findings.append(
                _contract_finding(
                    graph,
                    contract,
                    RULE_MIN,
                    f"{where} would run fewer than min_chips {contract.min_chips}",
                    f"{mine} chips ({listing})",
                    "keep at least min_chips chips in use on this provider in every phase.",
                )
            )
        if contract.min_share is not None:
            others = sum(
                (total(contract.tenant, p) for (t, p) in counted if t == contract.tenant and p != contract.provider),
                NO_CHIPS,
            )
            serving = mine.low + others.high
            if serving > 0 and mine.low / serving < contract.min_share:
                findings.append(
                    _contract_finding(
                        graph,
                        contract,
                        RULE_SHARE,
                        f"{where} would hold less than min_share {contract.min_share:.0%} of the tenant's chips",
                        f"{mine.low / serving:.1%} ({mine.low} of {serving} chips; {listing})",
                        "move less off this provider in this phase, or keep more capacity on it.",
                    )
                )
    return findings
