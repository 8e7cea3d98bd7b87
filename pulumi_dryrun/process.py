"""Child processes in process groups of their own, with their output kept and never inherited.

A program and each policy pack run in a new session (``start_new_session``), so that stopping one
stops everything it started: ``stop`` signals the whole group, waits, then kills what is left. Their
standard output and error are read by threads into bounded buffers, never passed to the engine's own
streams. ``live_groups`` lists the groups still running, so that an application's signal handler
can stop them all before it exits.
"""

from __future__ import annotations

import collections
import contextlib
import os
import queue
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

# Lines of output kept per stream; an endless printer keeps only its last lines.
KEPT_LINES = 2000
_LIVE: set[ProcessGroup] = set()
_LIVE_LOCK = threading.Lock()


class ProcessGroup:
    """A child process leading a process group of its own.

    Parameters
    ----------
    argv, cwd, env
        The command, its working directory and its whole environment.
    pass_fds
        File descriptors the child inherits (all others are closed in it).
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        pass_fds: Sequence[int] = (),
    ) -> None:
        self.process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=tuple(pass_fds),
        )
        self.pid = self.process.pid
        self.stdout: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
        self.stderr: collections.deque[str] = collections.deque(maxlen=KEPT_LINES)
        self.dropped = {"stdout": 0, "stderr": 0}
        self.first_stdout_line: queue.Queue[str | None] = queue.Queue(maxsize=1)
        self._readers = [
            threading.Thread(target=self._read, args=("stdout",), daemon=True, name=f"stdout-{self.pid}"),
            threading.Thread(target=self._read, args=("stderr",), daemon=True, name=f"stderr-{self.pid}"),
        ]
        for reader in self._readers:
            reader.start()
        with _LIVE_LOCK:
            _LIVE.add(self)

    def _read(self, stream: str) -> None:
        pipe = self.process.stdout if stream == "stdout" else self.process.stderr
        kept = self.stdout if stream == "stdout" else self.stderr
        assert pipe is not None
        first = stream == "stdout"
        for raw in iter(pipe.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            if first:
                self.first_stdout_line.put(line)
                first = False
                continue
            if len(kept) == kept.maxlen:
                self.dropped[stream] += 1
            kept.append(line)
        if first:
            self.first_stdout_line.put(None)

    def output(self) -> list[tuple[str, str]]:
        """What the process printed, as (stream, line) pairs: stdout (first line included) then stderr;
        a stream that printed more than ``KEPT_LINES`` keeps its last ones, after a note of how many went."""
        self.join_readers()
        first: list[str] = []
        try:
            line = self.first_stdout_line.get_nowait()
            if line is not None:
                first = [line]
                self.first_stdout_line.put(line)
        except queue.Empty:
            pass

        def noted(stream: str, head: list[str], tail: list[str]) -> list[tuple[str, str]]:
            dropped = self.dropped[stream]
            note = [f"[{dropped} line(s) of {stream} not kept]\n"] if dropped else []
            return [(stream, line) for line in [*head, *note, *tail]]

        return noted("stdout", first, list(self.stdout)) + noted("stderr", [], list(self.stderr))

    def join_readers(self, timeout_s: float = 5.0) -> None:
        """Wait for the output readers (the process has exited, or its pipes were closed)."""
        for reader in self._readers:
            reader.join(timeout=timeout_s)

    def poll(self) -> int | None:
        return self.process.poll()

    def send(self, signum: int) -> None:
        """Send ``signum`` to the whole group (nothing if it is gone)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def stop(self, first_signal: int = signal.SIGTERM, grace_s: float = 5.0) -> int | None:
        """Stop the group: ``first_signal`` to all of it, up to ``grace_s`` for the leader to exit,
        then SIGKILL to whatever is left of the group. Returns the leader's exit code."""
        if self.process.poll() is None:
            self.send(first_signal)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace_s)
        self.send(signal.SIGKILL)  # the leader's children, even when the leader has exited
        code = self.process.wait()
        self.join_readers()
        for pipe in (self.process.stdout, self.process.stderr):
            if pipe is not None:
                pipe.close()
        with _LIVE_LOCK:
            _LIVE.discard(self)
        return code


def live_groups() -> list[ProcessGroup]:
    """The process groups started here and not yet stopped."""
    with _LIVE_LOCK:
        return list(_LIVE)
