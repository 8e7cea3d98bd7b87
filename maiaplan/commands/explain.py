"""``maiaplan explain SPEC WORKLOAD``: why a workload moves in its phase, or why it stays."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maiaplan.commands.plan import add_solver_arguments, settings_from
from maiaplan.output import emit
from maiaplan.render import formats, render
from maiaplan.render.progress import progress
from planner.errors import InputError, did_you_mean, some_names
from planner.plan_builder import plan_migration
from planner.spec import load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("explain", help="say why a workload moves when and where it does, or stays")
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument("workload", help="the workload to explain")
    parser.add_argument(
        "--format", choices=formats("explain"), default="text", help="output format (default %(default)s)"
    )
    parser.add_argument("--out", type=Path, help="write here instead of standard output (see README: Output files)")
    add_solver_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    if args.workload not in spec.workload_by_name:
        raise InputError(
            str(args.spec),
            "WORKLOAD",
            f"unknown workload '{args.workload}'{did_you_mean(args.workload, spec.workload_by_name)}",
            f"name one of: {some_names(spec.workload_by_name)}",
        )
    settings = settings_from(args)
    with progress(f"planning {spec.name} to explain {args.workload}"):
        plan = plan_migration(spec, settings)
    emit(render("explain", args.format, plan, args.workload, out=args.out), args.out)
    return 0
