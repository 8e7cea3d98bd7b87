"""Terminal tables: aligned columns that fit the output's width, drawn by rich.

The width a table must fit (:func:`output_width`) is, in order: the ``COLUMNS`` environment
variable when it holds a positive number (as shells and rich read it), the terminal's width when
standard output is a terminal, and no limit otherwise. So a table piped to a file or another
program, as in CI, is the same plain text on every machine: every cell on one line, columns
aligned, no colours, no box drawing. Where a width is given, the long text columns (reasons,
queries) wrap within their cell and identifiers fold, so that no line is longer than the width.

The layout is always the same plain style::

    WORKLOAD      CLUSTER          CHIPS
    ------------- ---------------- -----
    router-small  az-eastus-maia      28
"""

from __future__ import annotations

import io
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Collection, Sequence

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Header underlined with dashes, no other lines: the layout of ``ps`` or ``kubectl get``.
PLAIN_BOX = box.Box("    \n    \n -  \n    \n    \n    \n    \n    \n", ascii=True)

_RULE = re.compile(r"[- ]*-")
_RULE_END = re.compile(r"-(?= )")

# The width of an unlimited table: wide enough for any row, never reached in practice.
_UNLIMITED = 1_000_000

# A wrapped text column keeps at least this many characters a line.
MIN_WRAP = 24

# Spaces between two columns.
_GAP = 2

# Below this, columns cannot keep even their headers legible: a narrower width is raised to it.
MIN_WIDTH = 40


def output_width() -> int | None:
    """The width tables printed now must fit, or None for no limit (see the module docstring).

    Complexity: O(1).
    """
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


def _render(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    columns: Sequence[int],
    right: Collection[int],
    wrap: Collection[int],
    limit: int | None,
) -> str:
    """The ``columns`` of the table drawn by rich at ``limit`` (None: unlimited, nothing wraps)."""
    grid = Table(box=PLAIN_BOX, show_edge=False, pad_edge=False, padding=(0, 1), collapse_padding=True)
    for index in columns:
        grid.add_column(
            headers[index],
            justify="right" if index in right else "left",
            overflow="fold",
            no_wrap=limit is None or index not in wrap,
        )
    for row in rows:
        grid.add_row(*(Text(row[index]) for index in columns))  # Text: never read as rich markup
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=_UNLIMITED if limit is None else limit,
        color_system=None,
        force_terminal=False,
        force_jupyter=False,
        legacy_windows=False,
        emoji=False,
        markup=False,
        highlight=False,
        soft_wrap=False,
    )
    console.print(grid, crop=False)
    lines = [line.rstrip() for line in buffer.getvalue().rstrip("\n").split("\n")]
    rule = next(i for i, line in enumerate(lines) if _RULE.fullmatch(line))
    lines[rule] = _RULE_END.sub(" ", lines[rule])  # dashes under the text, not its padding: two spaces apart
    return "\n".join(lines)


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
