"""``maiaplan plan SPEC``: order the migration into phases."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maiaplan.output import emit
from maiaplan.render import formats, render
from maiaplan.render.progress import progress
from planner.claims import evaluate_default_claim
from planner.errors import InputError
from planner.plan_builder import plan_migration
from planner.scheduling.cpsat import SolverSettings
from planner.spec import load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plan", help="order the migration into phases and explain every decision")
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument(
        "--format", choices=formats("plan"), default="table", help="output format (default %(default)s)"
    )
    parser.add_argument("--out", type=Path, help="write here (atomically) instead of standard output")
    add_solver_arguments(parser)
    parser.set_defaults(handler=run)


def add_solver_arguments(parser: argparse.ArgumentParser) -> None:
    """``--time-limit S`` and ``--workers N``, for every command that plans."""
    parser.add_argument(
        "--time-limit",
        type=float,
        default=SolverSettings.time_limit_s,
        metavar="S",
        help="the solver's search limit, in CP-SAT deterministic seconds, shared by the three objective levels "
        "(default %(default)g); the plan is the same bytes for the same input whatever the machine's load",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=SolverSettings.workers,
        metavar="N",
        help="CP-SAT search workers, interleaved deterministically (default %(default)d)",
    )


def settings_from(args: argparse.Namespace) -> SolverSettings:
    """The solver settings of ``--time-limit`` and ``--workers``.

    Raises
    ------
    InputError
        For a limit that is not positive or fewer than one worker.
    """
    if not args.time_limit > 0:
        raise InputError(
            "command line",
            "--time-limit",
            f"must be a positive number of seconds (got {args.time_limit:g})",
            "e.g. --time-limit 10",
        )
    if args.workers < 1:
        raise InputError("command line", "--workers", f"must be 1 or more (got {args.workers})", "e.g. --workers 2")
    return SolverSettings(time_limit_s=args.time_limit, workers=args.workers)


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    spec = load_spec(args.spec)
    with progress(f"planning {spec.name}") as status:
        plan = plan_migration(spec, settings)
        # Wall time differs run to run: said on a terminal only, never in the plan (same input, same bytes).
        status.done(f"planned ({plan.solver.method})")
    if args.format == "markdown":  # the review document shows the verdict on the seed's perf/W claim
        emit(render("plan", "markdown", plan, [evaluate_default_claim(spec)], out=args.out), args.out)
        return 0
    emit(render("plan", args.format, plan, out=args.out), args.out)
    return 0
