"""Policy results as JUnit XML: one test suite per pack, one test case per policy.

A policy with a violation that fails the preview is a ``failure`` (type = its level, one line per
violation); a policy whose violations do not fail it (advisory under ``--fail-on mandatory``, or
waived) passes with those violations in ``system-out``; a disabled policy is ``skipped``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from maiaplan.formats.common import project_path, tier, violation_resource
from pulumi_dryrun.policy import PackResult, fails
from pulumi_dryrun.preview import PreviewResult


def render_junit(result: PreviewResult, fail_on: str) -> str:
    suites = ElementTree.Element("testsuites", {"name": f"maiaplan preview {result.project}/{result.stack}"})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for pack in result.policies.packs:
        suite = _suite(pack, result, fail_on)
        suites.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        suites.set(key, str(value))
    ElementTree.indent(suites, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def _suite(pack: PackResult, result: PreviewResult, fail_on: str) -> ElementTree.Element:
    suite = ElementTree.Element("testsuite", {"name": f"{pack.info.name}@{pack.info.version}"})
    properties = ElementTree.SubElement(suite, "properties")
    ElementTree.SubElement(properties, "property", {"name": "path", "value": project_path(pack.directory, result)})
    ElementTree.SubElement(properties, "property", {"name": "failOn", "value": fail_on})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for policy in pack.info.policies:
        counts["tests"] += 1
        level = pack.level(policy).value
        case = ElementTree.SubElement(
            suite, "testcase", {"classname": f"{pack.info.name}.{level}", "name": policy.name}
        )
        violations = pack.violations_of(policy)
        lines = [
            f"[{tier(violation)}] {violation_resource(violation, result)}: {violation.message.strip()}"
            for violation in violations
        ]
        if level == "disabled":
            counts["skipped"] += 1
            ElementTree.SubElement(case, "skipped", {"message": "policy disabled"})
        elif any(fails(violation, fail_on) for violation in violations):
            counts["failures"] += 1
            failing = [violation for violation in violations if fails(violation, fail_on)]
            failure = ElementTree.SubElement(
                case,
                "failure",
                {
                    "type": failing[0].enforcement_level.value,
                    "message": f"{len(failing)} violation{'s' if len(failing) != 1 else ''}: {policy.description}",
                },
            )
            failure.text = "\n".join(lines)
        elif lines:
            ElementTree.SubElement(case, "system-out").text = "\n".join(lines)
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite
