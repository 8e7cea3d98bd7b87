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
from pathlib import Path
from typing import Any

from maiaplan.output import emit
from maiaplan.render import formats, render
from maiaplan.render.progress import progress
from planner.errors import InputError
from planner.fleet_placement import place_fleet
from planner.limits import cluster_chips_over_limit
from planner.options import all_options
from planner.plan_builder import plan_migration
from planner.spec import MigrationSpec, load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "place", help="place every shard group on chips: hop distances per workload, free chips per cluster"
    )
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument(
        "--phase", type=int, default=0, help="the fleet at the end of this phase (0: before the migration)"
    )
    parser.add_argument(
        "--format", choices=formats("place"), default="table", help="output format (default %(default)s)"
    )
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
    with progress(f"planning {spec.name}") as status:
        plan = plan_migration(spec)
        if 0 <= args.phase <= len(plan.phases):
            status.update(f"placing phase {args.phase} on chips")
            placements = place_fleet(spec, all_options(spec), plan.state_after(args.phase).allocations, args.phase)
    if not 0 <= args.phase <= len(plan.phases):
        raise InputError(
            str(args.spec),
            "--phase",
            f"is {args.phase}, but the plan has phases 0 to {len(plan.phases)}",
            f"give a phase from 0 to {len(plan.phases)}",
        )
    emit(render("place", args.format, placements, out=args.out), args.out)
    return 0
