"""``maiaplan explain SPEC WORKLOAD``: why a workload moves in its phase, or why it stays."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maiaplan.commands.plan import add_solver_arguments, settings_from
from planner.errors import InputError, did_you_mean
from planner.plan_builder import plan_migration
from planner.render import explain
from planner.spec import load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("explain", help="say why a workload moves when and where it does, or stays")
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument("workload", help="the workload to explain")
    add_solver_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    if args.workload not in spec.workload_by_name:
        raise InputError(
            str(args.spec),
            "WORKLOAD",
            f"unknown workload '{args.workload}'{did_you_mean(args.workload, spec.workload_by_name)}",
            f"name one of: {', '.join(spec.workload_by_name)}",
        )
    print(explain(plan_migration(spec, settings_from(args)), args.workload))
    return 0
