"""Every format of the preview report: content, validity, secrets, determinism."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import jsonschema
import pytest

from maiaplan.formats import FORMATS, TextOptions, render
from pulumi_dryrun.preview import PreviewResult
from pulumi_dryrun.resources import UNKNOWN

pytestmark = pytest.mark.slow

# The official SARIF 2.1.0 schema (final, rtm.5), as shipped in the npm package @microsoft/jest-sarif
# 1.0.0-beta.0 (MIT; github.com/microsoft/sarif-js-sdk), unchanged. It is JSON Schema draft-04.
SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif-2.1.0-rtm.5.schema.json").read_text())


@pytest.mark.parametrize("format_", FORMATS)
def test_the_seeded_violations_appear_in_every_format(oversized: PreviewResult, format_: str) -> None:
    text = render(oversized, format_, "mandatory")
    for policy in ("group-size", "encrypted-volumes"):
        assert policy in text
    assert "wants 50 instances" in text


@pytest.mark.parametrize("format_", FORMATS)
def test_secrets_never_appear(oversized: PreviewResult, untagged: PreviewResult, format_: str, api_token: str) -> None:
    for result in (oversized, untagged):
        text = render(result, format_, "mandatory")
        assert api_token not in text
        assert "hunter" not in text


@pytest.mark.parametrize("format_", FORMATS)
def test_same_result_same_bytes(oversized: PreviewResult, format_: str) -> None:
    assert render(oversized, format_, "mandatory") == render(oversized, format_, "mandatory")


def test_text_lays_out_the_tree_changes_and_counts(oversized: PreviewResult) -> None:
    text = render(oversized, "text", "mandatory")
    assert "(a snapshot of stack 'dev', compared as this stack's prior state)" in text
    assert " ~   ├─ aws:autoscaling:Group     workers" in text
    assert "[diff: ~desiredCapacity, ~maxSize]" in text
    assert "     ~ desiredCapacity: 2 => 50" in text
    assert '     ~ blockDeviceMappings[0].ebs.encrypted: "true" => "false"' in text
    assert "    ~ 9 to update" in text and "9 changes. 5 unchanged" in text
    assert "[mandatory]  group-size  (aws:autoscaling:Group workers)" in text
    assert "Result: failed: 2 violations at or above mandatory" in text
    assert "\x1b[" not in text
    assert "\x1b[33m ~   ├─ aws:autoscaling:Group" in render(oversized, "text", "mandatory", TextOptions(colour=True))


def test_text_lists_waived_violations_apart(untagged: PreviewResult) -> None:
    text = render(untagged, "text", "mandatory")
    assert "[waived]  bucket-tags  (aws:s3:Bucket replica)" in text
    assert "[advisory]  bucket-tags  (aws:s3:Bucket logs-0)" in text
    assert "Result: passed: no violation at or above mandatory (0 mandatory, 2 advisory, 1 waived)" in text
    assert "Result: failed: 2 violations at or above advisory" in render(untagged, "text", "advisory")


def test_json_carries_steps_and_the_policy_results(oversized: PreviewResult) -> None:
    document = json.loads(render(oversized, "json", "mandatory"))
    assert document["result"] == "failed" and document["failOn"] == "mandatory"
    assert document["changeSummary"] == {"update": 9, "same": 5}
    group = next(step for step in document["steps"] if step["urn"].endswith("Group::workers"))
    assert group["op"] == "update"
    assert group["diffReasons"] == ["desiredCapacity", "maxSize"]
    assert {"path": "desiredCapacity", "kind": "update", "old": 2, "new": 50} in group["detailedDiff"]
    assert group["newState"]["inputs"]["desiredCapacity"] == 50
    assert group["oldState"]["inputs"]["desiredCapacity"] == 2
    (pack,) = document["policies"]["packs"]
    assert pack["name"] == "demo-guard" and pack["version"] == "1.2.0"
    assert {policy["name"]: policy["status"] for policy in pack["policies"]} == {
        "bucket-tags": "passed",
        "encrypted-volumes": "failed",
        "group-size": "failed",
        "one-network": "passed",
    }
    violation = next(v for v in document["policies"]["violations"] if v["policyName"] == "group-size")
    assert violation["enforcementLevel"] == "mandatory" and violation["failing"] is True
    assert violation["urn"] == "urn:pulumi:oversized::demo::aws:autoscaling/group:Group::workers"
    assert document["config"]["demo:dbPassword"] == "[secret]"
    assert document["outputs"]["apiToken"] == "[secret]"
    assert document["outputs"]["zones"] == 3


def test_json_of_creates_marks_unknowns(untagged: PreviewResult) -> None:
    document = json.loads(render(untagged, "json", "mandatory"))
    bucket = next(step for step in document["steps"] if step["urn"].endswith("Bucket::logs-0"))
    assert bucket["op"] == "create" and "oldState" not in bucket
    assert bucket["newState"]["id"] == UNKNOWN
    assert bucket["newState"]["outputs"]["arn"] == UNKNOWN
    counts = document["policies"]["counts"]
    assert counts == {"mandatory": 0, "advisory": 2, "waived": 1}
    assert document["result"] == "passed"


def test_markdown_is_a_pull_request_comment(oversized: PreviewResult) -> None:
    text = render(oversized, "markdown", "mandatory")
    assert text.startswith("<!-- maiaplan-preview:demo/oversized -->\n## ❌ Preview of `demo` / `oversized`")
    assert "| Create | Update | Replace | Delete | Read | Same |" in text
    assert "| 0 | 9 | 0 | 0 | 0 | 5 |" in text
    assert "<details><summary>Resource changes (9)</summary>" in text
    assert "!       desiredCapacity: 2 => 50" in text
    assert "| 🔴 mandatory | `demo-guard/group-size` | aws:autoscaling:Group workers |" in text


def test_markdown_puts_the_plan_summary_first(oversized: PreviewResult) -> None:
    from dataclasses import replace

    text = render(
        replace(oversized, summary_markdown="**Phase 2 of 3**: moving chat-large to Maia."), "markdown", "mandatory"
    )
    assert text.index("**Phase 2 of 3**") < text.index("| Create |")


def test_sarif_validates_against_the_2_1_0_schema(oversized: PreviewResult, untagged: PreviewResult) -> None:
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker())
    for result in (oversized, untagged):
        document = json.loads(render(result, "sarif", "mandatory"))
        validator.validate(document)
        (run,) = document["runs"]
        assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
            "demo-guard/bucket-tags",
            "demo-guard/encrypted-volumes",
            "demo-guard/group-size",
            "demo-guard/one-network",
        ]
    (run,) = json.loads(render(untagged, "sarif", "mandatory"))["runs"]
    levels = sorted((r["locations"][0]["logicalLocations"][0]["name"], r["level"]) for r in run["results"])
    assert levels == [("logs-0", "warning"), ("logs-1", "warning"), ("replica", "note")]
    waived = next(r for r in run["results"] if r["level"] == "note")
    assert waived["suppressions"][0]["status"] == "accepted"
    location = waived["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("demo_project/__main__.py")
    assert location["region"]["startLine"] > 1
    assert run["automationDetails"]["id"] == "maiaplan-preview/demo/untagged/"


def test_sarif_schema_rejects_what_is_not_sarif() -> None:
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    assert not validator.is_valid({"version": "2.1.0", "runs": [{"tool": {}}]})
    assert not validator.is_valid({"version": "2.0.0", "runs": []})
    assert not validator.is_valid(
        {
            "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"level": "fatal", "message": {"text": "m"}}]}],
        }
    )


def test_junit_has_one_test_case_per_policy(oversized: PreviewResult, untagged: PreviewResult) -> None:
    root = ElementTree.fromstring(render(oversized, "junit", "mandatory"))
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("4", "2")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "demo-guard@1.2.0"
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    assert set(cases) == {"bucket-tags", "encrypted-volumes", "group-size", "one-network"}
    failure = cases["group-size"].find("failure")
    assert failure is not None and failure.get("type") == "mandatory"
    assert "wants 50 instances" in (failure.text or "")
    assert cases["bucket-tags"].find("failure") is None
    advisory = ElementTree.fromstring(render(untagged, "junit", "advisory"))
    assert advisory.get("failures") == "1"
    relaxed = ElementTree.fromstring(render(untagged, "junit", "mandatory"))
    assert relaxed.get("failures") == "0"
    out = relaxed.find("testsuite/testcase[@name='bucket-tags']/system-out")
    assert out is not None and "[waived]" in (out.text or "") and "[advisory]" in (out.text or "")


@pytest.mark.parametrize("format_", FORMATS)
def test_no_absolute_path_of_the_checkout_in_any_format(oversized: PreviewResult, format_: str) -> None:
    text = render(oversized, format_, "mandatory")
    assert str(Path(__file__).resolve().parents[2]) not in text
