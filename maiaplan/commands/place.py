"""``maiaplan place SPEC [--phase K]``: where every shard group sits, and how far apart its chips are.

Counted as the plan counts: each cluster's capacity is its ``capacity_by_phase`` entry for the phase
(before the migration, phase 0, that of phase 1), and a workload's chips are whole SKU units (a VM,
an instance, a TPU host), the figure ``plan`` moves and the Pulumi program sizes. ``IN GROUPS`` is
what its shard groups use of them. Clusters bigger than planner/limits.py's
``MAX_PLACE_CLUSTER_CHIPS`` are refused before anything is planned: their chip graph would not fit
in memory.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maiaplan.output import emit
from planner.errors import InputError
from planner.fleet_placement import FleetClusterPlacement, place_fleet
from planner.limits import cluster_chips_over_limit
from planner.options import all_options
from planner.plan_builder import plan_migration
from planner.render import table
from planner.spec import MigrationSpec, load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "place", help="place every shard group on chips: hop distances per workload, free chips per cluster"
    )
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument(
        "--phase", type=int, default=0, help="the fleet at the end of this phase (0: before the migration)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--out", type=Path, help="write here instead of standard output (see README: Output files)")
    parser.set_defaults(handler=run)


def check_placeable(spec: MigrationSpec) -> None:
    """Refuse every cluster too big to lay out on chips, before any planning.

    Raises
    ------
    InputError
        Naming each cluster over ``MAX_PLACE_CLUSTER_CHIPS``, with its size and the fix.
    """
    problems = []
    for index, cluster in enumerate(spec.clusters):
        over = cluster_chips_over_limit(spec.cluster_chips(cluster))
        if over is not None:
            problems.append((f"clusters[{index}].topology", f"{cluster.name} {over[0]}", over[1]))
    if problems:
        raise InputError.of_problems(spec.source_file, problems)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    check_placeable(spec)
    plan = plan_migration(spec)
    if not 0 <= args.phase <= len(plan.phases):
        raise InputError(
            str(args.spec),
            "--phase",
            f"is {args.phase}, but the plan has phases 0 to {len(plan.phases)}",
            f"give a phase from 0 to {len(plan.phases)}",
        )
    placements = place_fleet(spec, all_options(spec), plan.state_after(args.phase).allocations, args.phase)
    text = placement_json(placements) if args.format == "json" else placement_table(placements)
    emit(text, args.out)
    return 0


def placement_json(placements: Sequence[FleetClusterPlacement]) -> str:
    """One object per cluster: the placement's fields, with the phase's capacity and the plan's chips."""
    documents = []
    for fleet in placements:
        document = fleet.placement.model_dump(mode="json", exclude={"workloads": {"__all__": {"groups"}}})
        for workload in document["workloads"]:
            workload["allocated_chips"] = fleet.allocated_by_workload[workload["workload"]]
        document |= {
            "phase": fleet.phase,
            "capacity_chips": fleet.capacity_chips,
            "allocated_chips": fleet.allocated_chips,
            "free_capacity_chips": fleet.free_chips,
            "stranded_chips": fleet.stranded_chips,
        }
        documents.append(document)
    return json.dumps(documents, indent=2)


def placement_table(placements: Sequence[FleetClusterPlacement]) -> str:
    """Per cluster: size, phase capacity, chips allocated (SKU units), free; per workload: chips and hops."""
    clusters = table(
        ("CLUSTER", "TENANT", "SIZE", "CAPACITY", "ALLOCATED", "IN GROUPS", "FREE", "COST HOPS"),
        [
            [
                fleet.placement.cluster,
                fleet.placement.tenant,
                fleet.placement.chips,
                fleet.capacity_chips,
                fleet.allocated_chips,
                fleet.placement.used_chips,
                fleet.free_chips,
                fleet.placement.cost_hops,
            ]
            for fleet in placements
        ],
        right=range(2, 8),
    )
    workloads = table(
        ("WORKLOAD", "CLUSTER", "TP×PP", "REPLICAS", "CHIPS", "IN GROUPS", "NODES", "MEAN HOPS", "MAX HOPS"),
        [
            [
                w.workload,
                fleet.placement.cluster,
                f"{w.tensor_parallel}×{w.pipeline_parallel}",
                w.replicas,
                fleet.allocated_by_workload[w.workload],
                w.chips,
                len(w.nodes),
                f"{w.mean_hops:.2f}",
                w.max_hops,
            ]
            for fleet in placements
            for w in fleet.placement.workloads
        ],
        right=range(3, 9),
    )
    phase = placements[0].phase if placements else 0
    when = "before the migration" if phase == 0 else f"at the end of phase {phase}"
    return (
        f"Placement {when}: chips in whole SKU units, as the plan counts them; "
        f"capacity from capacity_by_phase.\n\n{clusters}\n\n{workloads}"
    )
