"""The preview for machines: ``pulumi preview --json``'s shape, plus the policy results it leaves out.

The top level follows the CLI's (``steps`` with ``op``, ``urn``, ``provider``, ``diffReasons``,
``detailedDiff``, ``oldState``/``newState``; ``changeSummary``; ``diagnostics``) and adds
``policies`` (every pack, every policy with the level it ran at and its violations: what
pulumi/pulumi#18851 asks of the CLI), ``outputs``, ``result`` and ``failOn``. Secrets are
``"[secret]"``, unknowns the engine's sentinel string, numbers as the engine prints them.
docs/preview.md describes every field.
"""

from __future__ import annotations

import json
from typing import Any

from maiaplan.formats.common import machine_value, project_path
from pulumi_dryrun.analyzer import Violation
from pulumi_dryrun.diff import PropertyChange, Step
from pulumi_dryrun.policy import PackResult, fails
from pulumi_dryrun.preview import PreviewResult
from pulumi_dryrun.resources import ResourceRecord

FORMAT_VERSION = 1


def render_json(result: PreviewResult, fail_on: str) -> str:
    return json.dumps(preview_document(result, fail_on), indent=2, ensure_ascii=False) + "\n"


def preview_document(result: PreviewResult, fail_on: str) -> dict[str, Any]:
    """The JSON report as a Python document."""
    failing = result.failing(fail_on)
    prior: dict[str, Any] | None = None
    if result.prior is not None:
        prior = {
            "file": project_path(result.prior.file, result) if result.prior.file else None,
            "stack": result.prior.rebased_from or result.stack,
        }
    return {
        "version": FORMAT_VERSION,
        "project": result.project,
        "stack": result.stack,
        "config": {
            key: "[secret]" if key in result.run.config.secret_keys else value
            for key, value in result.run.config.values.items()
        },
        "priorState": prior,
        "steps": [_step(step) for step in result.plan.steps],
        "changeSummary": {op: count for op, count in result.plan.counts.items() if count},
        "outputs": machine_value(dict(result.run.outputs)),
        "outputChanges": [_change(change) for change in result.plan.output_changes],
        "diagnostics": [
            {"severity": entry.severity, "message": entry.message.strip(), **({"urn": entry.urn} if entry.urn else {})}
            for entry in result.run.log
        ],
        "policies": {
            "packs": [_pack(pack, result, fail_on) for pack in result.policies.packs],
            "violations": [_violation(violation, fail_on) for violation in result.policies.violations],
            "counts": result.policies.counts(),
        },
        "failOn": fail_on,
        "result": "failed" if failing else "passed",
    }


def _step(step: Step) -> dict[str, Any]:
    record = step.new or step.old
    assert record is not None
    document: dict[str, Any] = {"op": step.op, "urn": step.urn, "type": step.type, "name": step.name}
    if step.parent:
        document["parent"] = step.parent
    if record.provider:
        document["provider"] = record.provider
    if step.old_urn:
        document["oldUrn"] = step.old_urn
    if step.changes:
        document["diffReasons"] = list(step.keys)
        document["detailedDiff"] = [_change(change) for change in step.changes]
    if step.old is not None:
        document["oldState"] = _state(step.old)
    if step.new is not None:
        document["newState"] = _state(step.new)
    return document


def _change(change: PropertyChange) -> dict[str, Any]:
    document: dict[str, Any] = {"path": change.path, "kind": change.kind}
    if change.kind != "add":
        document["old"] = machine_value(change.old)
    if change.kind != "delete":
        document["new"] = machine_value(change.new)
    return document


def _state(record: ResourceRecord) -> dict[str, Any]:
    state: dict[str, Any] = {"urn": record.urn, "type": record.type, "custom": record.custom}
    if record.id:
        state["id"] = record.id
    if record.parent:
        state["parent"] = record.parent
    if record.provider:
        state["provider"] = record.provider
    state["inputs"] = machine_value(dict(record.inputs))
    state["outputs"] = machine_value(dict(record.outputs))
    if record.dependencies:
        state["dependencies"] = list(record.dependencies)
    deps = {key: list(urns) for key, urns in record.property_dependencies.items() if urns}
    if deps:
        state["propertyDependencies"] = deps
    if record.protect:
        state["protect"] = True
    if record.external:
        state["external"] = True
    if record.source_position:
        state["sourcePosition"] = record.source_position
    return state


def _pack(pack: PackResult, result: PreviewResult, fail_on: str) -> dict[str, Any]:
    policies = []
    for policy in pack.info.policies:
        violations = pack.violations_of(policy)
        level = pack.level(policy).value
        if level == "disabled":
            status = "disabled"
        elif any(fails(violation, fail_on) for violation in violations):
            status = "failed"
        elif violations:
            status = "violated"
        else:
            status = "passed"
        policies.append(
            {
                "name": policy.name,
                "description": policy.description,
                "type": policy.policy_type.value,
                "enforcementLevel": level,
                "violations": len(violations),
                "status": status,
            }
        )
    return {
        "name": pack.info.name,
        "version": pack.info.version,
        "path": project_path(pack.directory, result),
        "policies": policies,
    }


def _violation(violation: Violation, fail_on: str) -> dict[str, Any]:
    document: dict[str, Any] = {
        "policyPack": violation.policy_pack_name,
        "policyPackVersion": violation.policy_pack_version,
        "policyName": violation.policy_name,
        "description": violation.description,
        "message": violation.message.strip(),
        "enforcementLevel": violation.enforcement_level.value,
        "urn": violation.urn,
        "waived": violation.waived,
        "failing": fails(violation, fail_on),
    }
    if violation.severity:
        document["severity"] = violation.severity
    return document
