"""What ``maiaplan validate`` says of a valid spec: one sentence, or the summary as JSON."""

from __future__ import annotations

import json
from typing import TypedDict

from maiaplan.render.tables import prose


class SpecSummary(TypedDict):
    """What a valid spec holds, in the order of the JSON keys."""

    spec: str
    file: str
    valid: bool
    tenants: int
    clusters: int
    chips: int
    contracts: int
    workloads: int
    catalog_overrides: list[str]


def validation_text(summary: SpecSummary) -> str:
    """``FILE: valid spec 'NAME': N tenants, ...; catalog overrides: ...`` from the summary.

    Complexity: O(catalog overrides).
    """
    overrides = ", ".join(summary["catalog_overrides"]) or "none"
    return prose(
        f"{summary['file']}: valid spec '{summary['spec']}': {summary['tenants']} tenants, "
        f"{summary['clusters']} clusters ({summary['chips']:,} chips), {summary['contracts']} contracts, "
        f"{summary['workloads']} workloads; catalog overrides: {overrides}"
    )


def validation_json(summary: SpecSummary) -> str:
    """The summary as ``maiaplan validate --format json`` prints it (README: validate).

    Complexity: O(size of the summary).
    """
    return json.dumps(summary, indent=2)
