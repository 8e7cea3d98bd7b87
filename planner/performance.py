"""The performance model's named constants: every efficiency factor the sharding uses, in one place.

They turn catalog peaks into what decode actually reaches. They are deliberately conservative
round figures, to be replaced by measured ones (docs/sharding.md explains each).
"""

from __future__ import annotations

# Share of peak HBM bandwidth a decode step's weight and KV reads reach (memory-bound kernels).
HBM_EFFICIENCY = 0.80
# Share of peak dense tensor FLOPS a decode step reaches when it is compute-bound (large batches).
COMPUTE_EFFICIENCY = 0.50
# Share of HBM kept free for activations, runtime buffers and allocator fragmentation.
MEMORY_HEADROOM = 0.10
# Share of peak link bandwidth collectives reach.
LINK_EFFICIENCY = 0.70
# Fixed cost of one collective step inside a node and across nodes, microseconds. An all-reduce of
# a decode step's small activations takes 2·log2(t) such steps (recursive halving and doubling).
INTRA_NODE_HOP_LATENCY_US = 3.0
INTER_NODE_HOP_LATENCY_US = 8.0
# Activations travel between chips in this many bytes per element (bf16).
ACTIVATION_BYTES = 2
# Largest batch (sequences in flight) one replica's serving engine keeps.
MAX_BATCH_PER_REPLICA = 1024
# Largest tensor-parallel group; groups larger than a node span whole nodes over the backend network.
MAX_TENSOR_PARALLEL = 64
# Most pipeline stages a replica is cut into.
MAX_PIPELINE_STAGES = 64
# A dense transformer has about 12 · layers · hidden² parameters: the hidden size estimate for
# activation traffic when a spec gives no hidden size.
PARAMS_PER_LAYER_PER_HIDDEN_SQUARED = 12
