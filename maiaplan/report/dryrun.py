"""The dry run as rows: changes by type and provider, the resource tree, policies and findings.

Pure functions over the preview's JSON report (docs/preview.md: ``steps``, ``changeSummary``,
``policies``), reading its documented fields with defaults.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]

# Operations in the order people read a diff; ``same`` last (nothing to do).
OPERATIONS = ("create", "update", "replace", "delete", "read", "same")
# Enforcement levels, the most severe first.
LEVELS = ("mandatory", "advisory", "remediate", "disabled")


def provider_of(resource_type: str) -> str:
    """The provider package of a type token: ``aws`` for ``aws:ec2/vpc:Vpc`` and for the provider
    resource ``pulumi:providers:aws``; ``maiaplan`` for a component; ``pulumi`` for the stack."""
    parts = resource_type.split(":")
    if len(parts) == 3 and parts[0] == "pulumi" and parts[1] == "providers":
        return parts[2]
    return parts[0]


def change_rows(preview: Mapping[str, Any]) -> list[Row]:
    """Resources per (type, operation), with the type's provider: the types with most changes
    first, then the most numerous, so that what the preview would do leads.

    Complexity: O(steps log steps).
    """
    counts = Counter((step.get("type", ""), step.get("op", "same")) for step in preview.get("steps", []))
    changed: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for (kind, op), count in counts.items():
        total[kind] += count
        if op != "same":
            changed[kind] += count
    rows = [
        {"type": kind, "provider": provider_of(kind), "op": op, "resources": count}
        for (kind, op), count in counts.items()
    ]
    return sorted(rows, key=lambda row: (-changed[row["type"]], -total[row["type"]], row["type"], _op_rank(row["op"])))


def provider_rows(preview: Mapping[str, Any]) -> list[Row]:
    """Resources per (provider, operation).

    Complexity: O(steps).
    """
    counts: Counter[tuple[str, str]] = Counter()
    for row in change_rows(preview):
        counts[row["provider"], row["op"]] += row["resources"]
    rows = [{"provider": provider, "op": op, "resources": count} for (provider, op), count in counts.items()]
    return sorted(rows, key=lambda row: (row["provider"], _op_rank(row["op"])))


def _op_rank(op: str) -> int:
    return OPERATIONS.index(op) if op in OPERATIONS else len(OPERATIONS)


@dataclass
class TreeNode:
    """One resource of the diff tree and its children (by parent URN, in the preview's order)."""

    urn: str
    type: str
    name: str
    op: str
    changes: list[Row] = field(default_factory=list)
    children: list[TreeNode] = field(default_factory=list)

    def count(self) -> int:
        """This resource and everything under it."""
        return 1 + sum(child.count() for child in self.children)


def diff_tree(preview: Mapping[str, Any]) -> list[TreeNode]:
    """The resources as a tree: the roots (no parent in the preview), each with its children.

    Complexity: O(steps).
    """
    nodes: dict[str, TreeNode] = {}
    parents: dict[str, str] = {}
    for step in preview.get("steps", []):
        urn = step.get("urn", "")
        nodes[urn] = TreeNode(
            urn=urn,
            type=step.get("type", ""),
            name=step.get("name", ""),
            op=step.get("op", "same"),
            changes=[
                {"path": c.get("path", ""), "kind": c.get("kind", ""), "old": c.get("old"), "new": c.get("new")}
                for c in step.get("detailedDiff", [])
            ],
        )
        if step.get("parent"):
            parents[urn] = step["parent"]
    roots: list[TreeNode] = []
    for urn, node in nodes.items():
        parent = nodes.get(parents.get(urn, ""))
        (parent.children if parent is not None else roots).append(node)
    return roots


def policy_rows(preview: Mapping[str, Any]) -> list[Row]:
    """Every policy of every pack: its level as run, its status and violation count.

    Complexity: O(policies).
    """
    return [
        {
            "pack": pack.get("name", ""),
            "policy": policy.get("name", ""),
            "level": policy.get("enforcementLevel", ""),
            "status": policy.get("status", ""),
            "violations": policy.get("violations", 0),
            "description": policy.get("description", ""),
        }
        for pack in preview.get("policies", {}).get("packs", [])
        for policy in pack.get("policies", [])
    ]


def finding_rows(preview: Mapping[str, Any]) -> list[Row]:
    """Every violation with its resource, the most severe level first (waived after the rest of
    their level).

    Complexity: O(violations log violations).
    """
    rows = [
        {
            "level": violation.get("enforcementLevel", ""),
            "pack": violation.get("policyPack", ""),
            "policy": violation.get("policyName", ""),
            "urn": violation.get("urn", ""),
            "message": violation.get("message", ""),
            "waived": bool(violation.get("waived", False)),
            "failing": bool(violation.get("failing", False)),
        }
        for violation in preview.get("policies", {}).get("violations", [])
    ]
    rank = {level: index for index, level in enumerate(LEVELS)}
    return sorted(rows, key=lambda row: (rank.get(row["level"], len(LEVELS)), row["waived"], row["policy"], row["urn"]))


def headline(preview: Mapping[str, Any]) -> Row:
    """Stack, prior state, changes per operation, policy counts and the result."""
    prior = preview.get("priorState")
    return {
        "project": preview.get("project", ""),
        "stack": preview.get("stack", ""),
        "prior": (prior or {}).get("stack") if prior else None,
        "changes": {
            op: n for op, n in sorted(preview.get("changeSummary", {}).items(), key=lambda item: _op_rank(item[0]))
        },
        "counts": preview.get("policies", {}).get("counts", {}),
        "result": preview.get("result", ""),
        "fail_on": preview.get("failOn", "mandatory"),
        "config": {k: v for k, v in sorted(preview.get("config", {}).items()) if k.startswith("maiaplan:")},
    }


def stack_position(preview: Mapping[str, Any]) -> Row | None:
    """Where the previewed stack stands in the plan: ``name``, ``phase``, ``step`` from its
    ``maiaplan:phase`` and ``maiaplan:step`` config; None for a stack that does not say."""
    config = preview.get("config", {})
    try:
        phase, step = int(config["maiaplan:phase"]), int(config["maiaplan:step"])
    except (KeyError, TypeError, ValueError):
        return None
    return {"name": preview.get("stack", ""), "phase": phase, "step": max(0, min(100, step))}
