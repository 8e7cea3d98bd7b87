"""The operating-system image each kind of accelerator node boots.

Not a planning concern: the program picks the image for a pool from its SKU with these functions
and passes it to the component in its args. Images are chosen so that the accelerator's drivers
come preinstalled and so that each resolves to the latest build at deployment time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class AzureImage:
    """An Azure Marketplace image reference."""

    publisher: str
    offer: str
    sku: str
    version: str


@dataclass(frozen=True)
class AwsImage:
    """An EC2 image: an AMI id or a ``resolve:ssm:`` parameter, and the device its root volume uses."""

    image_id: str
    root_device_name: str


# Azure's HPC/AI image (Ubuntu 22.04 with accelerator drivers and InfiniBand/RDMA stacks). Maia's
# own image is not public; this is the image Azure documents for its accelerator VM sizes.
AZURE_ACCELERATOR_IMAGE = AzureImage(publisher="microsoft-dsvm", offer="ubuntu-hpc", sku="2204", version="latest")

# AWS-published SSM parameters that always point at the latest Deep Learning AMIs (Ubuntu 24.04).
_NEURON_DLAMI = "resolve:ssm:/aws/service/neuron/dlami/multi-framework/ubuntu-24.04/latest/image_id"
_GPU_DLAMI = "resolve:ssm:/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-24.04/latest/ami-id"
_UBUNTU_ROOT_DEVICE = "/dev/sda1"

# Instance families by accelerator vendor: AWS Neuron (Trainium, Inferentia) and NVIDIA GPUs.
_NEURON_FAMILY = re.compile(r"(trn|inf)\d")
_GPU_FAMILY = re.compile(r"(p|g)\d")

# TPU VM software versions per TPU generation (the accelerator-type prefix).
_TPU_RUNTIME_VERSIONS = {
    "v5litepod": "v2-alpha-tpuv5-lite",
    "v5p": "v2-alpha-tpuv5",
    "v6e": "v2-alpha-tpuv6e",
}


def azure_image(vm_size: str) -> AzureImage:
    """The image of an Azure accelerator VM size (one image serves every accelerator size)."""
    if not vm_size.startswith("Standard_"):
        raise ValueError(f"'{vm_size}' is not an Azure VM size (they start with 'Standard_')")
    return AZURE_ACCELERATOR_IMAGE


def aws_image(instance_type: str) -> AwsImage:
    """The Deep Learning AMI of an EC2 accelerator instance type.

    Raises
    ------
    ValueError
        When the instance type is neither a Neuron (trn, inf) nor a GPU (p, g) family.
    """
    family = instance_type.split(".", 1)[0]
    if _NEURON_FAMILY.match(family):
        return AwsImage(image_id=_NEURON_DLAMI, root_device_name=_UBUNTU_ROOT_DEVICE)
    if _GPU_FAMILY.match(family):
        return AwsImage(image_id=_GPU_DLAMI, root_device_name=_UBUNTU_ROOT_DEVICE)
    raise ValueError(
        f"no accelerator image known for instance type '{instance_type}': "
        "maiaplan knows Neuron (trn*, inf*) and GPU (p*, g*) families"
    )


def tpu_runtime_version(accelerator_type: str) -> str:
    """The TPU VM software version of a TPU accelerator type such as ``v5p-16``.

    Raises
    ------
    ValueError
        When the TPU generation is not one maiaplan knows.
    """
    generation = accelerator_type.rsplit("-", 1)[0]
    try:
        return _TPU_RUNTIME_VERSIONS[generation]
    except KeyError:
        raise ValueError(
            f"no TPU runtime version known for accelerator type '{accelerator_type}': "
            f"maiaplan knows {', '.join(sorted(_TPU_RUNTIME_VERSIONS))}"
        ) from None
