"""A traffic step's checks judged against Prometheus, and the decision: advance, hold or rollback.

Each check (:class:`planner.gates.GateCheck`) is evaluated over its window, which ends at the
gate's time and starts ``window_s`` earlier, or when the stack reached its step if that is later
(values from before belong to the previous step). Its verdict, in this order:

1. ``inconclusive`` when the query returns no value over the window (no traffic, wrong labels);
2. ``inconclusive`` when fewer than ``min_samples`` observations back the values;
3. ``fail`` when more than ``failure_limit`` values break the threshold;
4. ``inconclusive`` when the window has not elapsed since the step began, or the metrics do not
   cover it yet;
5. ``pass`` otherwise.

The decision: ``rollback`` if any check failed, else ``hold`` if any was inconclusive, else
``advance``. A query Prometheus cannot answer raises (exit 2): an error is never a decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from maiaplan.rollout.prometheus import Prometheus, finite_or_infinite
from planner.gates import SELECTOR, GateCheck, fill, passes

Verdict = Literal["pass", "fail", "inconclusive"]
Decision = Literal["advance", "hold", "rollback"]

EXIT_CODES: dict[Decision, int] = {"advance": 0, "hold": 3, "rollback": 4}
"""The exit code of ``maiaplan gate`` and ``maiaplan advance`` per decision (2 is bad input or no answer)."""

Selector = Callable[[GateCheck], str]
"""The label matchers of a check's series (the deployment adapter's, by the check's cluster)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckResult(_Model):
    """The evidence of one check: what was asked, what came back, and the verdict."""

    name: str
    workload: str
    cluster: str
    query: str
    samples_query: str | None
    comparator: str
    threshold: float
    start_unix: float
    end_unix: float
    interval_s: int
    values: int = Field(description="Values measured over the window (NaN, e.g. 0/0 without traffic, is none).")
    failures: int
    failure_limit: int
    samples: float
    min_samples: int
    worst: float | None = Field(description="The value farthest on the wrong side of the threshold.")
    latest: float | None
    verdict: Verdict
    reason: str


class GateDecision(_Model):
    """The decision on one moment of a stack, with every check's evidence."""

    decision: Decision
    reason: str
    phase: int
    step: int
    at_unix: float
    checks: tuple[CheckResult, ...]

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision]


def _worst(values: Sequence[float], comparator: str) -> float:
    return max(values) if comparator in ("<=", "<") else min(values)


def _number(value: float) -> str:
    return f"{value:.6g}"


def evaluate_check(
    prometheus: Prometheus, check: GateCheck, selector: str, at: float, step_began: float | None
) -> CheckResult:
    """Judge one check over its window ending at ``at`` (seconds since the epoch).

    Parameters
    ----------
    prometheus
        Where the series are.
    check
        The plan's check.
    selector
        The label matchers of the workload's series on the check's cluster (fills ``${selector}``).
    at
        The end of the window.
    step_began
        When the stack reached this step (from the audit log), or None when unknown.

    Raises
    ------
    PrometheusError
        When a query cannot be answered.

    Complexity: two queries; O(v) in the values returned.
    """
    query = fill(check.query, {SELECTOR: selector})
    samples_query = fill(check.samples_query, {SELECTOR: selector}) if check.samples_query else None
    window_start = at - check.window_s
    start = max(window_start, step_began) if step_began is not None else window_start
    # Evaluation points at start + interval … at: each value covers the interval before it.
    first_point = min(start + check.interval_s, at)
    measured = [s for s in prometheus.range(query, first_point, at, check.interval_s) if finite_or_infinite(s)]
    values = [s.value for s in sorted(measured, key=lambda s: s.timestamp)]
    if samples_query is not None:
        samples = sum(s.value for s in prometheus.instant(samples_query, at) if not math.isnan(s.value))
    else:
        samples = float(len(values))
    failures = sum(not passes(v, check.comparator, check.threshold) for v in values)

    def result(verdict: Verdict, reason: str) -> CheckResult:
        return CheckResult(
            name=check.name,
            workload=check.workload,
            cluster=check.cluster,
            query=query,
            samples_query=samples_query,
            comparator=check.comparator,
            threshold=check.threshold,
            start_unix=start,
            end_unix=at,
            interval_s=check.interval_s,
            values=len(values),
            failures=failures,
            failure_limit=check.failure_limit,
            samples=samples,
            min_samples=check.min_samples,
            worst=_worst(values, check.comparator) if values else None,
            latest=values[-1] if values else None,
            verdict=verdict,
            reason=reason,
        )

    if not values:
        return result("inconclusive", "the query returned no value over the window (no traffic, or wrong labels?)")
    if samples < check.min_samples:
        return result("inconclusive", f"{_number(samples)} samples, fewer than the {check.min_samples} the check needs")
    if failures > check.failure_limit:
        return result(
            "fail",
            f"{failures} of {len(values)} values break {check.comparator} {_number(check.threshold)} "
            f"(worst {_number(_worst(values, check.comparator))}), more than the {check.failure_limit} allowed",
        )
    if step_began is not None and step_began > window_start:
        return result(
            "inconclusive",
            f"the window has not elapsed: the step began {_number(at - step_began)} s ago, the check needs "
            f"{check.window_s} s",
        )
    covered_from = min(s.timestamp for s in measured) - check.interval_s
    if covered_from > start + check.interval_s / 2:
        return result(
            "inconclusive",
            f"the metrics cover only the last {_number(at - covered_from)} s of the {check.window_s} s window",
        )
    return result(
        "pass",
        f"{len(values)} values, {failures} breaking {check.comparator} {_number(check.threshold)} "
        f"(at most {check.failure_limit} allowed), {_number(samples)} samples",
    )


def decide(
    prometheus: Prometheus,
    checks: Sequence[GateCheck],
    selector: Selector,
    phase: int,
    step: int,
    at: float,
    step_began: float | None,
) -> GateDecision:
    """Judge every check of a moment and decide.

    A moment without checks (phase 0: nothing has moved) advances.

    Raises
    ------
    PrometheusError
        When a query cannot be answered.

    Complexity: 2 queries per check.
    """
    results = tuple(evaluate_check(prometheus, c, selector(c), at, step_began) for c in checks)
    failed = [r for r in results if r.verdict == "fail"]
    waiting = [r for r in results if r.verdict == "inconclusive"]
    if failed:
        decision: Decision = "rollback"
        reason = "failed: " + "; ".join(f"{r.name} of {r.workload} on {r.cluster}: {r.reason}" for r in failed)
    elif waiting:
        decision = "hold"
        reason = "inconclusive: " + "; ".join(f"{r.name} of {r.workload} on {r.cluster}: {r.reason}" for r in waiting)
    elif results:
        decision, reason = "advance", f"all {len(results)} checks passed over their windows"
    else:
        decision, reason = "advance", "nothing moves at this moment, so there is nothing to judge"
    return GateDecision(decision=decision, reason=reason, phase=phase, step=step, at_unix=at, checks=results)
