"""Hypothesis strategies that generate valid migration specs of small, plannable fleets."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# (accelerator, provider, region) triples the generated clusters draw from.
CLUSTER_KINDS = (
    ("maia-100", "azure", "eastus"),
    ("maia-100", "azure", "westus3"),
    ("trn2", "aws", "us-east-1"),
    ("h100-sxm", "aws", "us-east-1"),
    ("tpu-v5p", "gcp", "us-central1"),
)
TOPOLOGY_KINDS = ("mesh", "torus2d", "torus3d", "fat-tree")
SENSITIVITIES = ("low", "medium", "high")


@st.composite
def specs(draw: st.DrawFn, max_workloads: int = 7) -> dict[str, Any]:
    """A spec as data: one or two tenants, 2–5 clusters, up to ``max_workloads`` small workloads."""
    tenants = ["lab"] + (["neighbour"] if draw(st.booleans()) else [])
    max_phases = draw(st.integers(1, 5))
    clusters = []
    for index in range(draw(st.integers(2, 5))):
        accelerator, provider, region = draw(st.sampled_from(CLUSTER_KINDS))
        ramp = None
        if provider == "azure" and draw(st.booleans()):
            size_nodes = 16
            ramp = sorted(draw(st.lists(st.integers(0, size_nodes * 4), min_size=1, max_size=max_phases)))
        clusters.append(
            {
                "name": f"c{index}-{provider}",
                "provider": provider,
                "region": region,
                "accelerator": accelerator,
                "tenant": tenants[0] if index < 2 or len(tenants) == 1 else draw(st.sampled_from(tenants)),
                "topology": {"kind": draw(st.sampled_from(TOPOLOGY_KINDS)), "nodes_per_rack": 4, "racks": 4},
                **({"capacity_by_phase": ramp} if ramp is not None else {}),
            }
        )
    own = {t: [c["name"] for c in clusters if c["tenant"] == t] for t in tenants}
    workloads = []
    for index in range(draw(st.integers(1, max_workloads))):
        tenant = draw(st.sampled_from([t for t in tenants if own[t]]))
        names = [w["name"] for w in workloads if w["tenant"] == tenant]
        current = draw(st.sampled_from(own[tenant]))
        here = next(c["provider"] for c in clusters if c["name"] == current)
        elsewhere = [c for c in clusters if c["tenant"] == tenant and c["name"] != current]
        # Mostly a target elsewhere (so something can move), sometimes also the current provider.
        other = draw(st.sampled_from(elsewhere)) if elsewhere else None
        first = here if other is None else (other["provider"] if other["provider"] != here else other["name"])
        target = [first] + ([here] if here != first and draw(st.booleans()) else [])
        workloads.append(
            {
                "name": f"w{index}",
                "tenant": tenant,
                "model": {
                    "params_b": draw(st.sampled_from([1, 2, 3, 8])),
                    "dtype": draw(st.sampled_from(["bf16", "fp8"])),
                    "layers": 24,
                    "kv_heads": 8,
                    "head_dim": 64,
                },
                "serving": {
                    "tokens_per_s": draw(st.sampled_from([1000, 5000, 20000])),
                    "p99_ms_per_token": 50,
                    "context_tokens": 2048,
                },
                "sensitivity": draw(st.sampled_from(SENSITIVITIES)),
                "current": current,
                "target": target if draw(st.sampled_from([True, True, True, False])) else [],
                "depends_on": draw(st.lists(st.sampled_from(names), max_size=2, unique=True)) if names else [],
            }
        )
    contracts = []
    for index, provider in enumerate(("aws", "gcp", "azure")):
        if not draw(st.booleans()):
            continue
        contract: dict[str, Any] = {"name": f"k{index}", "tenant": "lab", "provider": provider}
        kind = draw(st.sampled_from(["min_share", "min_chips", "max_chips"]))
        if kind == "min_share":
            contract["min_share"] = draw(st.sampled_from([0.0, 0.1, 0.3]))
        elif kind == "min_chips":
            contract["min_chips"] = draw(st.sampled_from([0, 8, 16]))
        else:
            contract["max_chips"] = draw(st.sampled_from([16, 64, 512]))
        contracts.append(contract)
    return {
        "version": 1,
        "name": "generated",
        "tenants": [{"name": t, "isolation": "hardware" if t == "lab" else "shared"} for t in tenants],
        "clusters": clusters,
        "contracts": contracts,
        "workloads": workloads,
        "migration": {
            "max_phases": max_phases,
            "traffic_steps": [10, 100],
            "first_phase_max_sensitivity": draw(st.sampled_from(SENSITIVITIES)),
        },
    }
