"""Terminal tables: aligned columns that fit the output's width.

The width a table must fit (:func:`output_width`) is, in order: the ``COLUMNS`` environment
variable when it holds a positive number (as shells and rich read it), the terminal's width when
standard output is a terminal, and no limit otherwise (nor for an ``--out`` file). So a table piped to a file or another
program, as in CI, is the same plain text on every machine: every cell on one line, columns
aligned, no colours, no box drawing. Where a width is given, the long text columns (reasons,
queries) wrap within their cell; a table still too wide is folded into parts, one under the other,
each repeating the key columns, so that no line is longer than the width.

The layout is always the same plain style::

    WORKLOAD      CLUSTER          CHIPS
    ------------  ---------------  -----
    router-small  az-eastus-maia      28

Cell widths are terminal cells (rich's ``cell_len``: a wide character counts two). The layout
itself is a few lines here rather than rich's ``Table``: that takes about a millisecond a row
(37 s for the 36,000 rows of a 12,000-workload ``shard``), this a few microseconds.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from rich.cells import cell_len

# A wrapped text column keeps at least this many characters a line.
MIN_WRAP = 24

# Spaces between two columns.
_GAP = 2

# Below this, columns cannot keep even their headers legible: a narrower width is raised to it.
MIN_WIDTH = 20


_to_file: ContextVar[bool] = ContextVar("to_file", default=False)


@contextmanager
def for_file(path: object | None) -> Iterator[None]:
    """Within the block, when ``path`` (an ``--out`` file) is given, tables have no width limit:
    a file gets the same bytes whatever terminal the command ran in."""
    token = _to_file.set(path is not None)
    try:
        yield
    finally:
        _to_file.reset(token)


def output_width() -> int | None:
    """The width tables printed now must fit, or None for no limit (see the module docstring;
    always None inside :func:`for_file` with a file).

    Complexity: O(1).
    """
    if _to_file.get():
        return None
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    try:
        terminal = sys.stdout.isatty()
    except (AttributeError, ValueError):  # a closed or replaced stream
        terminal = False
    if terminal:
        return max(shutil.get_terminal_size().columns, MIN_WIDTH)
    return None


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    right: Collection[int] = (),
    wrap: Collection[int] = (),
    width: int | None = None,
    keys: int = 1,
) -> str:
    """An aligned table as text, fitted to ``width`` (default :func:`output_width`).

    Without a width, every cell stays on its line. With one, a table too wide first wraps its long
    text columns (``wrap``) down to :data:`MIN_WRAP` characters; when that is not enough, its
    columns are folded into several tables one under the other, each repeating the first ``keys``
    columns (the names that say what a row is), so that no line is longer than the width.

    Parameters
    ----------
    headers
        The column headers.
    rows
        The cells, one sequence per row, as many as ``headers``; each is shown as ``str(cell)``.
    right
        Indexes of the columns aligned right (numbers).
    wrap
        Indexes of the long text columns that may wrap within their cell.
    width
        The width to fit, or None for :func:`output_width`.
    keys
        How many leading columns every folded part repeats.

    Returns
    -------
    str
        The table (or its folded parts, a blank line apart), lines without trailing spaces, no
        final newline.

    Complexity: O(cells).
    """
    limit = output_width() if width is None else width
    text = [[str(cell) for cell in row] for row in rows]
    if limit is None:
        return _render(headers, text, range(len(headers)), right, (), None)
    natural = [max((cell_len(row[i]) for row in text), default=0) for i in range(len(headers))]
    least = [
        max(cell_len(header), min(natural[i], MIN_WRAP) if i in wrap else natural[i])
        for i, header in enumerate(headers)
    ]
    parts = _fold(least, limit, min(keys, len(headers)))
    return "\n\n".join(_render(headers, text, part, right, wrap, limit) for part in parts)


def _fold(least: Sequence[int], limit: int, keys: int) -> list[list[int]]:
    """The columns of each folded part: the key columns, then as many others as fit in ``limit``
    at their least widths (two spaces between columns); every column appears in one part."""
    head = list(range(keys))
    used = sum(least[:keys]) + _GAP * max(keys - 1, 0)
    parts: list[list[int]] = []
    current: list[int] = []
    for index in range(keys, len(least)):
        wider = used + sum(least[i] for i in current) + _GAP * (len(current) + 1) + least[index]
        if current and wider > limit:
            parts.append(head + current)
            current = []
        current.append(index)
    if current or not parts:
        parts.append(head + current)
    return parts


def _fit(widths: list[int], floors: Sequence[int], limit: int) -> None:
    """Narrow ``widths`` in place, widest first and never below ``floors``, until their columns
    and the gaps between them fit ``limit`` (or every width is at its floor)."""
    excess = sum(widths) + _GAP * (len(widths) - 1) - limit
    while excess > 0:
        index = max(range(len(widths)), key=lambda i: (widths[i] - floors[i] > 0, widths[i], -i))
        if widths[index] <= floors[index]:
            return
        widths[index] -= 1
        excess -= 1


def _lines_of(cell: str, width: int) -> list[str]:
    if cell_len(cell) <= width:
        return [cell]
    return textwrap.wrap(cell, width=width, break_long_words=True, break_on_hyphens=False) or [""]


def _pad(cell: str, width: int, right: bool) -> str:
    fill = " " * max(width - cell_len(cell), 0)
    return fill + cell if right else cell + fill


def _render(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    columns: Sequence[int],
    right: Collection[int],
    wrap: Collection[int],
    limit: int | None,
) -> str:
    """The ``columns`` of the table, at their natural widths or narrowed to ``limit``: the long
    text columns (``wrap``) first, down to :data:`MIN_WRAP`, then, if a part still does not fit,
    any column down to one character (its cells broken, as a terminal would break them)."""
    natural = [max(cell_len(headers[i]), *(cell_len(row[i]) for row in rows)) for i in columns]
    widths = list(natural)
    if limit is not None:
        _fit(widths, [min(n, MIN_WRAP) if i in wrap else n for i, n in zip(columns, natural, strict=True)], limit)
        _fit(widths, [1] * len(widths), limit)
    flags = [i in right for i in columns]
    out: list[str] = []

    def emit(cells: Sequence[str]) -> None:
        wrapped = [_lines_of(cell, w) for cell, w in zip(cells, widths, strict=True)]
        for k in range(max(len(lines) for lines in wrapped)):
            parts = (
                _pad(lines[k] if k < len(lines) else "", w, flag)
                for lines, w, flag in zip(wrapped, widths, flags, strict=True)
            )
            out.append("  ".join(parts).rstrip())

    emit([headers[i] for i in columns])
    out.append("  ".join("-" * w for w in widths))
    for row in rows:
        emit([row[i] for i in columns])
    return "\n".join(out)


def prose(text: str, width: int | None = None, indent: str = "") -> str:
    """A sentence printed above or between tables, wrapped at ``width`` (default
    :func:`output_width`; unwrapped when that is None), its later lines indented by ``indent``.
    A word longer than the width is folded, as the terminal would fold it (--format json has it whole).

    Complexity: O(len(text)).
    """
    limit = output_width() if width is None else width
    if limit is None or len(text) <= limit:
        return text
    return textwrap.fill(text, width=limit, subsequent_indent=indent, break_long_words=True, break_on_hyphens=False)
