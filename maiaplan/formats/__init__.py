"""Renderings of an offline preview: text, JSON, Markdown, SARIF 2.1.0 and JUnit XML.

``render(result, format, fail_on, colour)`` renders ``result.redacted()``: every secret plaintext is
replaced in the report model itself (values, outputs, diagnostics, policy messages) before a format
escapes anything, then once more in the finished text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from maiaplan.formats.json_report import render_json
from maiaplan.formats.junit import render_junit
from maiaplan.formats.markdown import render_markdown
from maiaplan.formats.sarif import render_sarif
from maiaplan.formats.text import render_text
from pulumi_dryrun.preview import PreviewResult
from pulumi_dryrun.values import scrub

FORMATS = ("text", "json", "markdown", "sarif", "junit")

_RENDERERS: dict[str, Callable[[PreviewResult, str], str]] = {
    "json": render_json,
    "markdown": render_markdown,
    "sarif": render_sarif,
    "junit": render_junit,
}


def render(result: PreviewResult, format: str, fail_on: str, colour: bool = False) -> str:
    """``result`` in ``format`` (one of ``FORMATS``), secrets scrubbed."""
    renderer = functools.partial(render_text, colour=colour) if format == "text" else _RENDERERS[format]
    secrets = result.secrets()
    return scrub(renderer(result.redacted(), fail_on), secrets)


__all__ = ["FORMATS", "render"]
