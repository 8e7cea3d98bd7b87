"""The accelerator catalog: the built-in figures, their provenance, and a spec's overrides."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml
from helpers_spec import TOY_FIGURES, example_spec, toy_accelerator

from planner.catalog import (
    FIGURE_FIELDS,
    REQUIRED_FIGURES,
    SPEC_OVERRIDE_SOURCE,
    AcceleratorOverride,
    CatalogEntryError,
    builtin_catalog,
    resolve_catalog,
)

# The shared facts every layer agrees on (project brief): provider, SKU and chips per SKU unit.
SKUS: dict[str, tuple[str, str, int]] = {
    "maia-100": ("azure", "Standard_NM4_Maia100_v1", 4),
    "trn2": ("aws", "trn2.48xlarge", 16),
    "inf2": ("aws", "inf2.48xlarge", 12),
    "h100-sxm": ("aws", "p5.48xlarge", 8),
    "h200": ("aws", "p5e.48xlarge", 8),
    "tpu-v5e": ("gcp", "v5litepod", 4),
    "tpu-v5p": ("gcp", "v5p", 4),
    "tpu-v6e": ("gcp", "v6e", 4),
}


def _data_file() -> dict[str, Any]:
    text = resources.files("planner").joinpath("data/accelerators.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_all_eight_accelerators_with_their_provider_and_sku() -> None:
    catalog = builtin_catalog()
    assert list(catalog) == list(SKUS)
    for name, (provider, sku, chips_per_sku) in SKUS.items():
        accelerator = catalog[name]
        assert accelerator.name == name
        assert (accelerator.provider, accelerator.sku, accelerator.chips_per_sku) == (provider, sku, chips_per_sku)


@pytest.mark.parametrize("name", list(SKUS))
def test_every_figure_has_a_provenance(name: str) -> None:
    accelerator = builtin_catalog()[name]
    given = {figure for figure in FIGURE_FIELDS if figure != "provider" and getattr(accelerator, figure) is not None}
    assert set(accelerator.provenance) == given
    for figure in given:
        assert accelerator.provenance[figure].source.strip(), f"{name}.{figure} has an empty source"
    assert set(REQUIRED_FIGURES) - {"provider"} <= given


def test_the_data_file_names_only_known_figures_and_sources() -> None:
    data = _data_file()
    for name, entry in data["accelerators"].items():
        unknown = set(entry) - set(FIGURE_FIELDS)
        assert not unknown, f"{name}: {unknown} would be silently ignored"
        for figure, record in entry.items():
            if figure == "provider":
                continue
            assert set(record) <= {"value", "source", "estimate"}, f"{name}.{figure}"
            assert record["source"] in data["sources"], f"{name}.{figure} cites an unknown source"


def test_maia_public_figures_come_from_hot_chips() -> None:
    maia = builtin_catalog()["maia-100"]
    assert (maia.hbm_gb, maia.hbm_tb_per_s, maia.bf16_dense_tflops, maia.fp8_dense_tflops) == (64, 1.8, 800, 1500)
    assert (maia.tdp_w, maia.provisioned_w, maia.chips_per_node) == (700, 500, 4)
    assert maia.serving_power_w == 500  # provisioned, not TDP
    for figure in ("hbm_gb", "hbm_tb_per_s", "bf16_dense_tflops", "tdp_w", "chips_per_node"):
        assert "Hot Chips 2024" in maia.provenance[figure].source
        assert not maia.provenance[figure].estimate


def test_maia_sku_and_price_are_estimates() -> None:
    maia = builtin_catalog()["maia-100"]
    for figure in ("sku", "price_per_chip_hour_usd"):
        assert maia.provenance[figure].estimate, figure
        assert "not public" in maia.provenance[figure].source


def test_published_figures_of_other_chips_are_not_estimates() -> None:
    h100 = builtin_catalog()["h100-sxm"]
    assert (h100.hbm_gb, h100.hbm_tb_per_s, h100.chips_per_node) == (80, 3.35, 8)
    assert not any(h100.provenance[f].estimate for f in ("hbm_gb", "hbm_tb_per_s", "bf16_dense_tflops", "sku"))


def test_serving_power_is_the_tdp_without_a_provisioned_figure() -> None:
    h200 = builtin_catalog()["h200"]
    assert h200.provisioned_w is None
    assert h200.serving_power_w == h200.tdp_w == 700


def test_spec_override_changes_the_figure_and_its_provenance() -> None:
    resolved = resolve_catalog({"maia-100": AcceleratorOverride(price_per_chip_hour_usd=6.0, hbm_gb=48)})
    maia, original = resolved["maia-100"], builtin_catalog()["maia-100"]
    assert (maia.price_per_chip_hour_usd, maia.hbm_gb) == (6.0, 48)
    for figure in ("price_per_chip_hour_usd", "hbm_gb"):
        assert maia.provenance[figure].source == SPEC_OVERRIDE_SOURCE
        assert not maia.provenance[figure].estimate
    # Figures it does not name keep their value and their source.
    assert maia.sku == original.sku
    assert maia.provenance["sku"] == original.provenance["sku"]
    assert maia.provenance["hbm_tb_per_s"] == original.provenance["hbm_tb_per_s"]
    # The built-in catalog is shared and cached: an override never changes it.
    assert builtin_catalog()["maia-100"].price_per_chip_hour_usd == 5.00
    assert builtin_catalog()["maia-100"].provenance["price_per_chip_hour_usd"].estimate


def test_the_example_overrides_maia_price() -> None:
    spec = example_spec()
    maia = spec.accelerators["maia-100"]
    assert maia.price_per_chip_hour_usd == 6.00
    assert maia.provenance["price_per_chip_hour_usd"].source == SPEC_OVERRIDE_SOURCE
    assert spec.accelerators["trn2"] == builtin_catalog()["trn2"]


def test_spec_addition_with_every_figure() -> None:
    toy = toy_accelerator()
    assert (toy.name, toy.provider, toy.hbm_gb, toy.sku) == ("toy", "azure", 100, "Toy_1")
    assert set(toy.provenance) >= set(TOY_FIGURES) - {"provider"}
    assert {record.source for record in toy.provenance.values()} == {SPEC_OVERRIDE_SOURCE}
    assert list(resolve_catalog({"toy": AcceleratorOverride(**TOY_FIGURES)}))[-1] == "toy"  # added after built-ins


def test_spec_addition_missing_figures() -> None:
    figures = {k: v for k, v in TOY_FIGURES.items() if k not in ("tdp_w", "sku")}
    with pytest.raises(CatalogEntryError) as caught:
        resolve_catalog({"toy": AcceleratorOverride(**figures)})
    assert (caught.value.accelerator, caught.value.field) == ("toy", "tdp_w")
    assert str(caught.value) == "'toy' is not in the built-in catalog, so it needs every figure; missing: tdp_w, sku"


def test_override_rejects_unknown_figures_and_bad_values() -> None:
    with pytest.raises(ValueError, match="hmb_gb"):
        AcceleratorOverride.model_validate({"hmb_gb": 64})
    with pytest.raises(ValueError, match="greater than 0"):
        AcceleratorOverride(hbm_tb_per_s=0)


@pytest.mark.parametrize(
    ("name", "chips", "expected"),
    [
        ("tpu-v5p", 4, "v5p-8"),  # v5p names TensorCores: 2 per chip
        ("tpu-v5p", 256, "v5p-512"),
        ("tpu-v5e", 8, "v5litepod-8"),
        ("tpu-v6e", 16, "v6e-16"),
    ],
)
def test_tpu_accelerator_type(name: str, chips: int, expected: str) -> None:
    assert builtin_catalog()[name].tpu_accelerator_type(chips) == expected


@pytest.mark.parametrize("name", ["maia-100", "trn2", "inf2", "h100-sxm", "h200"])
def test_tpu_accelerator_type_of_a_non_tpu_is_an_error(name: str) -> None:
    with pytest.raises(ValueError, match="is not a TPU"):
        builtin_catalog()[name].tpu_accelerator_type(4)


def test_tpu_accelerator_type_follows_an_overridden_sku() -> None:
    v6e = resolve_catalog({"tpu-v6e": AcceleratorOverride(sku="v6e-preview")})["tpu-v6e"]
    assert v6e.tpu_accelerator_type(8) == "v6e-preview-8"


@pytest.mark.parametrize(("chips", "units"), [(1, 1), (16, 1), (17, 2), (176, 11), (0, 0)])
def test_sku_units_round_up(chips: int, units: int) -> None:
    assert builtin_catalog()["trn2"].sku_units(chips) == units


def test_equal_accelerators_hash_equal() -> None:
    assert hash(toy_accelerator()) == hash(toy_accelerator())
    assert hash(toy_accelerator(hbm_gb=99)) != hash(toy_accelerator())
