"""The preview as a pull-request comment: summary, change counts, the diff folded, violations."""

from __future__ import annotations

from maiaplan.formats.common import (
    display_value,
    result_line,
    step_label,
    summary_lines,
    tier,
    tree_rows,
    violation_resource,
)
from maiaplan.render.markdown import escape_cell, escape_text
from pulumi_dryrun.preview import PreviewResult

# A hidden marker, so a CI job can find and update its own comment instead of adding another.
COMMENT_MARKER = "<!-- maiaplan-preview:{project}/{stack} -->"
# GitHub's diff highlighting colours lines by their first character: '!' marks a change.
_DIFF_MARKS = {"create": "+", "update": "!", "replace": "!", "delete": "-", "read": " ", "same": " "}
_COUNTED = ("create", "update", "replace", "delete", "read", "same")


def render_markdown(result: PreviewResult, fail_on: str, suppress_outputs: bool = False) -> str:
    failed = bool(result.failing(fail_on))
    lines = [
        COMMENT_MARKER.format(project=result.project, stack=result.stack),
        f"## {'❌' if failed else '✅'} Preview of `{result.project}` / `{result.stack}`",
        "",
    ]
    if result.summary_markdown:
        lines += [result.summary_markdown.strip(), ""]
    lines += [f"**{escape_text(result_line(result, fail_on).capitalize())}.**", ""]
    counts = result.plan.counts
    lines += [
        "| " + " | ".join(op.capitalize() for op in _COUNTED) + " |",
        "|" + "---:|" * len(_COUNTED),
        "| " + " | ".join(str(counts.get(op, 0)) for op in _COUNTED) + " |",
        "",
    ]
    rows = tree_rows(result.plan)
    changed = result.plan.changed
    lines += [f"<details><summary>Resource changes ({changed})</summary>", "", "```diff"]
    if rows:
        for row in rows:
            step = row.step
            op = "" if step.op == "same" else f" ({step.op})"
            lines.append(f"{_DIFF_MARKS[step.op]} {row.guide}{step_label(step)} {step.name}{op}")
            if step.op in ("update", "replace"):
                indent = " " * (len(row.guide) + 4)
                for change in step.changes:
                    lines.append(_change_line(change.kind, change.path, change.old, change.new, indent))
    else:
        lines.append("  (no changes)")
    lines += ["", *(f"  {line}" for line in summary_lines(result.plan)), "```", "", "</details>", ""]
    if result.plan.output_changes and not suppress_outputs:
        lines += ["<details><summary>Stack outputs</summary>", "", "```diff"]
        for change in result.plan.output_changes:
            lines.append(_change_line(change.kind, change.path, change.old, change.new, ""))
        lines += ["```", "", "</details>", ""]
    lines += _violations(result)
    return "\n".join(lines).rstrip() + "\n"


def _change_line(kind: str, path: str, old: object, new: object, indent: str) -> str:
    if kind == "add":
        return f"+{indent}{path}: {display_value(new)}"
    if kind == "delete":
        return f"-{indent}{path}: {display_value(old)}"
    return f"!{indent}{path}: {display_value(old)} => {display_value(new)}"


def _violations(result: PreviewResult) -> list[str]:
    if not result.policies.packs:
        return ["_No policy pack was run._"]
    packs = ", ".join(f"`{pack.info.name}@{pack.info.version}`" for pack in result.policies.packs)
    violations = result.policies.violations
    if not violations:
        return ["### Policies", "", f"No violations ({packs})."]
    order = {"mandatory": 0, "advisory": 1, "waived": 2}
    lines = [f"### Policy violations ({packs})", "", "| Level | Policy | Resource | Message |", "|---|---|---|---|"]
    icons = {"mandatory": "🔴", "advisory": "🟡", "waived": "⚪"}
    for violation in sorted(violations, key=lambda v: (order[tier(v)], v.policy_pack_name, v.policy_name, v.urn)):
        level = tier(violation)
        lines.append(
            f"| {icons[level]} {level} | `{violation.policy_pack_name}/{violation.policy_name}` "
            f"| {escape_cell(violation_resource(violation, result))} | {escape_cell(violation.message.strip())} |"
        )
    return lines
