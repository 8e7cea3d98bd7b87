"""encryption-at-host: data at rest on tenant compute is encrypted by the platform.

Azure VMs and scale sets set ``securityProfile.encryptionAtHost``; AWS instances encrypt their
root and EBS volumes, and launch templates encrypt every EBS mapping (a launch template with no
block-device mapping leaves the root volume to the AMI, which the pack cannot see: it fails closed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ..config import GuardConfig
from ..findings import Finding
from ..resources import AWS_INSTANCE, AWS_LAUNCH_TEMPLATE, AZ_VM, AZ_VMSS, ResourceView
from ..values import MISSING, get_path, is_unknown, items_of, truthy_flag

# One problem: (offending property path, its value, what is wrong, how to fix it).
Problem = tuple[str, Any, str, str]


def _azure(resource: ResourceView, path: str) -> Iterator[Problem]:
    value = resource.get(path)
    fix = (
        f"set {path} = True (compute.SecurityProfileArgs(encryption_at_host=True)); the subscription "
        "needs the Microsoft.Compute/EncryptionAtHost feature registered."
    )
    if is_unknown(value):
        yield path, value, "encryption at host is unknown at preview", fix
    elif value is not True:
        yield path, value, "encryption at host is not enabled", fix


def _aws_volume(device: Any, path: str, fix: str) -> Iterator[Problem]:
    value = get_path(device, "encrypted")
    if is_unknown(value):
        yield f"{path}.encrypted", value, "the volume's encryption is unknown at preview", fix
    elif not truthy_flag(value):
        yield f"{path}.encrypted", value, "the volume is not encrypted", fix


def _aws_instance(resource: ResourceView) -> Iterator[Problem]:
    root = resource.get("rootBlockDevice")
    root_fix = "set root_block_device = InstanceRootBlockDeviceArgs(encrypted=True)."
    if is_unknown(root):
        yield "rootBlockDevice", root, "the root volume is unknown at preview", root_fix
    elif root is MISSING or root is None:
        yield "rootBlockDevice.encrypted", MISSING, "the root volume's encryption is left to the AMI", root_fix
    else:
        yield from _aws_volume(root, "rootBlockDevice", root_fix)
    devices = resource.get("ebsBlockDevices")
    ebs_fix = "set encrypted=True on every ebs_block_devices entry."
    if is_unknown(devices):
        yield "ebsBlockDevices", devices, "the EBS volumes are unknown at preview", ebs_fix
        return
    for i, device in enumerate(items_of(devices)):
        yield from _aws_volume(device, f"ebsBlockDevices.{i}", ebs_fix)


def _aws_launch_template(resource: ResourceView) -> Iterator[Problem]:
    fix = "set block_device_mappings[].ebs.encrypted = 'true' for the root device and every EBS volume."
    mappings = resource.get("blockDeviceMappings")
    if is_unknown(mappings):
        yield "blockDeviceMappings", mappings, "the block-device mappings are unknown at preview", fix
        return
    ebs_mappings = [(i, get_path(m, "ebs")) for i, m in enumerate(items_of(mappings))]
    ebs_mappings = [(i, ebs) for i, ebs in ebs_mappings if ebs is not MISSING and ebs is not None]
    if not ebs_mappings:
        yield (
            "blockDeviceMappings",
            mappings,
            "no EBS mapping is declared, so the root volume's encryption is left to the AMI",
            fix,
        )
    for i, ebs in ebs_mappings:
        yield from _aws_volume(ebs, f"blockDeviceMappings.{i}.ebs", fix)


_CHECKS: dict[str, Callable[[ResourceView], Iterator[Problem]]] = {
    AZ_VMSS: lambda r: _azure(r, "virtualMachineProfile.securityProfile.encryptionAtHost"),
    AZ_VM: lambda r: _azure(r, "securityProfile.encryptionAtHost"),
    AWS_INSTANCE: _aws_instance,
    AWS_LAUNCH_TEMPLATE: _aws_launch_template,
}


def check_encryption_at_host(resource: ResourceView, config: GuardConfig) -> list[Finding]:
    """Findings for every unencrypted (or possibly unencrypted) volume of ``resource``.

    Applies whatever the tenant. Complexity: O(block devices).
    """
    check = _CHECKS.get(resource.type)
    if check is None:
        return []
    return [
        Finding.on(resource, "encryption-at-host", problem, path, value, fix)
        for path, value, problem, fix in check(resource)
    ]
