"""The dry run's one error type: bad input or a failing program, as one paragraph.

The engine knows nothing of the application that calls it: an application adapts ``DryRunError``
to its own messages and exit codes (maiaplan prints the paragraph and exits 2).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable


class DryRunError(Exception):
    """What stopped the dry run: the file (or option), the field path inside it, what is wrong, the fix.

    Parameters
    ----------
    file
        The file, directory or command-line option at fault.
    path
        The field path inside it (a JSON path such as ``checkpoint.latest.resources[3].urn``, a
        config key, ``line 12``), or ``""``.
    problem, fix
        What is wrong, and how to put it right.
    """

    def __init__(self, file: str, path: str, problem: str, fix: str = "") -> None:
        self.file = file
        self.path = path
        self.problem = problem
        self.fix = fix
        super().__init__(self.paragraph())

    def scrubbed(self, clean: Callable[[str], str]) -> DryRunError:
        """This error with ``clean`` applied to each part (secrets taken out of a message that
        quotes a program's or a pack's output)."""
        return DryRunError(clean(self.file), clean(self.path), clean(self.problem), clean(self.fix))

    def paragraph(self) -> str:
        """The error as one paragraph: ``file: path: problem Fix: fix``."""
        where = f"{self.file}: {self.path}" if self.path else self.file
        text = f"{where}: {self.problem}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` for the closest known name, or ``""`` when none is close."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" — did you mean '{matches[0]}'?" if matches else ""
