"""The plan's machine-readable gates: defaults from the SLOs, overrides and additions from the spec."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from maiaplan.render.explain import explain_text as explain
from maiaplan.render.plans import plan_markdown
from planner.errors import InputError
from planner.gates import ERROR_RATE, P99_TIME_PER_OUTPUT_TOKEN, P99_TIME_TO_FIRST_TOKEN, passes
from planner.plan_builder import plan_migration
from planner.spec import MigrationSpec, parse_spec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "maia-pilot.yaml").read_text(encoding="utf-8"))


def spec_with(**migration: Any) -> MigrationSpec:
    data = copy.deepcopy(EXAMPLE)
    data["migration"].update(migration)
    return parse_spec(data, "spec.yaml")


def checks_of(spec: MigrationSpec, workload: str, percent: int) -> dict[str, Any]:
    found = plan_migration(spec).move_of(workload)
    assert found is not None
    step = next(s for s in found[1].traffic_steps if s.percent == percent)
    return {c.name: c for c in step.checks}


def test_every_traffic_step_carries_the_slo_checks_of_its_workload() -> None:
    spec = spec_with()
    plan = plan_migration(spec)
    for phase in plan.phases:
        for move in phase.moves:
            serving = spec.workload_by_name[move.workload].serving
            for step in move.traffic_steps:
                by_name = {c.name: c for c in step.checks}
                assert set(by_name) == {P99_TIME_PER_OUTPUT_TOKEN, ERROR_RATE}  # no first-token SLO in the example
                latency = by_name[P99_TIME_PER_OUTPUT_TOKEN]
                assert latency.threshold == pytest.approx(serving.p99_ms_per_token / 1000)
                assert latency.comparator == "<="
                assert "vllm:time_per_output_token_seconds_bucket{${selector}}" in latency.query
                assert by_name[ERROR_RATE].threshold == spec.migration.gate_max_error_rate
                assert all(c.cluster == move.to_cluster and c.workload == move.workload for c in step.checks)


def test_a_first_token_slo_adds_its_check() -> None:
    data = copy.deepcopy(EXAMPLE)
    data["workloads"][0]["serving"]["p99_ms_to_first_token"] = 800
    checks = checks_of(parse_spec(data, "spec.yaml"), data["workloads"][0]["name"], 10)
    ttft = checks[P99_TIME_TO_FIRST_TOKEN]
    assert ttft.threshold == pytest.approx(0.8)
    assert "vllm:time_to_first_token_seconds_bucket" in ttft.query
    assert ttft.metric == "vllm:time_to_first_token_seconds"


def test_spec_gates_override_a_default_by_name_and_add_checks() -> None:
    spec = spec_with(
        gates=[
            {"name": "error-rate", "window_s": 1800, "failure_limit": 0},
            {
                "name": "gateway-5xx",
                "metric": "envoy 5xx share",
                "query": 'sum(rate(envoy_http_5xx{route="${workload}",phase="${phase}",step="${step}"}[${interval}]))',
                "comparator": "<",
                "threshold": 0.01,
                "min_samples": 10,
            },
        ]
    )
    checks = checks_of(spec, "router-small", 50)
    assert checks[ERROR_RATE].window_s == 1800 and checks[ERROR_RATE].failure_limit == 0
    assert checks[ERROR_RATE].threshold == 0.001  # what the override does not set stays the default
    gateway = checks["gateway-5xx"]
    assert gateway.query == 'sum(rate(envoy_http_5xx{route="router-small",phase="1",step="50"}[60s]))'
    assert gateway.samples_query is None and gateway.min_samples == 10
    assert list(checks) == [P99_TIME_PER_OUTPUT_TOKEN, ERROR_RATE, "gateway-5xx"]


@pytest.mark.parametrize(
    ("gates", "path", "problem"),
    [
        ([{"name": "gw", "query": "up"}], "migration.gates[0]", "needs comparator, threshold"),
        (
            [{"name": "gw", "query": 'up{x="${nope}"}', "comparator": "<", "threshold": 1}],
            "migration.gates[0].query",
            "unknown placeholder(s) ${nope}",
        ),
        ([{"name": "error-rate"}, {"name": "error-rate"}], "migration.gates[1].name", "duplicate gate 'error-rate'"),
        ([{"name": "error-rate", "window_s": 60, "interval_s": 120}], "migration.gates[0]", "longer than window_s"),
        (
            [{"name": "error-rate", "interval_s": 1200}],
            "migration.gates[0]",
            "interval_s 1200 is longer than window_s 600",
        ),
        (
            [{"name": "error-rate", "window_s": 86400, "interval_s": 1}],
            "migration.gates[0]",
            "more than the 11000 values",
        ),
    ],
)
def test_bad_gates_name_their_field(gates: list[dict[str, Any]], path: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        spec_with(gates=gates)
    assert caught.value.path == path
    assert problem in caught.value.problem


def test_markdown_and_explain_show_the_checks() -> None:
    plan = plan_migration(spec_with())
    markdown = plan_markdown(plan)
    assert "| router-small on az-eastus-maia | p99-time-per-output-token |" in markdown
    assert 'finished_reason=~"abort\\|error"' in markdown  # a pipe inside a table cell is escaped
    text = explain(plan, "router-small")
    assert "check p99-time-per-output-token: vllm:time_per_output_token_seconds <= 0.025 every 60s over 600s" in text


@pytest.mark.parametrize(
    ("value", "comparator", "threshold", "ok"),
    [(1, "<=", 1, True), (1, "<", 1, False), (1, ">=", 1, True), (1, ">", 1, False), (2, ">", 1, True)],
)
def test_comparators(value: float, comparator: Any, threshold: float, ok: bool) -> None:
    assert passes(value, comparator, threshold) is ok
