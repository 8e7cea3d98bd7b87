"""Progress on standard error while a command works, only when standard error is a terminal.

A spinner with what the command is doing, and at the end how long it took, appear on a terminal
(rich's status, erased when done); piped, redirected or in CI, nothing at all is printed, so logs
and captured standard error hold only results and errors.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.status import Status


def _terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced
        return False


class Progress:
    """The handle of :func:`progress`: ``update`` says what the command does now, ``done`` how it ended."""

    def __init__(self, console: Console | None) -> None:
        self._console = console
        self._status: Status | None = None
        self._started = time.perf_counter()
        self._done: str | None = None

    def update(self, message: str) -> None:
        """Show ``message`` beside the spinner (nothing when not on a terminal)."""
        if self._status is not None:
            self._status.update(f"{message}…")

    def done(self, message: str) -> None:
        """Print ``message`` and the elapsed wall time once the spinner is gone (terminal only)."""
        self._done = message

    @property
    def elapsed_s(self) -> float:
        """Wall time since the command started."""
        return time.perf_counter() - self._started


@contextmanager
def progress(message: str, stream: TextIO | None = None) -> Iterator[Progress]:
    """Show ``message`` with a spinner on ``stream`` (default standard error) while the block runs.

    Parameters
    ----------
    message
        What the command is doing ("planning maia-pilot").
    stream
        Where to show it; nothing is shown unless it is a terminal.

    Yields
    ------
    Progress
        To update the message and to report how it ended.
    """
    target = sys.stderr if stream is None else stream
    if not _terminal(target):
        yield Progress(None)
        return
    console = Console(file=target, force_terminal=True, highlight=False, markup=False, emoji=False)
    handle = Progress(console)
    with console.status(f"{message}…", spinner="dots") as status:
        handle._status = status
        yield handle
    if handle._done is not None:
        console.print(f"{handle._done} in {handle.elapsed_s:.2f} s wall time", style="dim")
