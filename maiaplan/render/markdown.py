"""The one Markdown escaper: text from specs, plans and policies made safe inside a document.

Everything maiaplan puts into Markdown that it did not write itself (names, reasons, queries,
messages) goes through these functions, so that a ``|`` cannot split a table cell, a ``*`` or
``_`` cannot start emphasis, ``[...]`` cannot become a link, ``<...>`` cannot become HTML and a
line break cannot end a table row.
"""

from __future__ import annotations

import re

# Characters with a meaning in inline GitHub-flavoured Markdown, escaped with a backslash; an
# underscore between two letters or digits cannot start or end emphasis (``min_share`` stays).
_SPECIALS = re.compile(r"([\\`*\[\]|#~!]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
_BACKTICK_RUNS = re.compile(r"`+")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_text(text: str) -> str:
    """``text`` as literal inline Markdown: specials backslash-escaped, ``& < >`` as entities,
    line breaks as spaces (a heading or a sentence stays on its line).

    Complexity: O(len(text)).
    """
    flat = " ".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return _SPECIALS.sub(r"\\\1", _html(flat))


def escape_cell(text: str) -> str:
    """``text`` as the literal content of a Markdown table cell: as :func:`escape_text`, with each
    line break kept as ``<br>``.

    Complexity: O(len(text)).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(_SPECIALS.sub(r"\\\1", _html(line)) for line in lines)


def code_cell(text: str) -> str:
    """``text`` as an inline code span that is safe inside a table cell.

    The fence is one backtick longer than the longest run of backticks in ``text``; pipes are
    escaped (GitHub splits table cells on them even inside code); line breaks become spaces.

    Complexity: O(len(text)).
    """
    flat = " ".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    longest = max((len(run) for run in _BACKTICK_RUNS.findall(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or longest else ""
    return f"{fence}{pad}{flat.replace('|', chr(92) + '|')}{pad}{fence}"


def table(headers: list[str], align: str, rows: list[list[str]]) -> list[str]:
    """A Markdown table's lines from cells already escaped; ``align`` has one letter per column,
    ``l`` or ``r``.

    Complexity: O(cells).
    """
    marks = {"l": "---", "r": "---:"}
    return [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join(marks[a] for a in align) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
