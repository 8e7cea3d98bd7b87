"""The preview for people, laid out like ``pulumi preview``: a tree, the changes, policies, counts.

``TextOptions`` carries the CLI's display flags: colour, ``--diff`` (every property of each create,
update, replace and delete, as ``pulumi preview --diff`` lists them), ``--suppress-outputs``, and
the terminal width every line is cut to (with ``…``) when printing to a terminal; ``None`` (piped, or
a file) leaves lines whole, so the bytes do not depend on the terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.cells import cell_len

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
from pulumi_dryrun.diff import PropertyChange, Step, property_changes
from pulumi_dryrun.preview import PreviewResult

_COLOURS = {"create": "32", "update": "33", "replace": "35", "delete": "31", "read": "36"}
_LEVEL_COLOURS = {"mandatory": "1;31", "advisory": "33", "waived": "2"}


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, code: str | None) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and code else text


@dataclass(frozen=True)
class TextOptions:
    """How the text report is laid out (see the module docstring)."""

    colour: bool = False
    diff: bool = False
    suppress_outputs: bool = False
    width: int | None = None


def render_text(result: PreviewResult, fail_on: str, options: TextOptions | None = None) -> str:
    """The preview as ``pulumi preview`` would print it, plus policies and the result line."""
    options = options or TextOptions()
    lines = _lines(result, fail_on, options)
    if options.width is not None:
        lines = [fit(line, options.width) for line in lines]
    return "\n".join(lines) + "\n"


def _lines(result: PreviewResult, fail_on: str, options: TextOptions) -> list[str]:
    paint = _Paint(options.colour)
    lines = [f"Previewing update ({result.stack}) of project {result.project}, offline:"]
    lines.append(_prior_line(result))
    lines.append("")
    lines.extend(_tree(result, paint))
    details = _details(result, paint, options.diff)
    if details:
        lines += ["", "Changes:", *details]
    outputs = [] if options.suppress_outputs else _outputs(result)
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
    return lines


_ESCAPE = re.compile(r"(\x1b\[[0-9;]*m)")


def fit(line: str, width: int) -> str:
    """``line`` cut to ``width`` terminal cells, ending in ``…`` when cut; colour codes kept (they
    take no cells) and closed."""
    if cell_len(_ESCAPE.sub("", line)) <= width:
        return line
    kept: list[str] = []
    room = max(width - 1, 0)
    coloured = False
    for part in _ESCAPE.split(line):
        if _ESCAPE.fullmatch(part):
            kept.append(part)
            coloured = True
            continue
        for character in part:
            cells = cell_len(character)
            if cells > room:
                room = -1
                break
            kept.append(character)
            room -= cells
        if room < 0:
            break
    return "".join(kept) + "…" + ("\x1b[0m" if coloured else "")


def _prior_line(result: PreviewResult) -> str:
    prior = result.prior
    if prior is None:
        return "Prior state: none (every resource is new)"
    source = project_path(prior.file, result) if prior.file else "given"
    if prior.rebased_from:
        return (
            f"Prior state: {source} (a snapshot of stack {prior.rebased_from!r}, compared as this stack's prior state)"
        )
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


def _details(result: PreviewResult, paint: _Paint, every_property: bool) -> list[str]:
    """Each update's and replacement's changed properties; with ``every_property`` (``--diff``),
    also each create's and delete's properties, and every step's URN."""
    lines: list[str] = []
    for row in tree_rows(result.plan):
        step = row.step
        changes = _shown_changes(step, every_property)
        if not changes:
            continue
        lines.append(paint(f" {SYMBOLS[step.op]} {step_label(step)} {step.name} ({step.op})", _COLOURS[step.op]))
        if every_property:
            lines.append(f"     [urn={step.urn}]")
        for change in changes:
            if change.kind == "add":
                lines.append(f"     + {change.path}: {display_value(change.new)}")
            elif change.kind == "delete":
                lines.append(f"     - {change.path}: {display_value(change.old)}")
            else:
                lines.append(f"     ~ {change.path}: {display_value(change.old)} => {display_value(change.new)}")
    return lines


def _shown_changes(step: Step, every_property: bool) -> tuple[PropertyChange, ...]:
    if step.op in ("update", "replace"):
        return step.changes
    if not every_property:
        return ()
    if step.op == "create" and step.new is not None:
        return tuple(property_changes({}, dict(step.new.inputs)))
    if step.op == "delete" and step.old is not None:
        return tuple(property_changes(dict(step.old.inputs), {}))
    return ()


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
            lines.append(f"  ~ {change.path:<{width}}: {display_value(change.old)} => {display_value(change.new)}")
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
