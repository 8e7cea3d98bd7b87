"""``maiaplan shard SPEC``: each workload's sharding on its current cluster and where it may move."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maiaplan.output import emit
from maiaplan.render import formats, render
from maiaplan.render.progress import progress
from planner.eligibility import judge_cluster
from planner.errors import InputError, did_you_mean, some_names
from planner.options import all_options
from planner.spec import load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "shard", help="show each workload's sharding on its current cluster and every cluster it may move to"
    )
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument("--workload", help="only this workload")
    parser.add_argument("--cluster", help="only options on this cluster")
    parser.add_argument(
        "--format", choices=formats("shard"), default="table", help="output format (default %(default)s)"
    )
    parser.add_argument("--out", type=Path, help="write here (atomically) instead of standard output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    for flag, name, known in (
        ("--workload", args.workload, spec.workload_by_name),
        ("--cluster", args.cluster, spec.cluster_by_name),
    ):
        if name is not None and name not in known:
            raise InputError(
                str(args.spec),
                flag,
                f"unknown {flag[2:]} '{name}'{did_you_mean(name, known)}",
                f"name one of: {some_names(known)}",
            )
    with progress(f"sharding {spec.name}'s workloads"):
        options = [
            option
            for workload in all_options(spec).values()
            for option in workload.all
            if args.workload in (None, option.workload) and args.cluster in (None, option.cluster)
        ]
    if not options:  # only --cluster can filter everything out: every workload has a current cluster
        if args.workload is None:
            why = f"no workload runs on {args.cluster} or may move to it"
        else:
            verdict = judge_cluster(spec, spec.workload_by_name[args.workload], spec.cluster_by_name[args.cluster])
            why = f"{args.workload} may not run on {args.cluster}: {verdict.reason}"
        raise InputError(str(args.spec), "--cluster", why, "drop --cluster to see every cluster each workload may use")
    emit(render("shard", args.format, options, out=args.out), args.out)
    return 0
