"""no-public-ingress: no public IP on tenant compute; no rule open inbound to the whole internet.

Public IPs: Azure public IP configurations on scale-set / VM NICs and public IPs on NICs, AWS
``associatePublicIpAddress`` (instances, launch-template interfaces) and subnets that hand public
IPs out, Elastic IPs attached to instances or interfaces, GCP access configs and TPU external IPs. Open rules: Azure security rules, AWS security
groups and ingress rules, and GCP firewalls whose source is ``0.0.0.0/0``, ``::/0``, ``*``,
``Internet`` (or a GCP ingress firewall with no source at all, which GCP reads as ``0.0.0.0/0``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..config import GuardConfig
from ..findings import Finding
from ..resources import (
    AWS_EIP,
    AWS_EIP_ASSOCIATION,
    AWS_INSTANCE,
    AWS_LAUNCH_TEMPLATE,
    AWS_SECURITY_GROUP,
    AWS_SG_INGRESS_RULE,
    AWS_SG_RULE,
    AWS_SUBNET,
    AZ_NIC,
    AZ_NSG,
    AZ_SECURITY_RULE,
    AZ_VM,
    AZ_VMSS,
    GCP_FIREWALL,
    GCP_INSTANCE,
    GCP_INSTANCE_TEMPLATE,
    GCP_TPU,
    ResourceView,
)
from ..values import MISSING, get_path, is_unknown, items_of, truthy_flag

OPEN_SOURCES = frozenset({"0.0.0.0/0", "0.0.0.0", "::/0", "*", "internet", "any"})

# One problem: (offending property path, its value, what is wrong, how to fix it).
Problem = tuple[str, Any, str, str]


def _is_open(source: Any) -> bool:
    return isinstance(source, str) and source.strip().lower() in OPEN_SOURCES


def _unknown(path: str, value: Any, what: str, fix: str) -> Problem:
    return path, value, f"{what} is unknown at preview, so it may expose the resource", fix


def _list_at(resource_value: Any, path: str, problems: list[Problem], what: str, fix: str) -> list[Any]:
    """The list at ``path``; records an unknown-at-preview problem and returns [] when unknown."""
    value = get_path(resource_value, path)
    if is_unknown(value):
        problems.append(_unknown(path, value, what, fix))
        return []
    return items_of(value)


def _azure_nic_configs(resource: ResourceView, profile: str) -> Iterator[Problem]:
    fix = "remove publicIPAddressConfiguration; reach the nodes through a private endpoint or bastion."
    problems: list[Problem] = []
    configs_path = f"{profile}networkProfile.networkInterfaceConfigurations"
    for i, nic in enumerate(_list_at(resource.props, configs_path, problems, "the NIC configuration", fix)):
        ip_path = f"{configs_path}.{i}.ipConfigurations"
        for j, ip in enumerate(_list_at(nic, "ipConfigurations", problems, f"{ip_path}", fix)):
            public = get_path(ip, "publicIPAddressConfiguration")
            if is_unknown(public):
                problems.append(
                    _unknown(f"{ip_path}.{j}.publicIPAddressConfiguration", public, "the public IP configuration", fix)
                )
            elif public is not MISSING and public is not None:
                problems.append(
                    (
                        f"{ip_path}.{j}.publicIPAddressConfiguration",
                        public,
                        "a public IP is attached to the nodes' NICs",
                        fix,
                    )
                )
    yield from problems


def _azure_nic(resource: ResourceView) -> Iterator[Problem]:
    fix = "remove publicIPAddress from the NIC's ipConfigurations."
    problems: list[Problem] = []
    for i, ip in enumerate(_list_at(resource.props, "ipConfigurations", problems, "ipConfigurations", fix)):
        public = get_path(ip, "publicIPAddress")
        if is_unknown(public):
            problems.append(_unknown(f"ipConfigurations.{i}.publicIPAddress", public, "the public IP", fix))
        elif public is not MISSING and public is not None:
            problems.append((f"ipConfigurations.{i}.publicIPAddress", public, "a public IP is attached", fix))
    yield from problems


def _azure_rule(rule: Any, path: str) -> Iterator[Problem]:
    fix = (
        "restrict the source to the tenant's own address space or a service tag other than "
        "Internet, or set access = 'Deny'."
    )
    direction, access = get_path(rule, "direction"), get_path(rule, "access")
    if is_unknown(direction) or is_unknown(access):
        yield _unknown(path, rule, "the rule's direction or access", fix)
        return
    if str(direction).lower() != "inbound" or str(access).lower() != "allow":
        return
    for key in ("sourceAddressPrefix", "sourceAddressPrefixes"):
        for k, source in enumerate(items_of(get_path(rule, key))):
            where = f"{path}{key}" if key == "sourceAddressPrefix" else f"{path}{key}.{k}"
            if is_unknown(source):
                yield _unknown(where, source, "an inbound allow rule's source", fix)
            elif _is_open(source):
                yield where, source, "an inbound allow rule is open to the whole internet", fix


def _azure_nsg(resource: ResourceView) -> Iterator[Problem]:
    problems: list[Problem] = []
    rules = _list_at(resource.props, "securityRules", problems, "securityRules", "set securityRules literally.")
    yield from problems
    for i, rule in enumerate(rules):
        yield from _azure_rule(rule, f"securityRules.{i}.")


def _aws_cidrs(rule: Any, path: str, fix: str) -> Iterator[Problem]:
    for key in ("cidrBlocks", "ipv6CidrBlocks"):
        value = get_path(rule, key)
        if is_unknown(value):
            yield _unknown(f"{path}{key}", value, "an ingress rule's CIDR blocks", fix)
        for k, cidr in enumerate(items_of(value) if not is_unknown(value) else []):
            if is_unknown(cidr):
                yield _unknown(f"{path}{key}.{k}", cidr, "an ingress rule's CIDR block", fix)
            elif _is_open(cidr):
                yield f"{path}{key}.{k}", cidr, "an ingress rule is open to the whole internet", fix


_AWS_SG_FIX = "allow only the tenant's VPC CIDR or other security groups as the ingress source."


def _aws_security_group(resource: ResourceView) -> Iterator[Problem]:
    problems: list[Problem] = []
    rules = _list_at(resource.props, "ingress", problems, "ingress", _AWS_SG_FIX)
    yield from problems
    for i, rule in enumerate(rules):
        yield from _aws_cidrs(rule, f"ingress.{i}.", _AWS_SG_FIX)


def _aws_sg_rule(resource: ResourceView) -> Iterator[Problem]:
    kind = resource.get("type")
    if is_unknown(kind):
        yield _unknown("type", kind, "the rule's type", _AWS_SG_FIX)
    elif kind == "ingress":
        yield from _aws_cidrs(resource.props, "", _AWS_SG_FIX)


def _aws_ingress_rule(resource: ResourceView) -> Iterator[Problem]:
    for key in ("cidrIpv4", "cidrIpv6"):
        value = resource.get(key)
        if is_unknown(value):
            yield _unknown(key, value, "the rule's source CIDR", _AWS_SG_FIX)
        elif _is_open(value):
            yield key, value, "the ingress rule is open to the whole internet", _AWS_SG_FIX


def _aws_public_ip_flag(resource: ResourceView, key: str, problem: str, fix: str) -> Iterator[Problem]:
    """A top-level AWS flag (a boolean or the strings "true"/"false") that hands out public IPs."""
    value = resource.get(key)
    if is_unknown(value):
        yield _unknown(key, value, key, fix)
    elif truthy_flag(value):
        yield key, value, problem, fix


def _aws_launch_template(resource: ResourceView) -> Iterator[Problem]:
    fix = "set network_interfaces[].associate_public_ip_address = 'false'."
    problems: list[Problem] = []
    for i, nic in enumerate(_list_at(resource.props, "networkInterfaces", problems, "networkInterfaces", fix)):
        value = get_path(nic, "associatePublicIpAddress")
        path = f"networkInterfaces.{i}.associatePublicIpAddress"
        if is_unknown(value):
            problems.append(_unknown(path, value, "associatePublicIpAddress", fix))
        elif truthy_flag(value):
            problems.append((path, value, "instances launched from it get public IPs", fix))
    yield from problems


def _gcp_access_configs(resource: ResourceView) -> Iterator[Problem]:
    fix = "remove access_configs / ipv6_access_configs; use Cloud NAT for egress and IAP for access."
    problems: list[Problem] = []
    for i, nic in enumerate(_list_at(resource.props, "networkInterfaces", problems, "networkInterfaces", fix)):
        for key in ("accessConfigs", "ipv6AccessConfigs"):
            value = get_path(nic, key)
            if is_unknown(value):
                problems.append(_unknown(f"networkInterfaces.{i}.{key}", value, key, fix))
            elif items_of(value):
                problems.append((f"networkInterfaces.{i}.{key}", value, "the instance gets an external IP", fix))
    yield from problems


def _gcp_tpu(resource: ResourceView) -> Iterator[Problem]:
    fix = "set network_config.enable_external_ips = False."
    configs = [("networkConfig", resource.get("networkConfig"))]
    listed = resource.get("networkConfigs")
    if is_unknown(listed):
        yield _unknown("networkConfigs", listed, "networkConfigs", fix)
    else:
        configs += [(f"networkConfigs.{i}", config) for i, config in enumerate(items_of(listed))]
    for path, config in configs:
        value = get_path(config, "enableExternalIps")
        if is_unknown(value):
            yield _unknown(f"{path}.enableExternalIps", value, "enableExternalIps", fix)
        elif value is True:
            yield f"{path}.enableExternalIps", value, "the TPU VM gets external IPs", fix


def _gcp_firewall(resource: ResourceView) -> Iterator[Problem]:
    fix = "set source_ranges to the tenant's own ranges (or use source tags / service accounts)."
    direction, disabled, allows = (resource.get(key) for key in ("direction", "disabled", "allows"))
    for key, value in (("direction", direction), ("disabled", disabled), ("allows", allows)):
        if is_unknown(value):
            yield _unknown(key, value, f"the firewall's {key}", fix)
            return
    if (direction is not MISSING and direction is not None and direction != "INGRESS") or disabled is True:
        return
    if not items_of(allows):
        return  # a deny rule never opens anything
    ranges = resource.get("sourceRanges")
    if is_unknown(ranges):
        yield _unknown("sourceRanges", ranges, "the firewall's sourceRanges", fix)
        return
    for i, source in enumerate(items_of(ranges)):
        if is_unknown(source):
            yield _unknown(f"sourceRanges.{i}", source, "a source range", fix)
        elif _is_open(source):
            yield f"sourceRanges.{i}", source, "an ingress allow rule is open to the whole internet", fix
    if not items_of(ranges) and not any(
        items_of(resource.get(key)) or is_unknown(resource.get(key)) for key in ("sourceTags", "sourceServiceAccounts")
    ):
        yield (
            "sourceRanges",
            ranges,
            "an ingress allow rule with no source at all, which GCP applies to 0.0.0.0/0",
            fix,
        )


def _aws_elastic_ip(resource: ResourceView, targets: tuple[str, ...]) -> Iterator[Problem]:
    """An Elastic IP (or its association) attached to an instance or a network interface."""
    fix = "serve through a private load balancer or Traffic Manager endpoint; attach no Elastic IP to tenant compute"
    for key in targets:
        value = resource.get(key)
        if is_unknown(value):
            yield _unknown(key, value, "the Elastic IP's attachment", fix)
        elif value:
            yield key, value, "an Elastic IP (a public address) is attached to compute", fix


_CHECKS: dict[str, Callable[[ResourceView], Iterator[Problem]]] = {
    AWS_EIP: lambda r: _aws_elastic_ip(r, ("instance", "networkInterface")),
    AWS_EIP_ASSOCIATION: lambda r: _aws_elastic_ip(r, ("instanceId", "networkInterfaceId")),
    AZ_VMSS: lambda r: _azure_nic_configs(r, "virtualMachineProfile."),
    AZ_VM: lambda r: _azure_nic_configs(r, ""),
    AZ_NIC: _azure_nic,
    AZ_NSG: _azure_nsg,
    AZ_SECURITY_RULE: lambda r: _azure_rule(r.props, ""),
    AWS_SECURITY_GROUP: _aws_security_group,
    AWS_SG_RULE: _aws_sg_rule,
    AWS_SG_INGRESS_RULE: _aws_ingress_rule,
    AWS_INSTANCE: lambda r: _aws_public_ip_flag(
        r, "associatePublicIpAddress", "the instance gets a public IP", "set associate_public_ip_address = False."
    ),
    AWS_LAUNCH_TEMPLATE: _aws_launch_template,
    AWS_SUBNET: lambda r: _aws_public_ip_flag(
        r,
        "mapPublicIpOnLaunch",
        "the subnet gives every instance launched in it a public IP",
        "set map_public_ip_on_launch = False.",
    ),
    GCP_INSTANCE: _gcp_access_configs,
    GCP_INSTANCE_TEMPLATE: _gcp_access_configs,
    GCP_TPU: _gcp_tpu,
    GCP_FIREWALL: _gcp_firewall,
}


def check_no_public_ingress(resource: ResourceView, config: GuardConfig) -> list[Finding]:
    """Findings for every public IP and every rule open to the internet on ``resource``.

    Applies whatever the tenant. Complexity: O(size of the network properties).
    """
    check = _CHECKS.get(resource.type)
    if check is None:
        return []
    return [
        Finding.on(resource, "no-public-ingress", problem, path, value, fix)
        for path, value, problem, fix in check(resource)
    ]
