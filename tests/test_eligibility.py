"""Eligibility: where a workload may move, every rule with the reason it gives."""

from __future__ import annotations

from typing import Any

import pytest
from helpers_spec import example_data, example_spec, workload_named

from planner.eligibility import destinations, judge_cluster, target_rank, verdicts
from planner.options import workload_options
from planner.spec import MigrationSpec, parse_spec


def _spec(data: dict[str, Any]) -> MigrationSpec:
    return parse_spec(data, "spec.yaml")


def _cluster(name: str, provider: str, region: str, accelerator: str, tenant: str = "anthropic") -> dict[str, Any]:
    return {
        "name": name,
        "provider": provider,
        "region": region,
        "accelerator": accelerator,
        "tenant": tenant,
        "topology": {"kind": "mesh", "nodes_per_rack": 4, "racks": 2},
    }


def _rules(spec: MigrationSpec, workload: str) -> dict[str, str]:
    return {verdict.cluster: verdict.rule for verdict in verdicts(spec, spec.workload_by_name[workload])}


def _verdict(spec: MigrationSpec, workload: str, cluster: str) -> tuple[bool, str, str]:
    verdict = judge_cluster(spec, spec.workload_by_name[workload], spec.cluster_by_name[cluster])
    assert verdict.cluster == cluster
    return verdict.eligible, verdict.rule, verdict.reason


# --- the example ---------------------------------------------------------------------------------


def test_example_destinations() -> None:
    spec = example_spec()
    moves = {w.name: [c.name for c in destinations(spec, w)] for w in spec.workloads}
    assert moves == {
        "router-small": ["az-eastus-maia", "az-westus3-maia"],
        "safety-filter": ["az-eastus-maia", "az-westus3-maia"],
        "embed": ["az-eastus-maia", "az-westus3-maia"],
        "chat-fast": ["az-eastus-maia", "az-westus3-maia"],
        "chat-xl": ["az-eastus-maia", "az-westus3-maia"],
        "code-assist": ["az-eastus-maia", "az-westus3-maia"],
        "research-eval": [],
        "copilot-chat": [],
    }


def test_verdicts_judge_every_other_cluster_in_spec_order() -> None:
    spec = example_spec()
    assert _rules(spec, "router-small") == {
        "az-eastus-maia": "eligible",
        "az-westus3-maia": "eligible",
        "az-eastus-copilot": "tenant",
        "aws-use1-trn2": "target",
        "gcp-usc1-v5p": "target",
    }
    assert list(_rules(spec, "chat-xl")) == [c.name for c in spec.clusters if c.name != "aws-use1-trn2"]


def test_eligible_verdict() -> None:
    assert _verdict(example_spec(), "router-small", "az-eastus-maia") == (True, "eligible", "eligible")


def test_current_cluster_is_not_a_destination() -> None:
    assert _verdict(example_spec(), "router-small", "aws-use1-h100") == (
        False,
        "current",
        "router-small already runs on aws-use1-h100",
    )


def test_no_target_stays() -> None:
    spec = example_spec()
    assert set(_rules(spec, "copilot-chat").values()) == {"no-target"}
    assert _verdict(spec, "copilot-chat", "az-eastus-maia") == (
        False,
        "no-target",
        "copilot-chat has no target: it stays on az-eastus-copilot",
    )


def test_cluster_of_another_tenant_is_never_a_destination() -> None:
    assert _verdict(example_spec(), "router-small", "az-eastus-copilot") == (
        False,
        "tenant",
        "az-eastus-copilot belongs to tenant copilot, not anthropic",
    )


def test_copilot_workload_never_lands_on_anthropic_hardware() -> None:
    data = example_data()
    workload_named(data, "copilot-chat")["target"] = "azure"
    spec = _spec(data)
    assert _rules(spec, "copilot-chat") == {
        "az-eastus-maia": "tenant",
        "az-westus3-maia": "tenant",
        "aws-use1-trn2": "tenant",
        "aws-use1-h100": "tenant",
        "gcp-usc1-v5p": "tenant",
    }
    assert destinations(spec, spec.workload_by_name["copilot-chat"]) == []


def test_exclusive_workload_stays_on_its_contract_provider() -> None:
    spec = example_spec()
    assert _verdict(spec, "research-eval", "az-eastus-maia") == (
        False,
        "exclusive",
        "contract aws-strategic keeps research-eval on aws hardware (exclusive_workloads), and az-eastus-maia is "
        "on azure",
    )
    assert _rules(spec, "research-eval")["gcp-usc1-v5p"] == "exclusive"


def test_exclusive_overrides_a_target_of_another_provider() -> None:
    data = example_data()
    workload_named(data, "research-eval")["target"] = ["azure", "aws"]
    spec = _spec(data)
    assert _rules(spec, "research-eval") == {
        "az-eastus-maia": "exclusive",
        "az-westus3-maia": "exclusive",
        "az-eastus-copilot": "tenant",
        "aws-use1-h100": "preferred",  # aws is its second choice, and it already runs on aws
        "gcp-usc1-v5p": "exclusive",
    }


def test_exclusive_workload_may_move_within_its_provider() -> None:
    data = example_data()
    workload_named(data, "research-eval")["target"] = "aws-use1-h100"
    spec = _spec(data)
    assert _verdict(spec, "research-eval", "aws-use1-h100") == (True, "eligible", "eligible")


def test_contract_regions_bound_its_provider() -> None:
    data = example_data()
    data["clusters"].append(_cluster("az-westeurope-maia", "azure", "westeurope", "maia-100"))
    spec = _spec(data)
    assert _verdict(spec, "router-small", "az-westeurope-maia") == (
        False,
        "region",
        "contract azure-maia-lease allows azure only in ['eastus', 'westus3'], and az-westeurope-maia is in westeurope",
    )
    assert [c.name for c in destinations(spec, spec.workload_by_name["router-small"])] == [
        "az-eastus-maia",
        "az-westus3-maia",
    ]


def test_contract_regions_do_not_bind_other_providers() -> None:
    data = example_data()
    data["clusters"].append(_cluster("gcp-euw4-v6e", "gcp", "europe-west4", "tpu-v6e"))
    workload_named(data, "router-small")["target"] = ["azure", "gcp"]
    spec = _spec(data)
    assert _verdict(spec, "router-small", "gcp-euw4-v6e") == (True, "eligible", "eligible")


def test_contract_regions_of_another_tenant_do_not_apply() -> None:
    data = example_data()
    data["contracts"].append(
        {"name": "copilot-eu", "tenant": "copilot", "provider": "azure", "regions": ["westeurope"]}
    )
    spec = _spec(data)
    assert _verdict(spec, "router-small", "az-eastus-maia") == (True, "eligible", "eligible")


def test_cluster_outside_the_target() -> None:
    assert _verdict(example_spec(), "router-small", "gcp-usc1-v5p") == (
        False,
        "target",
        "gcp-usc1-v5p (gcp) is not in router-small's target ['azure']",
    )


def test_target_by_cluster_name() -> None:
    data = example_data()
    workload_named(data, "router-small")["target"] = "az-westus3-maia"
    spec = _spec(data)
    assert [c.name for c in destinations(spec, spec.workload_by_name["router-small"])] == ["az-westus3-maia"]
    assert _verdict(spec, "router-small", "az-eastus-maia") == (
        False,
        "target",
        "az-eastus-maia (azure) is not in router-small's target ['az-westus3-maia']",
    )


# --- target read in order of preference ----------------------------------------------------------


def test_earlier_target_entry_is_preferred_over_the_current_one() -> None:
    data = example_data()
    data["clusters"].append(_cluster("gcp-euw4-v6e", "gcp", "europe-west4", "tpu-v6e"))
    spec = _spec(data)
    # code-assist runs on GCP with target [azure, gcp]: Azure is better, another GCP cluster is not.
    assert _rules(spec, "code-assist")["az-eastus-maia"] == "eligible"
    assert _verdict(spec, "code-assist", "gcp-euw4-v6e") == (
        False,
        "preferred",
        "code-assist already runs on a target it prefers at least as much: gcp-usc1-v5p matches 'gcp'",
    )


def test_reversed_preference_moves_the_other_way() -> None:
    data = example_data()
    code_assist = workload_named(data, "code-assist")
    code_assist["target"] = ["gcp", "azure"]
    data["clusters"].append(_cluster("gcp-euw4-v6e", "gcp", "europe-west4", "tpu-v6e"))
    spec = _spec(data)
    assert _rules(spec, "code-assist")["az-eastus-maia"] == "preferred"
    assert _rules(spec, "code-assist")["gcp-euw4-v6e"] == "preferred"  # same rank as its current cluster
    assert destinations(spec, spec.workload_by_name["code-assist"]) == []


def test_single_provider_target_already_met_stays() -> None:
    spec = example_spec()  # research-eval: target aws, runs on aws
    assert _verdict(spec, "research-eval", "aws-use1-h100")[:2] == (False, "preferred")


def test_named_cluster_before_its_provider() -> None:
    data = example_data()
    embed = workload_named(data, "embed")
    embed["current"] = "az-eastus-maia"
    embed["target"] = ["az-westus3-maia", "azure"]
    spec = _spec(data)
    # On az-eastus-maia (matches 'azure', its second choice) it may move to the cluster it names first.
    assert _verdict(spec, "embed", "az-westus3-maia") == (True, "eligible", "eligible")
    embed["target"] = ["azure", "az-westus3-maia"]
    spec = _spec(data)
    assert _verdict(spec, "embed", "az-westus3-maia") == (
        False,
        "preferred",
        "embed already runs on a target it prefers at least as much: az-eastus-maia matches 'azure'",
    )


def test_target_rank() -> None:
    spec = example_spec()
    code_assist = spec.workload_by_name["code-assist"]
    assert target_rank(code_assist, spec.cluster_by_name["az-westus3-maia"]) == 0
    assert target_rank(code_assist, spec.cluster_by_name["gcp-usc1-v5p"]) == 1
    assert target_rank(code_assist, spec.cluster_by_name["aws-use1-trn2"]) is None
    assert target_rank(spec.workload_by_name["copilot-chat"], spec.cluster_by_name["az-eastus-copilot"]) is None


# --- options carry the verdicts ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workload", "excluded"),
    [
        (
            "research-eval",
            {
                "az-eastus-maia": "exclusive",
                "az-westus3-maia": "exclusive",
                "az-eastus-copilot": "tenant",
                "aws-use1-h100": "preferred",
                "gcp-usc1-v5p": "exclusive",
            },
        ),
        ("chat-fast", {"az-eastus-copilot": "tenant", "aws-use1-h100": "target", "gcp-usc1-v5p": "target"}),
    ],
)
def test_options_list_the_excluded_clusters_with_their_rule(workload: str, excluded: dict[str, str]) -> None:
    spec = example_spec()
    options = workload_options(spec, spec.workload_by_name[workload])
    assert {verdict.cluster: verdict.rule for verdict in options.excluded} == excluded
    assert all(verdict.reason for verdict in options.excluded)
    eligible = [c.name for c in destinations(spec, spec.workload_by_name[workload])]
    assert [option.cluster for option in options.destinations] == eligible
    assert options.current.cluster == spec.workload_by_name[workload].current
    assert options.current.role == "current"
    assert {option.role for option in options.destinations} <= {"destination"}
