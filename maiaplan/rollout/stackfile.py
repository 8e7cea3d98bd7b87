"""A stack file (``Pulumi.<stack>.yaml``) read, and rewritten to another moment round-trip.

ruamel.yaml's round-trip mode keeps the user's comments, key order, quoting and every other key;
only ``maiaplan:phase`` and ``maiaplan:step`` change. The file is replaced atomically, and only if
its bytes are still the ones the gate judged (their SHA-256), so that an edit in between is never
overwritten.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import ScalarString

from maiaplan.output import rewrite_in_place
from maiaplan.rollout.moments import StackMoment
from planner.errors import InputError

PHASE_KEY = "maiaplan:phase"
STEP_KEY = "maiaplan:step"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StackFile:
    """The bytes of a stack file as read, and their hash."""

    path: Path
    data: bytes

    @property
    def sha256(self) -> str:
        return sha256(self.data)


def read_stack_file(path: Path) -> StackFile:
    """Read ``path``'s bytes.

    Raises
    ------
    InputError
        When it cannot be read.
    """
    try:
        return StackFile(path, path.read_bytes())
    except OSError as error:
        raise InputError(str(path), "", f"cannot be read ({error.strerror or error})", "check the path") from None


def _round_trip() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the user's long lines
    return yaml


def _same_kind(old: Any, value: int) -> Any:
    """``value`` in the shape the file gave the old value: a string (same quoting) stays a string."""
    if isinstance(old, ScalarString):
        return type(old)(str(value))
    if isinstance(old, str):
        return str(value)
    return value


def with_moment(stack: StackFile, moment: StackMoment) -> bytes:
    """The stack file's text with ``maiaplan:phase`` and ``maiaplan:step`` set to ``moment``.

    Raises
    ------
    InputError
        When the file is not YAML with a ``config`` mapping.
    """
    yaml = _round_trip()
    try:
        document = yaml.load(stack.data.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError) as error:
        raise InputError(str(stack.path), "", f"is not valid YAML ({error})", "correct the file") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise InputError(str(stack.path), "config", "is not a mapping", "give the stack file a config: mapping")
    for key, value in ((PHASE_KEY, moment.phase), (STEP_KEY, moment.step)):
        config[key] = _same_kind(config.get(key), value)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue().encode("utf-8")


def replace_if_unchanged(stack: StackFile, data: bytes) -> None:
    """Write ``data`` over the stack file atomically, if the file still has the bytes ``stack`` read.

    Raises
    ------
    InputError
        When the file changed since (naming both hashes), or cannot be written.
    """
    now = read_stack_file(stack.path)
    if now.sha256 != stack.sha256:
        raise InputError(
            str(stack.path),
            "",
            f"changed since the gate read it (sha256 {stack.sha256[:12]}… then, {now.sha256[:12]}… now); "
            "nothing was written",
            "run maiaplan advance again, so that the gate judges the file as it is",
        )
    try:
        rewrite_in_place(stack.path, data.decode("utf-8"))
    except InputError as error:
        raise InputError(str(stack.path), "", error.problem, "check the stack directory's permissions") from None
