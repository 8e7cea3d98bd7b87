"""Hand-built and seeded specs for the scheduler's tests: small fleets whose traps are known.

Chip counts come from the performance model at test time (:func:`chips_on`), never from figures
written here, so that a change in the catalog or the sharding keeps the traps' arithmetic true.
"""

from __future__ import annotations

import random
from typing import Any

from planner.options import cluster_option
from planner.spec import parse_spec

# (name, provider, region, accelerator)
CLUSTERS = {
    "az": ("az", "azure", "eastus", "maia-100"),
    "az2": ("az2", "azure", "westus3", "maia-100"),
    "aws": ("aws", "aws", "us-east-1", "trn2"),
    "h100": ("h100", "aws", "us-east-1", "h100-sxm"),
    "gcp": ("gcp", "gcp", "us-central1", "tpu-v5p"),
}
# Model and serving figures of four sizes of workload.
SIZES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "small": (
        {"params_b": 8, "dtype": "bf16", "layers": 32, "kv_heads": 8, "head_dim": 128},
        {"tokens_per_s": 1000, "p99_ms_per_token": 60, "context_tokens": 2048},
    ),
    "medium": (
        {"params_b": 8, "dtype": "bf16", "layers": 32, "kv_heads": 8, "head_dim": 128},
        {"tokens_per_s": 20000, "p99_ms_per_token": 60, "context_tokens": 2048},
    ),
    "big": (
        {"params_b": 30, "dtype": "bf16", "layers": 32, "kv_heads": 8, "head_dim": 128},
        {"tokens_per_s": 20000, "p99_ms_per_token": 60, "context_tokens": 2048},
    ),
    "huge": (
        {"params_b": 70, "dtype": "bf16", "layers": 32, "kv_heads": 8, "head_dim": 128},
        {"tokens_per_s": 20000, "p99_ms_per_token": 60, "context_tokens": 2048},
    ),
}


def workload(
    name: str, size: str, current: str, target: list[str], depends_on: list[str] | None = None, sensitivity: str = "low"
) -> dict[str, Any]:
    model, serving = SIZES[size]
    return {
        "name": name,
        "tenant": "lab",
        "model": dict(model),
        "serving": dict(serving),
        "sensitivity": sensitivity,
        "current": current,
        "target": target,
        "depends_on": depends_on or [],
    }


def fleet(
    clusters: list[str],
    workloads: list[dict[str, Any]],
    *,
    contracts: list[dict[str, Any]] | None = None,
    capacity: dict[str, list[int]] | None = None,
    max_phases: int = 3,
) -> dict[str, Any]:
    """A spec as data: the named clusters (32 nodes each), the workloads, contracts and ramps."""
    capacity = capacity or {}
    spec_clusters = []
    for key in clusters:
        name, provider, region, accelerator = CLUSTERS[key]
        entry: dict[str, Any] = {
            "name": name,
            "provider": provider,
            "region": region,
            "accelerator": accelerator,
            "tenant": "lab",
            "topology": {"kind": "fat-tree", "nodes_per_rack": 4, "racks": 8},
        }
        if key in capacity:
            entry["capacity_by_phase"] = capacity[key]
        spec_clusters.append(entry)
    return {
        "version": 1,
        "name": "trap",
        "tenants": [{"name": "lab", "isolation": "hardware"}],
        "clusters": spec_clusters,
        "contracts": contracts or [],
        "workloads": workloads,
        "migration": {"max_phases": max_phases, "traffic_steps": [10, 100], "first_phase_max_sensitivity": "medium"},
    }


def chips_on(data: dict[str, Any], workload_name: str, cluster: str) -> int:
    """The chips ``workload_name`` would hold on ``cluster`` (whole SKU units), from the performance model."""
    spec = parse_spec(data, "trap.yaml")
    option = cluster_option(spec, spec.workload_by_name[workload_name], spec.cluster_by_name[cluster], "destination")
    assert option.feasible, option.infeasible_reason
    return option.allocated_chips


def seeded_spec(seed: int, workloads: int) -> dict[str, Any]:
    """A generated spec of ``workloads`` workloads on 3–6 clusters, with binding contracts, an Azure
    ramp, an Azure lease cap and dependency chains; the same for the same seed."""
    rng = random.Random(seed)
    keys = ["az", "aws", "gcp", *rng.sample(["az2", "h100"], k=rng.randint(0, 2))]
    sources = [k for k in keys if CLUSTERS[k][1] != "azure"]
    entries = []
    for index in range(workloads):
        current = rng.choice(sources)
        provider = CLUSTERS[current][1]
        targets = ["azure"] + ([p for p in ("gcp", "aws") if p != provider][:1] if rng.random() < 0.3 else [])
        earlier = [e["name"] for e in entries]
        depends = rng.sample(earlier[-8:], k=min(len(earlier[-8:]), rng.choice((0, 0, 0, 1)))) if earlier else []
        entries.append(
            workload(
                f"w{index:02d}",
                rng.choice(("small", "small", "big", "huge")),
                current,
                targets,
                depends,
                rng.choice(("low", "medium", "high")),
            )
        )
    data = fleet(keys, entries, max_phases=rng.randint(3, 5))
    spec = parse_spec(data, "seeded.yaml")
    held: dict[str, int] = {}
    for entry in entries:
        held[entry["current"]] = held.get(entry["current"], 0) + chips_on(data, entry["name"], entry["current"])
    for cluster in data["clusters"]:
        size = spec.cluster_chips(spec.cluster_by_name[cluster["name"]])
        if cluster["provider"] == "azure":
            step = rng.choice((8, 16, 24))
            cluster["capacity_by_phase"] = [min(size, step * k) for k in range(1, data["migration"]["max_phases"] + 1)]
        elif held.get(cluster["name"], 0) > size:
            cluster["topology"]["racks"] = 8 * (held[cluster["name"]] // size + 1)
    aws = sum(v for k, v in held.items() if CLUSTERS[k][1] == "aws")
    gcp = sum(v for k, v in held.items() if CLUSTERS[k][1] == "gcp")
    total = aws + gcp
    data["contracts"] = [
        {"name": "aws-floor", "tenant": "lab", "provider": "aws", "min_share": _floor_share(rng, aws, total)},
        {"name": "gcp-commit", "tenant": "lab", "provider": "gcp", "min_chips": (gcp * rng.choice((1, 2))) // 3},
        {"name": "azure-lease", "tenant": "lab", "provider": "azure", "max_chips": max(8, total // 2)},
    ]
    return data


def _floor_share(rng: random.Random, chips: int, total: int) -> float:
    """A share floor the current fleet keeps (so the spec is valid) but that binds the migration."""
    kept = [share for share in (0.1, 0.2, 0.3, 0.4) if share * total <= chips]
    return rng.choice(kept[-2:]) if kept else 0.0
