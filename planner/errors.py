"""The one error type for bad input, shared by every layer that reads user files."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

MAX_PARAGRAPHS = 20
"""How many independent problems one error reports in full; the rest are counted."""

MAX_LISTED_NAMES = 8
"""How many names a "use one of: ..." hint lists before it counts the rest."""


class InputError(Exception):
    """Bad input: a file, the field path inside it, what is wrong and how to fix it.

    One error may carry several independent problems of the same file (``also``): the CLI prints
    each as its own paragraph (the first :data:`MAX_PARAGRAPHS`, then how many more) and exits
    with code 2. ``file``, ``path``, ``problem`` and ``fix`` are those of the first problem.
    """

    def __init__(self, file: str, path: str, problem: str, fix: str = "", *, also: Sequence[InputError] = ()) -> None:
        self.file = file
        self.path = path
        self.problem = problem
        self.fix = fix
        self.also = tuple(also)
        super().__init__("\n".join(self.paragraphs()))

    @classmethod
    def of_problems(cls, file: str, problems: Sequence[tuple[str, str, str]]) -> InputError:
        """One error for several ``(path, problem, fix)`` problems of ``file`` (at least one)."""
        (path, problem, fix), *rest = problems
        return cls(file, path, problem, fix, also=[cls(file, *more) for more in rest])

    @property
    def problems(self) -> tuple[InputError, ...]:
        """Every problem of this error, the first one (this error alone) included."""
        return (InputError(self.file, self.path, self.problem, self.fix), *self.also)

    def _paragraph(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        text = f"{where}: {self.problem}"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text

    def paragraphs(self) -> list[str]:
        """One paragraph per problem, at most :data:`MAX_PARAGRAPHS`, then one counting the rest."""
        texts = [self._paragraph(), *(error._paragraph() for error in self.also[: MAX_PARAGRAPHS - 1])]
        hidden = len(self.also) - (MAX_PARAGRAPHS - 1)
        if hidden > 0:
            texts.append(f"{self.file}: and {hidden} more problem{'s' if hidden > 1 else ''} (fix these first)")
        return texts


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """Return " — did you mean 'x'?" for the closest known name, or "" when none is close."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" — did you mean '{matches[0]}'?" if matches else ""


def some_names(names: Iterable[str], limit: int = MAX_LISTED_NAMES) -> str:
    """``"a, b, c"``, or the first ``limit`` names and ``"and N more"``: never a list of thousands.

    Complexity: O(len(names)).
    """
    listed = list(names)
    if len(listed) <= limit:
        return ", ".join(listed)
    return f"{', '.join(listed[:limit])} and {len(listed) - limit:,} more"
