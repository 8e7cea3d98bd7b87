"""The audit log: every decision of ``maiaplan advance`` (holds too), one JSON object per line.

It lives beside the stack file, ``Pulumi.<stack>.audit.jsonl``, and is only ever appended to.
docs/gates.md lists the fields.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from maiaplan.rollout.moments import StackMoment
from planner.errors import InputError

# Who ran it: the first of these set in the environment (an explicit name, then CI systems' actors).
WHO_VARIABLES = ("MAIAPLAN_ACTOR", "GITHUB_ACTOR", "GITLAB_USER_LOGIN", "BUILD_REQUESTEDFOR", "BUILDKITE_BUILD_CREATOR")


def audit_log_path(stack_file: Path) -> Path:
    """``stacks/Pulumi.pilot.yaml`` → ``stacks/Pulumi.pilot.audit.jsonl``."""
    return stack_file.with_name(f"{stack_file.stem}.audit.jsonl")


def who(environ: Mapping[str, str]) -> str | None:
    """Who runs the command, from the environment, or None when nothing says."""
    return next((environ[name] for name in WHO_VARIABLES if environ.get(name)), None)


def read_entries(path: Path) -> list[dict[str, Any]]:
    """Every entry of the log (none when it does not exist yet).

    Raises
    ------
    InputError
        When a line is not a JSON object: the log was edited by hand or damaged.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as error:
        raise InputError(str(path), "", f"cannot be read ({error.strerror or error})", "check the path") from None
    entries = []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            raise InputError(
                str(path), f"line {number}", "is not a JSON object", "restore the log from version control"
            )
        entries.append(entry)
    return entries


def reached_at(entries: list[dict[str, Any]], moment: StackMoment) -> float | None:
    """When the stack was last moved to ``moment`` (the ``at`` of that decision), or None if never."""
    for entry in reversed(entries):
        if entry.get("applied") and entry.get("to") == moment.as_dict():
            at = entry.get("at_unix")
            return float(at) if isinstance(at, int | float) else None
    return None


def rolled_back_into(entries: list[dict[str, Any]], moment: StackMoment) -> dict[str, Any] | None:
    """The rollback that brought the stack to ``moment``, when that was the last change applied."""
    applied = [entry for entry in entries if entry.get("applied")]
    last = applied[-1] if applied else None
    if last is not None and last.get("decision") == "rollback" and last.get("to") == moment.as_dict():
        return last
    return None


def append(path: Path, entry: Mapping[str, Any]) -> None:
    """Append one entry as one line, flushed to disk before returning.

    Raises
    ------
    InputError
        When the log cannot be written.
    """
    line = json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        with path.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        raise InputError(
            str(path), "", f"cannot be appended to ({error.strerror or error})", "check the directory's permissions"
        ) from None
