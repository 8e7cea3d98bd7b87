"""``maiaplan validate SPEC``: load and check a spec; say what it holds."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from planner.spec import load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("validate", help="check a migration spec and summarise it")
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    summary = {
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
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    else:
        overrides = ", ".join(summary["catalog_overrides"]) or "none"
        print(
            f"{args.spec}: valid spec '{spec.name}': {summary['tenants']} tenants, {summary['clusters']} clusters "
            f"({summary['chips']:,} chips), {summary['contracts']} contracts, {summary['workloads']} workloads; "
            f"catalog overrides: {overrides}"
        )
    return 0
