"""Writing results: to standard output, or to the ``--out`` file, safely.

What ``--out PATH`` does (README "Output files" says the same):

- a regular file, or a path that does not exist yet, is written atomically: a temporary file in the
  same directory, flushed, then renamed over the path, so a reader never sees half a result and an
  interrupted command leaves the old file as it was. A new file gets mode ``0666 & ~umask``, as a
  shell redirection would give it; an existing file keeps its mode.
- a symbolic link is followed: the file it points to is replaced, the link stays a link.
- standard output or standard error themselves (``/dev/stdout``, ``/dev/stderr``, ``/dev/fd/1``,
  whatever they are redirected to) are written as the streams they are.
- a FIFO or a character device (``/dev/null``, a terminal) is written through, never replaced.
  A write error there (``/dev/full``: no space left) is bad input, exit 2.
- refused, exit 2 with the reason: a file the command itself read (its spec, its stack file, its
  waivers, …), a directory, a block device or socket, and a path whose directory does not exist
  (maiaplan does not create directories).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from planner.errors import InputError

_read_paths: set[str] = set()
_recording = False


def _record_reads(event: str, args: tuple[Any, ...]) -> None:
    """An audit hook: remember every file opened for reading while :func:`record_inputs` is on."""
    if not _recording or event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    mode, flags = (args[1], args[2]) if len(args) >= 3 else (None, 0)
    if isinstance(mode, str):
        reading = "r" in mode or "+" in mode
    else:
        reading = isinstance(flags, int) and (flags & os.O_ACCMODE) != os.O_WRONLY
    if reading:
        _read_paths.add(os.fsdecode(args[0]))


def record_inputs() -> None:
    """From now on, remember the files this process reads, so that ``--out`` refuses to overwrite one.

    The CLI calls it before running each command (forgetting what earlier commands of the process
    read); it sees every reader (spec, stack file, waivers, state) without each declaring its files.
    An audit hook cannot be removed, so it is added once and stays.
    """
    global _recording
    _read_paths.clear()
    if not _recording:
        sys.addaudithook(_record_reads)
        _recording = True


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _is_input(target: os.stat_result, protect: Iterable[Path | str]) -> str | None:
    """The input file (given, or recorded as read) that ``target`` is, if any: only a regular file
    can be destroyed by writing it (a FIFO or device read and written is a stream, not a file)."""
    if not stat.S_ISREG(target.st_mode):
        return None
    for candidate in (*(str(p) for p in protect), *sorted(_read_paths)):
        try:
            if _same_file(os.stat(candidate), target):
                return candidate
        except OSError:
            continue
    return None


def _refuse(path: Path, problem: str, fix: str) -> InputError:
    return InputError(str(path), "--out", problem, fix)


def write_atomic(path: Path, text: str, protect: Iterable[Path | str] = ()) -> None:
    """Write ``text`` to ``path`` as the module docstring says: atomically, or through a stream.

    Parameters
    ----------
    path
        The ``--out`` path.
    text
        The whole result.
    protect
        Input files the path must not be (besides every file recorded as read).

    Raises
    ------
    InputError
        When the path is refused or cannot be written (exit 2); the old file, if any, is untouched.
    """
    path = Path(path)
    try:
        target = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        target = None
    except OSError as error:
        raise _refuse(path, f"cannot be written ({error.strerror})", "give a writable file path") from None
    if target is not None:
        source = _is_input(target, protect)
        if source is not None:
            raise _refuse(
                path,
                f"is {source}, a file this command reads; writing the result there would destroy its input",
                "write the result to another file",
            )
        for stream in (sys.stdout, sys.stderr):
            if _is_stream(stream, target):
                _write_stream(path, stream, text)
                return
        if stat.S_ISDIR(target.st_mode):
            raise _refuse(
                path, "cannot be written (it is a directory)", "give a file path inside it, e.g. DIR/result.txt"
            )
        if stat.S_ISFIFO(target.st_mode) or stat.S_ISCHR(target.st_mode):
            _write_through(path, text)
            return
        if not stat.S_ISREG(target.st_mode):
            raise _refuse(path, "is neither a regular file nor a FIFO or character device", "give a file path")
    real = Path(os.path.realpath(path))  # a link's target, so that the link stays a link
    if not real.parent.is_dir():
        raise _refuse(
            path,
            f"cannot be written: the directory {real.parent} does not exist",
            f"create it first (mkdir -p {real.parent}) or write elsewhere",
        )
    try:
        _replace(real, text, None if target is None else stat.S_IMODE(target.st_mode))
    except OSError as error:
        raise _refuse(path, f"cannot be written ({error.strerror or error})", "give a writable file path") from None


def _is_stream(stream: TextIO, target: os.stat_result) -> bool:
    try:
        return _same_file(os.fstat(stream.fileno()), target)
    except (OSError, ValueError, AttributeError):  # a replaced stream (tests, pytest's capture) has no fd
        return False


def _write_stream(path: Path, stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except OSError as error:
        if error.errno == errno.EPIPE:
            raise
        raise _refuse(path, f"cannot be written ({error.strerror or error})", "write elsewhere") from None


def _write_through(path: Path, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as handle:  # opens what is there: no temporary file
            handle.write(text)
    except OSError as error:
        raise _refuse(path, f"cannot be written ({error.strerror or error})", "write elsewhere") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _replace(path: Path, text: str, mode: int | None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), mode if mode is not None else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def rewrite_in_place(path: Path, text: str) -> None:
    """Replace an input file that the command edits on purpose (``maiaplan advance``'s stack file):
    atomically, keeping the file's mode, a link staying a link. Unlike :func:`write_atomic` this is
    not an ``--out`` path, so that the command read it is the point, not a reason to refuse.

    Raises
    ------
    InputError
        When the file cannot be written (exit 2); the old file is untouched.
    """
    real = Path(os.path.realpath(path))
    try:
        _replace(real, text, stat.S_IMODE(os.stat(real).st_mode))
    except OSError as error:
        raise _refuse(
            Path(path), f"cannot be written ({error.strerror or error})", "give a writable file path"
        ) from None


def emit(text: str, out: Path | None, protect: Iterable[Path | str] = ()) -> None:
    """Print ``text`` (ending in one newline) or write it to ``out`` (:func:`write_atomic`)."""
    if not text.endswith("\n"):
        text += "\n"
    if out is None:
        sys.stdout.write(text)  # write errors (a full disk, a closed pipe) are the CLI's to report
        sys.stdout.flush()
    else:
        write_atomic(out, text, protect)
