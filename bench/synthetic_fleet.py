"""A synthetic fleet spec for benchmarks: N clusters, M workloads, dependencies and contracts.

Deterministic for a given seed. Clusters: Maia (Azure, with capacity ramps), Trainium and H100 (AWS)
and TPU v5p (GCP), sized to a total chip count. Workloads: a handful of model shapes and serving
targets, current on AWS or GCP, targeting Azure, with dependencies only on earlier workloads.
"""

from __future__ import annotations

import random
from typing import Any

MODELS = (
    {"params_b": 3, "dtype": "bf16", "layers": 24, "kv_heads": 8, "head_dim": 64},
    {"params_b": 8, "dtype": "bf16", "layers": 32, "kv_heads": 8, "head_dim": 128},
    {"params_b": 30, "dtype": "fp8", "layers": 48, "kv_heads": 8, "head_dim": 128},
    {"params_b": 70, "dtype": "fp8", "layers": 80, "kv_heads": 8, "head_dim": 128},
)
# (accelerator, provider, region, chips per node)
KINDS = (
    ("maia-100", "azure", "eastus", 4),
    ("maia-100", "azure", "westus3", 4),
    ("trn2", "aws", "us-east-1", 16),
    ("h100-sxm", "aws", "us-east-1", 8),
    ("tpu-v5p", "gcp", "us-central1", 4),
)


def synthetic_spec(
    clusters: int, workloads: int, total_chips: int, seed: int = 7, max_phases: int = 6
) -> dict[str, Any]:
    """A valid spec as data, with ``clusters`` clusters of about ``total_chips`` chips in all."""
    rng = random.Random(seed)
    per_cluster = total_chips // clusters
    spec_clusters = []
    for index in range(clusters):
        accelerator, provider, region, per_node = KINDS[index % len(KINDS)]
        nodes = max(1, per_cluster // per_node)
        racks = max(1, nodes // 16)
        cluster: dict[str, Any] = {
            "name": f"{provider}-{index:02d}",
            "provider": provider,
            "region": region,
            "accelerator": accelerator,
            "tenant": "lab",
            "topology": {
                "kind": "mesh" if provider == "azure" else "fat-tree",
                "nodes_per_rack": nodes // racks,
                "racks": racks,
            },
        }
        if provider == "azure":
            size = (nodes // racks) * racks * per_node
            cluster["capacity_by_phase"] = [size * k // max_phases for k in range(1, max_phases + 1)]
        spec_clusters.append(cluster)
    sources = [c["name"] for c in spec_clusters if c["provider"] != "azure"]
    spec_workloads = []
    for index in range(workloads):
        depends = rng.sample(range(max(0, index - 50), index), k=min(index, rng.choice((0, 0, 1, 2))))
        spec_workloads.append(
            {
                "name": f"w{index:04d}",
                "tenant": "lab",
                "model": rng.choices(MODELS, weights=(4, 3, 2, 1))[0],
                "serving": {
                    "tokens_per_s": rng.choice((200, 500, 1000)),
                    "p99_ms_per_token": rng.choice((40, 60, 80)),
                    "context_tokens": rng.choice((2048, 4096)),
                },
                "sensitivity": rng.choice(("low", "medium", "high")),
                "current": rng.choice(sources),
                "target": "azure" if rng.random() < 0.8 else [],
                "depends_on": [f"w{d:04d}" for d in depends],
            }
        )
    data = {
        "version": 1,
        "name": f"synthetic-{clusters}c-{workloads}w",
        "tenants": [{"name": "lab", "isolation": "hardware"}],
        "clusters": spec_clusters,
        "contracts": [
            {"name": "aws-floor", "tenant": "lab", "provider": "aws", "min_share": 0.2},
            {"name": "azure-lease", "tenant": "lab", "provider": "azure", "max_chips": total_chips},
        ],
        "workloads": spec_workloads,
        "migration": {
            "max_phases": max_phases,
            "traffic_steps": [1, 10, 50, 100],
            "first_phase_max_sensitivity": "low",
        },
    }
    _fit_current_clusters(data)
    return data


def _fit_current_clusters(data: dict[str, Any]) -> None:
    """Put each workload's current cluster where it fits, so that the starting fleet is real."""
    from planner.options import sizing
    from planner.spec import parse_spec

    spec = parse_spec(data, "synthetic")
    sources = [c for c in spec.clusters if c.provider != "azure"]
    room = {c.name: spec.cluster_chips(c) for c in sources}
    for entry, workload in zip(data["workloads"], spec.workloads, strict=True):
        by_accelerator = {
            a: sizing(workload, spec.accelerator_of(c), "current").allocated_chips
            for a, c in {c.accelerator: c for c in sources}.items()
        }
        sizes = {c.name: by_accelerator[c.accelerator] for c in sources}
        fitting = [c.name for c in sources if 0 < sizes[c.name] <= room[c.name]]
        best = max(fitting, key=lambda name: room[name] - sizes[name])
        entry["current"] = best
        room[best] -= sizes[best]
