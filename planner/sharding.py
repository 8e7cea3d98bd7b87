"""Choose how a workload is sharded on an accelerator: TP, PP, batch and replicas.

The model (docs/sharding.md explains it; limits in :mod:`planner.performance`, each chip's
efficiencies in the catalog):

- weights ``W = params × dtype bytes``; KV per token ``K = 2 × layers × kv_heads × head_dim × kv
  dtype bytes``; a sequence holds ``K × context_tokens``. A replica is ``p`` pipeline stages of ``t``
  tensor-parallel chips; each chip holds ``W/(t·p)`` and its share of the batch's KV (KV heads split
  at most ``kv_heads`` ways).
- One engine iteration advances each of the replica's ``b`` decoding sequences by one token and, with
  chunked prefill, carries on average ``b × input/output`` prompt tokens. Its time is the step
  overhead + the roofline ``max(HBM reads / (HBM × hbm_efficiency), FLOPs / (rate × compute share))``
  + the tensor-parallel all-reduces (α-β cost per link kind, by group size and message size) + the
  hops between stages. FLOPs count the linear layers (2 × params per token) and attention
  (4 × layers × attention width × context per decoded token; 2 × layers × width × input² per prompt).
- ``decode_step`` is the iteration without prefill; ``step`` (the mean time between a sequence's
  tokens) includes the prefill it carries; the prefill share is ``1 − decode_step/step``. Time to first
  token is the iterations a prompt needs at the chunk budget left beside the decode tokens, stretched by
  the prefill queue's utilisation.
- Limits: memory, the engine's sequences and tokens per iteration, ``p99_ms_per_token`` (on
  ``step``), ``p99_ms_to_first_token``. Replicas × b / step ≥ ``tokens_per_s``.

The choice uses the fewest chips; among equals, a TP group inside one node, then more spare capacity,
then fewer pipeline stages, then the shorter step. A TP group tiles nodes: t divides the chips per node,
or is a power-of-two multiple of it and then all-reduces over the slower inter-node links. A workload's
``sharding:`` pin fixes any of t, p and b.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner import performance as perf
from planner.catalog import Accelerator, WattBasis
from planner.spec import Model, Serving, ShardingPin, Workload

GB = 1e9
BindingConstraint = Literal["memory", "latency", "batch-cap", "token-budget", "ttft", "pinned"]


class ShardingChoice(BaseModel):
    """How one workload runs on one accelerator, with its estimated speed, power and cost."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: str
    accelerator: str
    tensor_parallel: int = Field(ge=1)
    pipeline_parallel: int = Field(ge=1)
    batch_per_replica: int = Field(ge=1)
    replicas: int = Field(ge=1)
    chips: int = Field(ge=1)
    step_ms: float = Field(gt=0, description="Mean time between a sequence's output tokens, prefill included.")
    decode_step_ms: float = Field(gt=0, description="One engine iteration of the batch without prefill.")
    ttft_ms: float | None = Field(description="Estimated time to first token; None when prefill is not modelled.")
    prefill_share: float = Field(ge=0, le=1, description="Share of the replica's time spent on prefill.")
    decode_share: float = Field(ge=0, le=1)
    chunk_tokens: int | None = Field(description="Prompt tokens an iteration can carry beside the decode tokens.")
    tokens_per_s: float = Field(gt=0, description="Output tokens per second the replicas deliver.")
    capacity_tokens_per_s: float = Field(gt=0, description="What the replicas deliver at their largest batch.")
    hbm_used_gb_per_chip: float = Field(gt=0)
    compute_path: str = Field(description="Which dense rate the matmuls run at, e.g. 'fp8 1979 TFLOPS'.")
    watts: float = Field(gt=0, description="idle + (peak − idle) × utilisation, on `watt_basis`.")
    watt_basis: WattBasis
    tokens_per_joule: float = Field(gt=0, description="On `watt_basis`.")
    tokens_per_joule_tdp: float = Field(gt=0, description="The same on every chip's TDP, for like-for-like ratios.")
    usd_per_hour: float = Field(ge=0)
    usd_per_million_tokens: float = Field(ge=0)
    binding: BindingConstraint = Field(description="What capped the batch of one replica.")
    pinned: tuple[str, ...] = Field(default=(), description="Fields the spec's sharding: pin fixed.")
    explanation: str


class ShardingInfeasible(Exception):
    """No sharding of a workload on an accelerator meets memory and latency; says by how much."""


@dataclass(frozen=True)
class Iteration:
    """One engine iteration of a replica at batch ``batch`` (seconds), and what follows from it."""

    batch: int
    decode_step_s: float
    step_s: float
    ttft_s: float | None
    chunk_tokens: int | None

    @property
    def tokens_per_s(self) -> float:
        return self.batch / self.step_s

    @property
    def prefill_share(self) -> float:
        return max(0.0, 1 - self.decode_step_s / self.step_s)


@dataclass(frozen=True)
class Collectives:
    """The communication of one replica: TP all-reduces (two per layer) and the hops between stages."""

    tensor_parallel: int
    all_reduces: int
    hidden_bytes: float  # one token's activations on the wire
    tp_latency_s: float
    tp_bytes_per_s: float
    stage_hops: int
    hop_latency_s: float
    hop_bytes_per_s: float

    def seconds(self, tokens: float) -> float:
        """Communication of an iteration that carries ``tokens`` tokens' activations. O(1)."""
        message = tokens * self.hidden_bytes
        tp = self.all_reduces * all_reduce_s(self.tensor_parallel, message, self.tp_latency_s, self.tp_bytes_per_s)
        return tp + self.stage_hops * (self.hop_latency_s + message / self.hop_bytes_per_s)


@dataclass(frozen=True)
class Shape:
    """Per-chip costs of one (t, p) split of a model on an accelerator; :meth:`at` prices a batch."""

    tensor_parallel: int
    pipeline_parallel: int
    weights_gb_per_chip: float
    kv_gb_per_sequence_per_chip: float
    usable_gb_per_chip: float
    # decode, per iteration: memory_fixed_s × weights read share + memory_per_sequence_s × b, compute
    memory_fixed_s: float  # reading all of a chip's weights
    active_share: float  # active / total parameters (1 for a dense model)
    memory_per_sequence_s: float
    compute_per_sequence_s: float  # at the chip's full compute share
    overhead_s: float
    sequence_overhead_s: float
    prefill_compute_s: float  # one prompt, at the full compute share
    prefill_per_output_token: float  # prompts per output token = 1 / output_tokens (0 without prefill)
    input_tokens: int | None
    collectives: Collectives
    max_sequences: int
    max_tokens_per_step: int

    def max_batch_by_memory(self) -> int:
        room = self.usable_gb_per_chip - self.weights_gb_per_chip
        return math.floor(room / self.kv_gb_per_sequence_per_chip)

    def max_batch_by_tokens(self) -> int:
        """Largest batch whose decode tokens plus its mean prefill tokens fit one iteration's budget."""
        per_sequence = 1 + (self.input_tokens or 0) * self.prefill_per_output_token
        # at least one prompt token must fit beside the decode tokens when prefill is modelled
        reserve = 1 if self.input_tokens else 0
        return max(0, math.floor((self.max_tokens_per_step - reserve) / per_sequence))

    def _weights_read(self, tokens: float) -> float:
        """Share of the weights an iteration of ``tokens`` tokens reads: all of a dense model's; of a
        mixture of experts, 1 − (1 − active/total)^tokens (each token touches its experts independently)."""
        return 1.0 if self.active_share >= 1 else 1.0 - (1.0 - self.active_share) ** max(tokens, 1.0)

    def at(self, batch: int) -> Iteration:
        """The iteration at ``batch``. Complexity O(1).

        A decode batch of b rows reaches the compute share × b / (b + COMPUTE_HALF_BATCH), so its
        compute time is ``compute_per_sequence_s × (b + COMPUTE_HALF_BATCH)``.
        """
        memory = self.memory_fixed_s * self._weights_read(batch) + self.memory_per_sequence_s * batch
        decode_compute = self.compute_per_sequence_s * (batch + perf.COMPUTE_HALF_BATCH)
        overhead = self.overhead_s + self.sequence_overhead_s * batch
        decode_step = overhead + max(memory, decode_compute) + self.collectives.seconds(batch)
        if not self.input_tokens:
            return Iteration(batch, decode_step, decode_step, None, None)
        prompts = batch * self.prefill_per_output_token  # prompts per iteration, on average
        prefill_compute = prompts * self.prefill_compute_s
        carried = batch + prompts * self.input_tokens
        memory += self.memory_fixed_s * (self._weights_read(carried) - self._weights_read(batch))
        step = overhead + max(memory, decode_compute + prefill_compute) + self.collectives.seconds(carried)
        chunk = self.max_tokens_per_step - batch
        if chunk < 1:  # no room for a prompt beside the decode tokens (a batch beyond the token budget)
            return Iteration(batch, decode_step, step, math.inf, 0)
        utilisation = prompts * self.input_tokens / chunk
        ttft = math.inf if utilisation >= 1 else step * math.ceil(self.input_tokens / chunk) / (1 - utilisation)
        return Iteration(batch, decode_step, step, ttft, chunk)


def weights_gb(model: Model) -> float:
    """Weights size: params × dtype bytes, in GB."""
    return model.params_b * GB * model.dtype_bytes / GB


def kv_bytes_per_token(model: Model) -> float:
    """KV cache per token: 2 (K and V) × layers × kv_heads × head_dim × KV dtype bytes."""
    return 2 * model.layers * model.kv_heads * model.head_dim * model.kv_dtype_bytes


def hidden_size_estimate(model: Model) -> float:
    """Hidden size of a transformer of this many (active) parameters and layers (12·L·h² ≈ params)."""
    return math.sqrt(model.active_b * GB / (perf.PARAMS_PER_LAYER_PER_HIDDEN_SQUARED * model.layers))


def attention_width(model: Model) -> float:
    """Query heads × head_dim: the width of the attention score and value products."""
    if model.attention_heads is not None:
        return model.attention_heads * model.head_dim
    return hidden_size_estimate(model)


def decode_flops_per_token(model: Model, context_tokens: int) -> float:
    """FLOPs to decode one token at ``context_tokens`` of context: 2·active params + 4·layers·width·context."""
    return 2 * model.active_b * GB + 4 * model.layers * attention_width(model) * context_tokens


def prefill_flops(model: Model, input_tokens: int) -> float:
    """FLOPs to prefill a prompt: 2·active params·n + causal attention 2·layers·width·n²."""
    return 2 * model.active_b * GB * input_tokens + 2 * model.layers * attention_width(model) * input_tokens**2


def all_reduce_s(group: int, message_bytes: float, latency_s: float, bytes_per_s: float) -> float:
    """α-β cost of an all-reduce of ``message_bytes`` over ``group`` chips: the cheaper of a ring
    (2(g−1) steps, 2(g−1)/g of the message per chip) and recursive doubling (⌈log₂ g⌉ steps, the
    whole message each). Complexity O(1)."""
    if group <= 1:
        return 0.0
    ring = 2 * (group - 1) * latency_s + 2 * (group - 1) / group * message_bytes / bytes_per_s
    steps = math.ceil(math.log2(group))
    doubling = steps * (latency_s + message_bytes / bytes_per_s)
    return min(ring, doubling)


def tensor_parallel_degrees(accelerator: Accelerator) -> list[int]:
    """TP degrees that tile nodes exactly: the divisors of the chips per node, then whole nodes
    doubling up to :data:`~planner.performance.MAX_TENSOR_PARALLEL`."""
    n = accelerator.chips_per_node
    degrees = [d for d in range(1, n + 1) if n % d == 0]
    while degrees[-1] * 2 <= perf.MAX_TENSOR_PARALLEL:
        degrees.append(degrees[-1] * 2)
    return degrees


def shape_of(model: Model, serving: Serving, accelerator: Accelerator, t: int, p: int) -> Shape:
    """Per-chip costs of splitting ``model`` into ``p`` stages of ``t`` chips on ``accelerator``."""
    chips = t * p
    kv_split = min(t, model.kv_heads)
    hbm_bytes_per_s = accelerator.hbm_tb_per_s * 1e12 * accelerator.hbm_efficiency
    _, rate_tflops = accelerator.compute_path(model.dtype)
    peak_flops = rate_tflops * 1e12
    weights_per_chip = model.params_b * GB * model.dtype_bytes / chips
    kv_per_sequence_per_chip = kv_bytes_per_token(model) * serving.context_tokens / (p * kv_split)
    # The p stages run one after the other for a token, so an iteration pays for all of them.
    memory_fixed = p * weights_per_chip / hbm_bytes_per_s
    memory_per_sequence = p * kv_per_sequence_per_chip / hbm_bytes_per_s
    compute_per_sequence = (
        decode_flops_per_token(model, serving.context_tokens) / t / (peak_flops * accelerator.compute_efficiency)
    )
    spans_nodes = t > accelerator.chips_per_node
    link_gb = accelerator.inter_node_link_gb_per_s if spans_nodes else accelerator.intra_node_link_gb_per_s
    latency_us = accelerator.inter_node_link_latency_us if spans_nodes else accelerator.intra_node_link_latency_us
    collectives = Collectives(
        tensor_parallel=t,
        all_reduces=2 * model.layers,  # after attention and after the MLP, every layer
        hidden_bytes=hidden_size_estimate(model) * perf.ACTIVATION_BYTES,
        tp_latency_s=latency_us * 1e-6,
        tp_bytes_per_s=link_gb * GB * accelerator.link_efficiency,
        stage_hops=p - 1,  # stages sit on different nodes
        hop_latency_s=accelerator.inter_node_link_latency_us * 1e-6,
        hop_bytes_per_s=accelerator.inter_node_link_gb_per_s * GB * accelerator.link_efficiency,
    )
    input_tokens = serving.input_tokens
    output_tokens = serving.output_tokens or perf.DEFAULT_OUTPUT_TOKENS
    prefill_compute = 0.0
    if input_tokens:
        prefill_compute = prefill_flops(model, input_tokens) / t / (peak_flops * accelerator.compute_efficiency)
    return Shape(
        tensor_parallel=t,
        pipeline_parallel=p,
        weights_gb_per_chip=weights_per_chip / GB,
        kv_gb_per_sequence_per_chip=kv_per_sequence_per_chip / GB,
        usable_gb_per_chip=accelerator.hbm_gb * (1 - perf.MEMORY_HEADROOM),
        memory_fixed_s=memory_fixed,
        active_share=model.active_b / model.params_b,
        memory_per_sequence_s=memory_per_sequence,
        compute_per_sequence_s=compute_per_sequence,
        overhead_s=accelerator.step_overhead_ms / 1000,
        sequence_overhead_s=accelerator.sequence_overhead_us * 1e-6,
        prefill_compute_s=prefill_compute,
        prefill_per_output_token=1 / output_tokens if input_tokens else 0.0,
        input_tokens=input_tokens,
        collectives=collectives,
        max_sequences=serving.max_sequences_per_replica or perf.DEFAULT_MAX_SEQUENCES,
        max_tokens_per_step=serving.max_tokens_per_step or perf.DEFAULT_MAX_TOKENS_PER_STEP,
    )


def _largest_within(limit: int, fits: Callable[[int], bool]) -> int:
    """Largest b in [1, limit] with ``fits(b)`` (monotone: true up to some b), 0 when none."""
    if limit < 1 or not fits(1):
        return 0
    low, high = 1, limit
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


@dataclass(frozen=True)
class BatchLimit:
    """The largest batch of one replica and what bounds it."""

    batch: int
    binding: BindingConstraint
    by_memory: int


def batch_limit(shape: Shape, serving: Serving) -> BatchLimit:
    """The largest batch that fits memory, the engine's limits, the per-token and the TTFT bounds.

    Complexity O(log B) for B the engine's sequence limit.
    """
    by_memory = shape.max_batch_by_memory()
    caps: list[tuple[int, BindingConstraint]] = [
        (by_memory, "memory"),
        (shape.max_sequences, "batch-cap"),
    ]
    if shape.input_tokens:
        caps.append((shape.max_batch_by_tokens(), "token-budget"))
    ceiling, binding = min(caps, key=lambda cap: cap[0])
    limit_s = serving.p99_ms_per_token / 1000
    by_latency = _largest_within(ceiling, lambda b: shape.at(b).step_s <= limit_s)
    if by_latency < ceiling:
        ceiling, binding = by_latency, "latency"
    if serving.p99_ms_to_first_token is not None and shape.input_tokens:
        ttft_s = serving.p99_ms_to_first_token / 1000
        by_ttft = _largest_within(ceiling, lambda b: (shape.at(b).ttft_s or 0.0) <= ttft_s)
        if by_ttft < ceiling:
            ceiling, binding = by_ttft, "ttft"
    return BatchLimit(ceiling, binding, by_memory)


def shard(workload: Workload, accelerator: Accelerator, pin: ShardingPin | None = None) -> ShardingChoice:
    """The sharding of ``workload`` on ``accelerator`` that uses the fewest chips.

    Parameters
    ----------
    workload
        The workload (its model and serving targets).
    accelerator
        The chip it would run on.
    pin
        Fixed tensor_parallel / pipeline_parallel / batch_per_replica (any subset); the rest is chosen.

    Returns
    -------
    ShardingChoice
        TP, PP, batch, replicas, chips and the estimated step, TTFT, throughput, power and cost.

    Raises
    ------
    ShardingInfeasible
        When no split fits memory and latency; the message says by how much it misses.

    Complexity: O(d · s · log B) for d TP degrees, s pipeline depths tried (they stop as soon as
    memory no longer binds) and B the batch cap; results are cached per (model, serving, chip, pin).
    """
    choice = _shard_cached(workload.model, workload.serving, accelerator, pin)
    return choice.model_copy(update={"workload": workload.name})


@cache
def _shard_cached(model: Model, serving: Serving, accelerator: Accelerator, pin: ShardingPin | None) -> ShardingChoice:
    degrees = tensor_parallel_degrees(accelerator)
    if pin is not None and pin.tensor_parallel is not None:
        degrees = [pin.tensor_parallel]
    depths = range(1, min(perf.MAX_PIPELINE_STAGES, model.layers) + 1)
    if pin is not None and pin.pipeline_parallel is not None:
        if pin.pipeline_parallel > model.layers:
            raise ShardingInfeasible(
                f"cannot run as pinned on {accelerator.name}: pipeline_parallel {pin.pipeline_parallel} is more "
                f"stages than the model's {model.layers} layers"
            )
        depths = range(pin.pipeline_parallel, pin.pipeline_parallel + 1)
    pinned_batch = pin.batch_per_replica if pin is not None else None
    best: tuple[tuple[float, ...], ShardingChoice] | None = None
    closest_memory_gb = math.inf  # per-chip memory still missing at the best split for memory
    fastest_step_s = math.inf  # the fastest single-sequence step among splits that fit memory
    other_misses: list[str] = []
    blocked: dict[BindingConstraint, Shape] = {}  # splits that fit memory but allow no batch, by cause
    for t in degrees:
        for p in depths:
            shape = shape_of(model, serving, accelerator, t, p)
            limit = batch_limit(shape, serving)
            if limit.by_memory < 1:
                shortfall = shape.weights_gb_per_chip + shape.kv_gb_per_sequence_per_chip - shape.usable_gb_per_chip
                closest_memory_gb = min(closest_memory_gb, shortfall)
                continue
            fastest_step_s = min(fastest_step_s, shape.at(1).step_s)
            if pinned_batch is not None:
                if pinned_batch > limit.batch:
                    other_misses.append(
                        f"the pinned batch_per_replica {pinned_batch} exceeds the largest batch {limit.batch} "
                        f"({limit.binding}) at {t} TP × {p} PP"
                    )
                    continue
                limit = BatchLimit(pinned_batch, "pinned", limit.by_memory)
            if limit.batch < 1:
                blocked.setdefault(limit.binding, shape)
            else:
                choice = _choose(model, serving, accelerator, shape, limit, pin, pinned_batch is not None)
                key = (
                    choice.chips,
                    int(t > accelerator.chips_per_node),
                    -choice.capacity_tokens_per_s,
                    p,
                    choice.step_ms,
                )
                if best is None or key < best[0]:
                    best = (key, choice)
            if limit.binding != "memory":
                break  # deeper pipelines only add chips once memory no longer limits the batch
    if best is not None:
        return best[1]
    if other_misses:
        raise ShardingInfeasible(f"cannot run as pinned on {accelerator.name}: {other_misses[0]}")
    if math.isinf(fastest_step_s):
        raise ShardingInfeasible(
            f"does not fit in memory on {accelerator.name}: even at the deepest split it needs "
            f"{closest_memory_gb:.1f} GB more per chip than the {accelerator.hbm_gb * (1 - perf.MEMORY_HEADROOM):.1f} "
            f"GB usable"
        )
    if "latency" not in blocked and "token-budget" in blocked:
        shape = blocked["token-budget"]
        raise ShardingInfeasible(
            f"cannot prefill on {accelerator.name}: a sequence brings {shape.input_tokens:,} prompt tokens per "
            f"{1 / shape.prefill_per_output_token:,.0f} output tokens, more than the engine's "
            f"{shape.max_tokens_per_step:,} tokens per iteration hold"
        )
    if "latency" not in blocked and "ttft" in blocked:
        fastest_ttft_ms = (blocked["ttft"].at(1).ttft_s or math.inf) * 1000
        raise ShardingInfeasible(
            f"is too slow to first token on {accelerator.name}: even at batch 1 it takes {fastest_ttft_ms:,.0f} ms, "
            f"over p99_ms_to_first_token {serving.p99_ms_to_first_token:g}"
        )
    raise ShardingInfeasible(
        f"is too slow on {accelerator.name}: the fastest decode step is {fastest_step_s * 1000:.1f} ms, "
        f"{fastest_step_s * 1000 - serving.p99_ms_per_token:.1f} ms over p99_ms_per_token "
        f"{serving.p99_ms_per_token:g}"
    )


def _smallest_batch(shape: Shape, replicas: int, tokens_per_s: float, largest: int) -> int:
    """Smallest batch in [1, largest] at which ``replicas`` replicas deliver ``tokens_per_s``."""
    low, high = 1, largest
    while low < high:
        middle = (low + high) // 2
        if replicas * shape.at(middle).tokens_per_s >= tokens_per_s:
            high = middle
        else:
            low = middle + 1
    return low


def _choose(
    model: Model,
    serving: Serving,
    accelerator: Accelerator,
    shape: Shape,
    limit: BatchLimit,
    pin: ShardingPin | None,
    batch_pinned: bool,
) -> ShardingChoice:
    t, p = shape.tensor_parallel, shape.pipeline_parallel
    largest = shape.at(limit.batch)
    replicas = math.ceil(serving.tokens_per_s / largest.tokens_per_s)
    batch = limit.batch if batch_pinned else _smallest_batch(shape, replicas, serving.tokens_per_s, limit.batch)
    iteration = shape.at(batch)
    chips = replicas * t * p
    tokens_per_s = replicas * iteration.tokens_per_s
    capacity = replicas * largest.tokens_per_s
    # A replica iterates without pause while it serves; its draw follows the share of its capacity used.
    load = tokens_per_s / capacity
    watts = chips * accelerator.power_w(load)
    watts_tdp = chips * accelerator.power_w(load, "tdp")
    usd_per_hour = chips * accelerator.price_per_chip_hour_usd
    hbm_used = shape.weights_gb_per_chip + batch * shape.kv_gb_per_sequence_per_chip
    path, rate = accelerator.compute_path(model.dtype)
    caps: dict[BindingConstraint, str] = {
        "batch-cap": f"the engine's limit of {shape.max_sequences} sequences",
        "token-budget": f"the engine's {shape.max_tokens_per_step:,} tokens per iteration (decode + prefill)",
        "memory": (
            f"memory ({shape.weights_gb_per_chip:.1f} GB of weights per chip leave room for {limit.by_memory} "
            f"sequences of {serving.context_tokens:,} tokens)"
        ),
        "latency": f"latency (p99 {serving.p99_ms_per_token:g} ms per token)",
        "ttft": f"time to first token (p99 {serving.p99_ms_to_first_token or 0:g} ms)",
        "pinned": "the spec's sharding: pin",
    }
    pinned = tuple(
        name
        for name in ("tensor_parallel", "pipeline_parallel", "batch_per_replica")
        if pin is not None and getattr(pin, name) is not None
    )
    how = "as pinned" if pinned else "the fewest chips that fit"
    why = (
        f"{t} TP × {p} PP per replica, {how}; a replica's batch is capped at "
        f"{limit.batch} by {caps[limit.binding]}; {serving.tokens_per_s:,.0f} tokens/s needs {replicas} "
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
        step_ms=iteration.step_s * 1000,
        decode_step_ms=iteration.decode_step_s * 1000,
        ttft_ms=None if iteration.ttft_s is None else iteration.ttft_s * 1000,
        prefill_share=iteration.prefill_share,
        decode_share=1 - iteration.prefill_share,
        chunk_tokens=iteration.chunk_tokens,
        tokens_per_s=tokens_per_s,
        capacity_tokens_per_s=capacity,
        hbm_used_gb_per_chip=hbm_used,
        compute_path=f"{path} {rate:g} TFLOPS",
        watts=watts,
        watt_basis=accelerator.watt_basis,
        tokens_per_joule=tokens_per_s / watts,
        tokens_per_joule_tdp=tokens_per_s / watts_tdp,
        usd_per_hour=usd_per_hour,
        usd_per_million_tokens=usd_per_hour / (tokens_per_s * 3600) * 1e6,
        binding=limit.binding,
        pinned=pinned,
        explanation=why,
    )
