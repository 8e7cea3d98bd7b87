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
    "tpu-v5e": ("gcp", "v5litepod", 8),  # 8 chips per host (Google Cloud TPU v5e docs)
    "tpu-v5p": ("gcp", "v5p", 4),
    "tpu-v6e": ("gcp", "v6e", 8),
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
    assert (maia.hbm_gb, maia.hbm_tb_per_s, maia.bf16_dense_tflops) == (64, 1.8, 800)
    # 1.5 POPS is the 9-bit MX figure, 3 POPS the 6-bit one: not FP8 (Maia has no FP8 unit)
    assert (maia.fp8_dense_tflops, maia.mx9_dense_tops, maia.mx6_dense_tops) == (800, 1500, 3000)
    assert maia.compute_path("fp8") == ("mx9", 1500)
    assert maia.compute_path("bf16") == ("bf16", 800)
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
    assert {toy.provenance[figure].source for figure in TOY_FIGURES if figure != "provider"} == {SPEC_OVERRIDE_SOURCE}
    # figures the spec leaves out (efficiencies, collective latencies) say they are defaults
    assert toy.provenance["hbm_efficiency"].estimate
    assert "maiaplan default" in toy.provenance["hbm_efficiency"].source
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


# --- issue 11: every figure right and traceable -------------------------------------------------


@pytest.mark.parametrize("name", list(SKUS))
def test_every_figure_cites_a_url_and_a_date(name: str) -> None:
    for figure, record in builtin_catalog()[name].provenance.items():
        assert "https://" in record.source, f"{name}.{figure}"
        assert "(read 2026-" in record.source, f"{name}.{figure}"


def test_the_data_file_sources_are_title_url_date_records() -> None:
    for key, record in _data_file()["sources"].items():
        assert set(record) == {"title", "url", "retrieved"}, key
        assert record["url"].startswith("https://"), key


def test_tpu_v5e_and_v6e_hosts_hold_8_chips() -> None:
    catalog = builtin_catalog()
    for name in ("tpu-v5e", "tpu-v6e"):
        assert catalog[name].chips_per_node == catalog[name].chips_per_sku == 8


def test_int8_and_mx_figures_are_not_filed_as_fp8() -> None:
    catalog = builtin_catalog()
    v5e, v6e, inf2, h100 = catalog["tpu-v5e"], catalog["tpu-v6e"], catalog["inf2"], catalog["h100-sxm"]
    assert (v5e.fp8_dense_tflops, v5e.int8_dense_tops) == (197, 393)  # no FP8 unit: the BF16 rate
    assert (v6e.fp8_dense_tflops, v6e.int8_dense_tops) == (918, 1836)
    assert v5e.compute_path("fp8") == ("fp8", 197)
    assert v5e.compute_path("int8") == ("int8", 393)
    assert inf2.compute_path("int8") == ("int8", 380)
    assert h100.compute_path("fp8") == ("fp8", 1979)
    assert catalog["maia-100"].int8_dense_tops is None


def test_one_link_convention_per_chip_one_direction() -> None:
    catalog = builtin_catalog()
    assert catalog["h100-sxm"].intra_node_link_gb_per_s == catalog["h200"].intra_node_link_gb_per_s == 450  # 900 / 2
    assert catalog["trn2"].intra_node_link_gb_per_s == 640  # 1.28 TB/s / 2
    assert catalog["tpu-v5e"].intra_node_link_gb_per_s == 200  # ICI 400 GBps bidirectional / 2
    assert catalog["tpu-v6e"].intra_node_link_gb_per_s == 400  # ICI 800 GBps bidirectional / 2
    assert catalog["tpu-v5p"].intra_node_link_gb_per_s == 600  # ICI 1200 GBps bidirectional / 2
    assert catalog["maia-100"].intra_node_link_gb_per_s == 450  # 9 × 400 GbE, one direction


def test_gib_figures_are_converted_to_gb() -> None:
    catalog = builtin_catalog()
    assert catalog["trn2"].hbm_gb == pytest.approx(96 * 2**30 / 1e9, abs=0.01)
    assert catalog["inf2"].hbm_gb == pytest.approx(32 * 2**30 / 1e9, abs=0.01)
    assert catalog["tpu-v5e"].hbm_gb == pytest.approx(16 * 2**30 / 1e9, abs=0.01)


@pytest.mark.parametrize("name", ["trn2", "inf2", "tpu-v5e", "tpu-v5p", "tpu-v6e"])
def test_unpublished_tdps_are_marked_estimates(name: str) -> None:
    accelerator = builtin_catalog()[name]
    assert accelerator.provenance["tdp_w"].estimate
    assert "not public" in accelerator.provenance["tdp_w"].source


def test_maia_efficiencies_are_a_marked_guess() -> None:
    maia = builtin_catalog()["maia-100"]
    for figure in ("hbm_efficiency", "compute_efficiency", "step_overhead_ms", "sequence_overhead_us"):
        assert maia.provenance[figure].estimate, figure
        assert "not measured" in maia.provenance[figure].source


def test_watt_basis_and_power_with_load() -> None:
    catalog = builtin_catalog()
    maia, h100 = catalog["maia-100"], catalog["h100-sxm"]
    assert (maia.watt_basis, h100.watt_basis) == ("provisioned", "tdp")
    assert maia.power_w(1.0) == 500 and maia.power_w(1.0, "tdp") == 700
    assert maia.power_w(0.0) == 125  # idle
    assert h100.power_w(0.5) == pytest.approx(175 + (700 - 175) * 0.5)


def test_efficiencies_are_overridable_from_a_spec() -> None:
    catalog = resolve_catalog({"maia-100": AcceleratorOverride(hbm_efficiency=0.8, step_overhead_ms=1.0)})
    maia = catalog["maia-100"]
    assert (maia.hbm_efficiency, maia.step_overhead_ms) == (0.8, 1.0)
    assert maia.provenance["hbm_efficiency"].source == SPEC_OVERRIDE_SOURCE
