"""``maiaplan claims SPEC [--claim "A vs B metric >= X"]...``: judge performance claims against the model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maiaplan.commands.calibrate import add_run_flags, read_runs
from maiaplan.output import emit
from maiaplan.render import formats, render
from maiaplan.render.progress import progress
from planner.claims import DEFAULT_CLAIM, evaluate_claim, parse_claim
from planner.errors import InputError
from planner.spec import load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "claims", help="judge vendor performance claims (default: Maia's 40 %% perf/W over H100) per workload"
    )
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument(
        "--claim",
        action="append",
        default=None,
        help=f'"<accelerator> vs <accelerator> <metric> <op> <number>" (repeatable; default "{DEFAULT_CLAIM}")',
    )
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        help="measured runs (as for maiaplan calibrate; --metadata watts=... for measured power): judged on them",
    )
    add_run_flags(parser)
    parser.add_argument(
        "--format", choices=formats("claims"), default="table", help="output format (default %(default)s)"
    )
    parser.add_argument("--out", type=Path, help="write here (atomically) instead of standard output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    claims = []
    for text in args.claim or [DEFAULT_CLAIM]:
        try:
            claims.append(parse_claim(text, spec.accelerators))
        except ValueError as error:
            raise InputError(
                str(args.spec),
                "--claim",
                str(error),
                'write e.g. --claim "maia-100 vs h100-sxm tokens_per_joule >= 1.4"',
            ) from None
    measurements = read_runs(args, spec)
    with progress(f"judging {len(claims)} claim(s) on {spec.name}"):
        results = [evaluate_claim(spec, claim, measurements) for claim in claims]
    emit(render("claims", args.format, results, out=args.out), args.out)
    return 0
