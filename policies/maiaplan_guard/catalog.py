"""The pack's own chip counts per SKU: the default of contract-limits' configuration.

The pack trusts no other code, so it keeps its own copy of the catalog figures it needs; a test
checks them against the planner's catalog, and ``maiaplan policy-config`` writes a spec's
(possibly overridden) figures into the pack's configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Accelerator chips in one VM (Azure VM size) or instance (EC2 instance type).
DEFAULT_CHIPS_PER_SKU: Final[Mapping[str, int]] = {
    "Standard_NM4_Maia100_v1": 4,  # maia-100; the real VM size is not public (an estimate)
    "trn2.48xlarge": 16,  # trn2
    "inf2.48xlarge": 12,  # inf2
    "p5.48xlarge": 8,  # h100-sxm
    "p5e.48xlarge": 8,  # h200
}

# TPU accelerator-type prefixes: a slice ``<prefix>-<N>`` names N TensorCores, so it holds
# N / cores-per-chip chips (``v5p-32`` is 16 chips, ``v5litepod-16`` is 16).
DEFAULT_TPU_CORES_PER_CHIP: Final[Mapping[str, int]] = {
    "v5litepod": 1,  # tpu-v5e
    "v5p": 2,  # tpu-v5p
    "v6e": 1,  # tpu-v6e
}
