"""``maiaplan validate SPEC``: load and check a spec as the planner will; say what it holds.

"valid" means the spec will plan: it loads (every field, reference and name checked, within the
size limits), every workload can be served on its current cluster by the performance model, and
the current fleet fits its clusters and contracts. The scheduler itself does not run.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maiaplan.output import emit
from maiaplan.render import formats, render
from maiaplan.render.validation import SpecSummary
from planner.errors import InputError
from planner.options import cluster_option
from planner.scheduling.problem import Problem
from planner.spec import MigrationSpec, load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("validate", help="check a migration spec as the planner will, and summarise it")
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument(
        "--format", choices=formats("validate"), default="table", help="output format (default %(default)s)"
    )
    parser.add_argument("--out", type=Path, help="write here instead of standard output (see README: Output files)")
    parser.set_defaults(handler=run)


def check_plannable(spec: MigrationSpec) -> None:
    """Raise what would stop ``plan`` before it schedules anything.

    Every workload the performance model cannot serve on its current cluster is reported (the
    current fleet must be describable: plan stops there), then the checks of the current fleet the
    scheduler makes first (:class:`planner.scheduling.problem.Problem`).

    Raises
    ------
    InputError
        With every unservable workload, or the first broken capacity or contract of the current fleet.

    Complexity: O(workloads · clusters) shardings, as the planner's options.
    """
    problems = []
    for index, workload in enumerate(spec.workloads):
        current = cluster_option(spec, workload, spec.cluster_by_name[workload.current], "current")
        if not current.feasible:
            problems.append(
                (
                    f"workloads[{index}].current",
                    f"fits on no cluster, not even its current one: the performance model cannot serve "
                    f"{workload.name} on {workload.current}: {current.infeasible_reason}",
                    "lower its serving targets (tokens_per_s, context_tokens) or raise p99_ms_per_token, or "
                    "correct the catalog figures: the current fleet must be describable",
                )
            )
    if problems:
        raise InputError.of_problems(spec.source_file, problems)
    Problem(spec)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    check_plannable(spec)
    summary: SpecSummary = {
        "spec": spec.name,
        "file": str(args.spec),
        "valid": True,
        "tenants": len(spec.tenants),
        "clusters": len(spec.clusters),
        "chips": sum(spec.cluster_chips(cluster) for cluster in spec.clusters),
        "contracts": len(spec.contracts),
        "workloads": len(spec.workloads),
        "catalog_overrides": sorted(spec.catalog),
    }
    emit(render("validate", args.format, summary, out=args.out), args.out)
    return 0
