"""Every command's output: terminal tables that fit, JSON documents, escaped Markdown, progress.

The planner returns data; these modules turn it into text, one module per kind of result:
``plans``, ``explain``, ``shardings``, ``placements``, ``claims``, ``calibration``, ``validation``,
``gates``; ``tables`` (terminal tables), ``markdown`` (the one Markdown escaper) and ``progress``
(stderr spinner on a terminal only) are shared by all. ``registry`` maps each command and
``--format`` to its renderer (``gate`` and ``calibrate``, whose formats take different inputs,
call theirs directly; ``preview``'s formats are maiaplan/formats/).
"""

from maiaplan.render.registry import RENDERERS, formats, render

__all__ = ["RENDERERS", "formats", "render"]
