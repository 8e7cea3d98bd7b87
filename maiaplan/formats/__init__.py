"""Renderings of an offline preview: text, JSON, Markdown, SARIF 2.1.0, JUnit XML, GitHub workflow
annotations and a violations-only listing.

``render(result, format, fail_on, options)`` renders ``result.redacted()``: every secret plaintext
is replaced in the report model itself (values, outputs, diagnostics, policy messages) before a
format escapes anything, then once more in the finished text. ``options`` (``TextOptions``) lays
out the text report; of them only ``suppress_outputs`` also applies to Markdown.
"""

from __future__ import annotations

from collections.abc import Callable

from maiaplan.formats.github import render_github
from maiaplan.formats.json_report import render_json
from maiaplan.formats.junit import render_junit
from maiaplan.formats.markdown import render_markdown
from maiaplan.formats.sarif import render_sarif
from maiaplan.formats.text import TextOptions, render_text
from maiaplan.formats.violations import render_violations
from pulumi_dryrun.preview import PreviewResult
from pulumi_dryrun.values import scrub

_RENDERERS: dict[str, Callable[[PreviewResult, str, TextOptions], str]] = {
    "text": render_text,
    "json": lambda result, fail_on, _options: render_json(result, fail_on),
    "markdown": lambda result, fail_on, options: render_markdown(result, fail_on, options.suppress_outputs),
    "sarif": lambda result, fail_on, _options: render_sarif(result, fail_on),
    "junit": lambda result, fail_on, _options: render_junit(result, fail_on),
    "github": lambda result, fail_on, _options: render_github(result, fail_on),
    "violations": lambda result, fail_on, _options: render_violations(result, fail_on),
}
FORMATS = tuple(_RENDERERS)


def render(result: PreviewResult, format: str, fail_on: str, options: TextOptions | None = None) -> str:
    """``result`` in ``format`` (one of ``FORMATS``), secrets scrubbed."""
    secrets = result.secrets()
    return scrub(_RENDERERS[format](result.redacted(), fail_on, options or TextOptions()), secrets)


__all__ = ["FORMATS", "TextOptions", "render"]
