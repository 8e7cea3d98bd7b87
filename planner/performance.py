"""The performance model's named constants: defaults and limits, in one place.

Per-accelerator efficiencies live in the catalog (``hbm_efficiency``, ``compute_efficiency``,
``link_efficiency``, ``step_overhead_ms``, the collective latencies), fitted by ``maiaplan calibrate``
to measured runs; the ``DEFAULT_*`` values here are the fit's starting point (its prior) and what an
accelerator added in a spec's ``catalog:`` without those figures gets.
docs/sharding.md explains each.
"""

from __future__ import annotations

# --- per-accelerator defaults (the catalog holds each chip's own value) -------------------------
# Share of peak HBM bandwidth a decode step's weight and KV reads reach (memory-bound kernels).
DEFAULT_HBM_EFFICIENCY = 0.70
# Share of the dtype's peak dense rate that large matmuls (prefill, big decode batches) reach.
DEFAULT_COMPUTE_EFFICIENCY = 0.55
# Share of a link's one-direction bandwidth a collective's payload reaches.
DEFAULT_LINK_EFFICIENCY = 0.70
# Fixed cost of one engine iteration (kernel launches, synchronisation), milliseconds.
DEFAULT_STEP_OVERHEAD_MS = 2.0
# Host-side cost per sequence per iteration (scheduling, sampling, detokenisation), microseconds.
DEFAULT_SEQUENCE_OVERHEAD_US = 5.0
# α of one collective step inside a node and across nodes, microseconds (α-β model).
DEFAULT_INTRA_NODE_LINK_LATENCY_US = 6.0
DEFAULT_INTER_NODE_LINK_LATENCY_US = 20.0
# Idle draw as a share of a chip's peak serving power when the catalog gives no idle figure.
DEFAULT_IDLE_SHARE = 0.25

# --- fixed by the model --------------------------------------------------------------------------
# Share of HBM kept free for activations, runtime buffers and allocator fragmentation.
MEMORY_HEADROOM = 0.10
# Activations travel between chips in this many bytes per element (bf16).
ACTIVATION_BYTES = 2
# A dense transformer has about 12 · layers · hidden² parameters: the hidden size estimate for
# activation traffic and attention FLOPs when a spec gives no hidden size.
PARAMS_PER_LAYER_PER_HIDDEN_SQUARED = 12
# Compute share at batch b is compute_efficiency × b / (b + this): small matmuls leave the tensor
# units idle (a decode step of 8 sequences reaches about half the share of one of 64).
COMPUTE_HALF_BATCH = 8

# Mean output tokens per request when a spec gives input_tokens but no output_tokens.
DEFAULT_OUTPUT_TOKENS = 256

# --- serving-engine limits (vLLM / TensorRT-LLM / NxD defaults; a spec's serving: overrides) -----
# Most sequences one replica's engine keeps in flight (vLLM max_num_seqs, TRT-LLM max_batch_size).
DEFAULT_MAX_SEQUENCES = 1024
# Most tokens one engine iteration processes: the decoding sequences' tokens plus the prefill chunk
# (vLLM max_num_batched_tokens, TRT-LLM max_num_tokens).
DEFAULT_MAX_TOKENS_PER_STEP = 8192

# --- search bounds -------------------------------------------------------------------------------
# Largest tensor-parallel group; groups larger than a node span whole nodes over the backend network.
MAX_TENSOR_PARALLEL = 64
# Most pipeline stages a replica is cut into.
MAX_PIPELINE_STAGES = 64
