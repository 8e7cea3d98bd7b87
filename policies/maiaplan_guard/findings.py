"""Findings (one broken rule on one resource) and how waivers turn them into reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import WAIVED_PREFIX
from .config import Waiver
from .resources import ResourceView
from .values import describe


@dataclass(frozen=True)
class Finding:
    """One rule broken by one resource (or by the stack as a whole, ``urn`` then the root stack's).

    The message names the resource (``subject``), the rule, the offending value and the fix.
    ``tags`` are the subject's tags, which waiver tag selectors match.
    """

    urn: str
    subject: str
    rule: str
    problem: str
    value: str
    fix: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def on(cls, resource: ResourceView, rule: str, problem: str, path: str, value: Any, fix: str) -> Finding:
        """The finding of ``rule`` on ``resource``, whose property ``path`` holds the offending ``value``."""
        return cls(
            resource.urn, resource.label, rule, problem, f"{path} = {describe(value)}", fix, resource.tags.values
        )

    @property
    def message(self) -> str:
        return f"{self.subject} breaks rule '{self.rule}': {self.problem} (found: {self.value}). Fix: {self.fix}"


@dataclass(frozen=True)
class Report:
    """A finding as reported: its message (prefixed ``waived:`` when a waiver covers it) and URN."""

    message: str
    urn: str
    waived: bool


def waiver_matches(waiver: Waiver, finding: Finding) -> bool:
    """A URN waiver matches its URN exactly; a tag waiver matches a subject carrying all its tags.

    Tag values compare case-insensitively, as GCP labels are lowercase.
    """
    if waiver.urn is not None:
        return waiver.urn == finding.urn
    assert waiver.tags is not None
    found = {key: value.lower() for key, value in finding.tags.items()}
    return all(found.get(key) == value.lower() for key, value in waiver.tags.items())


def apply_waivers(findings: Iterable[Finding], waivers: Sequence[Waiver], today: dt.date) -> list[Report]:
    """Reports for ``findings``: waived ones keep their message behind ``waived:`` and the reason.

    A waiver applies through its expiry date. A finding whose only matching waivers have expired is
    reported normally, saying which waiver expired, so nothing is ever silently dropped.
    """
    reports: list[Report] = []
    for finding in findings:
        matching = [waiver for waiver in waivers if waiver_matches(waiver, finding)]
        active = [waiver for waiver in matching if waiver.expires >= today]
        if active:
            waiver = max(active, key=lambda w: w.expires)
            reports.append(Report(f"{WAIVED_PREFIX} {finding.message} Waiver: {waiver.describe()}.", finding.urn, True))
        elif matching:
            waiver = max(matching, key=lambda w: w.expires)
            reports.append(
                Report(
                    f"{finding.message} (A waiver expired on {waiver.expires.isoformat()}: {waiver.reason}; "
                    "renew it or fix the resource.)",
                    finding.urn,
                    False,
                )
            )
        else:
            reports.append(Report(finding.message, finding.urn, False))
    return reports
