"""``maiaplan place SPEC [--phase K]``: where every shard group sits, and how far apart its chips are."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from maiaplan.output import emit
from planner.errors import InputError
from planner.fleet_placement import place_fleet
from planner.options import all_options
from planner.plan_builder import plan_migration
from planner.render import placement_table
from planner.spec import load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "place", help="place every shard group on chips: hop distances per workload, free chips per cluster"
    )
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument(
        "--phase", type=int, default=0, help="the fleet at the end of this phase (0: before the migration)"
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--out", type=Path, help="write here (atomically) instead of standard output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    plan = plan_migration(spec)
    if not 0 <= args.phase <= len(plan.phases):
        raise InputError(
            str(args.spec),
            "--phase",
            f"is {args.phase}, but the plan has phases 0 to {len(plan.phases)}",
            f"give a phase from 0 to {len(plan.phases)}",
        )
    placements = place_fleet(spec, all_options(spec), plan.state_after(args.phase).allocations)
    if args.format == "json":
        text = json.dumps(
            [p.model_dump(mode="json", exclude={"workloads": {"__all__": {"groups"}}}) for p in placements], indent=2
        )
    else:
        text = placement_table(placements)
    emit(text, args.out)
    return 0
