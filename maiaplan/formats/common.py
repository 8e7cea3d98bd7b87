"""What the preview formats share: value display, step symbols, the tree of shown steps."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_dryrun.analyzer import Violation
from pulumi_dryrun.diff import Plan, Step
from pulumi_dryrun.preview import PreviewResult
from pulumi_dryrun.urns import STACK_TYPE, display_type
from pulumi_dryrun.values import REDACTED, is_secret, is_unknown, plain_numbers, redact


def project_path(path: Path, result: PreviewResult) -> str:
    """``path`` relative to the project's directory (``policies``, ``../guard``), so that a report is
    the same bytes in every checkout."""
    return Path(os.path.relpath(Path(path).resolve(), result.run.project.directory)).as_posix()


# The CLI's symbols for each operation.
SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "read": ">", "same": " "}
VERBS = {
    "create": "to create",
    "update": "to update",
    "replace": "to replace",
    "delete": "to delete",
    "read": "to read",
}
UNKNOWN_TEXT = "[unknown]"
_LONGEST_VALUE = 160


def display_value(value: Any, limit: int = _LONGEST_VALUE) -> str:
    """A property value for people: secrets and unknowns named, numbers as the engine prints them."""
    if is_secret(value):
        return REDACTED
    if is_unknown(value):
        return UNKNOWN_TEXT
    text = json.dumps(_readable(value), ensure_ascii=False, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def machine_value(value: Any) -> Any:
    """A property value for machines: secrets redacted, numbers as the engine prints them."""
    return plain_numbers(redact(value))


def _readable(value: Any) -> Any:
    if is_secret(value):
        return REDACTED
    if is_unknown(value):
        return UNKNOWN_TEXT
    if isinstance(value, dict):
        return {key: _readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_readable(item) for item in value]
    return plain_numbers(value)


@dataclass(frozen=True)
class TreeRow:
    """A line of the resource tree: the guide drawn before the type (``├─ ``, ``│  └─ ``)."""

    step: Step
    guide: str


_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """``text`` split into runs of digits (compared as numbers) and of other characters, so that
    ``host-2`` sorts before ``host-10``."""
    return tuple((1, int(part)) if part.isdigit() else (0, part) for part in _DIGITS.split(text) if part)


def tree_rows(plan: Plan) -> list[TreeRow]:
    """The shown steps (changes and their ancestors) as tree lines, parents before children.

    Siblings are in natural order of their URN (type, then name; ``host-2`` before ``host-10``),
    deletions after the resources the program registers: the engine's records carry no registration
    order (the program's registrations arrive concurrently, so their order is not reproducible), and
    this order is the same on every run.
    """
    shown = plan.shown()
    shown_urns = {step.urn for step in shown}
    children: dict[str | None, list[Step]] = {}
    for step in shown:
        parent = step.parent if step.parent in shown_urns else None
        children.setdefault(parent, []).append(step)
    for siblings in children.values():
        siblings.sort(key=lambda step: (step.op == "delete", natural_key(step.urn)))
    rows: list[TreeRow] = []

    def walk(parent: str | None, prefix: str, top: bool) -> None:
        siblings = children.get(parent, [])
        for index, step in enumerate(siblings):
            last = index == len(siblings) - 1
            guide = "" if top else prefix + ("└─ " if last else "├─ ")
            rows.append(TreeRow(step, guide))
            walk(step.urn, "" if top else prefix + ("   " if last else "│  "), False)

    walk(None, "", True)
    return rows


def step_label(step: Step) -> str:
    return display_type(step.type)


def summary_lines(plan: Plan) -> list[str]:
    """``+ 3 to create`` and friends, then ``N changes. M unchanged``."""
    lines = [f"{SYMBOLS[op]} {plan.counts[op]} {VERBS[op]}" for op in VERBS if plan.counts.get(op)]
    changes = plan.changed
    tail = f"{changes} change{'s' if changes != 1 else ''}" if changes else "no changes"
    same = plan.counts.get("same", 0)
    if same:
        tail += f". {same} unchanged"
    lines.append(tail)
    return lines


def tier(violation: Violation) -> str:
    """How a violation is listed: ``mandatory``, ``advisory``, or ``waived`` (whatever its level)."""
    return "waived" if violation.waived else violation.enforcement_level.value


def violation_resource(violation: Violation, result: PreviewResult) -> str:
    """``type name`` of the violating resource, or the stack for a stack-wide violation."""
    record = result.run.by_urn().get(violation.urn)
    if record is None or record.type == STACK_TYPE:
        return f"stack {result.stack}"
    return f"{display_type(record.type)} {record.name}"


def violation_location(violation: Violation, result: PreviewResult) -> tuple[Path, int]:
    """The file and line a violation is reported at: the program line that declared the resource;
    for a stack-wide violation (or a resource with no source position), the stack's config file."""
    record = result.run.by_urn().get(violation.urn)
    if record is not None and record.type != STACK_TYPE and record.source_position:
        path, _, number = record.source_position.rpartition(":")
        if path and number.isdigit():
            return result.run.project.directory / path, int(number)
    return result.run.config.file, 1


def workspace_path(path: Path) -> str:
    """A path relative to the working directory (a repository checkout in CI), else a file URI."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path(os.getcwd()).resolve()).as_posix()
    except ValueError:
        return resolved.as_uri()


def result_line(result: PreviewResult, fail_on: str) -> str:
    """One sentence: passed or failed, and why."""
    failing = result.failing(fail_on)
    counts = result.policies.counts()
    if failing:
        return (
            f"failed: {len(failing)} violation{'s' if len(failing) != 1 else ''} at or above {fail_on}"
            f" ({counts['mandatory']} mandatory, {counts['advisory']} advisory, {counts['waived']} waived)"
        )
    if result.policies.packs:
        return (
            f"passed: no violation at or above {fail_on}"
            f" ({counts['mandatory']} mandatory, {counts['advisory']} advisory, {counts['waived']} waived)"
        )
    return "passed: no policy pack was run"
