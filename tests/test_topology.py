"""Topology: the graphs each kind builds, the torus shape and snake, and hop distances against BFS.

The structural hop distance (:mod:`planner.topology_algorithms`) must equal
``nx.shortest_path_length`` on the graph for every pair of chips; the tests check it exhaustively on
small graphs of every kind, including the corner cases of the torus (sides of 1 and 2) and
single-chip nodes, and on generated layouts.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import pytest
from helpers_spec import example_spec
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.spec import TopologyKind
from planner.topology import (
    FAT_TREE_SPINE_SWITCHES,
    MESH_NETWORK_PLANES,
    ClusterLayout,
    build_cluster_graph,
    build_topology_graph,
    cluster_layout,
    snake_coordinates,
    torus_shape,
)
from planner.topology_algorithms import chip_hop_distance, graph_layout, hop_distance, node_hop_distance

KINDS: tuple[TopologyKind, ...] = ("mesh", "fat-tree", "torus2d", "torus3d")


def layout(
    kind: TopologyKind, racks: int, nodes_per_rack: int, chips_per_node: int, intra: float = 120.0, inter: float = 60.0
) -> ClusterLayout:
    return ClusterLayout(
        cluster="c",
        tenant="t",
        kind=kind,
        racks=racks,
        nodes_per_rack=nodes_per_rack,
        chips_per_node=chips_per_node,
        intra_node_link_gb_per_s=intra,
        inter_node_link_gb_per_s=inter,
    )


def vertices_of(graph: nx.Graph, kind: str) -> list[object]:
    return [vertex for vertex, data in graph.nodes(data=True) if data["kind"] == kind]


def assert_hops_match_bfs(built: ClusterLayout) -> None:
    graph = build_topology_graph(built)
    for chip in range(built.chips):
        bfs = nx.single_source_shortest_path_length(graph, chip)
        for other in range(built.chips):
            assert hop_distance(graph, chip, other) == bfs[other], (built.kind, chip, other)


# --- hop distance equals BFS ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("racks", "nodes_per_rack", "chips_per_node"),
    [(1, 1, 1), (1, 1, 4), (2, 3, 2), (3, 2, 4), (1, 4, 1), (4, 3, 2), (2, 1, 5), (2, 4, 3)],
)
def test_hop_distance_equals_bfs_for_every_chip_pair(
    kind: TopologyKind, racks: int, nodes_per_rack: int, chips_per_node: int
) -> None:
    assert_hops_match_bfs(layout(kind, racks, nodes_per_rack, chips_per_node))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    kind=st.sampled_from(KINDS),
    racks=st.integers(1, 5),
    nodes_per_rack=st.integers(1, 5),
    chips_per_node=st.integers(1, 4),
)
def test_hop_distance_equals_bfs_on_generated_layouts(
    kind: TopologyKind, racks: int, nodes_per_rack: int, chips_per_node: int
) -> None:
    assert_hops_match_bfs(layout(kind, racks, nodes_per_rack, chips_per_node))


def test_torus_sides_of_two_and_one_keep_bfs_distances() -> None:
    # 2 nodes in 3-D: shape (1, 1, 2); 8 nodes: (2, 2, 2), every side a ring of two.
    for nodes_per_rack in (2, 4, 8):
        built = layout("torus3d", 1, nodes_per_rack, 2)
        assert math.prod(built.torus_shape) == nodes_per_rack
        assert_hops_match_bfs(built)


def test_switched_hop_counts_by_position() -> None:
    mesh = layout("mesh", 2, 2, 4)
    fat_tree = layout("fat-tree", 2, 2, 4)
    # chip 0: node 0 rack 0; chip 1 same node; chip 4 node 1 (rack 0); chip 8 node 2 (rack 1)
    assert [chip_hop_distance(mesh, 0, other) for other in (0, 1, 4, 8)] == [0, 1, 2, 4]
    assert [chip_hop_distance(fat_tree, 0, other) for other in (0, 1, 4, 8)] == [0, 1, 4, 6]


def test_torus_hop_count_is_two_plus_the_wrapped_grid_distance() -> None:
    ring = layout("torus2d", 1, 5, 1)  # 5 nodes: shape (1, 5), a ring
    assert ring.torus_shape == (1, 5)
    assert [chip_hop_distance(ring, 0, node) for node in range(5)] == [0, 3, 4, 4, 3]


def test_node_hop_distance_depends_on_nodes_only() -> None:
    for kind in KINDS:
        built = layout(kind, 2, 3, 3)
        for node_a, node_b in itertools.product(range(built.nodes), repeat=2):
            distances = {
                chip_hop_distance(built, a, b)
                for a in range(node_a * 3, node_a * 3 + 3)
                for b in range(node_b * 3, node_b * 3 + 3)
                if a != b
            }
            assert distances == {node_hop_distance(built, node_a, node_b)}


def test_chip_outside_the_cluster_is_an_error() -> None:
    built = layout("mesh", 1, 2, 4)
    with pytest.raises(ValueError, match=r"chip 8 is not in cluster 'c' \(chips 0 to 7\)"):
        chip_hop_distance(built, 0, 8)
    with pytest.raises(ValueError, match="chip -1"):
        chip_hop_distance(built, -1, 0)


def test_hop_distance_needs_a_cluster_graph() -> None:
    with pytest.raises(ValueError, match="not a cluster graph"):
        hop_distance(nx.path_graph(3), 0, 2)


# --- what each kind builds ----------------------------------------------------------------------


def test_mesh_graph_is_maias_three_plane_ethernet() -> None:
    built = layout("mesh", 3, 2, 4, intra=450, inter=150)  # Maia 100's figures
    graph = build_topology_graph(built)
    assert len(vertices_of(graph, "chip")) == 24
    assert len(vertices_of(graph, "tier0")) == 3 * MESH_NETWORK_PLANES
    assert len(vertices_of(graph, "spine")) == MESH_NETWORK_PLANES
    # every chip: 3 peers in its node + one port per plane
    assert all(graph.degree(chip) == 3 + MESH_NETWORK_PLANES for chip in range(24))
    assert graph.edges[0, 1]["bandwidth_gb_per_s"] == pytest.approx(150)  # 3 × 400 GbE per peer
    assert graph.edges[0, "tier0:r0:p0"]["bandwidth_gb_per_s"] == pytest.approx(50)  # one 400 GbE port
    assert graph.edges["tier0:r0:p0", "spine:p0"]["bandwidth_gb_per_s"] == pytest.approx(8 * 50)  # non-blocking
    assert set(nx.neighbors(graph, "tier0:r1:p2")) == {*range(8, 16), "spine:p2"}


def test_fat_tree_graph_has_hosts_leaves_and_spines() -> None:
    built = layout("fat-tree", 2, 3, 8, intra=900, inter=50)  # H100 SXM, p5
    graph = build_topology_graph(built)
    assert len(vertices_of(graph, "host")) == 6
    assert len(vertices_of(graph, "leaf")) == 2
    assert len(vertices_of(graph, "spine")) == FAT_TREE_SPINE_SWITCHES
    assert graph.edges[0, "host:n0"]["bandwidth_gb_per_s"] == pytest.approx(50)
    assert graph.edges["host:n0", "leaf:r0"]["bandwidth_gb_per_s"] == pytest.approx(400)  # 3,200 Gbps
    assert graph.edges["leaf:r1", "spine:1"]["bandwidth_gb_per_s"] == pytest.approx(3 * 400 / FAT_TREE_SPINE_SWITCHES)
    assert graph.nodes["host:n4"]["rack"] == 1


def test_torus_graph_links_routers_on_the_grid() -> None:
    built = layout("torus3d", 4, 16, 4, inter=600)  # 64 nodes: 4 × 4 × 4
    graph = build_topology_graph(built)
    routers = vertices_of(graph, "router")
    assert built.torus_shape == (4, 4, 4)
    assert len(routers) == 64
    assert all(sum(1 for n in graph[r] if isinstance(n, str)) == 6 for r in routers)  # ±1 along 3 sides
    assert graph.edges["router:n0", "router:n1"]["bandwidth_gb_per_s"] == pytest.approx(4 * 600 / 6)


def test_torus_side_of_two_joins_both_ring_links_in_one_edge_and_a_side_of_one_adds_none() -> None:
    built = layout("torus2d", 1, 2, 1, inter=60)  # shape (1, 2)
    graph = build_topology_graph(built)
    assert nx.number_of_selfloops(graph) == 0
    assert graph.edges["router:n0", "router:n1"]["bandwidth_gb_per_s"] == pytest.approx(2 * 60 / 4)


def test_every_edge_carries_bandwidth_and_latency() -> None:
    for kind in KINDS:
        graph = build_topology_graph(layout(kind, 2, 2, 3))
        for _, _, data in graph.edges(data=True):
            assert data["bandwidth_gb_per_s"] > 0
            assert data["latency_us"] > 0
            assert data["link"]
        assert nx.is_connected(graph)


def test_chip_vertices_know_their_node_rack_and_place() -> None:
    graph = build_topology_graph(layout("mesh", 2, 3, 4))
    assert graph.nodes[13] == {"kind": "chip", "node": 3, "rack": 1, "local": 1}


# --- the torus's shape and snake ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("nodes", "dimensions", "shape"),
    [(64, 3, (4, 4, 4)), (32, 2, (4, 8)), (32, 3, (2, 4, 4)), (12, 3, (2, 2, 3)), (7, 2, (1, 7)), (1, 3, (1, 1, 1))],
)
def test_torus_shape_is_the_most_cubic_factorisation(nodes: int, dimensions: int, shape: tuple[int, ...]) -> None:
    assert torus_shape(nodes, dimensions) == shape


@given(nodes=st.integers(1, 400), dimensions=st.sampled_from([2, 3]))
def test_torus_shape_minimises_the_mean_ring_distance(nodes: int, dimensions: int) -> None:
    def mean_distance(shape: tuple[int, ...]) -> float:
        return sum(sum(min(d, side - d) for d in range(side)) / side for side in shape)

    chosen = torus_shape(nodes, dimensions)
    assert math.prod(chosen) == nodes and len(chosen) == dimensions
    divisors = [d for d in range(1, nodes + 1) if nodes % d == 0]
    every = [shape for shape in itertools.product(divisors, repeat=dimensions) if math.prod(shape) == nodes]
    assert mean_distance(chosen) == pytest.approx(min(mean_distance(shape) for shape in every))


@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple))
def test_snake_visits_every_point_once_in_neighbouring_steps(shape: tuple[int, ...]) -> None:
    points = [snake_coordinates(position, shape) for position in range(math.prod(shape))]
    assert len(set(points)) == len(points)
    assert all(0 <= x < side for point in points for x, side in zip(point, shape, strict=True))
    for here, there in itertools.pairwise(points):
        assert sum(abs(a - b) for a, b in zip(here, there, strict=True)) == 1  # neighbours without wrapping


# --- the example's clusters ----------------------------------------------------------------------


def test_example_clusters_build_with_the_catalogs_chips() -> None:
    spec = example_spec()
    for cluster in spec.clusters:
        graph = build_cluster_graph(spec, cluster)
        assert len(vertices_of(graph, "chip")) == spec.cluster_chips(cluster)
        assert graph.graph["cluster"] == cluster.name
        assert graph.graph["tenant"] == cluster.tenant
        assert graph_layout(graph) == cluster_layout(cluster, spec.accelerator_of(cluster))
    maia = build_cluster_graph(spec, spec.cluster_by_name["az-eastus-maia"])
    assert maia.edges[0, 1]["bandwidth_gb_per_s"] == pytest.approx(150)
    trn2 = build_cluster_graph(spec, spec.cluster_by_name["aws-use1-trn2"])
    assert graph_layout(trn2).torus_shape == (4, 8)
    v5p = graph_layout(build_cluster_graph(spec, spec.cluster_by_name["gcp-usc1-v5p"]))
    assert v5p.torus_shape == (4, 4, 4)
    assert chip_hop_distance(v5p, 0, v5p.chips - 1) == 2 + 1  # the snake ends next to where it starts
