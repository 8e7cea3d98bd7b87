"""Shardings of workloads on clusters (planner/options.py) as a table and as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from maiaplan.render.tables import table
from planner.options import ClusterOption

SHARDING_HEADERS = (
    "WORKLOAD",
    "CLUSTER",
    "ROLE",
    "ACCELERATOR",
    "CHIPS",
    "TP×PP",
    "REPLICAS",
    "BATCH",
    "STEP MS",
    "TTFT MS",
    "TOKENS/S",
    "KW",
    "W BASIS",
    "TOKENS/J",
    "$/M TOKENS",
)


def _sharding_row(option: ClusterOption) -> list[object]:
    s = option.sharding
    if s is None:
        return [option.workload, option.cluster, option.role, *["-"] * 11, f"infeasible: {option.infeasible_reason}"]
    return [
        option.workload,
        option.cluster,
        option.role,
        s.accelerator,
        option.allocated_chips,
        f"{s.tensor_parallel}×{s.pipeline_parallel}",
        s.replicas,
        s.batch_per_replica,
        f"{s.step_ms:.1f}",
        "-" if s.ttft_ms is None else f"{s.ttft_ms:,.0f}",
        f"{s.tokens_per_s:,.0f}",
        f"{s.watts / 1000:.1f}",
        s.watt_basis,
        f"{s.tokens_per_joule:.3f}",
        f"{s.usd_per_million_tokens:.2f}",
    ]


def shardings_table(options: Sequence[ClusterOption]) -> str:
    """Workloads on clusters: their sharding, chips, speed, power and cost, fitted to the terminal.

    Complexity: O(options).
    """
    return table(
        SHARDING_HEADERS,
        [_sharding_row(option) for option in options],
        right=(*range(4, 12), 13, 14),
        wrap=(3, 12, 14),
    )


def shardings_json(options: Sequence[ClusterOption]) -> str:
    """The options as ``maiaplan shard --format json`` prints them: a list of ClusterOption objects.

    Complexity: O(options).
    """
    return json.dumps([option.model_dump(mode="json") for option in options], indent=2)
