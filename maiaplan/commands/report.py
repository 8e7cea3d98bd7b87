"""``maiaplan report SPEC [--stack NAME [--state FILE]]``: the plan, the fleet and the dry run as one HTML page."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maiaplan.output import write_atomic
from maiaplan.render.progress import progress
from maiaplan.report import build_report, load_inputs
from planner.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="one self-contained HTML page: phases, capacity, contracts, placements, economics, the dry run",
        description=(
            "Write the plan (Gantt, capacity against the ramps, contract margins, each cluster's placements, "
            "economics) and, with --stack, the stack's dry run as one HTML file that works offline."
        ),
    )
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument("--stack", help="also show this stack's dry run (its maiaplan:spec must be SPEC)")
    parser.add_argument("--project", type=Path, default=Path("."), help="the Pulumi project of --stack (default: .)")
    parser.add_argument("--state", type=Path, help="the prior state of the dry run (needs --stack)")
    parser.add_argument(
        "--out", type=Path, default=Path("report.html"), help="the page to write (default: report.html)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.state is not None and args.stack is None:
        raise InputError(
            str(args.state),
            "--state",
            "is the prior state of a dry run, but no --stack is given",
            "add --stack NAME, or leave out --state",
        )
    doing = f"planning {args.spec}" + (f" and dry-running stack {args.stack}" if args.stack else "")
    with progress(doing) as status:
        inputs = load_inputs(args.spec, stack=args.stack, project=args.project, state=args.state)
        status.update(f"drawing {args.out}")
        page = build_report(inputs)
        status.done(f"wrote {args.out}")
    write_atomic(args.out, page)
    return 0
