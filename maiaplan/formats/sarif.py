"""Policy violations as SARIF 2.1.0, for code scanning (``github/codeql-action/upload-sarif``).

One rule per policy of every pack (``<pack>/<policy>``), one result per violation, located at the
line of the program that declared the resource (the registration's source position) or, for a
stack-wide violation, at the stack's config file. A failing violation is an ``error``, another
advisory one a ``warning``, a waived one a ``note`` with an accepted external suppression carrying
the waiver. ``automationDetails.id`` is per project and stack, so each stack's upload is its own
category.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from maiaplan.formats.common import tier, violation_location, workspace_path
from maiaplan.version import maiaplan_version
from pulumi_dryrun.analyzer import Violation
from pulumi_dryrun.policy import fails
from pulumi_dryrun.preview import PreviewResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {"mandatory": "error", "advisory": "warning", "remediate": "error", "disabled": "none"}


def render_sarif(result: PreviewResult, fail_on: str) -> str:
    return json.dumps(sarif_document(result, fail_on), indent=2, ensure_ascii=False) + "\n"


def sarif_document(result: PreviewResult, fail_on: str) -> dict[str, Any]:
    """The SARIF log as a Python document."""
    rules: list[dict[str, Any]] = []
    index: dict[tuple[str, str], int] = {}
    for pack in result.policies.packs:
        for policy in pack.info.policies:
            index[(pack.info.name, policy.name)] = len(rules)
            level = pack.level(policy).value
            rules.append(
                {
                    "id": f"{pack.info.name}/{policy.name}",
                    "name": policy.name,
                    "shortDescription": {"text": policy.description or policy.name},
                    "fullDescription": {"text": policy.description or policy.name},
                    "help": {"text": f"{policy.description} (policy pack {pack.info.name} {pack.info.version})"},
                    "defaultConfiguration": {"level": _LEVELS.get(level, "warning"), "enabled": level != "disabled"},
                    "properties": {
                        "policyPack": pack.info.name,
                        "policyPackVersion": pack.info.version,
                        "enforcementLevel": level,
                        "policyType": policy.policy_type.value,
                    },
                }
            )
    results = [
        _result(violation, index.get((violation.policy_pack_name, violation.policy_name)), result, fail_on)
        for violation in result.policies.violations
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "maiaplan",
                        "version": maiaplan_version(),
                        "semanticVersion": maiaplan_version(),
                        "rules": rules,
                    }
                },
                "automationDetails": {"id": f"maiaplan-preview/{result.project}/{result.stack}/"},
                "invocations": [
                    {"executionSuccessful": True, "exitCode": result.exit_code(fail_on)},
                ],
                "results": results,
            }
        ],
    }


def _result(violation: Violation, rule_index: int | None, result: PreviewResult, fail_on: str) -> dict[str, Any]:
    level = tier(violation)
    document: dict[str, Any] = {
        "ruleId": f"{violation.policy_pack_name}/{violation.policy_name}",
        "level": "error" if fails(violation, fail_on) else ("note" if level == "waived" else "warning"),
        "kind": "fail",
        "message": {"text": violation.message.strip() or violation.description},
        "locations": [_location(violation, result)],
        "partialFingerprints": {
            "maiaplanViolation/v1": hashlib.sha256(
                "\x00".join((violation.policy_pack_name, violation.policy_name, violation.urn)).encode("utf-8")
            ).hexdigest()
        },
        "properties": {"urn": violation.urn, "enforcementLevel": violation.enforcement_level.value},
    }
    if rule_index is not None:
        document["ruleIndex"] = rule_index
    if violation.waived:
        document["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": violation.message.strip()}
        ]
    return document


def _location(violation: Violation, result: PreviewResult) -> dict[str, Any]:
    record = result.run.by_urn().get(violation.urn)
    file, line = violation_location(violation, result)
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": workspace_path(file)},
            "region": {"startLine": line},
        },
        "logicalLocations": [
            {
                "name": record.name if record is not None else result.stack,
                "fullyQualifiedName": violation.urn,
                "kind": "resource",
            }
        ],
    }
