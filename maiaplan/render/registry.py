"""The one registry of renderers: for each command, its output formats and the function that
writes each.

A command's ``--format`` choices are the keys of its entry (:func:`formats`), its default the
first; the command calls :func:`render` with its result. Every renderer returns the whole text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from maiaplan.render.claims import claims_json, claims_text
from maiaplan.render.explain import explain_json, explain_text
from maiaplan.render.placements import placement_json, placement_table
from maiaplan.render.plans import plan_json, plan_markdown, plan_table
from maiaplan.render.shardings import shardings_json, shardings_table
from maiaplan.render.tables import for_file
from maiaplan.render.validation import validation_json, validation_text

Renderer = Callable[..., str]

RENDERERS: dict[str, dict[str, Renderer]] = {
    "validate": {"table": validation_text, "json": validation_json},
    "shard": {"table": shardings_table, "json": shardings_json},
    "plan": {"table": plan_table, "json": plan_json, "markdown": plan_markdown},
    "explain": {"text": explain_text, "json": explain_json},
    "place": {"table": placement_table, "json": placement_json},
    "claims": {"table": claims_text, "json": claims_json},
}


def formats(command: str) -> tuple[str, ...]:
    """The ``--format`` choices of ``command``, its default first.

    Complexity: O(formats).
    """
    return tuple(RENDERERS[command])


def render(command: str, output_format: str, *result: object, out: Path | None = None) -> str:
    """The text of ``command``'s ``result`` in ``output_format`` (one of :func:`formats`), for
    standard output or, given ``out``, for that ``--out`` file (tables then fit no terminal).

    Raises
    ------
    KeyError
        For a command or format not registered (argparse's choices keep users from it).

    Complexity: that of the renderer.
    """
    with for_file(out):
        return RENDERERS[command][output_format](*result)
