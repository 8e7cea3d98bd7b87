"""Writing results: to stdout, or atomically to a file (never a partial file)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from planner.errors import InputError


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename.

    Raises
    ------
    InputError
        When the path cannot be written (a directory, no permission, no such parent): exit 2.
    """
    path = Path(path)
    try:
        _replace(path, text)
    except OSError as error:
        raise InputError(
            str(path), "--out", f"cannot be written ({error.strerror or error})", "give a writable file path"
        ) from None


def _replace(path: Path, text: str) -> None:
    if path.is_dir():
        raise IsADirectoryError(21, "it is a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def emit(text: str, out: Path | None) -> None:
    """Print ``text`` (ending in one newline) or write it atomically to ``out``."""
    if not text.endswith("\n"):
        text += "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text)
