"""``maiaplan policy-config SPEC``: write the maiaplan-guard configuration of a spec (maiaplan.guard_config)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from maiaplan.guard_config import load_waivers, policy_config, render
from maiaplan.output import emit
from planner.spec import load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "policy-config",
        help="write the maiaplan-guard policy pack's configuration (--policy-pack-config) from a spec",
    )
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument(
        "--waivers", type=Path, help="waivers to include: a YAML/JSON list of {policy, urn or tags, reason, expires}"
    )
    parser.add_argument("--out", type=Path, help="write here (atomically) instead of standard output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    waivers = load_waivers(args.waivers) if args.waivers is not None else {}
    emit(render(policy_config(spec, waivers)), args.out)
    return 0
