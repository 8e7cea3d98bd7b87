"""Shared helpers of the spec, catalog, sharding, eligibility and validate tests.

Plain functions rather than fixtures: each test builds exactly the spec it needs from a fresh copy
of the example, so no test can leak a mutation into another.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from planner.catalog import Accelerator, AcceleratorOverride, resolve_catalog
from planner.errors import InputError
from planner.spec import Dtype, MigrationSpec, Model, Serving, Workload, parse_spec

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "maia-pilot.yaml"
SPEC_FILE = "spec.yaml"


@cache
def _example_parsed() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    return data


def example_data() -> dict[str, Any]:
    """A fresh, mutable copy of the example spec as plain data."""
    return copy.deepcopy(_example_parsed())


def example_spec() -> MigrationSpec:
    """The example spec, validated."""
    return parse_spec(example_data(), str(EXAMPLE))


def spec_error(data: Any, file: str = SPEC_FILE) -> InputError:
    """The InputError that parsing ``data`` raises (fails the test when it parses)."""
    with pytest.raises(InputError) as caught:
        parse_spec(data, file)
    return caught.value


def write_yaml(directory: Path, data: Any, name: str = "spec.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_json(directory: Path, data: Any, name: str = "spec.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def workload_named(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The workload entry called ``name`` in spec data (to mutate it)."""
    return next(entry for entry in data["workloads"] if entry["name"] == name)


# A synthetic accelerator with round figures, so that the sharding arithmetic can be done by hand:
# 100 GB of HBM (90 GB usable at 10 % headroom), 1.25 TB/s (1.0e12 B/s at 80 % efficiency),
# 2,000 BF16 TFLOPS (1.0e15 FLOP/s at 50 %), one chip per node, 1 TB/s links, $2 and 500 W per chip.
TOY_FIGURES: dict[str, Any] = {
    "provider": "azure",
    "hbm_gb": 100,
    "hbm_tb_per_s": 1.25,
    "bf16_dense_tflops": 2000,
    "fp8_dense_tflops": 4000,
    "tdp_w": 500,
    "chips_per_node": 1,
    "intra_node_link_gb_per_s": 1000,
    "inter_node_link_gb_per_s": 1000,
    "sku": "Toy_1",
    "chips_per_sku": 1,
    "price_per_chip_hour_usd": 2.0,
}


def toy_accelerator(name: str = "toy", **changes: Any) -> Accelerator:
    """The synthetic accelerator, added through the catalog the way a spec's ``catalog:`` adds one."""
    figures = {**TOY_FIGURES, **changes}
    return resolve_catalog({name: AcceleratorOverride(**figures)})[name]


def toy_workload(
    *,
    params_b: float = 10,
    dtype: Dtype = "bf16",
    layers: int = 10,
    kv_heads: int = 10,
    head_dim: int = 100,
    tokens_per_s: float = 4000,
    p99_ms_per_token: float = 50.2,
    context_tokens: int = 10_000,
    name: str = "toy-workload",
) -> Workload:
    """A workload of round figures: by default 20 GB of bf16 weights and 0.4 GB of KV per sequence."""
    return Workload(
        name=name,
        tenant="anthropic",
        model=Model(params_b=params_b, dtype=dtype, layers=layers, kv_heads=kv_heads, head_dim=head_dim),
        serving=Serving(tokens_per_s=tokens_per_s, p99_ms_per_token=p99_ms_per_token, context_tokens=context_tokens),
        sensitivity="low",
        current="toy-cluster",
    )


def param_id(value: object) -> str | None:
    """Test ids of a parametrisation: "edit" for a mutation, strings cut to 40 characters (a field path,
    a name), pytest's default otherwise."""
    if callable(value):
        return "edit"
    return value[:40] if isinstance(value, str) else None
