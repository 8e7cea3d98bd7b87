"""Only the policy violations, one per line, for a CI log: ``--format violations``.

Each line is ``<level>  <pack>/<policy>  <resource>: <message>`` (level ``mandatory``, ``advisory``
or ``waived``; a message of several lines is joined with `` / ``), mandatory first; then the
result line. No tree, no diff, no outputs.
"""

from __future__ import annotations

from maiaplan.formats.common import result_line, tier, violation_resource
from pulumi_dryrun.preview import PreviewResult

_ORDER = {"mandatory": 0, "advisory": 1, "waived": 2}


def render_violations(result: PreviewResult, fail_on: str) -> str:
    violations = sorted(
        result.policies.violations,
        key=lambda v: (_ORDER[tier(v)], v.policy_pack_name, v.policy_name, v.urn),
    )
    lines = []
    for violation in violations:
        message = " / ".join(line.strip() for line in violation.message.strip().splitlines() if line.strip())
        lines.append(
            f"{tier(violation):<9}  {violation.policy_pack_name}/{violation.policy_name}  "
            f"{violation_resource(violation, result)}: {message or violation.description}"
        )
    lines.append(f"Result: {result_line(result, fail_on)}")
    return "\n".join(lines) + "\n"
