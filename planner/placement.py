"""Placement: put every replica's shard group on concrete chips of one cluster.

A workload sharded ``tensor_parallel`` (TP, ``t``) × ``pipeline_parallel`` (PP, ``p``) ways runs
each replica on a *shard group*: ``p`` pipeline stages in a chain, each stage a TP group of ``t``
chips. Inside a group two kinds of chip pairs talk on every token: the chips of one TP group
(all-reduce), and TP rank ``i`` of stage ``s`` with rank ``i`` of stage ``s + 1`` (activations
down the pipeline). Those are the group's *communicating pairs*; replicas never talk.

**Cost**, what placement minimises and what ``tests/test_placement.py`` checks against an
exhaustive search: the sum over all groups of the hop distances
(:func:`planner.topology_algorithms.chip_hop_distance`) of their communicating pairs. A workload's
``mean_hops`` and ``max_hops`` are the mean and the largest over its groups' communicating pairs.

**Rules**: a node (a server: the unit a cloud allocates) belongs to one workload, as the phase
planner and the Pulumi program allocate whole nodes per workload, and a workload gets exactly
``ceil(p × replicas / floor(c / t))`` nodes for ``c`` chips per node (``ceil(chips / c)`` when ``t``
divides ``c``); a TP group lies inside one node whenever ``t ≤ c``, otherwise on
``ceil(t / c)`` whole nodes; no chip is used twice; a cluster serves one tenant only.

**Algorithm** (details and proofs in docs/topology.md):

1. Split each workload into *components*: runs of its nodes whose groups touch no other nodes.
   With ``s = floor(c / t)`` stage slots per node, a component of ``b`` nodes holds
   ``floor(b·s / p)`` groups, a group that spans nodes crosses ``(nodes it touches − 1)`` node
   boundaries, and the crossings of a whole workload are ``nodes − components``. So the split
   that maximises the number of components, subject to the workload's slots (a small dynamic
   programme over the few non-tiling parts, :func:`_workload_components`), minimises the crossings.
2. Place the components largest first, each on empty nodes as close as possible: on the switched
   kinds the rack with the fewest empty nodes that holds the whole component (best fit), else
   the racks with the most empty nodes first; on a torus the next nodes along the snake, which
   are grid neighbours. Inside a component the groups are laid out one after another.

It is optimal on every torus, every single-rack cluster, and every switched cluster whose
component sizes and rack size divide each other (see docs/topology.md). Time
O(W·s·u + K (R + log N) + chips) for W workloads, K components, N nodes, R nodes per rack and
``u ≤ p`` nodes per tile, with no graph search.

**Fragmentation**: the share of the cluster's free chips that are stranded in nodes a workload
holds but does not fill (0 when every free chip is in an empty node, or none is free).
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from itertools import combinations, pairwise, product
from math import gcd

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from planner.topology import ClusterLayout
from planner.topology_algorithms import graph_layout, node_hop_distance


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShardGroupDemand(_Model):
    """What one workload needs on one cluster: ``replicas`` shard groups of TP × PP chips."""

    workload: str = Field(min_length=1)
    tenant: str = Field(min_length=1)
    tensor_parallel: int = Field(ge=1)
    pipeline_parallel: int = Field(ge=1)
    replicas: int = Field(ge=1)

    @property
    def chips_per_replica(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel

    @property
    def chips(self) -> int:
        return self.chips_per_replica * self.replicas


class ShardGroup(_Model):
    """One replica on its chips: ``stages[s][i]`` is the chip of TP rank ``i`` in pipeline stage ``s``."""

    workload: str
    replica: int = Field(ge=0)
    stages: tuple[tuple[int, ...], ...]
    pair_count: int = Field(ge=0, description="Communicating chip pairs of the group.")
    cost_hops: int = Field(ge=0, description="Sum of the hop distances of its communicating pairs.")
    max_hops: int = Field(ge=0)

    @property
    def chips(self) -> tuple[int, ...]:
        return tuple(chip for stage in self.stages for chip in stage)


class WorkloadPlacement(_Model):
    """Where one workload's replicas sit, and how far apart the chips that talk are."""

    workload: str
    tensor_parallel: int = Field(ge=1)
    pipeline_parallel: int = Field(ge=1)
    replicas: int = Field(ge=1)
    chips: int = Field(ge=1, description="Chips its groups use.")
    nodes: tuple[int, ...] = Field(description="The nodes it holds, ascending.")
    groups: tuple[ShardGroup, ...]
    pair_count: int = Field(ge=0)
    cost_hops: int = Field(ge=0)
    mean_hops: float = Field(ge=0, description="Mean hop distance of the communicating pairs (0 when none).")
    max_hops: int = Field(ge=0)


class ClusterPlacement(_Model):
    """Every demand of one cluster placed, with the cluster's free space and fragmentation."""

    cluster: str
    tenant: str
    chips: int = Field(ge=1)
    used_chips: int = Field(ge=0)
    free_chips: int = Field(ge=0, description="Chips no group uses: in empty nodes or stranded in held ones.")
    empty_nodes: int = Field(ge=0)
    fragmentation_share: float = Field(ge=0, le=1, description="Stranded free chips ÷ free chips.")
    cost_hops: int = Field(ge=0, description="The placement cost: the sum over all groups.")
    workloads: tuple[WorkloadPlacement, ...]

    def workload(self, name: str) -> WorkloadPlacement:
        """The placement of workload ``name``.

        Raises
        ------
        KeyError
            When the workload has no demand on this cluster.
        """
        for placed in self.workloads:
            if placed.workload == name:
                return placed
        raise KeyError(f"workload '{name}' is not placed on cluster '{self.cluster}'")


class PlacementError(ValueError):
    """A set of demands cannot be placed on a cluster."""

    def __init__(self, cluster: str, message: str) -> None:
        self.cluster = cluster
        super().__init__(message)


class TenantMismatchError(PlacementError):
    """A demand of another tenant than the cluster's: clusters are never shared across tenants."""


class CapacityError(PlacementError):
    """The demands need more nodes than the cluster has; ``shortfall_chips`` more chips would do."""

    def __init__(self, cluster: str, message: str, shortfall_chips: int) -> None:
        self.shortfall_chips = shortfall_chips
        super().__init__(cluster, message)


# --- a workload's nodes, split into components -------------------------------------------------------


def workload_nodes(demand: ShardGroupDemand, chips_per_node: int) -> int:
    """How many nodes a workload holds: nodes are never shared between workloads.

    Parameters
    ----------
    demand
        The workload's shard groups (TP ``t``, PP ``p``, replicas).
    chips_per_node
        ``c``, the cluster's chips per node.

    Returns
    -------
    int
        ``ceil(p × replicas / floor(c / t))`` when a TP group fits a node (``ceil(chips / c)``
        when ``t`` divides ``c``, the plan's whole SKU units), else ``replicas × p × ceil(t / c)``.

    Complexity
    ----------
    O(1).
    """
    tp, pp = demand.tensor_parallel, demand.pipeline_parallel
    if tp > chips_per_node:
        return demand.replicas * pp * -(-tp // chips_per_node)
    return -(-pp * demand.replicas // (chips_per_node // tp))


@cache
def _parts_table(stages: int, slots: int, waste_budget: int, most_nodes: int) -> dict[int, tuple[int, ...]]:
    """Non-tiling parts: for each total of nodes, the most parts whose slot waste fits the budget.

    A part of ``b`` nodes holds ``floor(b·slots / stages)`` groups and wastes
    ``(b·slots) mod stages`` slots, which is 0 only when ``b`` is a multiple of the tile
    ``u = stages / gcd(stages, slots)``; so only ``b < u`` parts need the budget.

    Returns
    -------
    dict
        Total nodes of the parts (at most ``most_nodes``) -> the longest tuple of part sizes.
    """
    tile = stages // gcd(stages, slots)
    sizes = [b for b in range(1, tile) if (b * slots) % stages <= waste_budget]
    # by_waste[w][n]: the longest parts tuple wasting w slots on n nodes. Every part wastes at
    # least one slot, so filling the levels in order of waste sees each state complete.
    by_waste: list[dict[int, tuple[int, ...]]] = [{} for _ in range(waste_budget + 1)]
    by_waste[0][0] = ()
    for waste, states in enumerate(by_waste):
        for nodes, parts in sorted(states.items()):
            for b in sizes:
                more_waste, more_nodes = waste + (b * slots) % stages, nodes + b
                if more_waste > waste_budget or more_nodes > most_nodes:
                    continue
                known = by_waste[more_waste].get(more_nodes)
                if known is None or len(parts) + 1 > len(known):
                    by_waste[more_waste][more_nodes] = (*parts, b)
    by_nodes: dict[int, tuple[int, ...]] = {}
    for states in by_waste:
        for nodes, parts in states.items():
            if nodes not in by_nodes or len(parts) > len(by_nodes[nodes]):
                by_nodes[nodes] = parts
    return by_nodes


def _workload_components(demand: ShardGroupDemand, chips_per_node: int) -> list[tuple[int, int]]:
    """Split a workload into components, (nodes, groups) each, with the fewest node crossings.

    Parameters
    ----------
    demand
        The workload's shard groups.
    chips_per_node
        Chips per node of the cluster.

    Returns
    -------
    list of (int, int)
        Components; their nodes add up to :func:`workload_nodes`, their groups to the replicas.

    Complexity
    ----------
    O(w·n·u) once per shape, for a waste budget ``w < s``, ``n ≤ u·w`` nodes in non-tiling parts
    and a tile of ``u ≤ p`` nodes; O(replicas) after that.
    """
    tp, pp, replicas = demand.tensor_parallel, demand.pipeline_parallel, demand.replicas
    if tp > chips_per_node:
        return [(pp * -(-tp // chips_per_node), 1)] * replicas
    slots = chips_per_node // tp
    nodes = workload_nodes(demand, chips_per_node)
    tile = pp // gcd(pp, slots)
    waste_budget = nodes * slots - replicas * pp  # free slots of the workload's nodes, < slots
    table = _parts_table(pp, slots, waste_budget, min(nodes, (tile - 1) * waste_budget))
    # Tiles fill the nodes the parts leave: the parts' nodes must leave a multiple of the tile.
    parts = max(
        (table[total] for total in table if (nodes - total) % tile == 0),
        key=lambda found: (len(found) + (nodes - sum(found)) // tile, -sum(found)),
    )
    components = [(tile, tile * slots // pp)] * ((nodes - sum(parts)) // tile)
    components += [(b, b * slots // pp) for b in parts]
    surplus = sum(groups for _, groups in components) - replicas
    # The surplus is under one node's slots, and taking it off any component leaves every node
    # used (the workload could not fit fewer nodes), so the last component gives it back.
    b, groups = components[-1]
    components[-1] = (b, groups - surplus)
    return components


# --- empty nodes ----------------------------------------------------------------------------------------


class _RackPool:
    """Empty nodes of a switched cluster, per rack; a rack's empty nodes are a suffix of the rack."""

    def __init__(self, layout: ClusterLayout) -> None:
        self._per_rack = layout.nodes_per_rack
        self._next = [rack * self._per_rack for rack in range(layout.racks)]
        # _by_count[k]: heap of racks with k empty nodes; entries go stale when a rack's count changes.
        self._by_count: list[list[int]] = [[] for _ in range(self._per_rack + 1)]
        self._by_count[self._per_rack] = list(range(layout.racks))
        self.count = layout.nodes

    def _empty_in(self, rack: int) -> int:
        return (rack + 1) * self._per_rack - self._next[rack]

    def _rack_with(self, counts: Iterable[int]) -> int | None:
        for count in counts:
            heap = self._by_count[count]
            while heap:
                if self._empty_in(heap[0]) == count:
                    return heap[0]
                heapq.heappop(heap)
        return None

    def _take_from(self, rack: int, nodes: int) -> list[int]:
        first = self._next[rack]
        self._next[rack] += nodes
        self.count -= nodes
        heapq.heappush(self._by_count[self._empty_in(rack)], rack)
        return list(range(first, first + nodes))

    def take(self, nodes: int) -> list[int]:
        """``nodes`` empty nodes (at most :attr:`count`) in as few racks as possible, rack by rack."""
        taken: list[int] = []
        while nodes:
            fitting = self._rack_with(range(nodes, self._per_rack + 1)) if nodes <= self._per_rack else None
            if fitting is not None:
                return taken + self._take_from(fitting, nodes)
            fullest = self._rack_with(range(self._per_rack, 0, -1))
            assert fullest is not None, "asked for more nodes than are empty"
            chunk = self._empty_in(fullest)
            taken += self._take_from(fullest, chunk)
            nodes -= chunk
        return taken


class _SnakePool:
    """Empty nodes of a torus: a suffix of the snake, so the next ones are always grid neighbours."""

    def __init__(self, layout: ClusterLayout) -> None:
        self._next = 0
        self.count = layout.nodes

    def take(self, nodes: int) -> list[int]:
        """The next ``nodes`` empty nodes (at most :attr:`count`) along the snake."""
        first = self._next
        self._next += nodes
        self.count -= nodes
        return list(range(first, first + nodes))


# --- laying out groups ------------------------------------------------------------------------------------


def _lay_out(
    layout: ClusterLayout, demand: ShardGroupDemand, nodes: Sequence[int], groups: int
) -> list[list[list[int]]]:
    """``groups`` groups of ``demand`` one after another on ``nodes``: stages, each a list of chips."""
    per_node = layout.chips_per_node
    tp, pp = demand.tensor_parallel, demand.pipeline_parallel
    laid: list[list[list[int]]] = []
    if tp > per_node:
        per_stage = -(-tp // per_node)
        for group in range(groups):
            stages = []
            for stage in range(pp):
                first = (group * pp + stage) * per_stage
                chips = [
                    node * per_node + local for node in nodes[first : first + per_stage] for local in range(per_node)
                ]
                stages.append(chips[:tp])
            laid.append(stages)
        return laid
    slots = per_node // tp
    stage_chips = [
        list(range(node * per_node + slot * tp, node * per_node + (slot + 1) * tp))
        for node in nodes
        for slot in range(slots)
    ]
    return [stage_chips[group * pp : (group + 1) * pp] for group in range(groups)]


def _group_hops(layout: ClusterLayout, stages: Sequence[Sequence[int]]) -> tuple[int, int, int]:
    """(communicating pairs, sum of their hop distances, largest) of one shard group."""
    per_node = layout.chips_per_node
    pairs = total = largest = 0
    for stage in stages:
        on_node = Counter(chip // per_node for chip in stage)
        for count in on_node.values():
            same_node = count * (count - 1) // 2
            pairs += same_node
            total += same_node  # two chips of one node: 1 hop
            largest = max(largest, 1 if same_node else 0)
        for (node_a, count_a), (node_b, count_b) in combinations(on_node.items(), 2):
            hops = node_hop_distance(layout, node_a, node_b)
            pairs += count_a * count_b
            total += count_a * count_b * hops
            largest = max(largest, hops)
    for stage, following in pairwise(stages):
        for chip, peer in zip(stage, following, strict=True):
            hops = node_hop_distance(layout, chip // per_node, peer // per_node)
            pairs += 1
            total += hops
            largest = max(largest, hops)
    return pairs, total, largest


def _check_demands(layout: ClusterLayout, demands: Sequence[ShardGroupDemand], nodes: Sequence[int]) -> None:
    seen: set[str] = set()
    for demand in demands:
        if demand.tenant != layout.tenant:
            raise TenantMismatchError(
                layout.cluster,
                f"workload '{demand.workload}' of tenant '{demand.tenant}' cannot be placed on cluster "
                f"'{layout.cluster}' of tenant '{layout.tenant}': a cluster is never shared across tenants",
            )
        if demand.workload in seen:
            raise ValueError(f"workload '{demand.workload}' has two demands on cluster '{layout.cluster}'")
        seen.add(demand.workload)
    needed = sum(nodes)
    if needed > layout.nodes:
        per_node = layout.chips_per_node
        biggest = sorted(zip(nodes, demands, strict=True), key=lambda pair: (-pair[0], pair[1].workload))[:3]
        listed = ", ".join(
            f"'{d.workload}' {d.replicas} × TP {d.tensor_parallel} × PP {d.pipeline_parallel}: {n} nodes"
            for n, d in biggest
        )
        more = f", and {len(demands) - len(biggest)} more" if len(demands) > len(biggest) else ""
        short = (needed - layout.nodes) * per_node
        raise CapacityError(
            layout.cluster,
            f"cluster '{layout.cluster}' has {layout.nodes} nodes ({layout.chips} chips) but its {len(demands)} "
            f"workload(s) need {needed} nodes ({needed * per_node} chips in whole nodes of {per_node}; {listed}{more}): "
            f"short by {short} chips",
            short,
        )


def place_shard_groups(graph: nx.Graph, demands: Sequence[ShardGroupDemand]) -> ClusterPlacement:
    """Place every replica of every demand on chips of one cluster.

    Parameters
    ----------
    graph
        The cluster's graph, from :func:`planner.topology.build_topology_graph`.
    demands
        One per workload placed on this cluster, all of the cluster's tenant.

    Returns
    -------
    ClusterPlacement
        Per workload (in ``demands`` order) its nodes, its groups' chips and hop statistics, and
        the cluster's free chips and fragmentation. Same input, same placement.

    Raises
    ------
    TenantMismatchError
        When a demand's tenant is not the cluster's.
    CapacityError
        When the workloads need more nodes than the cluster has; the message and
        ``shortfall_chips`` say by how many chips.
    ValueError
        When the graph is not a cluster graph, or a workload has two demands.

    Complexity
    ----------
    O(K (R + log N) + chips) time for K components on N nodes with R per rack, plus the
    per-shape split of :func:`_workload_components`; O(N + chips) memory beyond the result.
    """
    layout = graph_layout(graph)
    per_node = layout.chips_per_node
    footprints = [workload_nodes(demand, per_node) for demand in demands]
    _check_demands(layout, demands, footprints)

    pool: _RackPool | _SnakePool = _SnakePool(layout) if layout.is_torus else _RackPool(layout)
    components = [
        (nodes, groups, index)
        for index, demand in enumerate(demands)
        for nodes, groups in _workload_components(demand, per_node)
    ]
    # Largest first (best fit decreasing); among equals, wider TP first: a component that ends up
    # split between racks pays its crossings once per TP rank.
    components.sort(key=lambda component: (-component[0], -demands[component[2]].tensor_parallel, component[2]))
    held: list[list[int]] = [[] for _ in demands]
    laid: list[list[list[list[int]]]] = [[] for _ in demands]
    for nodes, groups, index in components:
        taken = pool.take(nodes)
        held[index] += taken
        laid[index] += _lay_out(layout, demands[index], taken, groups)

    workloads = tuple(
        _workload_placement(layout, demand, sorted(held[index]), laid[index]) for index, demand in enumerate(demands)
    )
    used = sum(placed.chips for placed in workloads)
    free = layout.chips - used
    stranded = free - pool.count * per_node
    return ClusterPlacement(
        cluster=layout.cluster,
        tenant=layout.tenant,
        chips=layout.chips,
        used_chips=used,
        free_chips=free,
        empty_nodes=pool.count,
        fragmentation_share=stranded / free if free else 0.0,
        cost_hops=sum(placed.cost_hops for placed in workloads),
        workloads=workloads,
    )


def _workload_placement(
    layout: ClusterLayout, demand: ShardGroupDemand, nodes: Sequence[int], laid: Sequence[Sequence[Sequence[int]]]
) -> WorkloadPlacement:
    groups = []
    for replica, stages in enumerate(laid):
        pairs, cost, largest = _group_hops(layout, stages)
        groups.append(
            ShardGroup(
                workload=demand.workload,
                replica=replica,
                stages=tuple(tuple(stage) for stage in stages),
                pair_count=pairs,
                cost_hops=cost,
                max_hops=largest,
            )
        )
    pairs = sum(group.pair_count for group in groups)
    cost = sum(group.cost_hops for group in groups)
    return WorkloadPlacement(
        workload=demand.workload,
        tensor_parallel=demand.tensor_parallel,
        pipeline_parallel=demand.pipeline_parallel,
        replicas=demand.replicas,
        chips=demand.chips,
        nodes=tuple(nodes),
        groups=tuple(groups),
        pair_count=pairs,
        cost_hops=cost,
        mean_hops=cost / pairs if pairs else 0.0,
        max_hops=max(group.max_hops for group in groups),
    )


def exact_placement_cost(graph: nx.Graph, demands: Sequence[ShardGroupDemand]) -> int:
    """The least placement cost over every placement that keeps the rules, by exhaustive search.

    The reference :func:`place_shard_groups` is measured against, for small clusters only. It
    enumerates, group after group, every assignment of the group's stages to nodes that keeps
    the rules (a TP group inside one node, a node held by one workload, a workload on at most
    :func:`workload_nodes` nodes), and memoises on the nodes' state. Hop distances come from
    breadth-first searches on the graph itself, not from the layout, so the reference does not
    share the placement's distance code.

    Parameters
    ----------
    graph
        A cluster graph, from :func:`planner.topology.build_topology_graph`.
    demands
        Demands of the cluster's tenant whose TP groups fit a node.

    Returns
    -------
    int
        The least sum of the hop distances of all groups' communicating pairs.

    Raises
    ------
    ValueError
        When a TP group is wider than a node, or no placement exists.

    Complexity
    ----------
    Exponential: O(G · N^p · states) for G groups of p stages on N nodes. Seconds at 8 nodes and
    8 stages in all; not for real clusters.
    """
    layout = graph_layout(graph)
    per_node = layout.chips_per_node
    if any(demand.tensor_parallel > per_node for demand in demands):
        raise ValueError("the exhaustive search covers TP groups that fit a node only")
    hops = {chip: nx.single_source_shortest_path_length(graph, chip) for chip in range(layout.chips)}
    budget = [workload_nodes(demand, per_node) for demand in demands]
    groups = [(index, demand) for index, demand in enumerate(demands) for _ in range(demand.replicas)]
    unplaced = -1

    @cache
    def least(position: int, nodes: tuple[tuple[int, int], ...]) -> float:
        """Least cost of groups ``position ..``, given each node's (holder, free chips)."""
        if position == len(groups):
            return 0
        holder, demand = groups[position]
        tp = demand.tensor_parallel
        best = float("inf")
        for choice in product(range(layout.nodes), repeat=demand.pipeline_parallel):
            state = list(nodes)
            stages: list[range] = []
            for node in choice:
                owner, free = state[node]
                if owner not in (unplaced, holder) or free < tp:
                    break
                first = node * per_node + per_node - free
                stages.append(range(first, first + tp))
                state[node] = (holder, free - tp)
            else:
                if sum(owner == holder for owner, _ in state) > budget[holder]:
                    continue
                cost = sum(hops[a][b] for stage in stages for a, b in combinations(stage, 2))
                cost += sum(
                    hops[a][b] for stage, following in pairwise(stages) for a, b in zip(stage, following, strict=True)
                )
                best = min(best, cost + least(position + 1, tuple(state)))
        return best

    result = least(0, tuple((unplaced, per_node) for _ in range(layout.nodes)))
    if result == float("inf"):
        raise ValueError(f"the demands have no placement on cluster '{layout.cluster}'")
    return int(result)
