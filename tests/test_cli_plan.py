"""The shard, plan and explain commands: formats, files, determinism and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maiaplan.cli import main
from planner.verify import verify_plan

EXAMPLE = str(Path(__file__).resolve().parents[1] / "examples" / "maia-pilot.yaml")


def test_shard_table_lists_current_and_every_destination(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shard", EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["WORKLOAD", "CLUSTER", "ROLE"]
    rows = [line.split() for line in out.splitlines()[2:]]
    assert ("chat-xl", "aws-use1-trn2", "current") in {tuple(r[:3]) for r in rows}
    assert ("chat-xl", "az-westus3-maia", "destination") in {tuple(r[:3]) for r in rows}
    assert len(rows) == 20  # 8 current + 12 eligible destinations


def test_shard_json_filters_by_workload_and_cluster(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shard", EXAMPLE, "--workload", "chat-fast", "--cluster", "az-eastus-maia", "--format", "json"]) == 0
    options = json.loads(capsys.readouterr().out)
    assert [(o["workload"], o["cluster"]) for o in options] == [("chat-fast", "az-eastus-maia")]
    sharding = options[0]["sharding"]
    assert sharding["chips"] == sharding["tensor_parallel"] * sharding["pipeline_parallel"] * sharding["replicas"]


def test_shard_unknown_workload_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shard", EXAMPLE, "--workload", "chat-fats"]) == 2
    err = capsys.readouterr().err
    assert "--workload: unknown workload 'chat-fats' — did you mean 'chat-fast'?" in err


def test_plan_json_to_file_is_deterministic_and_reverifies(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "plan.json", tmp_path / "plan2.json"
    first.parent.mkdir()  # --out creates no directory
    assert main(["plan", EXAMPLE, "--format", "json", "--out", str(first)]) == 0
    assert main(["plan", EXAMPLE, "--format", "json", "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_text())
    assert document["spec"] == "maia-pilot" and document["lower_bound_phases"] == 3
    assert verify_plan(document) == []
    assert [p.name for p in first.parent.iterdir()] == ["plan.json"]  # no temporary file left behind


def test_plan_markdown_has_the_review_sections(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", EXAMPLE, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.count("```mermaid") == 2 and "gantt" in out and "graph LR" in out
    assert "### Economics per phase" in out and "| start |" in out
    assert "| aws-strategic | min_share |" in out and "### Stays" in out


def test_bad_spec_writes_no_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(Path(EXAMPLE).read_text().replace("current: aws-use1-h100", "current: aws-use1-h10", 1))
    out = tmp_path / "plan.json"
    assert main(["plan", str(bad), "--format", "json", "--out", str(out)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert "workloads[0].current: unknown cluster 'aws-use1-h10' — did you mean 'aws-use1-h100'?" in err
    assert "Traceback" not in err


def test_explain_moving_and_staying(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", EXAMPLE, "safety-filter"]) == 0
    out = capsys.readouterr().out
    assert "moves in phase 2" in out and "waits for router-small" in out
    assert main(["explain", EXAMPLE, "code-assist"]) == 0
    assert "gcp-commit" in capsys.readouterr().out


def test_place_reports_hops_and_free_chips_per_phase(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["place", EXAMPLE, "--phase", "3", "--format", "json"]) == 0
    clusters = {p["cluster"]: p for p in json.loads(capsys.readouterr().out)}
    eastus = clusters["az-eastus-maia"]
    assert {w["workload"] for w in eastus["workloads"]} == {"router-small", "embed", "safety-filter", "chat-fast"}
    assert eastus["used_chips"] + eastus["free_chips"] == eastus["chips"] == 256
    assert all(w["max_hops"] <= 1 for w in eastus["workloads"])  # TP groups inside one node
    assert clusters["aws-use1-h100"]["used_chips"] == 0  # its workloads moved in phases 1 and 2


def test_place_rejects_a_phase_outside_the_plan(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["place", EXAMPLE, "--phase", "9"]) == 2
    assert "--phase: is 9, but the plan has phases 0 to 3" in capsys.readouterr().err


def test_unwritable_out_is_exit_2_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", EXAMPLE, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path}: --out: cannot be written (it is a directory)" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_shard_on_a_cluster_the_workload_may_not_use_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["shard", EXAMPLE, "--workload", "copilot-chat", "--cluster", "az-eastus-maia"]) == 2
    assert (
        "--cluster: copilot-chat may not run on az-eastus-maia: copilot-chat has no target" in capsys.readouterr().err
    )
