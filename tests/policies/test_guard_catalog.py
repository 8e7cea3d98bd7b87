"""The pack keeps its own chips-per-SKU defaults (it imports nothing of the planner); they must agree
with the planner's built-in catalog, entry for entry."""

from __future__ import annotations

import re
from pathlib import Path

from maiaplan_guard.catalog import DEFAULT_CHIPS_PER_SKU, DEFAULT_TPU_CORES_PER_CHIP
from maiaplan_guard.config import POLICY_SCHEMAS

from planner.catalog import builtin_catalog


def test_the_packs_chip_tables_are_the_planner_catalogs() -> None:
    catalog = builtin_catalog().values()
    assert {a.sku: a.chips_per_sku for a in catalog if a.tpu_cores_per_chip is None} == DEFAULT_CHIPS_PER_SKU
    assert {a.sku: a.tpu_cores_per_chip for a in catalog if a.tpu_cores_per_chip} == DEFAULT_TPU_CORES_PER_CHIP


def test_the_schema_defaults_are_the_tables() -> None:
    schema = POLICY_SCHEMAS["contract-limits"]
    assert schema["chips_per_sku"]["default"] == DEFAULT_CHIPS_PER_SKU
    assert schema["tpu_cores_per_chip"]["default"] == DEFAULT_TPU_CORES_PER_CHIP


def test_the_pack_imports_nothing_of_maiaplan() -> None:
    ours = re.compile(r"^\s*(from|import)\s+(planner|components|maiaplan)(\.|\s|$)", re.MULTILINE)
    sources = sorted((Path(__file__).resolve().parents[2] / "policies").rglob("*.py"))
    assert sources
    assert [str(s) for s in sources if ours.search(s.read_text(encoding="utf-8"))] == []
