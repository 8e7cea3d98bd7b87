"""Choose how a workload is sharded on an accelerator: TP, PP, batch and replicas.

The decode model (constants in :mod:`planner.performance`, explained in docs/sharding.md):

- weights bytes ``W = params × dtype bytes``; KV bytes per token ``K = 2 × layers × kv_heads ×
  head_dim × dtype bytes``; a sequence holds ``K × context_tokens``.
- A replica is ``pipeline_parallel`` (p) stages of ``tensor_parallel`` (t) chips. Each chip holds
  ``W / (t·p)`` of the weights and its share of the batch's KV cache (KV heads split at most
  ``kv_heads`` ways across TP, so ``min(t, kv_heads)``).
- One decode step produces one token for each of the replica's ``b`` sequences. A token passes the
  p stages in turn; each stage reads its chips' weights and KV, so it takes ``bytes per chip /
  (HBM bandwidth × efficiency)``, bounded below by its FLOPS (``2 × params × b / (t·p)``), plus the
  tensor-parallel all-reduces (two per layer, ring) and the hop between stages.
- The step must stay within ``p99_ms_per_token``; replicas × b / step ≥ ``tokens_per_s``.

The choice uses the fewest chips; among equals, a TP group inside one node, then fewer pipeline
stages, then the shorter step. A TP group tiles nodes: t divides the chips per node, or is a
power-of-two multiple of it and then all-reduces over the slower inter-node links.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner import performance as perf
from planner.catalog import Accelerator
from planner.spec import Model, Serving, Workload

GB = 1e9
BindingConstraint = Literal["memory", "latency", "batch-cap"]


class ShardingChoice(BaseModel):
    """How one workload runs on one accelerator, with its estimated economics."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: str
    accelerator: str
    tensor_parallel: int = Field(ge=1)
    pipeline_parallel: int = Field(ge=1)
    batch_per_replica: int = Field(ge=1)
    replicas: int = Field(ge=1)
    chips: int = Field(ge=1)
    step_ms: float = Field(gt=0, description="Estimated decode step, i.e. per-token latency.")
    tokens_per_s: float = Field(gt=0, description="Output tokens per second the replicas deliver.")
    hbm_used_gb_per_chip: float = Field(gt=0)
    watts: float = Field(gt=0)
    tokens_per_joule: float = Field(gt=0)
    usd_per_hour: float = Field(ge=0)
    usd_per_million_tokens: float = Field(ge=0)
    binding: BindingConstraint = Field(description="What capped the batch of one replica.")
    explanation: str


class ShardingInfeasible(Exception):
    """No sharding of a workload on an accelerator meets memory and latency; says by how much."""


@dataclass(frozen=True)
class _Shape:
    """Per-chip costs of one (t, p) split, as intercept + slope-per-sequence pairs."""

    tensor_parallel: int
    pipeline_parallel: int
    weights_gb_per_chip: float
    kv_gb_per_sequence_per_chip: float
    usable_gb_per_chip: float
    # step seconds = fixed_s + per_sequence_s × b, for the memory-bound and compute-bound bounds
    memory_fixed_s: float
    memory_per_sequence_s: float
    compute_per_sequence_s: float
    comm_fixed_s: float
    comm_per_sequence_s: float

    def max_batch_by_memory(self) -> int:
        room = self.usable_gb_per_chip - self.weights_gb_per_chip
        return min(perf.MAX_BATCH_PER_REPLICA, math.floor(room / self.kv_gb_per_sequence_per_chip))

    def step_s(self, batch: int) -> float:
        memory = self.memory_fixed_s + self.memory_per_sequence_s * batch
        compute = self.compute_per_sequence_s * batch
        comm = self.comm_fixed_s + self.comm_per_sequence_s * batch
        return max(memory, compute) + comm

    def max_batch_by_latency(self, limit_s: float) -> int:
        """Largest batch whose step stays within ``limit_s`` (0 when even one sequence is too slow)."""
        bounds = []
        for fixed, slope in (
            (self.memory_fixed_s + self.comm_fixed_s, self.memory_per_sequence_s + self.comm_per_sequence_s),
            (self.comm_fixed_s, self.compute_per_sequence_s + self.comm_per_sequence_s),
        ):
            bounds.append(math.floor((limit_s - fixed) / slope) if slope > 0 else perf.MAX_BATCH_PER_REPLICA)
        return max(0, min(bounds))


def weights_gb(model: Model) -> float:
    """Weights size: params × dtype bytes, in GB."""
    return model.params_b * GB * model.dtype_bytes / GB


def kv_bytes_per_token(model: Model) -> float:
    """KV cache per token: 2 (K and V) × layers × kv_heads × head_dim × dtype bytes."""
    return 2 * model.layers * model.kv_heads * model.head_dim * model.dtype_bytes


def hidden_size_estimate(model: Model) -> float:
    """Hidden size of a dense transformer of this many parameters and layers (12·L·h² ≈ params)."""
    return math.sqrt(model.params_b * GB / (perf.PARAMS_PER_LAYER_PER_HIDDEN_SQUARED * model.layers))


def tensor_parallel_degrees(accelerator: Accelerator) -> list[int]:
    """TP degrees that tile nodes exactly: the divisors of the chips per node, then whole nodes
    doubling up to :data:`~planner.performance.MAX_TENSOR_PARALLEL`."""
    n = accelerator.chips_per_node
    degrees = [d for d in range(1, n + 1) if n % d == 0]
    while degrees[-1] * 2 <= perf.MAX_TENSOR_PARALLEL:
        degrees.append(degrees[-1] * 2)
    return degrees


def _shape(model: Model, serving: Serving, accelerator: Accelerator, t: int, p: int) -> _Shape:
    chips = t * p
    kv_split = min(t, model.kv_heads)
    hbm_bytes_per_s = accelerator.hbm_tb_per_s * 1e12 * perf.HBM_EFFICIENCY
    flops_per_s = accelerator.fp8_dense_tflops if model.dtype_bytes <= 1 else accelerator.bf16_dense_tflops
    flops_per_s *= 1e12 * perf.COMPUTE_EFFICIENCY
    weights_per_chip = model.params_b * GB * model.dtype_bytes / chips
    kv_per_sequence_per_chip = kv_bytes_per_token(model) * serving.context_tokens / (p * kv_split)
    # The p stages run one after the other for a token, so a step pays for all of them.
    memory_fixed = p * weights_per_chip / hbm_bytes_per_s
    memory_per_sequence = p * kv_per_sequence_per_chip / hbm_bytes_per_s
    compute_per_sequence = 2 * model.params_b * GB / t / flops_per_s
    activation_bytes = hidden_size_estimate(model) * perf.ACTIVATION_BYTES
    inter_bytes_per_s = accelerator.inter_node_link_gb_per_s * GB * perf.LINK_EFFICIENCY
    spans_nodes = t > accelerator.chips_per_node
    intra_bytes_per_s = accelerator.intra_node_link_gb_per_s * GB * perf.LINK_EFFICIENCY
    tp_bytes_per_s = inter_bytes_per_s if spans_nodes else intra_bytes_per_s
    tp_hop_s = (perf.INTER_NODE_HOP_LATENCY_US if spans_nodes else perf.INTRA_NODE_HOP_LATENCY_US) * 1e-6
    # Two all-reduces per layer: 2·log2(t) latency steps, and 2(t-1)/t of the buffer over the link.
    all_reduces = 2 * model.layers
    comm_fixed = all_reduces * 2 * math.ceil(math.log2(t)) * tp_hop_s
    comm_per_sequence = all_reduces * 2 * (t - 1) / t * activation_bytes / tp_bytes_per_s
    # Between stages: one inter-node hop carrying the batch's activations.
    comm_fixed += (p - 1) * perf.INTER_NODE_HOP_LATENCY_US * 1e-6
    comm_per_sequence += (p - 1) * activation_bytes / inter_bytes_per_s
    return _Shape(
        tensor_parallel=t,
        pipeline_parallel=p,
        weights_gb_per_chip=weights_per_chip / GB,
        kv_gb_per_sequence_per_chip=kv_per_sequence_per_chip / GB,
        usable_gb_per_chip=accelerator.hbm_gb * (1 - perf.MEMORY_HEADROOM),
        memory_fixed_s=memory_fixed,
        memory_per_sequence_s=memory_per_sequence,
        compute_per_sequence_s=compute_per_sequence,
        comm_fixed_s=comm_fixed,
        comm_per_sequence_s=comm_per_sequence,
    )


def _smallest_batch(shape: _Shape, replicas: int, tokens_per_s: float, largest: int) -> int:
    """Smallest batch in [1, largest] at which ``replicas`` replicas deliver ``tokens_per_s``."""
    low, high = 1, largest
    while low < high:
        middle = (low + high) // 2
        if replicas * middle / shape.step_s(middle) >= tokens_per_s:
            high = middle
        else:
            low = middle + 1
    return low


def shard(workload: Workload, accelerator: Accelerator) -> ShardingChoice:
    """The sharding of ``workload`` on ``accelerator`` that uses the fewest chips.

    Parameters
    ----------
    workload
        The workload (its model and serving targets).
    accelerator
        The chip it would run on.

    Returns
    -------
    ShardingChoice
        TP, PP, batch, replicas, chips and the estimated step, throughput, power and cost.

    Raises
    ------
    ShardingInfeasible
        When no split fits memory and latency; the message says by how much it misses.

    Complexity: O(d · s · log B) for d TP degrees, s pipeline depths tried (they stop as soon as
    memory no longer binds) and B the batch cap; results are cached per (model, serving, chip).
    """
    return _shard_cached(workload.model, workload.serving, accelerator).model_copy(update={"workload": workload.name})


@cache
def _shard_cached(model: Model, serving: Serving, accelerator: Accelerator) -> ShardingChoice:
    limit_s = serving.p99_ms_per_token / 1000
    best: tuple[tuple[int, int, int, float], ShardingChoice] | None = None
    closest_memory_gb = math.inf  # per-chip memory still missing at the best split for memory
    fastest_step_s = math.inf  # the fastest single-sequence step among splits that fit memory
    for t in tensor_parallel_degrees(accelerator):
        for p in range(1, min(perf.MAX_PIPELINE_STAGES, model.layers) + 1):
            shape = _shape(model, serving, accelerator, t, p)
            by_memory = shape.max_batch_by_memory()
            if by_memory < 1:
                shortfall = shape.weights_gb_per_chip + shape.kv_gb_per_sequence_per_chip - shape.usable_gb_per_chip
                closest_memory_gb = min(closest_memory_gb, shortfall)
                continue
            fastest_step_s = min(fastest_step_s, shape.step_s(1))
            by_latency = shape.max_batch_by_latency(limit_s)
            if by_latency >= 1:
                choice = _choose(model, serving, accelerator, shape, min(by_memory, by_latency), by_memory)
                key = (choice.chips, int(t > accelerator.chips_per_node), p, choice.step_ms)
                if best is None or key < best[0]:
                    best = (key, choice)
            if by_memory >= by_latency:
                break  # deeper pipelines only add chips once memory no longer limits the batch
    if best is not None:
        return best[1]
    if math.isinf(fastest_step_s):
        raise ShardingInfeasible(
            f"does not fit in memory on {accelerator.name}: even at the deepest split it needs "
            f"{closest_memory_gb:.1f} GB more per chip than the {accelerator.hbm_gb * (1 - perf.MEMORY_HEADROOM):.1f} "
            f"GB usable"
        )
    raise ShardingInfeasible(
        f"is too slow on {accelerator.name}: the fastest decode step is {fastest_step_s * 1000:.1f} ms, "
        f"{fastest_step_s * 1000 - serving.p99_ms_per_token:.1f} ms over p99_ms_per_token "
        f"{serving.p99_ms_per_token:g}"
    )


def _choose(
    model: Model, serving: Serving, accelerator: Accelerator, shape: _Shape, largest_batch: int, by_memory: int
) -> ShardingChoice:
    t, p = shape.tensor_parallel, shape.pipeline_parallel
    per_replica_max = largest_batch / shape.step_s(largest_batch)
    replicas = math.ceil(serving.tokens_per_s / per_replica_max)
    batch = _smallest_batch(shape, replicas, serving.tokens_per_s, largest_batch)
    step_s = shape.step_s(batch)
    chips = replicas * t * p
    tokens_per_s = replicas * batch / step_s
    watts = chips * accelerator.serving_power_w
    usd_per_hour = chips * accelerator.price_per_chip_hour_usd
    hbm_used = shape.weights_gb_per_chip + batch * shape.kv_gb_per_sequence_per_chip
    binding: BindingConstraint
    if largest_batch == perf.MAX_BATCH_PER_REPLICA:
        binding, cap = "batch-cap", f"the engine's cap of {largest_batch} sequences"
    elif largest_batch == by_memory:
        binding, cap = (
            "memory",
            (
                f"memory ({shape.weights_gb_per_chip:.1f} GB of weights per chip leave room for {by_memory} "
                f"sequences of {serving.context_tokens:,} tokens)"
            ),
        )
    else:
        binding, cap = "latency", f"latency (p99 {serving.p99_ms_per_token:g} ms per token)"
    why = (
        f"{t} TP × {p} PP per replica, the fewest chips that fit; a replica's batch is capped at "
        f"{largest_batch} by {cap}; {serving.tokens_per_s:,.0f} tokens/s needs {replicas} "
        f"replica{'s' if replicas > 1 else ''} at batch {batch}"
    )
    return ShardingChoice(
        workload="",
        accelerator=accelerator.name,
        tensor_parallel=t,
        pipeline_parallel=p,
        batch_per_replica=batch,
        replicas=replicas,
        chips=chips,
        step_ms=step_s * 1000,
        tokens_per_s=tokens_per_s,
        hbm_used_gb_per_chip=hbm_used,
        watts=watts,
        tokens_per_joule=tokens_per_s / watts,
        usd_per_hour=usd_per_hour,
        usd_per_million_tokens=usd_per_hour / (tokens_per_s * 3600) * 1e6,
        binding=binding,
        explanation=why,
    )
