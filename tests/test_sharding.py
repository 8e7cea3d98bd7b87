"""Sharding: the memory and throughput arithmetic by hand, the choice's invariants, and its optimality.

The hand-computed cases run on a synthetic accelerator of round figures (``helpers_spec.TOY_FIGURES``):
90 GB usable per chip, 1.0e12 B/s of effective HBM bandwidth, 1.0e15 effective BF16 FLOP/s, one chip
per node. The default toy workload has 20 GB of bf16 weights and 0.4 GB of KV cache per sequence
(2 × 10 layers × 10 KV heads × 100 head dim × 2 bytes × 10,000 tokens), so on one chip a decode step
of b sequences takes 20 ms + 0.4 ms × b (memory-bound), with compute at 0.02 ms × b.

The optimality check brute-forces every (TP, PP) split of the same search space, without the
search's early exit, and finds for each the largest batch that fits memory and latency by bisection
on the step-time model directly (not through the module's closed forms).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pytest
from helpers_spec import example_data, example_spec, toy_accelerator, toy_workload, workload_named
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from planner import performance as perf
from planner.catalog import Accelerator, builtin_catalog
from planner.errors import InputError
from planner.options import all_options, workload_options
from planner.sharding import (
    ShardingChoice,
    ShardingInfeasible,
    _Shape,
    _shape,
    kv_bytes_per_token,
    shard,
    tensor_parallel_degrees,
    weights_gb,
)
from planner.spec import DTYPE_BYTES, Model, Workload, parse_spec

GB = 1e9
# Float slack of the checks: the module computes its bounds in closed form, the test by bisection.
SLACK = 1e-9

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


# --- the decode model by hand ---------------------------------------------------------------------


def test_one_chip_shape_by_hand() -> None:
    workload = toy_workload()
    shape = _shape(workload.model, workload.serving, toy_accelerator(), 1, 1)
    assert shape.weights_gb_per_chip == pytest.approx(20)
    assert shape.kv_gb_per_sequence_per_chip == pytest.approx(0.4)
    assert shape.usable_gb_per_chip == pytest.approx(90)
    assert shape.step_s(1) == pytest.approx(0.0204)
    assert shape.step_s(58) == pytest.approx(0.0432)
    assert shape.max_batch_by_memory() == 175  # (90 - 20) / 0.4
    assert shape.max_batch_by_latency(0.0502) == 75  # (50.2 - 20) / 0.4 = 75.5
    assert shape.max_batch_by_latency(0.1002) == 200
    assert shape.max_batch_by_latency(0.0203) == 0  # even one sequence takes 20.4 ms


def test_latency_bound_choice_by_hand() -> None:
    # Batch capped at 75 by latency: 75 / 50 ms = 1,500 tokens/s a replica, so 4,000 tokens/s needs
    # 3 replicas; the smallest batch that still delivers it: 3b / (20 + 0.4b) ms ≥ 4,000 -> b = 58.
    choice = shard(toy_workload(tokens_per_s=4000, p99_ms_per_token=50.2), toy_accelerator())
    assert (choice.tensor_parallel, choice.pipeline_parallel) == (1, 1)
    assert (choice.replicas, choice.batch_per_replica, choice.chips) == (3, 58, 3)
    assert choice.binding == "latency"
    assert choice.step_ms == pytest.approx(43.2)
    assert choice.tokens_per_s == pytest.approx(3 * 58 / 0.0432)
    assert choice.hbm_used_gb_per_chip == pytest.approx(20 + 58 * 0.4)
    assert choice.watts == 3 * 500
    assert choice.tokens_per_joule == pytest.approx(3 * 58 / 0.0432 / 1500)
    assert choice.usd_per_hour == 3 * 2.0
    assert choice.usd_per_million_tokens == pytest.approx(6.0 / (3 * 58 / 0.0432 * 3600) * 1e6)
    assert choice.workload == "toy-workload"
    assert choice.accelerator == "toy"
    assert "capped at 75 by latency" in choice.explanation
    assert "3 replicas at batch 58" in choice.explanation


def test_memory_bound_choice_by_hand() -> None:
    # p99 100.2 ms allows 200 sequences, memory only 175: one replica of 175 makes 1,944 tokens/s;
    # 1,600 tokens/s needs b / (20 + 0.4b) ms ≥ 1,600 -> b = 89, a 55.6 ms step.
    choice = shard(toy_workload(tokens_per_s=1600, p99_ms_per_token=100.2), toy_accelerator())
    assert (choice.tensor_parallel, choice.pipeline_parallel, choice.replicas, choice.chips) == (1, 1, 1, 1)
    assert choice.batch_per_replica == 89
    assert choice.binding == "memory"
    assert choice.step_ms == pytest.approx(55.6)
    assert choice.hbm_used_gb_per_chip == pytest.approx(20 + 89 * 0.4)
    assert "capped at 175 by memory" in choice.explanation


def test_compute_bound_step_by_hand() -> None:
    # At 20 TFLOPS (1e13 FLOP/s effective) a sequence costs 2 × 10e9 / 1e13 = 2 ms of compute, more
    # than its 0.4 ms of KV reads: past 12.5 sequences the step is compute-bound.
    accelerator = toy_accelerator(bf16_dense_tflops=20)
    workload = toy_workload(tokens_per_s=400, p99_ms_per_token=50.2)
    shape = _shape(workload.model, workload.serving, accelerator, 1, 1)
    assert shape.compute_per_sequence_s == pytest.approx(0.002)
    assert shape.step_s(10) == pytest.approx(0.024)  # memory: 20 + 4 ms
    assert shape.step_s(20) == pytest.approx(0.040)  # compute: 20 × 2 ms
    assert shape.max_batch_by_latency(0.0502) == 25  # compute: 50.2 / 2
    # One replica: up to 500 tokens/s; 400 tokens/s needs b / (20 + 0.4b) ms ≥ 400 -> b = 10.
    choice = shard(workload, accelerator)
    assert (choice.chips, choice.batch_per_replica, choice.binding) == (1, 10, "latency")
    assert choice.step_ms == pytest.approx(24)


def test_fp8_uses_the_fp8_rate_and_one_byte() -> None:
    workload = toy_workload(dtype="fp8")
    shape = _shape(workload.model, workload.serving, toy_accelerator(), 1, 1)
    assert shape.weights_gb_per_chip == pytest.approx(10)
    assert shape.kv_gb_per_sequence_per_chip == pytest.approx(0.2)
    assert shape.compute_per_sequence_s == pytest.approx(2 * 10e9 / (4000e12 * perf.COMPUTE_EFFICIENCY))


def test_tensor_parallel_costs_by_hand() -> None:
    # Hidden size ≈ sqrt(10e9 / (12 × 10)) ≈ 9,129; activations of bf16: 18,257 bytes per sequence.
    workload = toy_workload()
    activation_bytes = 2 * math.sqrt(10e9 / 120)
    across = _shape(workload.model, workload.serving, toy_accelerator(), 2, 1)  # 1 chip per node: spans 2
    assert across.weights_gb_per_chip == pytest.approx(10)
    assert across.kv_gb_per_sequence_per_chip == pytest.approx(0.2)  # 10 KV heads split 2 ways
    assert across.memory_fixed_s == pytest.approx(0.010)
    # 2 all-reduces × 10 layers, each 2·log2(2) = 2 hops of 8 µs, and half the activations each way.
    assert across.comm_fixed_s == pytest.approx(20 * 2 * 8e-6)
    assert across.comm_per_sequence_s == pytest.approx(20 * 2 * 0.5 * activation_bytes / 700e9)
    inside = _shape(workload.model, workload.serving, toy_accelerator(chips_per_node=2), 2, 1)
    assert inside.comm_fixed_s == pytest.approx(20 * 2 * 3e-6)  # 3 µs hops inside a node


def test_kv_heads_split_at_most_kv_heads_ways() -> None:
    workload = toy_workload(kv_heads=2, head_dim=500)  # same 0.4 GB per sequence, only 2 KV heads
    shape = _shape(workload.model, workload.serving, toy_accelerator(chips_per_node=8), 8, 1)
    assert shape.kv_gb_per_sequence_per_chip == pytest.approx(0.4 / 2)


def test_pipeline_stage_costs_by_hand() -> None:
    workload = toy_workload()
    shape = _shape(workload.model, workload.serving, toy_accelerator(), 1, 2)
    assert shape.weights_gb_per_chip == pytest.approx(10)
    assert shape.kv_gb_per_sequence_per_chip == pytest.approx(0.2)
    # The two stages run in turn: a token still reads all 20 GB and all its KV.
    assert shape.memory_fixed_s == pytest.approx(0.020)
    assert shape.memory_per_sequence_s == pytest.approx(0.0004)
    assert shape.comm_fixed_s == pytest.approx(8e-6)
    assert shape.comm_per_sequence_s == pytest.approx(2 * math.sqrt(10e9 / 120) / 700e9)


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
        "does not fit in memory on toy: even at the deepest split it needs 4.3 GB more per chip than the "
        "27.0 GB usable"
    )


def test_latency_too_tight_says_by_how_many_ms() -> None:
    # The fastest single-sequence step is at TP 32: 0.625 ms of weights, 0.04 ms of KV, and
    # 20 all-reduces × 2·log2(32) hops × 8 µs = 1.6 ms of latency (plus 1 µs of transfer): 2.27 ms.
    with pytest.raises(ShardingInfeasible) as caught:
        shard(toy_workload(p99_ms_per_token=1), toy_accelerator())
    assert str(caught.value) == (
        "is too slow on toy: the fastest decode step is 2.3 ms, 1.3 ms over p99_ms_per_token 1"
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
    """One (TP, PP) split's best: its chips at the largest batch memory and latency allow."""

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
            shape = _shape(model, serving, accelerator, t, p)
            usable = shape.usable_gb_per_chip * (1 - SLACK)

            def fits(batch: int, shape: _Shape = shape, usable: float = usable) -> bool:
                return shape.weights_gb_per_chip + batch * shape.kv_gb_per_sequence_per_chip <= usable

            if not fits(1):
                shortfall_gb = min(
                    shortfall_gb, shape.weights_gb_per_chip + shape.kv_gb_per_sequence_per_chip - shape.usable_gb_per_chip
                )
                continue
            fastest_s = min(fastest_s, shape.step_s(1))
            if shape.step_s(1) > limit_s:
                continue
            low, high = 1, perf.MAX_BATCH_PER_REPLICA  # the largest batch that fits both, by bisection
            while low < high:
                middle = (low + high + 1) // 2
                if fits(middle) and shape.step_s(middle) <= limit_s:
                    low = middle
                else:
                    high = middle - 1
            rate = low / shape.step_s(low)
            replicas = math.ceil(serving.tokens_per_s / rate * (1 + SLACK))
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
    assert 1 <= choice.batch_per_replica <= perf.MAX_BATCH_PER_REPLICA
    usable = accelerator.hbm_gb * (1 - perf.MEMORY_HEADROOM)
    assert choice.hbm_used_gb_per_chip <= usable * (1 + SLACK)
    kv_gb = kv_bytes_per_token(model) * serving.context_tokens / (p * min(t, model.kv_heads)) / GB
    assert choice.hbm_used_gb_per_chip == pytest.approx(weights_gb(model) / (t * p) + choice.batch_per_replica * kv_gb)
    assert choice.step_ms <= serving.p99_ms_per_token * (1 + SLACK)
    assert choice.tokens_per_s >= serving.tokens_per_s * (1 - SLACK)
    assert choice.tokens_per_s == pytest.approx(choice.replicas * choice.batch_per_replica / choice.step_ms * 1000)
    assert choice.watts == pytest.approx(choice.chips * accelerator.serving_power_w)
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
        same_kind = [split for split in cheapest if (split.tensor_parallel > per_node) == (t > per_node)]
        if same_kind:
            assert p <= min(split.pipeline_parallel for split in same_kind), "fewer pipeline stages were as cheap"


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


@pytest.mark.parametrize("workload", [w.name for w in example_spec().workloads])
def test_example_workloads_on_every_example_accelerator(workload: str) -> None:
    spec = example_spec()
    for accelerator in {spec.accelerator_of(cluster).name: spec.accelerator_of(cluster) for cluster in spec.clusters}.values():
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
