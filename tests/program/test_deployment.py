"""The program's decisions, imported: address ranges, sizes, per-provider adapters and their metric labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployment.adapters import ADAPTERS, promql_selector
from deployment.moment import Moment, sku_units, summary, tpu_slices
from deployment.network import MAX_CLUSTERS, cluster_network
from planner.errors import InputError
from planner.plan_builder import plan_migration
from planner.plan_document import Allocation, PlanCluster
from planner.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_spec(ROOT / "examples" / "maia-pilot.yaml")
PLAN = plan_migration(SPEC)
CLUSTERS = {c.name: c for c in PLAN.clusters}


def test_every_provider_has_one_adapter() -> None:
    assert set(ADAPTERS) == {"azure", "aws", "gcp"}
    assert {c.provider for c in PLAN.clusters} <= set(ADAPTERS)
    assert len({adapter.discovery_prefix for adapter in ADAPTERS.values()}) == 3


def test_clusters_get_disjoint_networks_and_the_257th_is_refused() -> None:
    networks = [cluster_network(i, f"c{i}", "spec.yaml") for i in range(MAX_CLUSTERS)]
    assert networks[0].address_space == "10.0.0.0/16" and networks[0].subnet == "10.0.0.0/20"
    assert len({n.address_space for n in networks}) == MAX_CLUSTERS
    with pytest.raises(InputError) as caught:
        cluster_network(MAX_CLUSTERS, "one-too-many", "spec.yaml")
    assert caught.value.path == "clusters[256]" and "one-too-many is cluster 257" in caught.value.problem


def test_sizes_are_whole_sku_units() -> None:
    h100 = CLUSTERS["aws-use1-h100"]
    assert sku_units(Allocation(workload="w", cluster=h100.name, chips=16), h100) == 2
    with pytest.raises(ValueError, match=r"not a whole number of p5\.48xlarge"):
        sku_units(Allocation(workload="w", cluster=h100.name, chips=12), h100)


def test_tpu_slices_follow_the_plans_replicas() -> None:
    tpu = CLUSTERS["gcp-usc1-v5p"]  # 4 chips per host
    move = (
        PLAN.phases[0]
        .moves[0]
        .model_copy(
            update={"to_cluster": tpu.name, "tensor_parallel": 8, "pipeline_parallel": 1, "replicas": 3, "chips": 24}
        )
    )
    allocation = Allocation(workload=move.workload, cluster=tpu.name, chips=24)
    per_replica = tpu_slices(allocation, tpu, SPEC, move)
    assert per_replica.slices == 3 and per_replica.accelerator_type == "v5p-16"  # 8 chips, 2 cores each
    per_host = tpu_slices(allocation, tpu, SPEC, None)
    assert per_host.slices == 6 and per_host.accelerator_type == "v5p-8"


def test_the_summary_counts_chips_per_provider_at_a_moment() -> None:
    midway = summary(Moment.of(SPEC, PLAN, 2, 50))
    assert midway["phase"] == 2 and midway["step"] == 50
    assert sum(midway["chipsByProvider"].values()) == sum(a.chips for a in Moment.of(SPEC, PLAN, 2, 50).allocations)
    assert {m["percentOnDestination"] for m in midway["moves"] if m["phase"] == 2} == {50}


def _cluster(provider: str, name: str) -> PlanCluster:
    base = CLUSTERS["az-eastus-maia"]
    return base.model_copy(update={"provider": provider, "name": name})


def test_metric_labels_are_the_resources_tags_as_each_provider_carries_them() -> None:
    assert promql_selector(CLUSTERS["az-eastus-maia"], "router-small") == (
        'cluster="az-eastus-maia",workload="router-small"'
    )
    # GCP label values are lowercase, so the scrape sees them lowercased.
    assert ADAPTERS["gcp"].metric_labels(_cluster("gcp", "GCP-Central"), "Chat") == {
        "cluster": "gcp-central",
        "workload": "chat",
    }
    assert ADAPTERS["aws"].metric_labels(_cluster("aws", "AWS-East"), "Chat") == {
        "cluster": "AWS-East",
        "workload": "Chat",
    }
    assert promql_selector(_cluster("aws", 'we"ird'), "w") == 'cluster="we\\"ird",workload="w"'
