"""The dry run's section of the report: what would change, the resource tree, what the policies found."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from typing import Any

from maiaplan.report import charts, dryrun
from maiaplan.report.dryrun import TreeNode
from maiaplan.report.page import Column, Figure, Section, Table, num, table_html

# maiaplan's own stack config: the keys that say where the stack stands in the plan.
STACK_KEYS = ("maiaplan:spec", "maiaplan:phase", "maiaplan:step")


def dryrun_section(preview: Mapping[str, Any]) -> Section:
    """Change counts by type and provider, the policies by level, the findings with their
    resources, and the diff tree folded."""
    head = dryrun.headline(preview)
    by_type, by_provider = dryrun.change_rows(preview), dryrun.provider_rows(preview)
    policies, findings = dryrun.policy_rows(preview), dryrun.finding_rows(preview)
    changes = ", ".join(f"{count} to {op}" for op, count in head["changes"].items()) or "no change"
    counts = head["counts"]
    where = "; ".join(f"{key.split(':', 1)[1]} {head['config'][key]}" for key in STACK_KEYS if key in head["config"])
    lead = (
        f"Stack {head['stack']} of project {head['project']}"
        + (f" ({where})" if where else "")
        + (f", against the prior state of {head['prior']}" if head["prior"] else ", against an empty stack")
        + f": {changes}. Policies: {counts.get('mandatory', 0)} mandatory, {counts.get('advisory', 0)} advisory, "
        f"{counts.get('waived', 0)} waived violation(s); the preview {head['result']} (fail on {head['fail_on']})."
    )
    figures = [
        Figure(
            chart_id="chart-changes",
            title="Changes",
            caption=(
                "Every resource of the stack by type and by provider package, coloured by what the preview "
                "would do to it (grey: unchanged); the types with most changes first."
            ),
            spec=charts.changes(by_type, by_provider),
            tables=[
                Table(
                    "Changes by provider",
                    [Column("provider", "provider"), Column("op", "operation"), num("resources", "resources")],
                    by_provider,
                ),
                Table(
                    "Changes by type",
                    [Column("type", "type"), Column("op", "operation"), num("resources", "resources")],
                    by_type,
                ),
            ],
        )
    ]
    if policies:
        figures.append(
            Figure(
                chart_id="chart-policies",
                title="Policies",
                caption="Every policy of every pack by the enforcement level it ran at, coloured by its status.",
                spec=charts.policies(policies),
                tables=[
                    Table(
                        "Policies",
                        [
                            Column("pack", "pack"),
                            Column("policy", "policy"),
                            Column("level", "level"),
                            Column("status", "status"),
                            num("violations", "violations"),
                        ],
                        policies,
                    )
                ],
            )
        )
    return Section(
        anchor="dry-run",
        title=f"Dry run: {head['stack']}",
        lead=lead,
        figures=figures,
        extra_html=[findings_html(findings), tree_html(dryrun.diff_tree(preview))],
    )


def findings_html(findings: Sequence[Mapping[str, Any]]) -> str:
    """The violations grouped by enforcement level, each with its resource."""
    if not findings:
        return '<h3>Findings</h3><p class="empty">No policy violation.</p>'
    parts = ["<h3>Findings by enforcement level</h3>"]
    levels = list(dict.fromkeys(row["level"] for row in findings))
    for level in levels:
        rows = [
            {**row, "state": "waived" if row["waived"] else ("fails the preview" if row["failing"] else "reported")}
            for row in findings
            if row["level"] == level
        ]
        parts.append(
            table_html(
                Table(
                    f"{level} ({len(rows)})",
                    [
                        Column("policy", "policy"),
                        Column("urn", "resource"),
                        Column("message", "message"),
                        Column("state", "effect"),
                    ],
                    rows,
                )
            )
        )
    return "\n".join(parts)


def tree_html(roots: Sequence[TreeNode]) -> str:
    """The resource tree, each resource with children folded in a ``<details>``, its changed
    properties listed under it."""
    total = sum(root.count() for root in roots)
    inner = "\n".join(_node_html(root) for root in roots)
    return f'<h3>Resources</h3><details class="tree"><summary>The diff tree ({total} resources, providers included)</summary>\n{inner}\n</details>'


def _node_html(node: TreeNode) -> str:
    label = (
        f'<span class="op op-{html.escape(node.op)}">{html.escape(node.op)}</span> '
        f'<b>{html.escape(node.name)}</b> <span class="type">{html.escape(node.type)}</span>'
    )
    changes = ""
    if node.changes:
        items = "".join(
            f"<li>{html.escape(change['kind'])} {html.escape(change['path'])}: "
            f"{html.escape(_short(change['old']))} → {html.escape(_short(change['new']))}</li>"
            for change in node.changes
        )
        changes = f'<ul class="changes">{items}</ul>'
    if not node.children:
        return f'<div class="leaf">{label}{changes}</div>'
    children = "\n".join(_node_html(child) for child in node.children)
    return f"<details><summary>{label} ({node.count() - 1} below)</summary>{changes}\n{children}\n</details>"


def _short(value: Any, limit: int = 120) -> str:
    text = (
        "–"
        if value is None
        else json.dumps(value, sort_keys=True, ensure_ascii=False)
        if not isinstance(value, str)
        else value
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"
