"""A gate decision (maiaplan/rollout/judge.py) for people: the decision, a table of the checks,
then each check's query and reason (docs/gates.md); ``--format json`` is maiaplan/rollout/report.py's."""

from __future__ import annotations

from maiaplan.render.tables import prose, table
from maiaplan.rollout.judge import CheckResult, GateDecision
from maiaplan.rollout.moments import StackMoment
from maiaplan.rollout.report import iso


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _row(check: CheckResult) -> list[object]:
    return [
        check.workload,
        check.cluster,
        check.name,
        check.verdict.upper(),
        check.values,
        f"{check.failures}/{check.failure_limit}",
        f"{check.samples:.6g}/{check.min_samples}",
        _figure(check.worst),
        f"{check.comparator} {check.threshold:g}",
    ]


def decision_text(stack: str, decision: GateDecision, to: StackMoment | None, outcome: str) -> str:
    """The decision, a table of the checks, then each check's query and reason, fitted to the
    terminal's width (maiaplan/render/tables.py).

    Complexity: O(checks).
    """
    moment = StackMoment(decision.phase, decision.step)
    lines = [
        prose(f"stack {stack}: {moment}, judged at {iso(decision.at_unix)}"),
        prose(f"decision: {decision.decision.upper()} (exit {decision.exit_code}): {decision.reason}"),
        prose(outcome if to is None else f"{outcome} {to}"),
    ]
    if decision.checks:
        lines += [
            "",
            table(
                ("WORKLOAD", "CLUSTER", "CHECK", "VERDICT", "VALUES", "FAILED/LIMIT", "SAMPLES/MIN", "WORST", "PASS"),
                [_row(check) for check in decision.checks],
                right=range(4, 8),
                wrap=(4,),
                keys=3,
            ),
            "",
        ]
        for check in decision.checks:
            lines += [
                prose(
                    f"{check.name} of {check.workload} on {check.cluster}, {iso(check.start_unix)} to "
                    f"{iso(check.end_unix)}: {check.reason}"
                ),
                prose(f"  query: {check.query}", indent=" " * 4),
            ]
            if check.samples_query:
                lines.append(prose(f"  samples: {check.samples_query}", indent=" " * 4))
    return "\n".join(lines)
