"""`maiaplan preview`'s Pulumi and scanner conventions: -s, --json, --diff, --suppress-outputs,
--expect-no-changes, --fail-on none, reports beside the main format, GitHub annotations, the
violations-only listing, the tree's order, the terminal width, and where violations and errors are
located."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from rich.cells import cell_len

from maiaplan.cli import main
from maiaplan.commands.preview import proposed_changes
from maiaplan.formats import TextOptions, render
from maiaplan.formats.common import tree_rows
from maiaplan.formats.github import escape_data, escape_property
from maiaplan.formats.text import fit
from pulumi_dryrun.diff import diff
from pulumi_dryrun.policy import PolicyReport
from pulumi_dryrun.preview import PreviewResult
from pulumi_dryrun.resources import ResourceRecord
from pulumi_dryrun.urns import STACK_TYPE

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
DEMO = str(FIXTURES / "demo_project")
PACK = str(FIXTURES / "demo_pack")
SARIF_SCHEMA = json.loads((Path(__file__).parent / "sarif-2.1.0-rtm.5.schema.json").read_text())


def preview(*args: str) -> list[str]:
    return ["preview", "--project", DEMO, *args]


# The tree


def test_the_tree_lists_siblings_in_natural_order() -> None:
    stack = ResourceRecord("urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev", STACK_TYPE, "p-dev", False, {})
    hosts = [
        ResourceRecord(
            f"urn:pulumi:dev::p::aws:ec2/instance:Instance::host-{n}",
            "aws:ec2/instance:Instance",
            f"host-{n}",
            True,
            {},
            parent=stack.urn,
        )
        for n in (10, 2, 1)
    ]
    rows = tree_rows(diff([stack, *sorted(hosts, key=lambda r: r.urn)], {}))
    assert [row.step.name for row in rows] == ["p-dev", "host-1", "host-2", "host-10"]
    assert [row.guide for row in rows] == ["", "├─ ", "├─ ", "└─ "]


# --diff, --suppress-outputs, -s, --json, --expect-no-changes


def test_diff_lists_the_properties_of_creates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(preview("-s", "dev")) == 0
    plain = capsys.readouterr().out
    assert main(preview("-s", "dev", "--diff")) == 0
    detailed = capsys.readouterr().out
    assert "desiredCapacity" not in plain
    assert " + aws:autoscaling:Group workers (create)" in detailed
    assert "     [urn=urn:pulumi:dev::demo::aws:autoscaling/group:Group::workers]" in detailed
    assert "     + desiredCapacity: 2" in detailed
    assert '     + tags: [{"key": "env", "propagateAtLaunch": true, "value": "dev"}]' in detailed


def test_suppress_outputs_leaves_the_stack_outputs_out(untagged: PreviewResult) -> None:
    assert "\nOutputs:\n" in render(untagged, "text", "mandatory")
    assert "Outputs:" not in render(untagged, "text", "mandatory", TextOptions(suppress_outputs=True))
    assert "Stack outputs" in render(untagged, "markdown", "mandatory")
    assert "Stack outputs" not in render(untagged, "markdown", "mandatory", TextOptions(suppress_outputs=True))


def test_json_is_format_json_and_expect_no_changes_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "dev.json"
    assert main(preview("--stack", "dev", "--json", "--save-state", str(state))) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["changeSummary"]["create"] > 0
    assert main(preview("-s", "dev", "--format", "json", "--expect-no-changes")) == 3
    captured = capsys.readouterr()
    assert json.loads(captured.out) == created
    assert f"--expect-no-changes: the preview proposes {sum(created['changeSummary'].values())} changes" in captured.err
    assert main(preview("-s", "dev", "--state", str(state), "--expect-no-changes")) == 0
    assert "no changes" in capsys.readouterr().out


def test_a_read_is_no_change_to_expect_no_changes_about() -> None:
    stack = ResourceRecord("urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev", STACK_TYPE, "p-dev", False, {})
    zone = ResourceRecord(
        "urn:pulumi:dev::p::aws:route53/zone:Zone::main",
        "aws:route53/zone:Zone",
        "main",
        True,
        {},
        parent=stack.urn,
        external=True,
    )
    assert proposed_changes(diff([stack, zone], {stack.urn: stack})) == 0
    assert proposed_changes(diff([stack, zone], {})) == 1  # the stack itself is created


def test_a_violation_exit_1_comes_before_expect_no_changes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(preview("-s", "oversized", "--policy-pack", PACK, "--expect-no-changes")) == 1
    assert main(preview("-s", "oversized", "--policy-pack", PACK, "--fail-on", "none")) == 0
    out = capsys.readouterr().out
    assert "Result: passed: no violation at or above none (2 mandatory" in out


# The terminal's width


def test_text_fits_the_terminal_when_given_a_width_and_stays_whole_otherwise(oversized: PreviewResult) -> None:
    whole = render(oversized, "text", "mandatory", TextOptions(diff=True))
    assert max(cell_len(line) for line in whole.splitlines()) > 100
    fitted = render(oversized, "text", "mandatory", TextOptions(diff=True, width=80))
    assert max(cell_len(line) for line in fitted.splitlines()) <= 80
    assert "…" in fitted
    assert render(oversized, "text", "mandatory", TextOptions(diff=True)) == whole


def test_fit_keeps_colour_codes_out_of_the_count() -> None:
    line = "\x1b[32m + aws:s3:Bucket  logs-0  create\x1b[0m"
    assert fit(line, 80) == line
    cut = fit(line, 10)
    assert cut == "\x1b[32m + aws:s3…\x1b[0m"
    assert fit("✅ wide ✅ cells", 6) == "✅ wi…"


# Reports beside the main format


def test_one_run_writes_every_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = {name: tmp_path / name for name in ("p.sarif", "p.junit.xml", "p.md", "p.json")}
    code = main(
        preview(
            "-s",
            "untagged",
            "--policy-pack",
            PACK,
            "--fail-on",
            "advisory",
            "--format",
            "github",
            "--sarif-output",
            str(files["p.sarif"]),
            "--junit-output",
            str(files["p.junit.xml"]),
            "--markdown-output",
            str(files["p.md"]),
            "--json-output",
            str(files["p.json"]),
        )
    )
    assert code == 1
    annotations = capsys.readouterr().out.splitlines()
    assert sorted(line.split(" ", 1)[0] for line in annotations[:-1]) == ["::error", "::error", "::notice"]
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(json.loads(files["p.sarif"].read_text()))
    assert ElementTree.fromstring(files["p.junit.xml"].read_text()).get("failures") == "1"
    assert files["p.md"].read_text().startswith("<!-- maiaplan-preview:demo/untagged -->")
    document = json.loads(files["p.json"].read_text())
    assert (document["failOn"], document["result"]) == ("advisory", "failed")


def test_no_report_is_written_when_the_preview_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "--sarif-output",
        str(tmp_path / "p.sarif"),
        "--json-output",
        str(tmp_path / "p.json"),
        "--out",
        str(tmp_path / "p.txt"),
    ]
    assert main(preview("-s", "broken", *args)) == 2
    assert "the Pulumi program raised ValueError" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert main(preview("-s", "dev", "--out", str(tmp_path / "same"), "--json-output", str(tmp_path / "same"))) == 2
    assert "--json-output: is also given to --out" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert main(preview("-s", "dev", "--out", os.devnull, "--json-output", os.devnull)) == 0  # a device is shared


# GitHub annotations and the violations-only listing


def test_github_escaping_follows_the_runner() -> None:
    assert escape_data("100% sure\r\nnext: a, b") == "100%25 sure%0D%0Anext: a, b"
    assert escape_property("stacks/a:b,c%\n") == "stacks/a%3Ab%2Cc%25%0A"


def test_github_annotations_per_level(oversized: PreviewResult, untagged: PreviewResult) -> None:
    lines = render(oversized, "github", "mandatory").splitlines()
    assert lines[0].startswith("::error file=")
    assert ",title=demo-guard/group-size::[mandatory] aws:autoscaling:Group workers: group workers wants 50" in (
        "\n".join(lines)
    )
    assert re.fullmatch(r"::error file=\S+__main__\.py,line=\d+,title=demo-guard/\S+::.+", lines[1])
    assert lines[-1].startswith("maiaplan preview demo/oversized: failed")
    levels = sorted(line.split(" ", 1)[0] for line in render(untagged, "github", "mandatory").splitlines()[:-1])
    assert levels == ["::notice", "::warning", "::warning"]


def test_violations_format_lists_only_violations(oversized: PreviewResult, untagged: PreviewResult) -> None:
    lines = render(untagged, "violations", "mandatory").splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["advisory", "advisory", "waived"]
    assert lines[0].startswith("advisory   demo-guard/bucket-tags  aws:s3:Bucket logs-0: ")
    assert lines[-1].startswith("Result: passed")
    assert "Resources:" not in "\n".join(lines)
    assert render(oversized, "violations", "mandatory").splitlines()[0].startswith("mandatory  demo-guard/")


# Where violations and errors are located


def _stack_wide(untagged: PreviewResult) -> PreviewResult:
    """``untagged`` with one stack-wide violation, its stack record placed where the old in-process
    engine placed it (maiaplan's own preview command)."""
    pack = untagged.policies.packs[0]
    violation = replace(
        pack.violations[0], policy_name="one-network", urn=untagged.run.stack_urn, message="two VPCs: a, b\n100% sure"
    )
    records = tuple(
        replace(record, source_position="maiaplan/commands/preview.py:156") if record.type == STACK_TYPE else record
        for record in untagged.run.resources
    )
    return replace(
        untagged,
        run=replace(untagged.run, resources=records),
        policies=PolicyReport((replace(pack, violations=(violation,)),)),
    )


def test_a_stack_wide_violation_is_located_at_the_stack_file(untagged: PreviewResult) -> None:
    result = _stack_wide(untagged)
    (found,) = json.loads(render(result, "sarif", "mandatory"))["runs"][0]["results"]
    location = found["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"].endswith("demo_project/stacks/Pulumi.untagged.yaml")
    assert location["region"]["startLine"] == 1
    (annotation, _result) = render(result, "github", "mandatory").splitlines()
    assert annotation.startswith("::warning file=") and "stacks/Pulumi.untagged.yaml,line=1," in annotation
    assert annotation.endswith("::[advisory] stack untagged: two VPCs: a, b%0A100%25 sure")


def test_a_config_override_is_blamed_on_the_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--project", str(ROOT), "-s", "pilot", "--config", "maiaplan:phase=7"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("maiaplan: --config: maiaplan:phase: is 7, but the plan of 'maia-pilot' has phases 0 to")
    assert "in --config maiaplan:phase=…" in err
    assert "Pulumi.pilot.yaml" not in err


def test_the_fix_for_a_crashing_pack_terminates_and_shows_the_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = tmp_path / "crashing"
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (pack / "__main__.py").write_text("raise RuntimeError('the pack cannot start: boom-4711')\n")
    assert main(preview("-s", "dev", "--policy-pack", str(pack))) == 2
    err = capsys.readouterr().err
    assert "python -m pulumi.policy" not in err
    (command,) = re.findall(r"`([^`]+)`", err.split("Fix:", 1)[1])
    assert command == "timeout 60 python -u __main__.py"
    started = time.monotonic()
    ran = subprocess.run(
        command.replace("python", sys.executable, 1), shell=True, cwd=pack, capture_output=True, text=True, timeout=120
    )
    assert time.monotonic() - started < 60
    assert ran.returncode == 1
    assert "RuntimeError: the pack cannot start: boom-4711" in ran.stderr


# Ctrl-C


_SLOW_PROGRAM = """
import time
import pulumi
open({marker!r}, "w").close()
time.sleep(120)
pulumi.export("never", 1)
"""

_SLOW_PACK = """
import time
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def check(args, report_violation):
    open({marker!r}, "w").close()
    time.sleep(120)

PolicyPack(name="slow", enforcement_level=EnforcementLevel.MANDATORY,
           policies=[ResourceValidationPolicy(name="slow", description="Takes its time.", validate=check)])
"""


def _project(directory: Path, program: str) -> Path:
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: slow\nruntime: python\n")
    (directory / "Pulumi.dev.yaml").write_text("config: {}\n")
    (directory / "__main__.py").write_text(program)
    return directory


@pytest.mark.parametrize("during", ["program", "pack"])
def test_ctrl_c_during_the_preview_is_exit_130_with_no_report(tmp_path: Path, during: str) -> None:
    marker = tmp_path / "started"
    reports = tmp_path / "reports"
    reports.mkdir()
    if during == "program":
        project = _project(tmp_path / "project", _SLOW_PROGRAM.format(marker=str(marker)))
        packs: list[str] = []
    else:
        project = _project(tmp_path / "project", "import pulumi\npulumi.export('x', 1)\n")
        pack = tmp_path / "pack"
        pack.mkdir()
        (pack / "PulumiPolicy.yaml").write_text("runtime: python\n")
        (pack / "__main__.py").write_text(_SLOW_PACK.format(marker=str(marker)))
        packs = ["--policy-pack", str(pack)]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "maiaplan.cli",
            "preview",
            "--project",
            str(project),
            "-s",
            "dev",
            *packs,
            "--out",
            str(reports / "preview.txt"),
            "--sarif-output",
            str(reports / "preview.sarif"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 120
    while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), process.communicate(timeout=60)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out) == (130, "")
    assert "maiaplan: interrupted" in err
    assert "raised" not in err and "AttributeError" not in err
    assert list(reports.iterdir()) == []
