"""How a program failed, as one clear ``DryRunError``: the program's own frame first, not the SDK's.

The program runs in its own process; its bootstrap describes an exception that escaped it as a
chain of links (outermost first), each with its type, message and frames, and with the config key
of a missing or ill-typed config value. This module turns that description, a program that exited
or hung without finishing, or errors the program logged, into the error the preview reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.monitor import LogEntry, is_program_file
from pulumi_dryrun.project import Project, StackConfig

# How many of the program's outer frames the message lists after the innermost one.
_OUTER_FRAMES = 3
# How many lines of a program's last output a message quotes.
_QUOTED_LINES = 5


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback: file, line number, function, source line."""

    filename: str
    lineno: int
    name: str
    line: str


def frames_of(raw: Any) -> list[Frame]:
    """Frames as the bootstrap sends them (``[file, line, function, source]``), malformed ones left out."""
    frames = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, list) and len(item) >= 3 and isinstance(item[0], str) and isinstance(item[1], int):
            frames.append(Frame(item[0], item[1], str(item[2]), str(item[3]) if len(item) > 3 else ""))
    return frames


def program_error(failure: Mapping[str, Any], project: Project, config: StackConfig) -> DryRunError:
    """The ``DryRunError`` to report for an exception that escaped the program.

    An error that carries a file, a field path, a problem and a fix (the program's own input error)
    is passed through; missing or ill-typed config names the key and the stack file; anything else
    names the innermost frame of the program's own code, the exception, and up to three outer
    program frames.
    """
    chain = [link for link in failure.get("chain", []) if isinstance(link, Mapping)]
    for link in chain:
        given = link.get("input_error")
        if isinstance(given, Mapping):
            return DryRunError(*(str(given.get(key, "")) for key in ("file", "path", "problem", "fix")))
        missing = link.get("config_missing")
        if isinstance(missing, Mapping):
            key = str(missing.get("key"))
            return DryRunError(
                str(config.file),
                f"config.{key}",
                f"the program requires configuration value {key!r}, which stack {config.stack!r} does not set.",
                f"add `{key}: <value>` under `config:` in {config.file.name}"
                + (" (as a secret)" if missing.get("secret") else "")
                + ".",
            )
        ill_typed = link.get("config_type")
        if isinstance(ill_typed, Mapping):
            key, expected = str(ill_typed.get("key")), str(ill_typed.get("expect_type"))
            return DryRunError(
                str(config.file),
                f"config.{key}",
                f"configuration value {ill_typed.get('value')!r} is not a valid {expected}.",
                f"give {key} a {expected} value in {config.file.name}.",
            )
    origin, frames = _program_frames(chain, project.directory)
    message = f"{origin.get('type', 'Exception')}: {origin.get('message', '')}".rstrip(": ")
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


def exited_error(code: int, output: Sequence[tuple[str, str]], project: Project) -> DryRunError:
    """The error for a program whose process ended (``code``) before it finished."""
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    return DryRunError(
        str(project.program),
        "",
        f"the Pulumi program {how} before it finished{last_output(output)}.",
        "a program must run to its end: remove the os._exit/sys.exit or fix what ended it.",
    )


def timeout_error(timeout_s: float, waiting: str, output: Sequence[tuple[str, str]], project: Project) -> DryRunError:
    """The error for a program that did not finish within ``timeout_s``; ``waiting`` says on what."""
    return DryRunError(
        str(project.program),
        "",
        f"the Pulumi program did not finish within {timeout_s:g} s: {waiting}{last_output(output)}.",
        "make the program finish (no endless loop, no Output that never resolves, no thread left running), "
        "or give more time with --timeout.",
    )


def waiting_description(
    probe: Mapping[str, Any] | None, returned: bool, registered: set[tuple[str, str]], project: Project
) -> str:
    """What a program that does not finish was waiting on, from its answer to a probe."""
    if probe is None:
        return "it did not answer a probe (it may block signals)" if not returned else "its SDK never finished"
    if not returned:
        frames = [
            frame
            for frame in frames_of(probe.get("frames"))
            if is_program_file(Path(frame.filename), project.directory)
        ]
        if frames:
            frame = frames[-1]
            code = f" (`{frame.line}`)" if frame.line else ""
            return f"its code was still running at {_relative(frame.filename, project.directory)}:{frame.lineno} in {frame.name}{code}"
        return "its code was still running, outside its own files (in a library or the SDK)"
    threads = [str(name) for name in probe.get("threads", [])]
    constructed = [
        (str(item[0]), str(item[1]))
        for item in probe.get("constructed", [])
        if isinstance(item, list) and len(item) == 2
    ]
    unregistered = [f"{type_} {name!r}" for type_, name in constructed if (type_, name) not in registered]
    if unregistered:
        return (
            "its code ran to its end, but the SDK was still waiting on an input of "
            + ", ".join(sorted(set(unregistered))[:5])
            + ", which never registered (an Output that never resolves?)"
        )
    if threads:
        return f"its code and its registrations finished, but non-daemon thread(s) {', '.join(sorted(threads))} kept it running"
    return "its code ran to its end, but the SDK was still waiting on an Output or a task that never resolves"


def last_output(output: Sequence[tuple[str, str]]) -> str:
    """``; its last output: …`` quoting the last lines the program printed, or ``""``."""
    lines = [line.rstrip() for _stream, line in output if line.strip()]
    if not lines:
        return ""
    return "; its last output: " + " | ".join(lines[-_QUOTED_LINES:])


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


def _program_frames(chain: list[Mapping[str, Any]], project_dir: Path) -> tuple[Mapping[str, Any], list[Frame]]:
    """The link closest to the cause that passed through the program, and its program frames."""
    for link in reversed(chain):
        frames = [
            frame for frame in frames_of(link.get("frames")) if is_program_file(Path(frame.filename), project_dir)
        ]
        if frames:
            return link, frames
    return (chain[0] if chain else {}), []


def _relative(filename: str, project_dir: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(project_dir).as_posix()
    except ValueError:
        return filename
