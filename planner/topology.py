"""Cluster networks as graphs: the layout of a cluster and the networkx graph built from it.

This module only *builds*; the algorithms on the result (hop distance) live in
:mod:`planner.topology_algorithms`. A cluster is ``racks`` racks of ``nodes_per_rack`` nodes
(servers) of ``chips_per_node`` chips. Node ``n`` is in rack ``n // nodes_per_rack``; chip ``i``
is local chip ``i % chips_per_node`` of node ``i // chips_per_node``. Nodes are numbered in
*locality order*: rack by rack for the switched kinds, and along a snake through the grid for the
torus kinds, so that consecutive nodes are always near each other.

Vertices: chips are the integers ``0 .. chips - 1`` (attribute ``kind="chip"`` with ``node``,
``rack`` and ``local``); every other vertex is a string naming its role. Every edge carries
``bandwidth_gb_per_s`` (one direction) and ``latency_us``, and ``link`` naming its class. The
graph's ``graph["layout"]`` holds the :class:`ClusterLayout` it was built from, which the
algorithms use to answer distance questions from the structure instead of searching the graph.

The network models (hop counts between two distinct chips in brackets: same node / same rack /
elsewhere):

``mesh`` — Maia's Ethernet mesh (Hot Chips 2024): the chips of a node are fully connected by
    direct links; every chip has a port to each of the ``MESH_NETWORK_PLANES`` tier-0 switches of
    its rack (one per network plane), and each plane's tier-0 switches hang off that plane's spine.
    [1 / 2 (chip, tier-0, chip) / 4 (chip, tier-0, spine, tier-0, chip)]
``fat-tree`` — a cloud GPU/accelerator fabric: the chips of a node are fully connected (NVLink,
    NeuronLink — an NVSwitch counts as one hop), and reach the network through their server's
    NICs (a ``host`` vertex); hosts hang off their rack's leaf switch, leaves off every one of
    ``FAT_TREE_SPINE_SWITCHES`` spines. [1 / 4 (chip, host, leaf, host, chip) / 6]
``torus2d`` / ``torus3d`` — nodes on a 2-D / 3-D wrap-around grid (TPU slices, Trainium
    UltraServers): chips of a node fully connected, each chip linked to its node's ``router``
    vertex, and routers linked to their grid neighbours. [1 / 2 + grid distance, racks play no part]
    The grid shape is the factorisation of ``racks × nodes_per_rack`` nodes into 2 or 3 factors
    with the smallest mean ring distance (so the most cubic one: 64 nodes are 4 × 4 × 4, 32 are
    4 × 8, 12 are 2 × 2 × 3); node ``n`` sits at the ``n``-th point of a snake (reflected
    mixed-radix Gray code) through the grid, so consecutive nodes are grid neighbours and a rack
    is a contiguous stretch of the snake.

Bandwidths come from the catalog's per-chip figures: a chip's ``intra_node_link_gb_per_s`` is
split evenly over its direct links to the other chips of its node, its
``inter_node_link_gb_per_s`` over its links out of the node; links above the first tier are
sized non-blocking (the sum of what hangs below them). Latencies are the named constants below.
"""

from __future__ import annotations

from functools import cached_property
from itertools import combinations
from typing import Any

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field

from planner.catalog import Accelerator
from planner.spec import Cluster, MigrationSpec, TopologyKind

# --- The network models' constants, in one place ---------------------------------------------------
MESH_NETWORK_PLANES = 3
"""Maia: each chip has 3 × 400 GbE to three tier-0 switches, one per network plane (Hot Chips 2024)."""

FAT_TREE_SPINE_SWITCHES = 2
"""Spines above the leaves of a fat tree. Any count gives the same hop distances; it only splits bandwidth."""

TORUS_DIMENSIONS: dict[str, int] = {"torus2d": 2, "torus3d": 3}

# One-way latency of one link, traversal of the device at its far end included. These are maiaplan
# estimates of the order of magnitude (cut-through Ethernet switches ~0.5-1 µs per hop, RDMA NICs
# ~1-2 µs, direct chip links a few hundred ns); placement optimises hop counts, not these figures.
CHIP_LINK_LATENCY_US = 0.5
"""A direct chip-to-chip link inside a node (NVLink, NeuronLink, Maia's in-node 400 GbE, ICI)."""
CHIP_SWITCH_LATENCY_US = 1.0
"""A Maia chip's 400 GbE port to a tier-0 switch, through the switch."""
SWITCH_SWITCH_LATENCY_US = 1.0
"""A switch-to-switch hop (tier-0 to spine, leaf to spine)."""
CHIP_HOST_LATENCY_US = 1.0
"""A chip to its server's NICs over PCIe (GPUDirect RDMA)."""
HOST_LEAF_LATENCY_US = 1.5
"""A server's NIC to its rack's leaf switch, through the NIC's RDMA stack and the switch."""
CHIP_ROUTER_LATENCY_US = 0.5
"""A chip to its node's torus router (ICI / NeuronLink port)."""
TORUS_LINK_LATENCY_US = 1.0
"""One torus hop between neighbouring nodes."""

# Hop counts between two distinct chips, by kind: (same node, same rack, elsewhere). The torus
# kinds have (same node, different nodes: 2 + grid distance) instead.
SWITCHED_HOPS: dict[str, tuple[int, int, int]] = {"mesh": (1, 2, 4), "fat-tree": (1, 4, 6)}
TORUS_ROUTER_HOPS = 2
"""Chip to router and router to chip: added to the grid distance between two nodes."""


class ClusterLayout(BaseModel):
    """What a cluster's network is made of: the structure the graph is built from.

    Chip ``i`` is local chip ``i % chips_per_node`` of node ``i // chips_per_node``; node ``n`` is in
    rack ``n // nodes_per_rack``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cluster: str = Field(min_length=1)
    tenant: str = Field(min_length=1)
    kind: TopologyKind
    racks: int = Field(ge=1)
    nodes_per_rack: int = Field(ge=1)
    chips_per_node: int = Field(ge=1)
    intra_node_link_gb_per_s: float = Field(gt=0, description="Per chip, to the rest of its node.")
    inter_node_link_gb_per_s: float = Field(gt=0, description="Per chip, out of its node.")

    @property
    def nodes(self) -> int:
        return self.racks * self.nodes_per_rack

    @property
    def chips(self) -> int:
        return self.nodes * self.chips_per_node

    @property
    def is_torus(self) -> bool:
        return self.kind in TORUS_DIMENSIONS

    @cached_property
    def torus_shape(self) -> tuple[int, ...]:
        """The grid's side lengths (torus kinds only), smallest first; ``()`` for switched kinds."""
        if not self.is_torus:
            return ()
        return torus_shape(self.nodes, TORUS_DIMENSIONS[self.kind])

    @cached_property
    def node_coordinates(self) -> tuple[tuple[int, ...], ...]:
        """Grid coordinates of every node, in node order (torus kinds only; ``()`` otherwise)."""
        if not self.is_torus:
            return ()
        return tuple(snake_coordinates(position, self.torus_shape) for position in range(self.nodes))


def torus_shape(nodes: int, dimensions: int) -> tuple[int, ...]:
    """The most cubic grid of ``nodes`` nodes in ``dimensions`` dimensions.

    Among all ways to write ``nodes`` as a product of ``dimensions`` side lengths, the one whose
    wrap-around grid has the smallest mean distance between nodes (the sum over sides ``L`` of the
    mean ring distance ``floor(L²/4) / L``); ties go to the shortest longest side (12 nodes in 3-D:
    2 × 2 × 3 rather than 1 × 3 × 4, both 5/3 hops on average).

    Parameters
    ----------
    nodes
        How many nodes the grid holds (at least 1).
    dimensions
        2 or 3.

    Returns
    -------
    tuple of int
        Side lengths, smallest first; their product is ``nodes``.

    Complexity
    ----------
    O(d(nodes)²) for d the number of divisors: negligible.
    """

    def mean_ring_distance(side: int) -> float:
        return (side * side // 4) / side

    return min(
        _factorisations(nodes, dimensions),
        key=lambda shape: (round(sum(mean_ring_distance(side) for side in shape), 9), shape[-1], shape),
    )


def _factorisations(number: int, parts: int, smallest: int = 1) -> list[tuple[int, ...]]:
    """Non-decreasing tuples of ``parts`` factors ``>= smallest`` whose product is ``number``."""
    if parts == 1:
        return [(number,)] if number >= smallest else []
    found: list[tuple[int, ...]] = []
    factor = smallest
    while factor**parts <= number:
        if number % factor == 0:
            found.extend((factor, *rest) for rest in _factorisations(number // factor, parts - 1, factor))
        factor += 1
    return found


def snake_coordinates(position: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The ``position``-th point of a snake through a grid: consecutive points are neighbours.

    The snake is the reflected mixed-radix Gray code: the first side varies fastest, and each side
    runs backwards whenever the number formed by the slower digits is odd, so ``position`` and
    ``position + 1`` differ by one in exactly one coordinate.

    Parameters
    ----------
    position
        ``0 <= position < prod(shape)``.
    shape
        Side lengths, the first varying fastest.

    Returns
    -------
    tuple of int
        The coordinates, one per side.
    """
    coordinates: list[int] = []
    below = position
    for side in shape:
        digit = below % side
        below //= side
        # `below` is now the number formed by the slower digits: odd means this side runs backwards.
        coordinates.append(side - 1 - digit if below % 2 else digit)
    return tuple(coordinates)


def cluster_layout(cluster: Cluster, accelerator: Accelerator) -> ClusterLayout:
    """The layout of ``cluster`` built of ``accelerator`` chips.

    Parameters
    ----------
    cluster
        A spec cluster (its topology gives the kind, racks and nodes per rack).
    accelerator
        The cluster's accelerator (chips per node and per-chip link bandwidths).

    Returns
    -------
    ClusterLayout
    """
    return ClusterLayout(
        cluster=cluster.name,
        tenant=cluster.tenant,
        kind=cluster.topology.kind,
        racks=cluster.topology.racks,
        nodes_per_rack=cluster.topology.nodes_per_rack,
        chips_per_node=accelerator.chips_per_node,
        intra_node_link_gb_per_s=accelerator.intra_node_link_gb_per_s,
        inter_node_link_gb_per_s=accelerator.inter_node_link_gb_per_s,
    )


def build_cluster_graph(spec: MigrationSpec, cluster: Cluster) -> nx.Graph:
    """The network graph of one cluster of a spec (see :func:`build_topology_graph`)."""
    return build_topology_graph(cluster_layout(cluster, spec.accelerator_of(cluster)))


def build_topology_graph(layout: ClusterLayout) -> nx.Graph:
    """Build the network graph of a cluster layout.

    Parameters
    ----------
    layout
        The cluster's structure and per-chip link bandwidths.

    Returns
    -------
    networkx.Graph
        Chips ``0 .. layout.chips - 1`` and the switches, hosts or routers its kind requires (see
        the module docstring), every edge with ``bandwidth_gb_per_s``, ``latency_us`` and ``link``;
        ``graph.graph`` holds ``layout``, ``cluster`` and ``tenant``.

    Complexity
    ----------
    O(chips × chips_per_node) vertices and edges: the full meshes inside nodes dominate.
    """
    graph = nx.Graph(layout=layout, cluster=layout.cluster, tenant=layout.tenant)
    per_node = layout.chips_per_node
    graph.add_nodes_from(
        (
            chip,
            {
                "kind": "chip",
                "node": chip // per_node,
                "rack": chip // per_node // layout.nodes_per_rack,
                "local": chip % per_node,
            },
        )
        for chip in range(layout.chips)
    )
    if per_node > 1:
        in_node = {
            "bandwidth_gb_per_s": layout.intra_node_link_gb_per_s / (per_node - 1),
            "latency_us": CHIP_LINK_LATENCY_US,
            "link": "chip-chip",
        }
        graph.add_edges_from(
            (u, v, in_node)
            for first in range(0, layout.chips, per_node)
            for u, v in combinations(range(first, first + per_node), 2)
        )
    if layout.kind == "mesh":
        _add_mesh_fabric(graph, layout)
    elif layout.kind == "fat-tree":
        _add_fat_tree_fabric(graph, layout)
    else:
        _add_torus_fabric(graph, layout)
    return graph


def _add_mesh_fabric(graph: nx.Graph, layout: ClusterLayout) -> None:
    per_node = layout.chips_per_node
    chip_port: dict[str, Any] = {
        "bandwidth_gb_per_s": layout.inter_node_link_gb_per_s / MESH_NETWORK_PLANES,
        "latency_us": CHIP_SWITCH_LATENCY_US,
        "link": "chip-tier0",
    }
    uplink: dict[str, Any] = {
        "bandwidth_gb_per_s": layout.nodes_per_rack * per_node * layout.inter_node_link_gb_per_s / MESH_NETWORK_PLANES,
        "latency_us": SWITCH_SWITCH_LATENCY_US,
        "link": "tier0-spine",
    }
    for plane in range(MESH_NETWORK_PLANES):
        spine = f"spine:p{plane}"
        graph.add_node(spine, kind="spine", plane=plane)
        for rack in range(layout.racks):
            tier0 = f"tier0:r{rack}:p{plane}"
            graph.add_node(tier0, kind="tier0", rack=rack, plane=plane)
            graph.add_edge(tier0, spine, **uplink)
            first = rack * layout.nodes_per_rack * per_node
            graph.add_edges_from(
                (chip, tier0, chip_port) for chip in range(first, first + layout.nodes_per_rack * per_node)
            )


def _add_fat_tree_fabric(graph: nx.Graph, layout: ClusterLayout) -> None:
    per_node = layout.chips_per_node
    chip_nic: dict[str, Any] = {
        "bandwidth_gb_per_s": layout.inter_node_link_gb_per_s,
        "latency_us": CHIP_HOST_LATENCY_US,
        "link": "chip-host",
    }
    host_leaf: dict[str, Any] = {
        "bandwidth_gb_per_s": per_node * layout.inter_node_link_gb_per_s,
        "latency_us": HOST_LEAF_LATENCY_US,
        "link": "host-leaf",
    }
    leaf_spine: dict[str, Any] = {
        "bandwidth_gb_per_s": layout.nodes_per_rack
        * per_node
        * layout.inter_node_link_gb_per_s
        / FAT_TREE_SPINE_SWITCHES,
        "latency_us": SWITCH_SWITCH_LATENCY_US,
        "link": "leaf-spine",
    }
    spines = [f"spine:{index}" for index in range(FAT_TREE_SPINE_SWITCHES)]
    graph.add_nodes_from(spines, kind="spine")
    for rack in range(layout.racks):
        leaf = f"leaf:r{rack}"
        graph.add_node(leaf, kind="leaf", rack=rack)
        graph.add_edges_from((leaf, spine, leaf_spine) for spine in spines)
        for node in range(rack * layout.nodes_per_rack, (rack + 1) * layout.nodes_per_rack):
            host = f"host:n{node}"
            graph.add_node(host, kind="host", node=node, rack=rack)
            graph.add_edge(host, leaf, **host_leaf)
            graph.add_edges_from((chip, host, chip_nic) for chip in range(node * per_node, (node + 1) * per_node))


def _add_torus_fabric(graph: nx.Graph, layout: ClusterLayout) -> None:
    per_node = layout.chips_per_node
    shape = layout.torus_shape
    chip_router: dict[str, Any] = {
        "bandwidth_gb_per_s": layout.inter_node_link_gb_per_s,
        "latency_us": CHIP_ROUTER_LATENCY_US,
        "link": "chip-router",
    }
    # A node's chips share 2 × dimensions torus links (one each way along every side).
    torus_link_gb_per_s = per_node * layout.inter_node_link_gb_per_s / (2 * len(shape))
    node_at = {coordinates: node for node, coordinates in enumerate(layout.node_coordinates)}
    for node, coordinates in enumerate(layout.node_coordinates):
        router = f"router:n{node}"
        graph.add_node(router, kind="router", node=node, rack=node // layout.nodes_per_rack, coordinates=coordinates)
        graph.add_edges_from((chip, router, chip_router) for chip in range(node * per_node, (node + 1) * per_node))
    for node, coordinates in enumerate(layout.node_coordinates):
        for axis, side in enumerate(shape):
            if side == 1:
                continue  # a side of one node has no neighbour along it (no self-loops)
            ahead = (*coordinates[:axis], (coordinates[axis] + 1) % side, *coordinates[axis + 1 :])
            u, v = f"router:n{node}", f"router:n{node_at[ahead]}"
            if graph.has_edge(u, v):
                # A side of two nodes: the links both ways round the ring join the same pair.
                graph.edges[u, v]["bandwidth_gb_per_s"] += torus_link_gb_per_s
            else:
                graph.add_edge(
                    u, v, bandwidth_gb_per_s=torus_link_gb_per_s, latency_us=TORUS_LINK_LATENCY_US, link="torus"
                )
