"""The one error type for bad input, shared by every layer that reads user files."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InputError(Exception):
    """Bad input: a file, the field path inside it, what is wrong and how to fix it.

    The CLI prints ``str(error)`` as one paragraph and exits with code 2.
    """

    def __init__(self, file: str, path: str, problem: str, fix: str = "") -> None:
        self.file = file
        self.path = path
        self.problem = problem
        self.fix = fix
        super().__init__(self._paragraph())

    def _paragraph(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        text = f"{where}: {self.problem}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return " — did you mean 'x'?" for the closest known name, or "" when none is close."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" — did you mean '{matches[0]}'?" if matches else ""
