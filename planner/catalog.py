"""The accelerator catalog: per-chip figures with their sources, overridable from a spec.

The built-in figures live in ``data/accelerators.yaml``; each carries its public source, and the
ones that are not public (Maia's price and VM size, most TDPs of cloud-only chips, list prices)
are marked as estimates. A spec's ``catalog:`` overrides figures of a built-in entry or adds a new
entry; an overridden figure's provenance becomes the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Provider = Literal["azure", "aws", "gcp"]
PROVIDERS: tuple[Provider, ...] = ("azure", "aws", "gcp")

SPEC_OVERRIDE_SOURCE = "the spec's catalog: section"


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
    fp8_dense_tflops: float = Field(gt=0)
    tdp_w: float = Field(gt=0)
    provisioned_w: float | None = Field(default=None, gt=0)
    chips_per_node: int = Field(ge=1)
    intra_node_link_gb_per_s: float = Field(gt=0)
    inter_node_link_gb_per_s: float = Field(gt=0)
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
        """Power drawn per chip while serving: the provisioned figure where known, else the TDP."""
        return self.provisioned_w if self.provisioned_w is not None else self.tdp_w

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
    tdp_w: float | None = Field(default=None, gt=0)
    provisioned_w: float | None = Field(default=None, gt=0)
    chips_per_node: int | None = Field(default=None, ge=1)
    intra_node_link_gb_per_s: float | None = Field(default=None, gt=0)
    inter_node_link_gb_per_s: float | None = Field(default=None, gt=0)
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
    sources: dict[str, str] = data["sources"]
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
        catalog[name] = Accelerator(**values, provenance=provenance)
    return catalog


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
            catalog[name] = Accelerator(**values, provenance=provenance)
        except ValidationError as error:
            first = error.errors()[0]
            raise CatalogEntryError(name, str(first["loc"][0]), first["msg"]) from None
    return catalog
