"""The accelerator catalog: per-chip figures with their sources, overridable from a spec.

The built-in figures live in ``data/accelerators.yaml``; each carries its public source (title, URL,
date read), and the ones that are not public (Maia's price and VM size, the TDPs of cloud-only chips,
collective latencies, list prices) are marked as estimates. A spec's ``catalog:`` overrides figures
of a built-in entry or adds a new entry; an overridden figure's provenance becomes the spec. The
data file's header states the conventions: GB not GiB, link bandwidth per chip and one direction,
dense rates, and which rate each model dtype runs at (:meth:`Accelerator.compute_path`).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner import performance as perf

Provider = Literal["azure", "aws", "gcp"]
PROVIDERS: tuple[Provider, ...] = ("azure", "aws", "gcp")
WattBasis = Literal["provisioned", "tdp"]

SPEC_OVERRIDE_SOURCE = "the spec's catalog: section"
DEFAULT_FIGURE_SOURCE = (
    "maiaplan default (planner/performance.py), not measured for this chip: override it in the spec's catalog:"
)


class Provenance(BaseModel):
    """Where a figure comes from, and whether it is an estimate rather than a published value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    estimate: bool = False


class Accelerator(BaseModel):
    """One accelerator chip as the planner uses it. Link bandwidths are per chip."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: str
    provider: Provider
    hbm_gb: float = Field(gt=0)
    hbm_tb_per_s: float = Field(gt=0)
    bf16_dense_tflops: float = Field(gt=0)
    fp8_dense_tflops: float = Field(gt=0, description="FP8 operands' dense rate; the BF16 rate without FP8 units.")
    int8_dense_tops: float | None = Field(default=None, gt=0)
    mx9_dense_tops: float | None = Field(default=None, gt=0, description="Microsoft MX 9-bit block format.")
    mx6_dense_tops: float | None = Field(default=None, gt=0, description="Microsoft MX 6-bit block format.")
    tdp_w: float = Field(gt=0)
    provisioned_w: float | None = Field(default=None, gt=0)
    idle_w: float | None = Field(default=None, ge=0, description="Draw of an idle chip; default a share of peak.")
    chips_per_node: int = Field(ge=1)
    intra_node_link_gb_per_s: float = Field(gt=0, description="Per chip, one direction.")
    inter_node_link_gb_per_s: float = Field(gt=0, description="Per chip, one direction.")
    intra_node_link_latency_us: float = Field(default=perf.DEFAULT_INTRA_NODE_LINK_LATENCY_US, gt=0)
    inter_node_link_latency_us: float = Field(default=perf.DEFAULT_INTER_NODE_LINK_LATENCY_US, gt=0)
    hbm_efficiency: float = Field(default=perf.DEFAULT_HBM_EFFICIENCY, gt=0, le=1)
    compute_efficiency: float = Field(default=perf.DEFAULT_COMPUTE_EFFICIENCY, gt=0, le=1)
    link_efficiency: float = Field(default=perf.DEFAULT_LINK_EFFICIENCY, gt=0, le=1)
    step_overhead_ms: float = Field(default=perf.DEFAULT_STEP_OVERHEAD_MS, ge=0)
    sequence_overhead_us: float = Field(default=perf.DEFAULT_SEQUENCE_OVERHEAD_US, ge=0)
    sku: str = Field(min_length=1)
    chips_per_sku: int = Field(ge=1)
    tpu_cores_per_chip: int | None = Field(default=None, ge=1)
    dedicated_host_sku: str | None = Field(
        default=None, min_length=1, description="Azure dedicated host SKU that holds one VM of `sku` per server."
    )
    price_per_chip_hour_usd: float = Field(ge=0)
    provenance: Mapping[str, Provenance]

    def __hash__(self) -> int:
        # Hash the figures only (provenance is a dict); equal accelerators still hash equal.
        return hash(tuple(value for key, value in self.__dict__.items() if key != "provenance"))

    @property
    def serving_power_w(self) -> float:
        """Peak power per chip while serving: the provisioned figure where known, else the TDP."""
        return self.provisioned_w if self.provisioned_w is not None else self.tdp_w

    @property
    def watt_basis(self) -> WattBasis:
        """What :attr:`serving_power_w` is: a provisioned budget (Maia's 500 W) or a TDP (H100's 700 W)."""
        return "provisioned" if self.provisioned_w is not None else "tdp"

    def power_w(self, load: float, basis: WattBasis | None = None) -> float:
        """Power of one chip at ``load`` (0 idle .. 1 fully busy): idle + (peak − idle) × load.

        Parameters
        ----------
        load
            Share of the time the chip's replica is busy serving, clipped to [0, 1].
        basis
            ``"tdp"`` or ``"provisioned"`` for the peak; default :attr:`watt_basis`. A provisioned
            basis on a chip without a provisioned figure falls back to the TDP.

        Returns
        -------
        float
            Watts per chip. Complexity O(1).
        """
        peak = self.tdp_w if basis == "tdp" else self.serving_power_w
        idle = self.idle_w if self.idle_w is not None else perf.DEFAULT_IDLE_SHARE * peak
        idle = min(idle, peak)
        return idle + (peak - idle) * min(1.0, max(0.0, load))

    def compute_path(self, dtype: str) -> tuple[str, float]:
        """Which dense rate a model of ``dtype`` runs its matmuls at, and that rate in TFLOPS.

        bf16/fp16/fp32 use the BF16 rate; fp8 the FP8 rate, or MX9 where that is faster (Maia has no
        FP8 unit; an FP8 value fits an MX9 block); int8 and int4 (weights widened to 8 bits for
        the matmul) the INT8 rate, else the faster of FP8 and MX9. Complexity O(1).
        """
        if dtype == "fp8":
            options = [("fp8", self.fp8_dense_tflops), ("mx9", self.mx9_dense_tops)]
        elif dtype in ("int8", "int4"):
            options = [("int8", self.int8_dense_tops), ("fp8", self.fp8_dense_tflops), ("mx9", self.mx9_dense_tops)]
        else:
            options = [("bf16", self.bf16_dense_tflops)]
        name, rate = max(((n, r) for n, r in options if r is not None), key=lambda pair: pair[1])
        return name, rate

    def sku_units(self, chips: int) -> int:
        """How many SKU units (VMs, instances, TPU hosts) hold ``chips`` chips, rounded up."""
        return -(-chips // self.chips_per_sku)

    def tpu_accelerator_type(self, chips: int) -> str:
        """The TPU accelerator type of a slice of ``chips`` chips (``v5p-8`` for 4 v5p chips).

        Raises
        ------
        ValueError
            When the accelerator is not a TPU.
        """
        if self.tpu_cores_per_chip is None:
            raise ValueError(f"{self.name} is not a TPU: it has no accelerator type")
        return f"{self.sku}-{chips * self.tpu_cores_per_chip}"


class AcceleratorOverride(BaseModel):
    """A spec's ``catalog:`` entry: any figure of :class:`Accelerator`, all optional.

    For a name not in the built-in catalog, every required figure must be given.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    provider: Provider | None = None
    hbm_gb: float | None = Field(default=None, gt=0)
    hbm_tb_per_s: float | None = Field(default=None, gt=0)
    bf16_dense_tflops: float | None = Field(default=None, gt=0)
    fp8_dense_tflops: float | None = Field(default=None, gt=0)
    int8_dense_tops: float | None = Field(default=None, gt=0)
    mx9_dense_tops: float | None = Field(default=None, gt=0)
    mx6_dense_tops: float | None = Field(default=None, gt=0)
    tdp_w: float | None = Field(default=None, gt=0)
    provisioned_w: float | None = Field(default=None, gt=0)
    idle_w: float | None = Field(default=None, ge=0)
    chips_per_node: int | None = Field(default=None, ge=1)
    intra_node_link_gb_per_s: float | None = Field(default=None, gt=0)
    inter_node_link_gb_per_s: float | None = Field(default=None, gt=0)
    intra_node_link_latency_us: float | None = Field(default=None, gt=0)
    inter_node_link_latency_us: float | None = Field(default=None, gt=0)
    hbm_efficiency: float | None = Field(default=None, gt=0, le=1)
    compute_efficiency: float | None = Field(default=None, gt=0, le=1)
    link_efficiency: float | None = Field(default=None, gt=0, le=1)
    step_overhead_ms: float | None = Field(default=None, ge=0)
    sequence_overhead_us: float | None = Field(default=None, ge=0)
    sku: str | None = Field(default=None, min_length=1)
    chips_per_sku: int | None = Field(default=None, ge=1)
    tpu_cores_per_chip: int | None = Field(default=None, ge=1)
    dedicated_host_sku: str | None = Field(default=None, min_length=1)
    price_per_chip_hour_usd: float | None = Field(default=None, ge=0)


FIGURE_FIELDS: tuple[str, ...] = tuple(AcceleratorOverride.model_fields)
REQUIRED_FIGURES: tuple[str, ...] = tuple(
    name for name, info in Accelerator.model_fields.items() if info.is_required() and name in FIGURE_FIELDS
)


class CatalogEntryError(ValueError):
    """A spec's catalog entry ``accelerator`` cannot form an accelerator; ``field`` names the figure."""

    def __init__(self, accelerator: str, field: str, message: str) -> None:
        self.accelerator = accelerator
        self.field = field
        super().__init__(message)


@cache
def builtin_catalog() -> dict[str, Accelerator]:
    """The built-in catalog, read once from ``data/accelerators.yaml``.

    Returns
    -------
    dict
        Accelerator name -> :class:`Accelerator`, in the data file's order.
    """
    text = resources.files("planner").joinpath("data/accelerators.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    sources = {key: _cite(record) for key, record in data["sources"].items()}
    catalog: dict[str, Accelerator] = {}
    for name, entry in data["accelerators"].items():
        values: dict[str, Any] = {"name": name, "provider": entry["provider"]}
        provenance: dict[str, Provenance] = {}
        for figure in FIGURE_FIELDS:
            if figure == "provider" or figure not in entry:
                continue
            values[figure] = entry[figure]["value"]
            provenance[figure] = Provenance(
                source=sources[entry[figure]["source"]], estimate=entry[figure].get("estimate", False)
            )
        catalog[name] = _with_default_provenance(Accelerator(**values, provenance=provenance))
    return catalog


def _cite(record: Mapping[str, str]) -> str:
    """A data-file source record as one citation: ``title, URL (read DATE)``."""
    return f"{record['title']}, {record['url']} (read {record['retrieved']})"


def _with_default_provenance(accelerator: Accelerator) -> Accelerator:
    """Give every figure left at its model default (no source in the data or the spec) a provenance
    that says so, marked as an estimate."""
    missing = {
        figure: Provenance(source=DEFAULT_FIGURE_SOURCE, estimate=True)
        for figure in FIGURE_FIELDS
        if figure != "provider" and getattr(accelerator, figure) is not None and figure not in accelerator.provenance
    }
    if not missing:
        return accelerator
    return accelerator.model_copy(update={"provenance": {**accelerator.provenance, **missing}})


def resolve_catalog(overrides: Mapping[str, AcceleratorOverride]) -> dict[str, Accelerator]:
    """The built-in catalog with a spec's overrides and additions applied.

    Parameters
    ----------
    overrides
        The spec's ``catalog:`` section, accelerator name -> override.

    Returns
    -------
    dict
        Accelerator name -> :class:`Accelerator`; built-in entries first, then added ones.

    Raises
    ------
    CatalogEntryError
        When an added entry lacks a required figure, or an override makes an entry invalid.
    """
    catalog = dict(builtin_catalog())
    for name, override in overrides.items():
        given = override.model_dump(exclude_none=True)
        base = catalog.get(name)
        if base is None:
            missing = [figure for figure in REQUIRED_FIGURES if figure not in given]
            if missing:
                raise CatalogEntryError(
                    name,
                    missing[0],
                    f"'{name}' is not in the built-in catalog, so it needs every figure; missing: "
                    + ", ".join(missing),
                )
            values: dict[str, Any] = {"name": name}
            provenance: dict[str, Provenance] = {}
        elif override.provider is not None and override.provider != base.provider:
            raise CatalogEntryError(
                name, "provider", f"'{name}' is sold by {base.provider}: a spec cannot move it to {override.provider}"
            )
        else:
            values = base.model_dump(exclude={"provenance"})
            provenance = dict(base.provenance)
        values.update(given)
        provenance.update({figure: Provenance(source=SPEC_OVERRIDE_SOURCE) for figure in given})
        try:
            catalog[name] = _with_default_provenance(Accelerator(**values, provenance=provenance))
        except ValidationError as error:
            first = error.errors()[0]
            raise CatalogEntryError(name, str(first["loc"][0]), first["msg"]) from None
    return catalog
