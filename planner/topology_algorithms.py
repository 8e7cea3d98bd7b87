"""Algorithms on cluster graphs built by :mod:`planner.topology`: hop distances between chips.

The hop distance between two chips is the number of links on a shortest path between them in
the cluster graph, i.e. ``nx.shortest_path_length(graph, a, b)``. A breadth-first search costs
O(vertices + edges) per source, far too much at 16,384 chips, so these functions answer from the
structure the graph was built from (``graph.graph["layout"]``), in O(1) per pair. The
equivalence, for two distinct chips ``a`` and ``b``:

* Same node (every kind): the node's chips are fully connected, so the distance is 1.
* ``mesh``: a path between chips of different nodes must leave ``a``'s node. The only links out
  of a chip go to its rack's tier-0 switches, whose only other neighbours are chips of that rack
  and their plane's spine; the spine's neighbours are tier-0 switches. So ``a``, tier-0, ``b``
  (2 hops) reaches exactly the chips of ``a``'s rack, and otherwise the shortest path is
  ``a``, tier-0, spine, tier-0, ``b`` (4 hops): chips have no edges to other racks.
* ``fat-tree``: the same argument, one layer deeper: chip, host, leaf, host, chip (4 hops) inside
  a rack, chip, host, leaf, spine, leaf, host, chip (6 hops) across racks.
* ``torus2d`` / ``torus3d``: a chip's only links leave to chips of its node and to its node's
  router, so a path between nodes starts and ends with a chip-router link (2 hops) and between
  routers runs on the grid, where the shortest walk is the sum over sides of the ring distance
  ``min(|Δ|, L - |Δ|)``. Total: 2 + grid distance. Racks play no part.

``tests/test_topology.py`` checks every pair against ``nx.shortest_path_length`` on small graphs
of every kind, including grids with sides of 1 and 2 and single-chip nodes.
"""

from __future__ import annotations

import networkx as nx

from planner.topology import SWITCHED_HOPS, TORUS_ROUTER_HOPS, ClusterLayout


def graph_layout(graph: nx.Graph) -> ClusterLayout:
    """The :class:`ClusterLayout` a cluster graph was built from.

    Raises
    ------
    ValueError
        When the graph was not built by :func:`planner.topology.build_topology_graph`.
    """
    layout = graph.graph.get("layout")
    if not isinstance(layout, ClusterLayout):
        raise ValueError("not a cluster graph: build it with planner.topology.build_topology_graph")
    return layout


def node_hop_distance(layout: ClusterLayout, node_a: int, node_b: int) -> int:
    """Hops between two distinct chips, one on node ``node_a`` and one on node ``node_b``.

    Within a node every chip is as far from any chip outside it as any other, so the distance
    between chips on different nodes depends on the nodes only.

    Parameters
    ----------
    layout
        The cluster's structure.
    node_a, node_b
        Node indices (equal means two distinct chips of one node).

    Returns
    -------
    int
        1 for the same node; otherwise as in the module docstring.

    Complexity
    ----------
    O(1) for switched kinds, O(dimensions) for tori.
    """
    if node_a == node_b:
        return 1
    if layout.is_torus:
        shape = layout.torus_shape
        here, there = layout.node_coordinates[node_a], layout.node_coordinates[node_b]
        grid = 0
        for side, x, y in zip(shape, here, there, strict=True):
            delta = abs(x - y)
            grid += min(delta, side - delta)
        return TORUS_ROUTER_HOPS + grid
    _, same_rack, elsewhere = SWITCHED_HOPS[layout.kind]
    if node_a // layout.nodes_per_rack == node_b // layout.nodes_per_rack:
        return same_rack
    return elsewhere


def chip_hop_distance(layout: ClusterLayout, chip_a: int, chip_b: int) -> int:
    """Hops on a shortest path between two chips, from the layout alone.

    Parameters
    ----------
    layout
        The cluster's structure.
    chip_a, chip_b
        Chip indices, ``0 <= chip < layout.chips``.

    Returns
    -------
    int
        Equal to ``nx.shortest_path_length(build_topology_graph(layout), chip_a, chip_b)``.

    Raises
    ------
    ValueError
        When a chip index is outside the cluster.

    Complexity
    ----------
    O(1) (O(dimensions) on tori).
    """
    for chip in (chip_a, chip_b):
        if not 0 <= chip < layout.chips:
            raise ValueError(f"chip {chip} is not in cluster '{layout.cluster}' (chips 0 to {layout.chips - 1})")
    if chip_a == chip_b:
        return 0
    return node_hop_distance(layout, chip_a // layout.chips_per_node, chip_b // layout.chips_per_node)


def hop_distance(graph: nx.Graph, chip_a: int, chip_b: int) -> int:
    """Hops on a shortest path between two chips of a cluster graph.

    Parameters
    ----------
    graph
        A graph built by :func:`planner.topology.build_topology_graph`.
    chip_a, chip_b
        Chip vertices (integers).

    Returns
    -------
    int
        ``nx.shortest_path_length(graph, chip_a, chip_b)``, computed from the structure.

    Raises
    ------
    ValueError
        When the graph is not a cluster graph or a chip is not in it.

    Complexity
    ----------
    O(1) (O(dimensions) on tori), against O(vertices + edges) for a breadth-first search.
    """
    return chip_hop_distance(graph_layout(graph), chip_a, chip_b)
