"""`maiaplan preview`: exit codes, files, and clear messages for bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from maiaplan.cli import main

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEMO = str(FIXTURES / "demo_project")
# The line of the demo program that raises for the broken stack.
RAISE_LINE = next(
    number
    for number, line in enumerate((FIXTURES / "demo_project" / "network.py").read_text().splitlines(), 1)
    if "raise ValueError" in line
)
PACK = str(FIXTURES / "demo_pack")


def preview(*args: str) -> list[str]:
    return ["preview", "--project", DEMO, *args]


def test_a_clean_preview_exits_0_and_saves_a_state_that_round_trips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "dev.json"
    assert main(preview("--stack", "dev", "--save-state", str(state))) == 0
    first = capsys.readouterr().out
    assert "+ 17 to create" not in first and "to create" in first
    assert main(preview("--stack", "dev", "--state", str(state), "--format", "json")) == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document["changeSummary"]) == {"same"}
    assert document["priorState"] == {"file": os.path.relpath(state, DEMO), "stack": "dev"}


def test_a_mandatory_violation_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(preview("--stack", "oversized", "--policy-pack", PACK)) == 1
    out = capsys.readouterr().out
    assert "[mandatory]  group-size" in out


def test_fail_on_advisory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(preview("--stack", "untagged", "--policy-pack", PACK)) == 0
    report = tmp_path / "report" / "preview.sarif"
    report.parent.mkdir()  # --out creates no directory
    assert (
        main(
            preview(
                "--stack",
                "untagged",
                "--policy-pack",
                PACK,
                "--fail-on",
                "advisory",
                "--format",
                "sarif",
                "--out",
                str(report),
            )
        )
        == 1
    )
    assert capsys.readouterr().out.count("Result:") == 1  # the second report went to the file
    results = json.loads(report.read_text())["runs"][0]["results"]
    assert sorted(result["level"] for result in results) == ["error", "error", "note"]


def test_policy_pack_config_sets_levels_and_properties(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "demo-guard.json"
    config.write_text(json.dumps({"group-size": {"maxDesired": 1}, "bucket-tags": "disabled"}))
    code = main(
        preview("--stack", "dev", "--policy-pack", PACK, "--policy-pack-config", str(config), "--format", "junit")
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "group workers wants 2 instances, more than 1" in out
    assert '<testcase classname="demo-guard.disabled" name="bucket-tags">' in out


def test_config_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(preview("--stack", "dev", "--config", "groupSize=7", "--format", "json")) == 0
    document = json.loads(capsys.readouterr().out)
    group = next(step for step in document["steps"] if step["urn"].endswith("Group::workers"))
    assert group["newState"]["inputs"]["desiredCapacity"] == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "nosuch"], "stack 'nosuch' has no config file"),
        (["--stack", "prd"], "did you mean 'prod'?"),
        (["--stack", "untyped"], "config.demo:groupSize: value 'many' must be of type 'integer'"),
        (["--stack", "nopassword"], "requires configuration value 'demo:dbPassword'"),
        (["--stack", "broken"], f"network.py: line {RAISE_LINE}: the Pulumi program raised ValueError"),
        (["--stack", "dev", "--policy-pack", "/nonexistent/pack"], "is not a policy pack"),
        (["--stack", "dev", "--policy-pack-config", "x.json"], "1 config file(s) for 0 policy pack(s)"),
        (["--stack", "dev", "--config", "novalue"], "is not KEY=VALUE"),
        (["--stack", "dev", "--state", "/nonexistent/state.json"], "cannot be read"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(preview(*args)) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_a_project_that_is_not_one_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--project", str(tmp_path), "--stack", "dev"]) == 2
    assert "is not a Pulumi project" in capsys.readouterr().err
