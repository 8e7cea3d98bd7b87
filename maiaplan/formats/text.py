"""The preview for people, laid out like ``pulumi preview``: a tree, the changes, policies, counts."""

from __future__ import annotations

from maiaplan.formats.common import (
    SYMBOLS,
    display_value,
    project_path,
    result_line,
    step_label,
    summary_lines,
    tier,
    tree_rows,
    violation_resource,
)
from pulumi_dryrun.diff import Step
from pulumi_dryrun.preview import PreviewResult

_COLOURS = {"create": "32", "update": "33", "replace": "35", "delete": "31", "read": "36"}
_LEVEL_COLOURS = {"mandatory": "1;31", "advisory": "33", "waived": "2"}


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str | None) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and code else text


def render_text(result: PreviewResult, fail_on: str, colour: bool = False) -> str:
    """The preview as ``pulumi preview`` would print it, plus policies and the result line."""
    paint = _Paint(colour)
    lines = [f"Previewing update ({result.stack}) of project {result.project}, offline:"]
    lines.append(_prior_line(result))
    lines.append("")
    lines.extend(_tree(result, paint))
    details = _details(result, paint)
    if details:
        lines += ["", "Changes:", *details]
    outputs = _outputs(result)
    if outputs:
        lines += ["", "Outputs:", *outputs]
    if result.run.log:
        lines += ["", "Diagnostics:"]
        lines += [f"  {entry.severity}: {entry.message.strip()}" for entry in result.run.log]
    if result.policies.packs:
        lines += ["", "Policies:", *_policies(result, paint)]
    lines += ["", "Resources:"]
    lines += [f"    {paint(line, _summary_colour(line))}" for line in summary_lines(result.plan)]
    failed = bool(result.failing(fail_on))
    lines += ["", paint(f"Result: {result_line(result, fail_on)}", "1;31" if failed else "32")]
    return "\n".join(lines) + "\n"


def _prior_line(result: PreviewResult) -> str:
    prior = result.prior
    if prior is None:
        return "Prior state: none (every resource is new)"
    source = project_path(prior.file, result) if prior.file else "given"
    if prior.rebased_from:
        return f"Prior state: {source} (a snapshot of stack {prior.rebased_from!r}, compared as this stack's prior state)"
    return f"Prior state: {source}"


def _tree(result: PreviewResult, paint: _Paint) -> list[str]:
    rows = tree_rows(result.plan)
    if not rows:
        return ["     (no changes)"]
    type_width = max(len("Type"), *(len(row.guide + step_label(row.step)) for row in rows))
    name_width = max(len("Name"), *(len(row.step.name) for row in rows))
    plan_width = max(len("Plan"), *(len(row.step.op) for row in rows))
    header = f"     {'Type':<{type_width}}  {'Name':<{name_width}}  {'Plan':<{plan_width}}  Info"
    lines = [header.rstrip()]
    for row in rows:
        step = row.step
        symbol = SYMBOLS[step.op]
        op = "" if step.op == "same" else step.op
        line = (
            f" {symbol:<3} {row.guide + step_label(step):<{type_width}}  {step.name:<{name_width}}  "
            f"{op:<{plan_width}}  {_info(step)}"
        ).rstrip()
        lines.append(paint(line, _COLOURS.get(step.op)))
    return lines


def _info(step: Step) -> str:
    notes = []
    if step.changes:
        marks = {"add": "+", "delete": "-", "update": "~"}
        keys: dict[str, str] = {}
        for change in step.changes:
            keys.setdefault(change.key, marks[change.kind] if change.path == change.key else "~")
        notes.append("[diff: " + ", ".join(f"{mark}{key}" for key, mark in keys.items()) + "]")
    if step.old_urn:
        notes.append(f"[aliased from {step.old_urn}]")
    return " ".join(notes)


def _details(result: PreviewResult, paint: _Paint) -> list[str]:
    lines: list[str] = []
    for step in result.plan.steps:
        if step.op not in ("update", "replace") or not step.changes:
            continue
        lines.append(paint(f" {SYMBOLS[step.op]} {step_label(step)} {step.name} ({step.op})", _COLOURS[step.op]))
        for change in step.changes:
            if change.kind == "add":
                lines.append(f"     + {change.path}: {display_value(change.new)}")
            elif change.kind == "delete":
                lines.append(f"     - {change.path}: {display_value(change.old)}")
            else:
                lines.append(f"     ~ {change.path}: {display_value(change.old)} => {display_value(change.new)}")
    return lines


def _outputs(result: PreviewResult) -> list[str]:
    changes = result.plan.output_changes
    if not changes:
        return []
    width = max(len(change.path) for change in changes)
    lines = []
    for change in changes:
        if change.kind == "add":
            lines.append(f"  + {change.path:<{width}}: {display_value(change.new)}")
        elif change.kind == "delete":
            lines.append(f"  - {change.path:<{width}}: {display_value(change.old)}")
        else:
            lines.append(
                f"  ~ {change.path:<{width}}: {display_value(change.old)} => {display_value(change.new)}"
            )
    return lines


def _policies(result: PreviewResult, paint: _Paint) -> list[str]:
    lines = []
    for pack in result.policies.packs:
        failed = any(not violation.waived and violation.blocking for violation in pack.violations)
        mark = "❌" if failed else ("⚠️ " if pack.violations else "✅")
        lines.append(f"    {mark} {pack.info.name}@v{pack.info.version} ({project_path(pack.directory, result)})")
        for violation in pack.violations:
            level = tier(violation)
            lines.append(
                "        - "
                + paint(f"[{level}]", _LEVEL_COLOURS.get(level))
                + f"  {violation.policy_name}  ({violation_resource(violation, result)})"
            )
            if violation.description:
                lines.append(f"          {violation.description}")
            for message_line in violation.message.strip().splitlines():
                lines.append(f"          {message_line}")
    return lines


def _summary_colour(line: str) -> str | None:
    for op, symbol in SYMBOLS.items():
        if op != "same" and line.startswith(f"{symbol} "):
            return _COLOURS[op]
    return None
