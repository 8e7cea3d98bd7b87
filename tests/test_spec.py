"""The migration spec: the example loads, and every bad input ends in one clear message.

Each error test checks the whole message: the file, the exact field path, what is wrong, the
did-you-mean suggestion where a name is misspelt, and the fix.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from helpers_spec import (
    EXAMPLE,
    SPEC_FILE,
    example_data,
    param_id,
    spec_error,
    workload_named,
    write_json,
    write_yaml,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import MAX_LISTED_NAMES, MAX_PARAGRAPHS, InputError, did_you_mean, some_names
from planner.limits import MAX_PLAN_WORKLOADS
from planner.names import MAX_NAME_LENGTH, check_name, name_problem, suggested_name
from planner.spec import format_loc, load_spec, parse_spec
from planner.yaml_input import uses_libyaml

Mutation = Callable[[dict[str, Any]], Any]


def assert_message(error: InputError, path: str, *fragments: str, file: str = SPEC_FILE) -> None:
    """The error names ``file`` and ``path``, says every fragment, and is one paragraph with a fix."""
    assert error.file == file
    assert error.path == path
    text = str(error)
    assert text.startswith(f"{file}: {path}: " if path else f"{file}: ")
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert error.fix, f"no fix in {text!r}"
    assert text.endswith(f" Fix: {error.fix}")
    assert "\n" not in text


# --- the example ---------------------------------------------------------------------------------


def test_example_loads_unchanged() -> None:
    spec = load_spec(EXAMPLE)
    assert spec.name == "maia-pilot"
    assert spec.source_file == str(EXAMPLE)
    assert [spec.cluster_chips(cluster) for cluster in spec.clusters] == [256, 256, 128, 512, 256, 256]
    assert [tenant.isolation for tenant in spec.tenants] == ["hardware", "shared"]
    assert [workload.name for workload in spec.workloads] == [
        "router-small",
        "safety-filter",
        "embed",
        "chat-fast",
        "chat-xl",
        "code-assist",
        "research-eval",
        "copilot-chat",
    ]
    assert spec.accelerators["maia-100"].price_per_chip_hour_usd == 6.00  # the spec's catalog override
    contracts = spec.contracts
    assert (contracts[0].min_share, contracts[0].exclusive_workloads) == (0.35, ("research-eval",))
    assert contracts[1].min_chips == 64
    assert (contracts[2].max_chips, contracts[2].regions) == (512, ("eastus", "westus3"))
    chat_xl = spec.workload_by_name["chat-xl"]
    assert (chat_xl.model.params_b, chat_xl.model.dtype, chat_xl.serving.context_tokens) == (400, "fp8", 32768)
    assert chat_xl.depends_on == ("safety-filter", "chat-fast")
    assert spec.migration.traffic_steps == (1, 10, 50, 100)
    assert spec.migration.first_phase_max_sensitivity == "low"
    assert spec.migration.gate_max_error_rate == 0.001  # the default: the example does not set it


def test_example_is_the_shared_reference_copy() -> None:
    shared = EXAMPLE.parent.parent.parent / "shared" / "examples" / "maia-pilot.yaml"
    if not shared.exists():
        pytest.skip("the shared reference material is not next to this checkout")
    assert EXAMPLE.read_bytes() == shared.read_bytes()


def test_target_is_one_name_or_a_list_of_names() -> None:
    spec = load_spec(EXAMPLE)
    assert spec.workload_by_name["router-small"].target == ("azure",)
    assert spec.workload_by_name["code-assist"].target == ("azure", "gcp")
    assert spec.workload_by_name["copilot-chat"].target == ()


def test_capacity_in_phase_follows_the_ramp_then_the_full_size() -> None:
    spec = load_spec(EXAMPLE)
    west = spec.cluster_by_name["az-westus3-maia"]
    assert [spec.capacity_in_phase(west, phase) for phase in range(1, 8)] == [0, 0, 64, 128, 256, 256, 256]
    copilot = spec.cluster_by_name["az-eastus-copilot"]  # no ramp: its full size in every phase
    assert spec.capacity_in_phase(copilot, 1) == 128


# --- unknown fields ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "path", "field", "suggestion"),
    [
        (lambda d: d.update(workload=[]), "workload", "workload", "workloads"),
        (
            lambda d: d["workloads"][3]["serving"].update(tokens_per_sec=1),
            "workloads[3].serving.tokens_per_sec",
            "tokens_per_sec",
            "tokens_per_s",
        ),
        (
            lambda d: d["workloads"][0]["model"].update(kv_head=8),
            "workloads[0].model.kv_head",
            "kv_head",
            "kv_heads",
        ),
        (
            lambda d: d["clusters"][1]["topology"].update(nodes_per_rak=8),
            "clusters[1].topology.nodes_per_rak",
            "nodes_per_rak",
            "nodes_per_rack",
        ),
        (
            lambda d: d["clusters"][0].update(capacity_by_phases=[1]),
            "clusters[0].capacity_by_phases",
            "capacity_by_phases",
            "capacity_by_phase",
        ),
        (
            lambda d: d["contracts"][0].update(exclusive_workload=[]),
            "contracts[0].exclusive_workload",
            "exclusive_workload",
            "exclusive_workloads",
        ),
        (lambda d: d["tenants"][1].update(isolaton="shared"), "tenants[1].isolaton", "isolaton", "isolation"),
        (lambda d: d["migration"].update(max_phase=3), "migration.max_phase", "max_phase", "max_phases"),
    ],
    ids=param_id,
)
def test_unknown_field_names_the_field_and_the_closest_allowed_one(
    mutate: Mutation, path: str, field: str, suggestion: str
) -> None:
    data = example_data()
    mutate(data)
    error = spec_error(data)
    assert_message(error, path, f"unknown field '{field}' — did you mean '{suggestion}'?", "remove it")


def test_unknown_field_without_a_close_name_has_no_suggestion() -> None:
    data = example_data()
    data["workloads"][0]["owner"] = "alice"
    error = spec_error(data)
    assert_message(error, "workloads[0].owner", "unknown field 'owner'")
    assert "did you mean" not in str(error)


def test_unknown_field_in_a_catalog_entry_suggests_the_figure() -> None:
    data = example_data()
    data["catalog"]["maia-100"]["hmb_gb"] = 64
    error = spec_error(data)
    assert_message(error, "catalog.maia-100.hmb_gb", "unknown field 'hmb_gb' — did you mean 'hbm_gb'?")


# --- references ----------------------------------------------------------------------------------

KNOWN_CLUSTERS = "aws-use1-h100, aws-use1-trn2, az-eastus-copilot, az-eastus-maia, az-westus3-maia, gcp-usc1-v5p"
KNOWN_WORKLOADS = "chat-fast, chat-xl, code-assist, copilot-chat, embed, research-eval, router-small, safety-filter"


@pytest.mark.parametrize(
    ("mutate", "path", "problem", "fix"),
    [
        (
            lambda d: d["clusters"][0].update(tenant="anthropik"),
            "clusters[0].tenant",
            "unknown tenant 'anthropik' — did you mean 'anthropic'?",
            "use one of the tenants the spec defines: anthropic, copilot",
        ),
        (
            lambda d: d["clusters"][3].update(accelerator="trn-2"),
            "clusters[3].accelerator",
            "unknown accelerator 'trn-2' — did you mean 'trn2'?",
            "use a catalog accelerator (maia-100, trn2, inf2, h100-sxm, h200, tpu-v5e, tpu-v5p, tpu-v6e) "
            "or add one under catalog:",
        ),
        (
            lambda d: d["contracts"][1].update(tenant="antropic"),
            "contracts[1].tenant",
            "unknown tenant 'antropic' — did you mean 'anthropic'?",
            "use one of the tenants the spec defines: anthropic, copilot",
        ),
        (
            lambda d: d["contracts"][0].update(exclusive_workloads=["research-evl"]),
            "contracts[0].exclusive_workloads[0]",
            "unknown workload 'research-evl' — did you mean 'research-eval'?",
            f"use one of the workloads the spec defines: {KNOWN_WORKLOADS}",
        ),
        (
            lambda d: d["workloads"][7].update(tenant="copilott"),
            "workloads[7].tenant",
            "unknown tenant 'copilott' — did you mean 'copilot'?",
            "use one of the tenants the spec defines: anthropic, copilot",
        ),
        (
            lambda d: d["workloads"][3].update(current="aws-use1-trn"),
            "workloads[3].current",
            "unknown cluster 'aws-use1-trn' — did you mean 'aws-use1-trn2'?",
            f"use one of the clusters the spec defines: {KNOWN_CLUSTERS}",
        ),
        (
            lambda d: d["workloads"][1].update(depends_on=["router-smal"]),
            "workloads[1].depends_on[0]",
            "unknown workload 'router-smal' — did you mean 'router-small'?",
            f"use one of the workloads the spec defines: {KNOWN_WORKLOADS}",
        ),
        (
            lambda d: d["workloads"][4].update(depends_on=["safety-filter", "chat-fats"]),
            "workloads[4].depends_on[1]",
            "unknown workload 'chat-fats' — did you mean 'chat-fast'?",
            f"use one of the workloads the spec defines: {KNOWN_WORKLOADS}",
        ),
    ],
    ids=param_id,
)
def test_unresolved_reference_names_it_and_suggests_the_closest(
    mutate: Mutation, path: str, problem: str, fix: str
) -> None:
    data = example_data()
    mutate(data)
    error = spec_error(data)
    assert error.problem == problem
    assert error.fix == fix
    assert_message(error, path, problem)


def test_unresolved_reference_far_from_every_name_has_no_suggestion() -> None:
    data = example_data()
    data["workloads"][0]["current"] = "on-prem-a100"
    error = spec_error(data)
    assert_message(error, "workloads[0].current", "unknown cluster 'on-prem-a100'")
    assert error.problem == "unknown cluster 'on-prem-a100'"


def test_contract_lists_a_workload_of_another_tenant() -> None:
    data = example_data()
    data["contracts"][0]["exclusive_workloads"] = ["research-eval", "copilot-chat"]
    error = spec_error(data)
    assert_message(
        error,
        "contracts[0].exclusive_workloads[1]",
        "workload 'copilot-chat' belongs to tenant 'copilot', not to the contract's tenant 'anthropic'",
        "list only the contract tenant's workloads",
    )


def test_cluster_provider_must_sell_its_accelerator() -> None:
    data = example_data()
    data["clusters"][5]["provider"] = "aws"
    error = spec_error(data)
    assert_message(error, "clusters[5].provider", "'tpu-v5p' is sold by gcp, not aws", "set provider: gcp")


def test_workload_tenant_must_own_its_current_cluster() -> None:
    data = example_data()
    workload_named(data, "copilot-chat")["current"] = "az-eastus-maia"
    error = spec_error(data)
    assert_message(
        error,
        "workloads[7].current",
        "cluster 'az-eastus-maia' belongs to tenant 'anthropic', not to the workload's tenant 'copilot'",
        "a workload runs only on a cluster of its own tenant",
    )


def test_independent_problems_are_all_reported() -> None:
    data = example_data()
    data["workloads"][0]["serving"]["tokens_per_s"] = "fast"
    data["workloads"][1]["serving"]["tokens_per_s"] = -1
    data["workloads"][2]["serving"]["tokens_per_s"] = 0
    error = spec_error(data)
    assert [problem.path for problem in error.problems] == [f"workloads[{i}].serving.tokens_per_s" for i in range(3)]
    paragraphs = error.paragraphs()
    assert len(paragraphs) == 3
    assert '(got "fast")' in paragraphs[0] and "(got -1)" in paragraphs[1] and "(got 0)" in paragraphs[2]
    assert all(paragraph.startswith(f"{SPEC_FILE}: workloads[") and " Fix: " in paragraph for paragraph in paragraphs)


def test_independent_reference_problems_are_all_reported() -> None:
    data = example_data()
    data["clusters"][0]["tenant"] = "anthropik"
    workload_named(data, "embed")["depends_on"] = ["nosuch"]
    data["contracts"][0]["tenant"] = "nobody"
    error = spec_error(data)
    assert [problem.path for problem in error.problems] == [
        "clusters[0].tenant",
        "contracts[0].tenant",
        "workloads[2].depends_on[0]",
    ]


def test_field_and_cross_reference_problems_of_one_spec_come_together() -> None:
    data = example_data()
    data["clusters"][0]["topology"]["racks"] = 0
    data["workloads"][0]["serving"]["tokens_per_s"] = "fast"
    error = spec_error(data)
    assert {problem.path for problem in error.problems} == {
        "clusters[0].topology.racks",
        "workloads[0].serving.tokens_per_s",
    }


def test_more_than_twenty_problems_are_counted_not_listed() -> None:
    data = example_data()
    for workload in data["workloads"]:
        workload["serving"]["tokens_per_s"] = -1
        workload["serving"]["context_tokens"] = 0
        workload["model"]["layers"] = 0
    error = spec_error(data)
    assert len(error.problems) == 24
    paragraphs = error.paragraphs()
    assert len(paragraphs) == MAX_PARAGRAPHS + 1
    assert paragraphs[-1] == f"{SPEC_FILE}: and 4 more problems (fix these first)"


def test_a_misspelt_required_field_is_the_unknown_key_with_its_correction() -> None:
    data = example_data()
    serving = data["workloads"][0]["serving"]
    serving["tokens_per_sec"] = serving.pop("tokens_per_s")
    error = spec_error(data)
    assert_message(
        error, "workloads[0].serving.tokens_per_sec", "unknown field 'tokens_per_sec' — did you mean 'tokens_per_s'?"
    )


def test_an_entry_missing_several_fields_is_one_problem() -> None:
    data = example_data()
    data["workloads"][5] = {"name": "code-assist"}
    error = spec_error(data)
    assert_message(
        error,
        "workloads[5]",
        "is missing the required fields 'tenant', 'model', 'serving', 'sensitivity', 'current'",
    )


def test_duplicate_names_are_reported_without_their_consequences() -> None:
    data = example_data()
    data["clusters"][2]["name"] = "az-eastus-maia"
    data["clusters"][3]["name"] = "az-eastus-maia"
    error = spec_error(data)
    assert [problem.path for problem in error.problems] == ["clusters[2].name", "clusters[3].name"]


def test_a_hint_lists_a_few_names_and_counts_the_rest() -> None:
    data = example_data()
    template = workload_named(data, "embed")
    data["workloads"] += [{**template, "name": f"extra-{i:05d}"} for i in range(12_000)]
    workload_named(data, "chat-xl")["depends_on"] = ["zzz-nosuch"]
    error = spec_error(data)
    assert len(str(error)) < 400
    assert f"and {12_008 - MAX_LISTED_NAMES:,} more" in error.fix


# --- target --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("gcp", ("gcp",)),
        ("az-westus3-maia", ("az-westus3-maia",)),
        (["az-westus3-maia", "gcp", "aws"], ("az-westus3-maia", "gcp", "aws")),
        ([], ()),
    ],
)
def test_target_is_a_provider_a_cluster_name_or_a_list(target: Any, expected: tuple[str, ...]) -> None:
    data = example_data()
    data["workloads"][0]["target"] = target
    spec = parse_spec(data, SPEC_FILE)
    assert spec.workloads[0].target == expected


@pytest.mark.parametrize(
    ("target", "path", "problem"),
    [
        ("azur", "workloads[0].target[0]", "'azur' is neither a provider nor a cluster — did you mean 'azure'?"),
        (
            ["gcp", "az-westus3-mai"],
            "workloads[0].target[1]",
            "'az-westus3-mai' is neither a provider nor a cluster — did you mean 'az-westus3-maia'?",
        ),
        ("on-prem", "workloads[0].target[0]", "'on-prem' is neither a provider nor a cluster"),
    ],
)
def test_misspelt_target_suggests_a_provider_or_cluster(target: Any, path: str, problem: str) -> None:
    data = example_data()
    data["workloads"][0]["target"] = target
    error = spec_error(data)
    assert error.problem == problem
    assert_message(error, path, problem, "name a provider (azure, aws, gcp) or a cluster of the spec")


def test_target_cluster_of_another_tenant_is_rejected() -> None:
    data = example_data()
    data["workloads"][0]["target"] = ["azure", "az-eastus-copilot"]
    error = spec_error(data)
    assert_message(
        error,
        "workloads[0].target[1]",
        "cluster 'az-eastus-copilot' belongs to tenant 'copilot', not to the workload's tenant 'anthropic'",
        "target only clusters of the workload's own tenant",
    )


def test_target_of_the_wrong_type_is_rejected() -> None:
    data = example_data()
    data["workloads"][0]["target"] = 3
    error = spec_error(data)
    assert_message(error, "workloads[0].target", "(got 3)", "set workloads[0].target to a value")


# --- capacity ------------------------------------------------------------------------------------


def test_capacity_by_phase_over_the_cluster_size() -> None:
    data = example_data()
    data["clusters"][0]["capacity_by_phase"] = [32, 128, 257]
    error = spec_error(data)
    assert_message(
        error,
        "clusters[0].capacity_by_phase[2]",
        "257 chips exceeds the cluster's size of 256 chips (8 racks × 8 nodes × 4 chips)",
        "lower it to at most 256, or enlarge the topology",
    )


def test_capacity_by_phase_may_equal_the_cluster_size() -> None:
    data = example_data()
    data["clusters"][2]["capacity_by_phase"] = [0, 128]
    spec = parse_spec(data, SPEC_FILE)
    assert spec.capacity_in_phase(spec.clusters[2], 1) == 0


def test_capacity_uses_the_chips_per_node_of_the_spec_catalog() -> None:
    data = example_data()
    data["catalog"]["maia-100"]["chips_per_node"] = 2  # 64 nodes × 2 chips: 128 chips
    data["clusters"][0]["capacity_by_phase"] = [32, 129]
    first, second = spec_error(data).problems
    assert_message(
        first,
        "clusters[0].capacity_by_phase[1]",
        "129 chips exceeds the cluster's size of 128 chips (8 racks × 8 nodes × 2 chips)",
    )
    assert_message(second, "clusters[1].capacity_by_phase[4]", "256 chips exceeds", "(and 1 later entry too)")


def test_negative_capacity_is_rejected() -> None:
    data = example_data()
    data["clusters"][1]["capacity_by_phase"] = [0, -4]
    error = spec_error(data)
    assert error.path == "clusters[1].capacity_by_phase[1]"
    assert "must be 0 or more chips (got -4)" in str(error)


# --- names and dependencies ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "first", "again"),
    [("tenants", 0, 1), ("clusters", 0, 2), ("contracts", 1, 2), ("workloads", 2, 5)],
)
def test_duplicate_names_point_at_both_entries(section: str, first: int, again: int) -> None:
    data = example_data()
    name = data[section][first]["name"]
    data[section][again]["name"] = name
    error = spec_error(data)
    assert_message(
        error,
        f"{section}[{again}].name",
        f"duplicate name '{name}' (also {section}[{first}].name)",
        "give every entry of a section its own name",
    )


def test_dependency_cycle_is_named_in_order() -> None:
    data = example_data()
    workload_named(data, "router-small")["depends_on"] = ["chat-xl"]
    error = spec_error(data)
    assert_message(
        error,
        "workloads[0].depends_on",
        "dependency cycle: router-small → safety-filter → chat-fast → chat-xl → router-small "
        "(each must move before the next)",
        "break the cycle by removing one depends_on entry",
    )


def test_two_workload_cycle_points_at_a_workload_of_the_cycle() -> None:
    data = example_data()
    workload_named(data, "embed")["depends_on"] = ["code-assist"]
    workload_named(data, "code-assist")["depends_on"] = ["safety-filter", "embed"]
    error = spec_error(data)
    assert "dependency cycle: " in error.problem
    cycle = error.problem.removeprefix("dependency cycle: ").split(" (")[0].split(" → ")
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"embed", "code-assist"}
    index = int(error.path.removeprefix("workloads[").split("]")[0])
    assert error.path == f"workloads[{index}].depends_on"
    assert data["workloads"][index]["name"] in cycle


def test_workload_cannot_depend_on_itself() -> None:
    data = example_data()
    workload_named(data, "embed")["depends_on"] = ["embed"]
    error = spec_error(data)
    assert_message(error, "workloads[2].depends_on[0]", "a workload cannot depend on itself", "remove the entry")


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["workloads"][0]["serving"].update(tokens_per_s=math.inf), "workloads[0].serving.tokens_per_s"),
        (
            lambda d: d["workloads"][0]["serving"].update(p99_ms_per_token=math.inf),
            "workloads[0].serving.p99_ms_per_token",
        ),
        (lambda d: d["workloads"][0]["model"].update(params_b=math.inf), "workloads[0].model.params_b"),
        (lambda d: d["catalog"]["maia-100"].update(hbm_gb=math.inf), "catalog.maia-100.hbm_gb"),
    ],
    ids=param_id,
)
def test_infinite_figures_are_rejected(mutate: Mutation, path: str) -> None:
    data = example_data()
    mutate(data)
    assert_message(spec_error(data), path, "(got inf)")


# --- migration and contracts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "path", "problem"),
    [
        ([0, 50, 100], "migration.traffic_steps[0]", "must be a percent from 1 to 100 (got 0)"),
        ([1, 10, 101], "migration.traffic_steps[2]", "must be a percent from 1 to 100 (got 101)"),
        ([1, 50, 50, 100], "migration.traffic_steps[2]", "must rise step by step (got 50 then 50)"),
        ([10, 5, 100], "migration.traffic_steps[1]", "must rise step by step (got 10 then 5)"),
        ([1, 10, 50], "migration.traffic_steps[2]", "the last step must be 100 (got 50)"),
    ],
)
def test_traffic_steps_rise_from_1_to_100(steps: list[int], path: str, problem: str) -> None:
    data = example_data()
    data["migration"]["traffic_steps"] = steps
    error = spec_error(data)
    assert error.path == path
    assert error.problem == problem
    assert str(error).startswith(f"{SPEC_FILE}: {path}: {problem}")


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["migration"].update(traffic_steps=[1, 10, 50]), "migration.traffic_steps[2]"),
        (lambda d: d["migration"].update(traffic_steps=[5, 5, 100]), "migration.traffic_steps[1]"),
        (lambda d: d["clusters"][0].update(capacity_by_phase=[-1]), "clusters[0].capacity_by_phase[0]"),
    ],
    ids=param_id,
)
def test_field_rule_messages_carry_a_fix(mutate: Mutation, path: str) -> None:
    data = example_data()
    mutate(data)
    assert_message(spec_error(data), path)


def test_single_full_traffic_step_is_valid() -> None:
    data = example_data()
    data["migration"]["traffic_steps"] = [100]
    assert parse_spec(data, SPEC_FILE).migration.traffic_steps == (100,)


def test_traffic_steps_cannot_be_empty() -> None:
    data = example_data()
    data["migration"]["traffic_steps"] = []
    assert_message(spec_error(data), "migration.traffic_steps", "at least 1 item")


def test_min_chips_above_max_chips() -> None:
    data = example_data()
    data["contracts"][1]["max_chips"] = 32  # min_chips is 64
    error = spec_error(data)
    assert_message(
        error, "contracts[1].min_chips", "min_chips 64 exceeds max_chips 32", "lower min_chips or raise max_chips"
    )


def test_min_chips_equal_to_max_chips_is_valid() -> None:
    data = example_data()
    data["contracts"][1]["max_chips"] = 64
    assert parse_spec(data, SPEC_FILE).contracts[1].max_chips == 64


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda d: d["contracts"][0].update(min_share=1.5), "contracts[0].min_share", "less than or equal to 1"),
        (lambda d: d["contracts"][2].update(regions=[]), "contracts[2].regions", "at least 1 item"),
        (
            lambda d: d["workloads"][3]["serving"].update(tokens_per_s=-5),
            "workloads[3].serving.tokens_per_s",
            "greater than 0 (got -5)",
        ),
        (lambda d: d["workloads"][0]["model"].update(dtype="bf61"), "workloads[0].model.dtype", '(got "bf61")'),
        (lambda d: d["clusters"][0]["topology"].update(kind="ring"), "clusters[0].topology.kind", '(got "ring")'),
        (
            lambda d: d["clusters"][0]["topology"].update(racks=0),
            "clusters[0].topology.racks",
            "greater than or equal to 1 (got 0)",
        ),
        (lambda d: d.update(version=2), "version", "(got 2)"),
        (lambda d: d["workloads"][0].update(serving=5), "workloads[0].serving", "(got 5)"),
    ],
    ids=param_id,
)
def test_field_constraint_names_the_path_and_the_value(mutate: Mutation, path: str, fragment: str) -> None:
    data = example_data()
    mutate(data)
    error = spec_error(data)
    assert_message(error, path, fragment, f"set {path} to a value that satisfies this")


def test_missing_field_says_what_to_add() -> None:
    data = example_data()
    del data["workloads"][3]["serving"]["context_tokens"]
    error = spec_error(data)
    assert_message(error, "workloads[3].serving.context_tokens", "is required but missing", "add 'context_tokens'")


# --- catalog in the spec -------------------------------------------------------------------------


def test_catalog_addition_missing_figures_lists_them() -> None:
    data = example_data()
    data["catalog"]["mi300x"] = {"provider": "azure", "hbm_gb": 192, "hbm_tb_per_s": 5.3}
    error = spec_error(data)
    assert_message(
        error,
        "catalog.mi300x.bf16_dense_tflops",
        "'mi300x' is not in the built-in catalog, so it needs every figure; missing: bf16_dense_tflops, "
        "fp8_dense_tflops, tdp_w, chips_per_node, intra_node_link_gb_per_s, inter_node_link_gb_per_s, sku, "
        "chips_per_sku, price_per_chip_hour_usd",
        "complete or correct the entry",
    )


def test_catalog_override_out_of_range() -> None:
    data = example_data()
    data["catalog"]["maia-100"]["hbm_gb"] = 0
    assert_message(spec_error(data), "catalog.maia-100.hbm_gb", "greater than 0 (got 0)")


def test_complete_catalog_addition_serves_a_cluster() -> None:
    data = example_data()
    data["catalog"]["mi300x"] = {
        "provider": "azure",
        "hbm_gb": 192,
        "hbm_tb_per_s": 5.3,
        "bf16_dense_tflops": 1307,
        "fp8_dense_tflops": 2615,
        "tdp_w": 750,
        "chips_per_node": 8,
        "intra_node_link_gb_per_s": 896,
        "inter_node_link_gb_per_s": 50,
        "sku": "Standard_ND96isr_MI300X_v5",
        "chips_per_sku": 8,
        "price_per_chip_hour_usd": 6.0,
    }
    data["clusters"][2]["accelerator"] = "mi300x"
    spec = parse_spec(data, SPEC_FILE)
    assert spec.cluster_chips(spec.clusters[2]) == 32 * 8
    assert spec.accelerator_of(spec.clusters[2]).sku == "Standard_ND96isr_MI300X_v5"


def test_catalog_addition_of_another_provider_must_match_its_clusters() -> None:
    data = example_data()
    data["catalog"]["trn3"] = {**_figures_of_trn2(), "provider": "aws"}
    data["clusters"][0]["accelerator"] = "trn3"
    assert_message(spec_error(data), "clusters[0].provider", "'trn3' is sold by aws, not azure")


def _figures_of_trn2() -> dict[str, Any]:
    from planner.catalog import FIGURE_FIELDS, builtin_catalog

    trn2 = builtin_catalog()["trn2"]
    return {figure: getattr(trn2, figure) for figure in FIGURE_FIELDS if getattr(trn2, figure) is not None}


# --- files ---------------------------------------------------------------------------------------


def test_json_spec_loads_like_the_yaml_one(tmp_path: Path) -> None:
    from_json = load_spec(write_json(tmp_path, example_data()))
    from_yaml = load_spec(EXAMPLE)
    assert from_json.source_file == str(tmp_path / "spec.json")
    assert from_json.model_dump() == from_yaml.model_dump()


def test_json_spec_errors_name_the_json_file(tmp_path: Path) -> None:
    data = example_data()
    data["workloads"][3]["serving"]["tokens_per_s"] = 0
    path = write_json(tmp_path, data)
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert_message(caught.value, "workloads[3].serving.tokens_per_s", "greater than 0", file=str(path))


def test_json_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text('{"version": 1,\n  "name": }\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert_message(caught.value, "line 2, column 11", "is not valid JSON: Expecting value", file=str(path))


def test_yaml_syntax_error_has_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("version: 1\nname: maia-pilot\ntenants:\n  - name: [anthropic\n  - name: copilot\n")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    error = caught.value
    assert error.path.startswith("line ")
    line, column = (int(part.split()[-1]) for part in error.path.split(", "))
    assert line in (4, 5)  # where the parser notices the unclosed flow sequence
    assert column >= 1
    assert_message(error, error.path, "is not valid YAML: ", "correct the YAML syntax there", file=str(path))


def test_yaml_tab_indentation_points_at_the_tab(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("version: 1\n\tname: x\n")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert_message(caught.value, "line 2, column 1", "is not valid YAML: found ", "tab", file=str(path))


def test_duplicate_top_level_yaml_key_is_rejected_at_its_line(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8") + "name: another-name\n"
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    line = text.count("\n")  # the appended key is the last line
    assert_message(caught.value, f"line {line}, column 1", "duplicate key 'name'", file=str(path))


def test_duplicate_nested_yaml_key_is_rejected(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "topology: {kind: mesh, nodes_per_rack: 8, racks: 4}",
        "topology: {kind: mesh, nodes_per_rack: 8, racks: 4, racks: 8}",
    )
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "racks: 4, racks: 8" in row)
    column = text.splitlines()[line - 1].index("racks: 8") + 1
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert_message(caught.value, f"line {line}, column {column}", "duplicate key 'racks'", file=str(path))


def test_duplicate_json_key_is_rejected(tmp_path: Path) -> None:
    path = write_json(tmp_path, example_data())
    text = path.read_text(encoding="utf-8")
    assert '\n  "name": "maia-pilot",\n' in text
    path.write_text(text.replace('"name": "maia-pilot",', '"name": "maia-pilot",\n  "name": "other",', 1))
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert "duplicate key 'name'" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- version: 1\n", "list"), ("just a string\n", "str"), ("42\n", "int"), ("", "NoneType")],
)
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert_message(
        caught.value,
        "",
        f"the spec must be a mapping at the top level (got {kind})",
        "start from examples/maia-pilot.yaml",
        file=str(path),
    )


def test_json_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = write_json(tmp_path, [example_data()])
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert_message(caught.value, "", "must be a mapping at the top level (got list)", file=str(path))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert_message(caught.value, "", "cannot be read (No such file or directory)", "check the path", file=str(path))


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_spec(tmp_path)
    assert_message(caught.value, "", "cannot be read (Is a directory)", file=str(tmp_path))


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"name: \xff\xfe maia\n")
    with pytest.raises(InputError) as caught:
        load_spec(path)
    assert_message(caught.value, "", "is not UTF-8 text", "save the spec as UTF-8", file=str(path))


def test_yaml_round_trip_of_the_example_data_loads(tmp_path: Path) -> None:
    spec = load_spec(write_yaml(tmp_path, example_data()))
    assert len(spec.workloads) == 8


def _paths(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


EXAMPLE_PATHS = _paths(example_data())
NAMES = ["azure", "aws", "gcp", "maia-100", "anthropic", "copilot", "az-eastus-maia", "embed", "chat-xl"]
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6)
    | st.sampled_from(NAMES)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(path=st.sampled_from(EXAMPLE_PATHS), value=_values, delete=st.booleans())
def test_any_edit_of_the_example_validates_or_is_input_errors(
    path: tuple[str | int, ...], value: Any, delete: bool
) -> None:
    data = example_data()
    parent: Any = data
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    try:
        parse_spec(data, SPEC_FILE)
    except InputError as error:
        assert str(error) == "\n".join(error.paragraphs())
        for problem in error.problems:
            assert str(problem).startswith(f"{SPEC_FILE}: ")
            assert problem.problem
            assert "\n" not in str(problem)


# --- the error type and its helpers --------------------------------------------------------------


def test_input_error_is_one_paragraph() -> None:
    error = InputError("a.yaml", "clusters[0].tenant", "unknown tenant 'x'", "use one of: y")
    assert str(error) == "a.yaml: clusters[0].tenant: unknown tenant 'x' Fix: use one of: y"
    assert str(InputError("a.yaml", "", "cannot be read")) == "a.yaml: cannot be read"


def test_did_you_mean() -> None:
    assert did_you_mean("aws-use1-trn", ["aws-use1-trn2", "aws-use1-h100"]) == " — did you mean 'aws-use1-trn2'?"
    assert did_you_mean("xyz", ["aws-use1-trn2"]) == ""
    assert did_you_mean("anything", []) == ""


def test_format_loc() -> None:
    assert format_loc(("workloads", 3, "serving", "tokens_per_s")) == "workloads[3].serving.tokens_per_s"
    assert format_loc(("migration", "traffic_steps", 2)) == "migration.traffic_steps[2]"
    assert format_loc(()) == ""


def test_some_names_counts_what_it_does_not_list() -> None:
    assert some_names(["a", "b"]) == "a, b"
    assert some_names([f"n{i}" for i in range(10)], limit=3) == "n0, n1, n2 and 7 more"


# --- YAML: dates, the C loader -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("name: 2024-13-01", "workloads[0].name", "'2024-13-01' does not start with a letter"),
        ("current: 2024-02-30", "workloads[0].current", "unknown cluster '2024-02-30'"),
        ("current: 2024-01-01 10:00:00", "workloads[0].current", "unknown cluster '2024-01-01 10:00:00'"),
        ("current: !!timestamp 2099-02-30", "workloads[0].current", "unknown cluster '2099-02-30'"),
    ],
)
def test_date_like_scalars_stay_strings_and_never_crash(tmp_path: Path, text: str, path: str, fragment: str) -> None:
    key = text.split(":")[0]
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    start = lines.index("  - name: router-small")
    for offset, line in enumerate(lines[start:]):
        if line.strip().startswith(f"{key}:") or (key == "name" and offset == 0):
            indent = "  - " if offset == 0 else line[: len(line) - len(line.lstrip())]
            lines[start + offset] = f"{indent}{text}"
            break
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_spec(spec_file)
    assert caught.value.problems[0].path == path
    assert fragment in caught.value.problems[0].problem


def test_a_date_like_spec_name_is_kept_as_text(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(EXAMPLE.read_text(encoding="utf-8").replace("name: maia-pilot", "name: 2024-13-01"))
    assert load_spec(spec_file).name == "2024-13-01"


def test_a_boolean_where_a_name_belongs_says_to_quote_it(tmp_path: Path) -> None:
    data = example_data()
    workload_named(data, "embed")["name"] = True
    error = spec_error(data)
    assert_message(error, "workloads[2].name", "input should be a valid string (got true)", "quote it")


def test_yaml_is_read_by_libyaml_when_it_is_built() -> None:
    import yaml

    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML here has no libyaml")
    assert uses_libyaml()


def test_unhashable_yaml_key_is_an_input_error(tmp_path: Path) -> None:
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text("version: 1\n? [a, b]\n: 1\n")
    with pytest.raises(InputError) as caught:
        load_spec(spec_file)
    assert "is not valid YAML" in str(caught.value)


# --- the naming rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Embed", "has uppercase letters"),
        ("embéd", "has non-ASCII characters"),
        ("embed_large", "has characters other than a-z, 0-9 and '-': '_'"),
        ("embed large", "has characters other than a-z, 0-9 and '-': ' '"),
        ("9embed", "does not start with a letter"),
        ("-embed", "does not start with a letter"),
        ("embed-", "ends with '-'"),
        ("e" * (MAX_NAME_LENGTH + 1), f"has {MAX_NAME_LENGTH + 1} characters, more than {MAX_NAME_LENGTH}"),
        ("", "is empty"),
    ],
)
def test_names_the_clouds_would_refuse(name: str, problem: str) -> None:
    assert name_problem(name) == problem
    with pytest.raises(ValueError, match="a name is lowercase ASCII letters"):
        check_name(name)
    assert name_problem(suggested_name(name)) is None


@pytest.mark.parametrize("name", ["embed", "a", "chat-xl", "az-eastus-maia", "w-0001", "e" * MAX_NAME_LENGTH])
def test_names_that_follow_the_rule(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize(("section", "index"), [("tenants", 1), ("clusters", 2), ("contracts", 0), ("workloads", 2)])
def test_every_spec_name_follows_the_rule_at_load(section: str, index: int) -> None:
    data = example_data()
    data[section][index]["name"] = "Embed_Large"
    error = spec_error(data)
    first = error.problems[0]
    assert first.path == f"{section}[{index}].name"
    assert "'Embed_Large' has uppercase letters" in first.problem
    assert "e.g. 'embed-large'" in first.problem
    assert first.fix


def test_a_workload_and_cluster_name_too_long_together() -> None:
    data = example_data()
    workload_named(data, "embed")["name"] = "e" * 40  # with gcp-usc1-v5p (12) and az-westus3-maia (15)
    error = spec_error(data)
    assert_message(error, "workloads[2].name", "and cluster 'az-westus3-maia', where it may run, have 55 characters")


# --- size limits ---------------------------------------------------------------------------------


def test_a_spec_over_the_workload_limit_is_refused_before_it_is_built() -> None:
    data = example_data()
    data["workloads"] = [{}] * (MAX_PLAN_WORKLOADS + 1)  # never validated: the count alone refuses
    error = spec_error(data)
    assert_message(error, "workloads", f"has {MAX_PLAN_WORKLOADS + 1:,} workloads, more than the")
    assert "split the spec" in error.fix


def test_the_components_hold_tag_values_to_the_same_rule() -> None:
    from components.tags import ResourceTags

    assert ResourceTags("Anthropic", "gcp-usc1-v5p", 0, workload="embed").gcp_labels()["tenant"] == "anthropic"
    with pytest.raises(ValueError, match="label 'workload' value 'embed_v2' has characters other than"):
        ResourceTags("anthropic", "gcp-usc1-v5p", 0, workload="embed_v2").gcp_labels()
