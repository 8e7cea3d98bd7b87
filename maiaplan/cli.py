"""The ``maiaplan`` command: parses arguments, calls library functions, formats results.

Exit codes (every ``--help`` lists them): 0 ok, 1 policy violations, 2 bad input (including a
spec too big to plan and an unwritable output), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM),
141 standard output closed early (a broken pipe, as ``maiaplan plan spec.yaml | head`` gives).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from maiaplan.output import record_inputs
from maiaplan.version import maiaplan_version
from planner.errors import InputError
from pulumi_dryrun.errors import DryRunError

# Sub-command modules under maiaplan.commands, in the order `--help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "validate",
    "shard",
    "plan",
    "explain",
    "place",
    "preview",
    "policy_config",
    "calibrate",
    "claims",
    "gate",
    "advance",
    "report",
)

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE
EXIT_TERMINATED = 143  # 128 + SIGTERM

# Errors of writing the result to standard output (reading errors are InputErrors already).
_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG})

EXIT_CODES_HELP = (
    "exit codes: 0 ok; 1 policy violations (preview); 2 bad input, a spec too big to plan, or an output "
    "that cannot be written; 130 interrupted (Ctrl-C); 143 terminated; 141 output pipe closed"
)


class _Terminated(Exception):
    """SIGTERM, raised in the main thread so that ``finally`` blocks and temporary files are cleaned up."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def _with_exit_codes(parser: argparse.ArgumentParser) -> None:
    """Give ``parser`` and every sub-command's parser the exit codes as their --help epilog."""
    parser.epilog = EXIT_CODES_HELP if not parser.epilog else f"{parser.epilog}\n\n{EXIT_CODES_HELP}"
    for action in parser._actions:  # argparse keeps sub-parsers only there
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                _with_exit_codes(subparser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maiaplan",
        description="Plan, dry-run and police the phased migration of LLM inference onto Azure Maia.",
    )
    parser.add_argument("--version", action="version", version=f"maiaplan {maiaplan_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"maiaplan.commands.{name}").register(subparsers)
    _with_exit_codes(parser)
    return parser


def _say(message: str) -> None:
    with contextlib.suppress(OSError):  # stderr itself is gone: the exit code still tells
        print(f"maiaplan: {message}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush of a broken stream is quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):  # a replaced stream has no fd
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (see the module docstring); never raise for bad input."""
    args = build_parser().parse_args(argv)
    record_inputs()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        code: int = args.handler(args)
        sys.stdout.flush()
    except (InputError, DryRunError) as error:  # the engine's errors are bad input too: exit 2
        paragraphs = error.paragraphs() if isinstance(error, InputError) else [error.paragraph()]
        for paragraph in paragraphs:
            _say(paragraph)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except _Terminated:
        _say("terminated")
        return EXIT_TERMINATED
    except MemoryError:
        _say(
            "ran out of memory. Fix: give the command a smaller spec (fewer workloads, smaller clusters: "
            "README 'Limits'), or run it on a machine with more memory"
        )
        return EXIT_BAD_INPUT
    except OSError as error:
        if error.errno == errno.EPIPE:  # the reader went away (`| head`): stop quietly
            _silence_stdout()
            return EXIT_BROKEN_PIPE
        if error.errno not in _WRITE_ERRNOS:
            raise
        _silence_stdout()
        _say(f"cannot write the output ({error.strerror}). Fix: free space, or write to another file with --out")
        return EXIT_BAD_INPUT
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return code


if __name__ == "__main__":
    sys.exit(main())
