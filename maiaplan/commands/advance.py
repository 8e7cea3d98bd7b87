"""``maiaplan advance --stack NAME --prometheus URL [--dry-run]``: act on the gate's decision.

Judges the stack's traffic step as ``maiaplan gate`` does, then rewrites the stack file one moment
forward on advance (the next step, or step 1 of the next phase after 100) or one back on rollback,
keeping its comments, order and other keys; never skips a step; refuses (exit 2) when the file
changed since it was judged; replaces it atomically. Every decision, holds included, is appended to
the audit log beside the stack file (``Pulumi.<stack>.audit.jsonl``). ``--dry-run`` writes nothing.
Exit codes as ``maiaplan gate``: 0 advance, 3 hold, 4 rollback, 2 bad input or no answer.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from maiaplan.commands.gate import add_gate_arguments, judge, outcome_sentence
from maiaplan.output import emit
from maiaplan.render.gates import decision_text
from maiaplan.rollout.audit import append, audit_log_path, who
from maiaplan.rollout.report import decision_document, decision_json, iso
from maiaplan.rollout.stackfile import replace_if_unchanged, sha256, with_moment
from maiaplan.version import maiaplan_version
from planner.errors import InputError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "advance",
        help="gate the stack's traffic step, then move its stack file one step forward or back, on record",
        description=(
            "Judge the stack's traffic step on Prometheus metrics; on advance rewrite the stack file to the next "
            "(phase, step), on rollback to the previous one; record every decision in the audit log. "
            "Exit 0 advance, 3 hold, 4 rollback, 2 bad input or no answer from Prometheus."
        ),
    )
    add_gate_arguments(parser)
    parser.add_argument(
        "--expect-sha256",
        metavar="HEX",
        help="refuse unless the stack file still has this hash (the stack_sha256 of an earlier `maiaplan gate`)",
    )
    parser.add_argument("--dry-run", action="store_true", help="decide and show, but write neither file nor log")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    stack, decision, to = judge(args)
    if args.expect_sha256 and args.expect_sha256.lower() != stack.file.sha256:
        raise InputError(
            str(stack.file.path),
            "",
            f"has sha256 {stack.file.sha256[:12]}…, not the {args.expect_sha256[:12]}… expected: it changed "
            "since it was gated; nothing was written",
            "gate the stack again and pass the new stack_sha256",
        )
    after = with_moment(stack.file, to) if to is not None else stack.file.data
    applied = to is not None and not args.dry_run
    if applied:
        replace_if_unchanged(stack.file, after)
    document = decision_document(stack.name, decision, to, stack.file.sha256)
    if not args.dry_run:
        append(
            audit_log_path(stack.file.path),
            {
                **{key: value for key, value in document.items() if key != "exit_code"},
                "time": iso(time.time()),
                "at_unix": decision.at_unix,
                "applied": applied,
                "stack_file": stack.file.path.name,
                "stack_sha256_after": sha256(after) if applied else stack.file.sha256,
                "spec_sha256": stack.spec_sha256,
                "plan_sha256": stack.plan_sha256,
                "who": who(os.environ),
                "maiaplan_version": maiaplan_version(),
            },
        )
    if args.format == "json":
        emit(decision_json({**document, "applied": applied, "dry_run": args.dry_run}), None)
    else:
        emit(decision_text(stack.name, decision, to, outcome_sentence(decision, to, applied)), None)
    return decision.exit_code
