"""Gate decisions as text for people and JSON for machines (docs/gates.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from maiaplan.render.tables import table
from maiaplan.rollout.judge import CheckResult, GateDecision
from maiaplan.rollout.moments import StackMoment


def iso(seconds: float) -> str:
    """Seconds since the epoch as RFC 3339 UTC, to the second."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def decision_document(
    stack: str, decision: GateDecision, to: StackMoment | None, stack_sha256: str
) -> dict[str, Any]:
    """The decision as the JSON of ``maiaplan gate --format json`` (and the audit log's evidence)."""
    return {
        "stack": stack,
        "stack_sha256": stack_sha256,
        "at": iso(decision.at_unix),
        "from": StackMoment(decision.phase, decision.step).as_dict(),
        "to": to.as_dict() if to is not None else None,
        "decision": decision.decision,
        "exit_code": decision.exit_code,
        "reason": decision.reason,
        "evidence": [check.model_dump(mode="json") for check in decision.checks],
    }


def decision_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


def _row(check: CheckResult) -> list[object]:
    return [
        check.workload,
        check.cluster,
        check.name,
        check.verdict.upper(),
        check.values,
        f"{check.failures}/{check.failure_limit}",
        f"{check.samples:.6g}/{check.min_samples}",
        _figure(check.worst),
        f"{check.comparator} {check.threshold:g}",
    ]


def decision_text(stack: str, decision: GateDecision, to: StackMoment | None, outcome: str) -> str:
    """The decision, a table of the checks, then each check's query and reason."""
    moment = StackMoment(decision.phase, decision.step)
    lines = [
        f"stack {stack}: {moment}, judged at {iso(decision.at_unix)}",
        f"decision: {decision.decision.upper()} (exit {decision.exit_code}): {decision.reason}",
        outcome if to is None else f"{outcome} {to}",
    ]
    if decision.checks:
        lines += [
            "",
            table(
                ("WORKLOAD", "CLUSTER", "CHECK", "VERDICT", "VALUES", "FAILED/LIMIT", "SAMPLES/MIN", "WORST", "PASS"),
                [_row(check) for check in decision.checks],
                right=range(4, 8),
            ),
            "",
        ]
        for check in decision.checks:
            lines += [
                f"{check.name} of {check.workload} on {check.cluster}, {iso(check.start_unix)} to "
                f"{iso(check.end_unix)}: {check.reason}",
                f"  query: {check.query}",
            ]
            if check.samples_query:
                lines.append(f"  samples: {check.samples_query}")
    return "\n".join(lines)
