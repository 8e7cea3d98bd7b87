"""Verdicts on performance claims (planner/claims.py) as text, JSON and Markdown."""

from __future__ import annotations

import json
from collections.abc import Sequence

from maiaplan.render.markdown import escape_cell
from maiaplan.render.tables import prose, table
from planner.claims import ClaimResult


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:,.4g}"


def claims_text(results: Sequence[ClaimResult]) -> str:
    """Each claim: its overall verdict, basis and watt basis, then a table per workload.

    Complexity: O(claims · workloads).
    """
    blocks = []
    for r in results:
        head = (
            f"{r.claim}: {r.verdict.upper()} (ratio {_ratio(r.ratio)}; basis {r.basis}: "
            f"{r.subject_basis} vs {r.reference_basis}, ±{r.uncertainty:g}x; watts: {r.watt_basis})"
        )
        rows = [
            [w.workload, _figure(w.subject_value), _figure(w.reference_value), _ratio(w.ratio), w.verdict, w.note]
            for w in r.workloads
        ]
        body = table(
            ["WORKLOAD", "SUBJECT", "REFERENCE", "RATIO", "VERDICT", "NOTE"], rows, right=range(1, 4), wrap=(5,)
        )
        blocks.append("\n".join([prose(head), body, *([prose(f"to settle it: {r.settle}")] if r.settle else [])]))
    return "\n\n".join(blocks)


def claims_json(results: Sequence[ClaimResult]) -> str:
    """The results as ``maiaplan claims --format json`` prints them: a list of ClaimResult objects.

    Complexity: O(claims · workloads).
    """
    return json.dumps([r.model_dump(mode="json") for r in results], indent=2)


def claims_markdown(results: Sequence[ClaimResult]) -> str:
    """The claims as a Markdown table: verdict, overall ratio, basis, watt basis, how to settle.

    Complexity: O(claims).
    """
    out = ["| claim | verdict | ratio | basis | watts | to settle it |", "|---|---|---:|---|---|---|"]
    out += [
        f"| {escape_cell(r.claim)} | **{escape_cell(r.verdict)}** | {_ratio(r.ratio)} "
        f"| {escape_cell(f'{r.basis} ({r.subject_basis} vs {r.reference_basis}, ±{r.uncertainty:g}×)')} "
        f"| {escape_cell(r.watt_basis)} | {escape_cell(r.settle or '-')} |"
        for r in results
    ]
    return "\n".join(out)
