"""A program's failure as a clear ``DryRunError``: the program's own frame first, not the SDK's."""

from __future__ import annotations

import traceback
from pathlib import Path

from pulumi.config import ConfigMissingError, ConfigTypeError

from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.monitor import LogEntry, is_program_file
from pulumi_dryrun.project import Project, StackConfig

# How many of the program's outer frames the message lists after the innermost one.
_OUTER_FRAMES = 3


def program_error(error: BaseException, project: Project, config: StackConfig) -> DryRunError:
    """The ``DryRunError`` to report for an exception that escaped the program.

    An ``DryRunError`` the program raised itself is passed through; missing or ill-typed config
    names the key and the stack file; anything else names the innermost frame of the program's own
    code, the exception, and up to three outer program frames.
    """
    for link in _chain(error):
        if isinstance(link, DryRunError):
            return link
        if isinstance(link, ConfigMissingError):
            return DryRunError(
                str(config.file),
                f"config.{link.key}",
                f"the program requires configuration value {link.key!r}, which stack {config.stack!r} does not set.",
                f"add `{link.key}: <value>` under `config:` in {config.file.name}"
                + (" (as a secret)" if link.secret else "")
                + ".",
            )
        if isinstance(link, ConfigTypeError):
            return DryRunError(
                str(config.file),
                f"config.{link.key}",
                f"configuration value {link.value!r} is not a valid {link.expect_type}.",
                f"give {link.key} a {link.expect_type} value in {config.file.name}.",
            )
    origin, frames = _program_frames(error, project.directory)
    message = f"{type(origin).__name__}: {origin}".rstrip(": ")
    if not frames:
        return DryRunError(
            str(project.program),
            "",
            f"the Pulumi program failed inside the Pulumi SDK or a provider package: {message}.",
            "check the arguments the program passes to the resource or function named in the message.",
        )
    innermost = frames[-1]
    where = f" in {innermost.name}" + (f": `{innermost.line}`" if innermost.line else "")
    outer = [
        f"{_relative(frame.filename, project.directory)}:{frame.lineno} in {frame.name}"
        for frame in reversed(frames[-1 - _OUTER_FRAMES : -1])
    ]
    called_from = f" (called from {', '.join(outer)})" if outer else ""
    return DryRunError(
        str(Path(innermost.filename)),
        f"line {innermost.lineno}",
        f"the Pulumi program raised {message}{where}{called_from}.",
        "fix the program at that line, or the stack configuration it reads.",
    )


def logged_error(entries: list[LogEntry], project: Project) -> DryRunError | None:
    """The error to report when the program logged errors through ``pulumi.log.error``, else None."""
    errors = [entry for entry in entries if entry.severity == "error"]
    if not errors:
        return None
    listed = "; ".join(entry.message.strip() + (f" ({entry.urn})" if entry.urn else "") for entry in errors)
    return DryRunError(
        str(project.program),
        "",
        f"the Pulumi program reported {len(errors)} error(s): {listed}.",
        "fix what the program reports; a real `pulumi preview` fails the same way.",
    )


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and its causes and contexts, outermost first."""
    seen: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in seen:
        seen.append(link)
        link = link.__cause__ or link.__context__
    return seen


def _program_frames(error: BaseException, project_dir: Path) -> tuple[BaseException, list[traceback.FrameSummary]]:
    """The exception closest to the cause that passed through the program, and its program frames."""
    for link in reversed(_chain(error)):
        frames = [
            frame
            for frame in traceback.extract_tb(link.__traceback__)
            if is_program_file(Path(frame.filename), project_dir)
        ]
        if frames:
            return link, frames
    return error, []


def _relative(filename: str, project_dir: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(project_dir).as_posix()
    except ValueError:
        return filename
