"""Gate decisions as JSON for machines (docs/gates.md); maiaplan/render/gates.py writes them for people."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from maiaplan.rollout.judge import GateDecision
from maiaplan.rollout.moments import StackMoment


def iso(seconds: float) -> str:
    """Seconds since the epoch as RFC 3339 UTC, to the second."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def decision_document(stack: str, decision: GateDecision, to: StackMoment | None, stack_sha256: str) -> dict[str, Any]:
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
