"""The dry run's section from a real preview with updates and violations (the engine's demo
project and pack): changes by type and provider, findings by level with their resources, the
tree folded with every resource in it."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from maiaplan.formats import render
from maiaplan.report import ReportInputs, build_report
from maiaplan.report.dryrun import change_rows, diff_tree, finding_rows, provider_of, provider_rows
from maiaplan.version import maiaplan_version
from pulumi_dryrun.policy import PolicyPackRequest
from pulumi_dryrun.preview import run_preview
from pulumi_dryrun.runner import run_program
from pulumi_dryrun.state import state_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEMO, DEMO_PACK = FIXTURES / "demo_project", FIXTURES / "demo_pack"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def oversized(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    """Updates from dev, and two mandatory violations (as tests/engine/conftest.py's)."""
    state = tmp_path_factory.mktemp("state") / "dev.json"
    state.write_text(state_text(run_program(DEMO, "dev").resources, maiaplan_version()), encoding="utf-8")
    result = run_preview(DEMO, "oversized", state=state, policy_packs=[PolicyPackRequest(DEMO_PACK)])
    document: dict = json.loads(render(result, "json", "mandatory"))  # type: ignore[type-arg]
    return document


def test_provider_of_type_tokens() -> None:
    assert provider_of("aws:ec2/vpc:Vpc") == "aws"
    assert provider_of("pulumi:providers:azure-native") == "azure-native"
    assert provider_of("maiaplan:azure:MaiaCluster") == "maiaplan"
    assert provider_of("pulumi:pulumi:Stack") == "pulumi"


def test_changes_count_every_step_once(oversized: dict) -> None:  # type: ignore[type-arg]
    steps = oversized["steps"]
    assert sum(row["resources"] for row in change_rows(oversized)) == len(steps)
    assert sum(row["resources"] for row in provider_rows(oversized)) == len(steps)
    assert any(row["op"] == "update" for row in change_rows(oversized))


def test_the_tree_holds_every_resource_under_its_parent(oversized: dict) -> None:  # type: ignore[type-arg]
    roots = diff_tree(oversized)
    assert sum(root.count() for root in roots) == len(oversized["steps"])
    parents = {step["urn"]: step.get("parent") for step in oversized["steps"]}

    def walk(node, parent):  # type: ignore[no-untyped-def]
        if parent is not None:
            assert parents[node.urn] == parent
        for child in node.children:
            walk(child, node.urn)

    for root in roots:
        walk(root, None)


def test_findings_by_level_with_their_resources(oversized: dict, example_inputs: ReportInputs) -> None:  # type: ignore[type-arg]
    findings = finding_rows(oversized)
    assert findings and findings[0]["level"] == "mandatory"
    page = build_report(dataclasses.replace(example_inputs, preview=oversized))
    section = page[page.index('<section id="dry-run">') :]
    for violation in oversized["policies"]["violations"]:
        assert violation["urn"] in section
        assert violation["policyName"] in section
    assert re.search(r"<caption>mandatory \(\d+\)</caption>", section)
    assert "fails the preview" in section
    # The changed properties of an update are listed under its resource in the folded tree.
    updated = next(step for step in oversized["steps"] if step["op"] == "update")
    assert f"{updated['detailedDiff'][0]['path']}" in section
    assert '<details class="tree">' in section and "chart-changes" in page and "chart-policies" in page
