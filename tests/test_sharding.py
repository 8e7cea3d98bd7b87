"""Sharding: the prefill/decode arithmetic by hand, collectives, limits, pins, and the choice's optimality.

The hand-computed cases run on a synthetic accelerator of round figures (``helpers_spec.TOY_FIGURES``
with hbm_efficiency 0.8, compute_efficiency 0.5 and no step overheads, built by :func:`hand`):
90 GB usable per chip, 1.0e12 B/s of effective HBM bandwidth, 1.0e15 effective BF16 FLOP/s, one chip
per node. The default toy workload has 20 GB of bf16 weights and 0.4 GB of KV cache per sequence
(2 × 10 layers × 10 KV heads × 100 head dim × 2 bytes × 10,000 tokens), so on one chip a decode step
of b sequences reads 20 ms + 0.4 ms × b; its hidden size estimate is √(10e9 / 120) = 9,128.7, so a
decoded token costs 2 × 10e9 + 4 × 10 × 9,128.7 × 10,000 = 2.3651e10 FLOPs (0.023651 ms at 1e15).

The optimality check brute-forces every (TP, PP) split of the same search space, without the
search's early exit, and finds for each the largest batch that fits memory, the engine and latency by
bisection on the iteration model.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import pytest
from helpers_spec import example_data, example_spec, toy_accelerator, toy_workload, workload_named
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from maiaplan.cli import main
from planner import performance as perf
from planner.catalog import Accelerator, builtin_catalog
from planner.errors import InputError
from planner.options import all_options, workload_options
from planner.sharding import (
    Shape,
    ShardingChoice,
    ShardingInfeasible,
    all_reduce_s,
    batch_limit,
    decode_flops_per_token,
    kv_bytes_per_token,
    prefill_flops,
    shape_of,
    shard,
    tensor_parallel_degrees,
    weights_gb,
)
from planner.spec import DTYPE_BYTES, Model, ShardingPin, Workload, parse_spec

GB = 1e9
# Float slack of the checks: the module computes its bounds by bisection on floats.
SLACK = 1e-9
TOKEN_FLOPS = 2 * 10e9 + 4 * 10 * math.sqrt(10e9 / 120) * 10_000  # one decoded token of the toy model


def hand(**changes: Any) -> Accelerator:
    """The toy accelerator with round efficiencies and no overheads: costs computable by hand."""
    figures = {"hbm_efficiency": 0.8, "compute_efficiency": 0.5, "step_overhead_ms": 0.0, "sequence_overhead_us": 0.0}
    return toy_accelerator(**{**figures, **changes})


def with_serving(workload: Workload, **changes: Any) -> Workload:
    return workload.model_copy(update={"serving": workload.serving.model_copy(update=changes)})


# --- weights and KV cache of the example's models -----------------------------------------------


@pytest.mark.parametrize(
    ("workload", "weights", "kv_per_token"),
    [
        ("router-small", 3 * 2, 2 * 24 * 8 * 64 * 2),  # 3 B params × bf16
        ("safety-filter", 8 * 2, 2 * 32 * 8 * 128 * 2),
        ("embed", 2 * 2, 2 * 24 * 8 * 64 * 2),
        ("chat-fast", 30 * 1, 2 * 48 * 8 * 128 * 1),  # fp8: one byte
        ("chat-xl", 400 * 1, 2 * 120 * 16 * 128 * 1),
        ("code-assist", 70 * 1, 2 * 80 * 8 * 128 * 1),
        ("research-eval", 400 * 2, 2 * 120 * 16 * 128 * 2),
        ("copilot-chat", 30 * 1, 2 * 48 * 8 * 128 * 1),
    ],
)
def test_weights_and_kv_of_the_example_models(workload: str, weights: int, kv_per_token: int) -> None:
    model = example_spec().workload_by_name[workload].model
    assert weights_gb(model) == weights
    assert kv_bytes_per_token(model) == kv_per_token


@pytest.mark.parametrize(("dtype", "nbytes"), sorted(DTYPE_BYTES.items()))
def test_dtype_sizes_weights_and_kv(dtype: str, nbytes: float) -> None:
    model = Model(params_b=7, dtype=dtype, layers=32, kv_heads=8, head_dim=128)  # type: ignore[arg-type]
    assert weights_gb(model) == pytest.approx(7 * nbytes)
    assert kv_bytes_per_token(model) == 2 * 32 * 8 * 128 * nbytes


# --- decode and prefill by hand -------------------------------------------------------------------


def test_kv_dtype_sizes_the_kv_cache_alone() -> None:
    model = Model(params_b=7, dtype="bf16", layers=32, kv_heads=8, head_dim=128, kv_dtype="fp8")
    assert weights_gb(model) == 14
    assert kv_bytes_per_token(model) == 2 * 32 * 8 * 128 * 1


def test_one_chip_decode_by_hand() -> None:
    workload = toy_workload()
    shape = shape_of(workload.model, workload.serving, hand(), 1, 1)
    assert shape.weights_gb_per_chip == pytest.approx(20)
    assert shape.kv_gb_per_sequence_per_chip == pytest.approx(0.4)
    assert shape.usable_gb_per_chip == pytest.approx(90)
    assert shape.max_batch_by_memory() == 175  # (90 - 20) / 0.4
    assert shape.at(1).decode_step_s == pytest.approx(0.0204)  # memory-bound: 20 + 0.4 ms
    assert shape.at(58).step_s == pytest.approx(0.0432)
    assert shape.at(58).ttft_s is None  # no input_tokens: prefill not modelled
    assert decode_flops_per_token(workload.model, 10_000) == pytest.approx(TOKEN_FLOPS)
    assert shape.compute_per_sequence_s == pytest.approx(TOKEN_FLOPS / 1e15)


def test_latency_bound_choice_by_hand() -> None:
    # p99 50.2 ms allows (50.2 - 20) / 0.4 = 75 sequences: 1,494 tokens/s a replica, so 4,000 tokens/s
    # needs 3 replicas, at the smallest b with 3b / (20 + 0.4b) ms ≥ 4,000: b = 58, a 43.2 ms step.
    accelerator = hand()
    choice = shard(toy_workload(), accelerator)
    assert (choice.tensor_parallel, choice.pipeline_parallel) == (1, 1)
    assert (choice.replicas, choice.batch_per_replica, choice.chips) == (3, 58, 3)
    assert choice.binding == "latency"
    assert choice.step_ms == pytest.approx(43.2) == pytest.approx(choice.decode_step_ms)
    assert choice.tokens_per_s == pytest.approx(3 * 58 / 0.0432)
    assert choice.capacity_tokens_per_s == pytest.approx(3 * 75 / 0.050)
    load = (3 * 58 / 0.0432) / (3 * 75 / 0.050)
    assert choice.watts == pytest.approx(3 * (125 + 375 * load))  # idle 25 % of the 500 W TDP
    assert choice.tokens_per_joule == pytest.approx(choice.tokens_per_s / choice.watts)
    assert choice.usd_per_million_tokens == pytest.approx(6.0 / (3 * 58 / 0.0432 * 3600) * 1e6)
    assert "capped at 75 by latency" in choice.explanation
    assert "3 replicas at batch 58" in choice.explanation


def test_memory_bound_choice_by_hand() -> None:
    # p99 100.2 ms allows 200 sequences, memory only 175: 1,600 tokens/s needs b / (20 + 0.4b) ms ≥ 1,600: b = 89
    choice = shard(toy_workload(tokens_per_s=1600, p99_ms_per_token=100.2), hand())
    assert (choice.replicas, choice.chips, choice.batch_per_replica, choice.binding) == (1, 1, 89, "memory")
    assert choice.step_ms == pytest.approx(55.6)
    assert choice.hbm_used_gb_per_chip == pytest.approx(20 + 89 * 0.4)
    assert "capped at 175 by memory" in choice.explanation


def test_step_overheads_add_per_iteration_and_per_sequence() -> None:
    workload = toy_workload()
    shape = shape_of(workload.model, workload.serving, hand(step_overhead_ms=3.0, sequence_overhead_us=10.0), 1, 1)
    assert shape.at(50).step_s == pytest.approx(0.003 + 50 * 10e-6 + 0.020 + 50 * 0.0004)


def test_compute_bound_decode_by_hand() -> None:
    # 1 KV head of 10 dims over 100 tokens: KV reads are tiny, so large batches are compute-bound; a
    # batch of b reaches the compute share × b / (b + 8), i.e. takes FLOPs × (b + 8) / 1e15.
    workload = toy_workload(kv_heads=1, head_dim=10, context_tokens=100)
    shape = shape_of(workload.model, workload.serving, hand(), 1, 1)
    flops = 2 * 10e9 + 4 * 10 * math.sqrt(10e9 / 120) * 100
    kv_s = 2 * 10 * 1 * 10 * 2 * 100 / 1e12
    assert shape.at(4).step_s == pytest.approx(max(0.020 + 4 * kv_s, flops * 12 / 1e15))
    assert shape.at(2000).step_s == pytest.approx(flops * 2008 / 1e15)
    assert shape.at(2000).step_s > 0.020 + 2000 * kv_s


def test_fp8_uses_the_fp8_rate_and_one_byte() -> None:
    workload = toy_workload(dtype="fp8")
    shape = shape_of(workload.model, workload.serving, hand(), 1, 1)
    assert shape.weights_gb_per_chip == pytest.approx(10)
    assert shape.kv_gb_per_sequence_per_chip == pytest.approx(0.2)
    assert shape.compute_per_sequence_s == pytest.approx(TOKEN_FLOPS / (4000e12 * 0.5))


def test_kv_heads_split_at_most_kv_heads_ways() -> None:
    workload = toy_workload(kv_heads=2)
    shape = shape_of(workload.model, workload.serving, hand(chips_per_node=8), 8, 1)
    assert shape.kv_gb_per_sequence_per_chip == pytest.approx(0.08 / 2)


def test_prefill_interference_and_ttft_by_hand() -> None:
    # 4,000-token prompts, 100 output tokens: a prompt costs 2·10e9·4,000 + 2·10·9,128.7·4,000² FLOPs
    # = 82.92 ms at 1e15. At batch 50 an iteration carries 0.5 prompt on average (41.46 ms of compute)
    # beside 50 decode tokens (58 × 0.023651 ms), over the 40 ms of memory reads: a 42.83 ms step.
    workload = with_serving(toy_workload(), input_tokens=4000, output_tokens=100)
    shape = shape_of(workload.model, workload.serving, hand(), 1, 1)
    prompt_s = prefill_flops(workload.model, 4000) / 1e15
    assert prompt_s == pytest.approx((2 * 10e9 * 4000 + 2 * 10 * math.sqrt(10e9 / 120) * 4000**2) / 1e15)
    iteration = shape.at(50)
    step = 0.5 * prompt_s + TOKEN_FLOPS * 58 / 1e15
    assert iteration.decode_step_s == pytest.approx(0.040)
    assert iteration.step_s == pytest.approx(step)
    assert iteration.prefill_share == pytest.approx(1 - 0.040 / step)
    # the chunk budget beside 50 decode tokens is 8,142 tokens; prompts fill 2,000 / 8,142 of it
    assert iteration.chunk_tokens == 8142
    assert iteration.ttft_s == pytest.approx(step / (1 - 2000 / 8142))


def test_a_batch_beyond_the_token_budget_leaves_no_room_for_prompts() -> None:
    workload = with_serving(toy_workload(), input_tokens=100, output_tokens=100, max_tokens_per_step=64)
    iteration = shape_of(workload.model, workload.serving, hand(), 1, 1).at(64)
    assert (iteration.chunk_tokens, iteration.ttft_s) == (0, math.inf)


def test_prefill_hidden_under_memory_reads_costs_nothing() -> None:
    # 100-token prompts: 2 ms of compute each; at batch 10, 0.1 prompt an iteration hides under 24 ms of reads
    workload = with_serving(toy_workload(), input_tokens=100, output_tokens=100)
    iteration = shape_of(workload.model, workload.serving, hand(), 1, 1).at(10)
    assert iteration.step_s == pytest.approx(iteration.decode_step_s)
    assert iteration.step_s == pytest.approx(0.024)


def test_mixture_of_experts_reads_the_experts_its_batch_touches() -> None:
    # 10 B parameters, 1 B active: one token reads 10 % of the 20 GB; ten tokens 1 - 0.9^10 = 65.1 %.
    base = toy_workload()
    model = base.model.model_copy(update={"active_params_b": 1.0})
    shape = shape_of(model, base.serving, hand(), 1, 1)
    assert shape.weights_gb_per_chip == pytest.approx(20)  # memory holds every expert
    assert shape.at(1).decode_step_s == pytest.approx(0.020 * 0.1 + 0.0004)
    assert shape.at(10).decode_step_s == pytest.approx(0.020 * (1 - 0.9**10) + 10 * 0.0004)
    width = math.sqrt(1e9 / 120)  # the hidden size follows the active parameters
    assert decode_flops_per_token(model, 10_000) == pytest.approx(2 * 1e9 + 4 * 10 * width * 10_000)


def test_active_parameters_beyond_the_total_are_a_spec_error() -> None:
    data = example_data()
    workload_named(data, "embed")["model"]["active_params_b"] = 5
    with pytest.raises(InputError) as caught:
        parse_spec(data, "moe.yaml")
    assert caught.value.path == "workloads[2].model.active_params_b"


def test_context_defaults_to_the_prompt_and_half_the_output() -> None:
    data = example_data()
    serving = workload_named(data, "embed")["serving"]
    del serving["context_tokens"]
    serving.update(input_tokens=1000, output_tokens=300)
    spec = parse_spec(data, "lengths.yaml")
    assert spec.workload_by_name["embed"].serving.context_tokens == 1150


# --- collectives: α-β by group size and message size ---------------------------------------------


def test_all_reduce_small_messages_take_the_latency_optimal_algorithm() -> None:
    alpha, bandwidth = 4e-6, 1e11
    assert all_reduce_s(1, 1e6, alpha, bandwidth) == 0
    assert all_reduce_s(2, 0, alpha, bandwidth) == pytest.approx(alpha)  # one doubling step
    # 1 MB over 8: doubling 3α + 3 × 10 µs = 42 µs beats the ring's 14α + 1.75 × 10 µs = 73.5 µs
    assert all_reduce_s(8, 1e6, alpha, bandwidth) == pytest.approx(3 * alpha + 3e-5)


def test_all_reduce_large_messages_take_the_ring() -> None:
    # 100 MB over 8: the ring's 14α + 1.75 ms beats doubling's 3α + 3 ms
    assert all_reduce_s(8, 1e8, 4e-6, 1e11) == pytest.approx(14 * 4e-6 + 1.75e-3)


def test_tensor_parallel_collectives_by_hand() -> None:
    # TP 2 across two 1-chip nodes: 20 all-reduces of b × 9,128.7 × 2 bytes over 1 TB/s × 0.7, α 20 µs
    workload = toy_workload()
    shape = shape_of(workload.model, workload.serving, hand(), 2, 1)
    hidden_bytes = math.sqrt(10e9 / 120) * 2
    assert shape.collectives.seconds(1) == pytest.approx(20 * (20e-6 + hidden_bytes / 0.7e12))
    assert shape.at(1).step_s == pytest.approx(0.010 + 0.0002 + 20 * (20e-6 + hidden_bytes / 0.7e12))
    inside = shape_of(workload.model, workload.serving, hand(chips_per_node=2, intra_node_link_latency_us=3.0), 2, 1)
    assert inside.collectives.seconds(0) == pytest.approx(20 * 3e-6)  # the in-node α


def test_pipeline_stage_hops_by_hand() -> None:
    workload = toy_workload()
    shape = shape_of(workload.model, workload.serving, hand(), 1, 2)
    assert shape.weights_gb_per_chip == pytest.approx(10)
    assert shape.collectives.seconds(1) == pytest.approx(20e-6 + math.sqrt(10e9 / 120) * 2 / 0.7e12)


def test_wide_tensor_parallelism_is_not_free() -> None:
    # Llama-3.3-70B FP8 serving at high throughput on H100: the published configuration is TP 2.
    workload = Workload.model_validate(
        {
            "name": "l70",
            "tenant": "t",
            "sensitivity": "low",
            "current": "c",
            "model": {
                "params_b": 70.6,
                "dtype": "fp8",
                "layers": 80,
                "kv_heads": 8,
                "head_dim": 128,
                "attention_heads": 64,
                "kv_dtype": "fp8",
            },
            "serving": {
                "tokens_per_s": 50_000,
                "p99_ms_per_token": 100,
                "context_tokens": 1500,
                "input_tokens": 1000,
                "output_tokens": 1000,
            },
        }
    )
    assert shard(workload, builtin_catalog()["h100-sxm"]).tensor_parallel == 2


# --- limits, bounds and pins ---------------------------------------------------------------------


def test_engine_sequence_limit_binds() -> None:
    choice = shard(with_serving(toy_workload(), max_sequences_per_replica=20, tokens_per_s=100), hand())
    assert (choice.binding, choice.replicas) == ("batch-cap", 1)
    assert "the engine's limit of 20 sequences" in choice.explanation


def test_engine_token_budget_binds_with_prefill() -> None:
    # each sequence brings 1,000 prompt tokens per 10 output tokens: 101 tokens an iteration, 8,191 // 101 = 81
    workload = with_serving(
        toy_workload(context_tokens=100), input_tokens=1000, output_tokens=10, p99_ms_per_token=1e6, tokens_per_s=10
    )
    shape = shape_of(workload.model, workload.serving, hand(), 1, 1)
    assert shape.max_batch_by_tokens() == 81
    assert shard(workload, hand()).binding == "token-budget"


def test_ttft_bound_limits_the_batch() -> None:
    base = with_serving(toy_workload(), input_tokens=4000, output_tokens=100, p99_ms_per_token=1e6, tokens_per_s=10)
    bounded_workload = with_serving(base, p99_ms_to_first_token=60)
    free = batch_limit(shape_of(base.model, base.serving, hand(), 1, 1), base.serving)
    limit = batch_limit(shape_of(base.model, bounded_workload.serving, hand(), 1, 1), bounded_workload.serving)
    assert (free.binding, limit.binding) == ("memory", "ttft")
    assert limit.batch < free.batch
    bounded = shard(bounded_workload, hand())
    assert bounded.binding == "ttft"
    assert bounded.ttft_ms is not None and bounded.ttft_ms <= 60


def test_pin_fixes_tensor_parallel_and_batch() -> None:
    choice = shard(
        toy_workload(tokens_per_s=100), hand(chips_per_node=8), ShardingPin(tensor_parallel=4, batch_per_replica=16)
    )
    assert (choice.tensor_parallel, choice.batch_per_replica, choice.binding) == (4, 16, "pinned")
    assert choice.pinned == ("tensor_parallel", "batch_per_replica")
    assert "as pinned" in choice.explanation


def test_pinned_batch_beyond_memory_is_infeasible_and_says_why() -> None:
    pin = ShardingPin(tensor_parallel=1, pipeline_parallel=1, batch_per_replica=500)
    with pytest.raises(ShardingInfeasible, match="pinned batch_per_replica 500 exceeds the largest batch 175"):
        shard(toy_workload(p99_ms_per_token=1e6), hand(), pin)


def test_pinned_pipeline_deeper_than_the_model_is_infeasible() -> None:
    with pytest.raises(ShardingInfeasible, match="pipeline_parallel 11 is more stages than the model's 10 layers"):
        shard(toy_workload(), hand(), ShardingPin(pipeline_parallel=11))


def test_a_pin_applies_on_the_current_cluster_only() -> None:
    data = example_data()
    workload_named(data, "chat-fast")["sharding"] = {"tensor_parallel": 16}
    spec = parse_spec(data, "pinned.yaml")
    options = workload_options(spec, spec.workload_by_name["chat-fast"])
    assert options.current.sharding is not None
    assert options.current.sharding.tensor_parallel == 16
    assert options.current.sharding.pinned == ("tensor_parallel",)
    assert all(o.sharding is not None and not o.sharding.pinned for o in options.destinations)


def test_power_follows_load_and_states_its_basis() -> None:
    catalog = builtin_catalog()
    workload = toy_workload(tokens_per_s=3000)
    maia = shard(workload, catalog["maia-100"])
    assert maia.watt_basis == "provisioned"
    load = maia.tokens_per_s / maia.capacity_tokens_per_s
    assert maia.watts == pytest.approx(maia.chips * catalog["maia-100"].power_w(load))
    assert maia.tokens_per_joule_tdp < maia.tokens_per_joule  # 700 W TDP vs 500 W provisioned
    assert shard(workload, catalog["h100-sxm"]).watt_basis == "tdp"


def test_shard_json_reports_the_new_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shard", "examples/maia-pilot.yaml", "--workload", "chat-fast", "--format", "json"]) == 0
    sharding = json.loads(capsys.readouterr().out)[0]["sharding"]
    for field in (
        "step_ms",
        "decode_step_ms",
        "ttft_ms",
        "prefill_share",
        "decode_share",
        "watt_basis",
        "tokens_per_joule_tdp",
        "compute_path",
        "chunk_tokens",
    ):
        assert field in sharding, field
    assert sharding["compute_path"].startswith("fp8")


@pytest.mark.parametrize(
    ("name", "degrees"),
    [
        ("maia-100", [1, 2, 4, 8, 16, 32, 64]),
        ("trn2", [1, 2, 4, 8, 16, 32, 64]),
        ("inf2", [1, 2, 3, 4, 6, 12, 24, 48]),
        ("h100-sxm", [1, 2, 4, 8, 16, 32, 64]),
    ],
)
def test_tensor_parallel_degrees_tile_nodes(name: str, degrees: list[int]) -> None:
    assert tensor_parallel_degrees(builtin_catalog()[name]) == degrees


def test_bigger_model_goes_tensor_parallel_inside_a_node() -> None:
    # 150 GB of weights cannot fit one 90 GB chip; 2 chips of a 2-chip node hold 75 GB each, a 75 ms
    # step. As cheap, TP 1 × PP 2 is slower; TP inside the node wins.
    choice = shard(toy_workload(params_b=75, tokens_per_s=10, p99_ms_per_token=300), toy_accelerator(chips_per_node=2))
    assert (choice.tensor_parallel, choice.pipeline_parallel, choice.replicas) == (2, 1, 1)


def test_pipeline_stages_go_across_nodes_before_tensor_parallel_does() -> None:
    # With one chip per node, TP 2 would all-reduce over the backend network; PP 2 costs the same chips.
    choice = shard(toy_workload(params_b=75, tokens_per_s=10, p99_ms_per_token=300), toy_accelerator())
    assert (choice.tensor_parallel, choice.pipeline_parallel, choice.replicas) == (1, 2, 1)


def test_same_model_and_serving_share_one_choice_under_each_name() -> None:
    accelerator = toy_accelerator()
    first = shard(toy_workload(name="first"), accelerator)
    second = shard(toy_workload(name="second"), accelerator)
    assert (first.workload, second.workload) == ("first", "second")
    assert first.model_dump(exclude={"workload"}) == second.model_dump(exclude={"workload"})


# --- infeasible ----------------------------------------------------------------------------------


def test_model_too_big_for_any_split_says_by_how_many_gb() -> None:
    # One layer: no pipeline; at TP 64 each chip holds 2,000 / 64 = 31.25 GB of weights plus 0.0004 GB
    # of KV, 4.25 GB more than the 27 GB usable of a 30 GB chip.
    workload = toy_workload(params_b=1000, layers=1, kv_heads=1, head_dim=100, context_tokens=1000)
    with pytest.raises(ShardingInfeasible) as caught:
        shard(workload, toy_accelerator(hbm_gb=30))
    assert str(caught.value) == (
        "does not fit in memory on toy: even at the deepest split it needs 4.3 GB more per chip than the 27.0 GB usable"
    )


def test_absurdly_large_model_is_infeasible_not_a_crash() -> None:
    # The spec bounds params_b (100,000 billion); at the bound the model simply does not fit.
    with pytest.raises(ShardingInfeasible, match="does not fit in memory"):
        shard(toy_workload(params_b=100_000), toy_accelerator())
    with pytest.raises(ValidationError, match="less than or equal to 100000"):
        toy_workload(params_b=1e300)


# --- invariants and optimality -------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """One (TP, PP) split's best: its chips at the largest batch memory, engine and latency allow."""

    tensor_parallel: int
    pipeline_parallel: int
    largest_batch: int
    replicas: int

    @property
    def chips(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel * self.replicas


def brute_force(workload: Workload, accelerator: Accelerator) -> tuple[list[Split], float, float]:
    """Every feasible split (judged with a margin, so float ties count as infeasible), the smallest
    per-chip memory shortfall, and the fastest single-sequence step among splits that fit memory."""
    model, serving = workload.model, workload.serving
    limit_s = serving.p99_ms_per_token / 1000 * (1 - SLACK)
    splits: list[Split] = []
    shortfall_gb, fastest_s = math.inf, math.inf
    for t in tensor_parallel_degrees(accelerator):
        for p in range(1, min(perf.MAX_PIPELINE_STAGES, model.layers) + 1):
            shape = shape_of(model, serving, accelerator, t, p)
            usable = shape.usable_gb_per_chip * (1 - SLACK)

            def fits(batch: int, shape: Shape = shape, usable: float = usable) -> bool:
                return shape.weights_gb_per_chip + batch * shape.kv_gb_per_sequence_per_chip <= usable

            if not fits(1):
                shortfall_gb = min(
                    shortfall_gb,
                    shape.weights_gb_per_chip + shape.kv_gb_per_sequence_per_chip - shape.usable_gb_per_chip,
                )
                continue
            fastest_s = min(fastest_s, shape.at(1).step_s)
            if shape.at(1).step_s > limit_s:
                continue
            low, high = 1, perf.DEFAULT_MAX_SEQUENCES  # the largest batch that fits every limit, by bisection
            while low < high:
                middle = (low + high + 1) // 2
                if fits(middle) and shape.at(middle).step_s <= limit_s:
                    low = middle
                else:
                    high = middle - 1
            replicas = math.ceil(serving.tokens_per_s / shape.at(low).tokens_per_s * (1 + SLACK))
            splits.append(Split(t, p, low, replicas))
    return splits, shortfall_gb, fastest_s


def check_choice(workload: Workload, accelerator: Accelerator, choice: ShardingChoice) -> None:
    """The choice meets memory, latency and throughput, its figures agree, and no split is cheaper."""
    model, serving = workload.model, workload.serving
    t, p = choice.tensor_parallel, choice.pipeline_parallel
    per_node = accelerator.chips_per_node
    assert choice.chips == t * p * choice.replicas
    assert per_node % t == 0 or t % per_node == 0
    assert 1 <= p <= model.layers
    assert 1 <= choice.batch_per_replica <= perf.DEFAULT_MAX_SEQUENCES
    usable = accelerator.hbm_gb * (1 - perf.MEMORY_HEADROOM)
    assert choice.hbm_used_gb_per_chip <= usable * (1 + SLACK)
    kv_gb = kv_bytes_per_token(model) * serving.context_tokens / (p * min(t, model.kv_heads)) / GB
    assert choice.hbm_used_gb_per_chip == pytest.approx(weights_gb(model) / (t * p) + choice.batch_per_replica * kv_gb)
    assert choice.step_ms <= serving.p99_ms_per_token * (1 + SLACK)
    assert choice.tokens_per_s >= serving.tokens_per_s * (1 - SLACK)
    assert choice.tokens_per_s <= choice.capacity_tokens_per_s * (1 + SLACK)
    assert choice.tokens_per_s == pytest.approx(choice.replicas * choice.batch_per_replica / choice.step_ms * 1000)
    load = choice.tokens_per_s / choice.capacity_tokens_per_s
    assert choice.watts == pytest.approx(choice.chips * accelerator.power_w(load))
    assert choice.tokens_per_joule == pytest.approx(choice.tokens_per_s / choice.watts)
    assert choice.usd_per_hour == pytest.approx(choice.chips * accelerator.price_per_chip_hour_usd)
    assert choice.usd_per_million_tokens == pytest.approx(choice.usd_per_hour / choice.tokens_per_s / 3600 * 1e6)
    splits, _, _ = brute_force(workload, accelerator)
    if not splits:
        return  # feasible only within float slack: nothing to compare with
    fewest = min(split.chips for split in splits)
    assert choice.chips <= fewest, f"a split uses {fewest} chips: {[s for s in splits if s.chips == fewest]}"
    if choice.chips == fewest:
        cheapest = [split for split in splits if split.chips == fewest]
        if any(split.tensor_parallel <= per_node for split in cheapest):
            assert t <= per_node, "a TP group inside one node was as cheap"


def check_infeasible(workload: Workload, accelerator: Accelerator, error: ShardingInfeasible) -> None:
    """No split is feasible, and the message says by how much the closest one misses."""
    splits, shortfall_gb, fastest_s = brute_force(workload, accelerator)
    assert not splits, f"feasible splits exist: {splits[:3]}"
    message = str(error)
    if math.isinf(fastest_s):
        found = re.fullmatch(
            rf"does not fit in memory on {re.escape(accelerator.name)}: even at the deepest split it needs "
            r"([\d.]+) GB more per chip than the ([\d.]+) GB usable",
            message,
        )
        assert found, message
        assert float(found.group(1)) == pytest.approx(shortfall_gb, abs=0.051)
        assert float(found.group(2)) == pytest.approx(accelerator.hbm_gb * (1 - perf.MEMORY_HEADROOM), abs=0.051)
    else:
        found = re.fullmatch(
            rf"is too slow on {re.escape(accelerator.name)}: the fastest decode step is ([\d.]+) ms, "
            r"(-?[\d.]+) ms over p99_ms_per_token ([\d.e+]+)",
            message,
        )
        assert found, message
        assert float(found.group(1)) == pytest.approx(fastest_s * 1000, abs=0.051)
        assert float(found.group(2)) == pytest.approx(fastest_s * 1000 - workload.serving.p99_ms_per_token, abs=0.051)


def check(workload: Workload, accelerator: Accelerator) -> None:
    try:
        choice = shard(workload, accelerator)
    except ShardingInfeasible as error:
        check_infeasible(workload, accelerator, error)
    else:
        check_choice(workload, accelerator, choice)


def test_latency_too_tight_says_by_how_many_ms() -> None:
    workload = toy_workload(p99_ms_per_token=1)
    with pytest.raises(ShardingInfeasible, match=r"^is too slow on toy: the fastest decode step is ") as caught:
        shard(workload, hand())
    check_infeasible(workload, hand(), caught.value)


@pytest.mark.parametrize("workload", [w.name for w in example_spec().workloads])
def test_example_workloads_on_every_example_accelerator(workload: str) -> None:
    spec = example_spec()
    for accelerator in {
        spec.accelerator_of(cluster).name: spec.accelerator_of(cluster) for cluster in spec.clusters
    }.values():
        check(spec.workload_by_name[workload], accelerator)


ACCELERATORS: list[Accelerator] = [
    *builtin_catalog().values(),
    toy_accelerator(),
    toy_accelerator("toy-3-per-node", chips_per_node=3, hbm_gb=24, intra_node_link_gb_per_s=50),
]

workloads = st.builds(
    toy_workload,
    params_b=st.floats(min_value=0.1, max_value=1500),
    dtype=st.sampled_from(sorted(DTYPE_BYTES)),
    layers=st.integers(min_value=1, max_value=128),
    kv_heads=st.integers(min_value=1, max_value=64),
    head_dim=st.sampled_from([64, 80, 128, 256]),
    tokens_per_s=st.floats(min_value=1, max_value=300_000),
    p99_ms_per_token=st.floats(min_value=0.5, max_value=300),
    context_tokens=st.integers(min_value=1, max_value=131_072),
)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(workload=workloads, accelerator=st.sampled_from(ACCELERATORS))
def test_choice_is_feasible_and_no_split_is_cheaper(workload: Workload, accelerator: Accelerator) -> None:
    check(workload, accelerator)


# --- options: the sharding per cluster in whole SKU units -----------------------------------------


def test_options_allocate_whole_sku_units() -> None:
    spec = example_spec()
    for name, options in all_options(spec).items():
        assert options.current.feasible, name
        for option in (options.current, *options.destinations):
            assert option.sharding is not None
            accelerator = spec.accelerator_of(spec.cluster_by_name[option.cluster])
            assert option.allocated_chips == option.sku_units * accelerator.chips_per_sku
            assert option.sharding.chips <= option.allocated_chips < option.sharding.chips + accelerator.chips_per_sku


def test_workload_that_fits_nowhere_is_an_input_error() -> None:
    data = example_data()
    # 40 TB of fp8 weights in a single layer: no pipeline, and 64-way TP still needs 625 GB a chip.
    workload_named(data, "chat-xl")["model"].update(params_b=40_000, layers=1)
    spec = parse_spec(data, "big.yaml")
    with pytest.raises(InputError) as caught:
        workload_options(spec, spec.workload_by_name["chat-xl"])
    error = caught.value
    assert (error.file, error.path) == ("big.yaml", "workloads[4]")
    assert error.problem.startswith(
        "cannot be served on any accelerator it may use: chat-xl does not fit in memory on trn2: even at the "
        "deepest split it needs "
    )
    assert "; chat-xl does not fit in memory on maia-100: " in error.problem  # every destination, too
    assert error.fix == "lower p99_ms_per_token or context_tokens, or target a larger accelerator"


def test_infeasible_destination_is_kept_with_its_reason() -> None:
    data = example_data()
    data["catalog"]["maia-100"]["hbm_tb_per_s"] = 0.001  # 1 GB/s: no decode step within 40 ms
    spec = parse_spec(data, "slow.yaml")
    options = workload_options(spec, spec.workload_by_name["chat-fast"])
    assert options.current.feasible
    assert [option.cluster for option in options.destinations] == ["az-eastus-maia", "az-westus3-maia"]
    for option in options.destinations:
        assert not option.feasible
        assert option.sharding is None
        assert (option.allocated_chips, option.sku_units) == (0, 0)
        assert option.infeasible_reason.startswith("chat-fast is too slow on maia-100: the fastest decode step is ")
