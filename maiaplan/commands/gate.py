"""``maiaplan gate --stack NAME --prometheus URL``: may the stack's traffic step proceed?

Reads the stack's phase and step, runs each check of that step against Prometheus, and decides:
advance (exit 0), hold (exit 3), rollback (exit 4). Read-only: ``maiaplan advance`` acts on the
decision. Prometheus unreachable, a query error, bad TLS or auth: exit 2, never a decision.
docs/gates.md documents the checks, the decisions and the JSON.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from maiaplan.output import emit
from maiaplan.render.gates import decision_text
from maiaplan.rollout.judge import GateDecision
from maiaplan.rollout.moments import StackMoment
from maiaplan.rollout.prometheus import Prometheus
from maiaplan.rollout.report import decision_document, decision_json
from maiaplan.rollout.stack import Judged, judge_stack
from planner.errors import InputError

TOKEN_VARIABLE = "MAIAPLAN_PROMETHEUS_TOKEN"


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments ``gate`` and ``advance`` share."""
    parser.add_argument("--stack", required=True, help="the stack (its config is Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--prometheus", required=True, metavar="URL", help="the Prometheus server, e.g. http://prom:9090"
    )
    parser.add_argument("--project", type=Path, default=Path("."), help="the project directory (default: .)")
    parser.add_argument(
        "--at", metavar="TIME", help="judge the windows ending at TIME (RFC 3339 or Unix seconds; default: now)"
    )
    parser.add_argument("--ca-file", help="PEM bundle to verify an https Prometheus with")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--retry",
        action="store_true",
        help="allow advancing again into the step the stack was just rolled back from (once its cause is fixed)",
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gate",
        help="judge the stack's traffic step on Prometheus metrics: advance, hold or rollback",
        description=(
            "Run each check of the stack's current traffic step against Prometheus and decide. "
            "Exit 0 advance, 3 hold, 4 rollback, 2 bad input or no answer from Prometheus."
        ),
    )
    add_gate_arguments(parser)
    parser.set_defaults(handler=run)


def parse_time(text: str | None) -> float:
    """``--at``: RFC 3339 (``2026-12-01T10:00:00Z``) or Unix seconds; now when absent.

    Raises
    ------
    InputError
        For anything else, or a time without a zone.
    """
    if text is None:
        return time.time()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise InputError(
            "--at", text, "is not a time with a zone", "give RFC 3339, e.g. 2026-12-01T10:00:00Z, or Unix seconds"
        )
    return parsed.timestamp()


def judge(args: argparse.Namespace) -> Judged:
    """Read the stack named by the arguments and judge its moment against their Prometheus."""
    prometheus = Prometheus(args.prometheus, bearer_token=os.environ.get(TOKEN_VARIABLE), ca_file=args.ca_file)
    return judge_stack(args.project, args.stack, prometheus, parse_time(args.at), retry=args.retry)


def outcome_sentence(decision: GateDecision, to: StackMoment | None, applied: bool) -> str:
    """What the decision does to the stack file, in words."""
    if to is None:
        return "the plan is complete: nothing to advance to" if decision.decision == "advance" else "the stack stays"
    if decision.decision == "advance":
        return "moved to" if applied else "would move to"
    return "rolled back to" if applied else "would roll back to"


def run(args: argparse.Namespace) -> int:
    stack, decision, to = judge(args)
    if args.format == "json":
        emit(decision_json(decision_document(stack.name, decision, to, stack.file.sha256)), None)
    else:
        emit(decision_text(stack.name, decision, to, outcome_sentence(decision, to, applied=False)), None)
    return decision.exit_code
