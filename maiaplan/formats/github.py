"""Policy violations as GitHub Actions workflow commands: one annotation per violation.

``::error`` for a mandatory violation or one that fails the preview, ``::warning`` for another
advisory one, ``::notice`` for a waived one; each at the file and line SARIF names (the program line
that declared the resource, else the stack's config file), titled ``<pack>/<policy>``. Escaped as the
runner reads them (actions/toolkit ``command.ts``): in the message ``%``, ``\\r`` and ``\\n``; in a
property also ``:`` and ``,``. The last line is the preview's result, as plain text.
"""

from __future__ import annotations

from maiaplan.formats.common import result_line, tier, violation_location, violation_resource, workspace_path
from pulumi_dryrun.analyzer import Violation
from pulumi_dryrun.policy import fails
from pulumi_dryrun.preview import PreviewResult


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, carriage returns and line feeds percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as a message, and ``:`` and ``,`` percent-encoded."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_command(violation: Violation, fail_on: str) -> str:
    """``error``, ``warning`` or ``notice``: what the violation is to a reviewer."""
    level = tier(violation)
    if level == "waived":
        return "notice"
    return "error" if level == "mandatory" or fails(violation, fail_on) else "warning"


def render_github(result: PreviewResult, fail_on: str) -> str:
    lines = []
    for violation in result.policies.violations:
        file, line = violation_location(violation, result)
        properties = {
            "file": workspace_path(file),
            "line": str(line),
            "title": f"{violation.policy_pack_name}/{violation.policy_name}",
        }
        message = (
            f"[{tier(violation)}] {violation_resource(violation, result)}: "
            f"{violation.message.strip() or violation.description}"
        )
        rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
        lines.append(f"::{annotation_command(violation, fail_on)} {rendered}::{escape_data(message)}")
    lines.append(f"maiaplan preview {result.project}/{result.stack}: {result_line(result, fail_on)}")
    return "\n".join(lines) + "\n"
