"""`maiaplan advance`: the stack file moved one step on the gate's decision, round-trip, on record.

The done-when of the issue: the example walks from the pilot (phase 1, step 1) to the end of its
plan by `maiaplan advance` against recorded metrics, each stack file a valid input of
`maiaplan preview` showing exactly that step's change, the audit log complete; a breach in the
middle rolls back exactly one step.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import BREACH, BREACH_WALK, HEALTHY, LOW, Server, make_project

import maiaplan.commands.advance as advance_command
from maiaplan.cli import main
from maiaplan.rollout.audit import audit_log_path, read_entries
from maiaplan.rollout.moments import StackMoment, moments
from planner.plan_builder import plan_migration
from planner.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
PLAN = plan_migration(load_spec(ROOT / "examples" / "maia-pilot.yaml"))
STEPS = (1, 10, 50, 100)
GATE_EVERY_S = 600


def stack_file(project: Path) -> Path:
    return project / "stacks" / "Pulumi.pilot.yaml"


def advance(project: Path, server: Server | str, at: int, *extra: str) -> int:
    url = server.url if isinstance(server, Server) else server
    return main(
        ["advance", "--project", str(project), "--stack", "pilot", "--prometheus", url, "--at", str(at), *extra]
    )


def test_advance_changes_only_the_moment_and_keeps_the_rest(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAIAPLAN_ACTOR", "release-bot")
    project = make_project(tmp_path)
    before = stack_file(project).read_text(encoding="utf-8")
    assert advance(project, prometheus, prometheus.origin + HEALTHY + 1800) == 0
    assert "moved to phase 1 at 10 %" in capsys.readouterr().out
    # Comments, order, the other keys: byte for byte, but the step.
    assert stack_file(project).read_text(encoding="utf-8") == before.replace(
        "maiaplan:step: 1\n", "maiaplan:step: 10\n"
    )
    (entry,) = read_entries(audit_log_path(stack_file(project)))
    assert entry["decision"] == "advance" and entry["applied"] is True
    assert entry["from"] == {"phase": 1, "step": 1} and entry["to"] == {"phase": 1, "step": 10}
    assert entry["who"] == "release-bot" and entry["stack"] == "pilot"
    assert len(entry["spec_sha256"]) == len(entry["plan_sha256"]) == len(entry["stack_sha256"]) == 64
    assert entry["stack_sha256_after"] != entry["stack_sha256"]
    assert {c["name"] for c in entry["evidence"]} == {"p99-time-per-output-token", "error-rate"}


def test_quoted_values_stay_quoted(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path, phase=1, step=100)
    path = stack_file(project)
    path.write_text(
        path.read_text(encoding="utf-8").replace("maiaplan:phase: 1\n", 'maiaplan:phase: "1"\n'), encoding="utf-8"
    )
    assert advance(project, prometheus, prometheus.origin + HEALTHY + 1800) == 0
    text = path.read_text(encoding="utf-8")
    assert 'maiaplan:phase: "2"\n' in text and "maiaplan:step: 1\n" in text


def test_a_hold_is_recorded_and_changes_nothing(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    before = stack_file(project).read_bytes()
    assert advance(project, prometheus, prometheus.origin + LOW + 1200) == 3
    assert "the stack stays" in capsys.readouterr().out
    assert stack_file(project).read_bytes() == before
    (entry,) = read_entries(audit_log_path(stack_file(project)))
    assert entry["decision"] == "hold" and entry["applied"] is False and entry["to"] is None


def test_a_dry_run_writes_nothing(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path)
    before = stack_file(project).read_bytes()
    assert advance(project, prometheus, prometheus.origin + HEALTHY + 1800, "--dry-run", "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["dry_run"] is True and document["applied"] is False
    assert document["to"] == {"phase": 1, "step": 10}
    assert stack_file(project).read_bytes() == before
    assert not audit_log_path(stack_file(project)).exists()


def test_a_stack_file_edited_while_gating_is_not_overwritten(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(tmp_path)
    judge = advance_command.judge

    def judge_then_someone_edits(args: Any) -> Any:
        judged = judge(args)
        path = stack_file(project)
        path.write_text(path.read_text(encoding="utf-8") + "# edited by hand meanwhile\n", encoding="utf-8")
        return judged

    monkeypatch.setattr(advance_command, "judge", judge_then_someone_edits)
    assert advance(project, prometheus, prometheus.origin + HEALTHY + 1800) == 2
    err = capsys.readouterr().err
    assert "changed since the gate read it" in err and "nothing was written" in err
    text = stack_file(project).read_text(encoding="utf-8")
    assert "maiaplan:step: 1\n" in text and text.endswith("# edited by hand meanwhile\n")
    assert not audit_log_path(stack_file(project)).exists()


def test_an_expected_hash_that_does_not_match_refuses(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    before = stack_file(project).read_bytes()
    assert advance(project, prometheus, prometheus.origin + HEALTHY + 1800, "--expect-sha256", "0" * 64) == 2
    assert "changed since it was gated" in capsys.readouterr().err
    assert stack_file(project).read_bytes() == before


def test_prometheus_down_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path)
    before = stack_file(project).read_bytes()
    assert advance(project, "http://127.0.0.1:1", 1_800_000_000) == 2
    assert "cannot be reached" in capsys.readouterr().err
    assert stack_file(project).read_bytes() == before
    assert not audit_log_path(stack_file(project)).exists()


# --- the walk ---------------------------------------------------------------------------------------


def preview_changes(project: Path, state: Path | None, directory: Path, index: int) -> dict[str, set[str]]:
    """Preview the stack as `maiaplan preview` does, against the previous preview's state."""
    out, saved = directory / f"preview-{index}.json", directory / f"state-{index}.json"
    args = ["preview", "--project", str(project), "--stack", "pilot", "--format", "json", "--out", str(out)]
    args += ["--save-state", str(saved)] + (["--state", str(state)] if state else [])
    assert main(args) == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    ops: dict[str, set[str]] = {"create": set(), "update": set(), "delete": set()}
    for step in document["steps"]:
        if step["op"] in ops and not step["name"].startswith("default_"):
            ops[step["op"]].add(step["name"])
    return ops


def assert_exactly_the_step(before: StackMoment, after: StackMoment, ops: dict[str, set[str]]) -> None:
    """The change from one moment to the next is that step's, and nothing else."""
    if after.phase == before.phase:
        moves = PLAN.phases[after.phase - 1].moves
        assert ops["update"] == {f"phase-{after.phase}-{m.workload}-traffic-tm" for m in moves}
        assert not ops["create"]
        if after.step == 100:  # the phase completes: its sources go, nothing else
            assert ops["delete"]
            assert all(any(name.startswith(f"{m.from_cluster}-{m.workload}") for m in moves) for name in ops["delete"])
        else:
            assert not ops["delete"]
    else:  # the next phase begins: its pools, routing and dedicated hosts appear
        assert after == StackMoment(before.phase + 1, STEPS[0])
        assert f"phase-{after.phase}" in ops["create"]
        assert not ops["update"] and not ops["delete"]


def walk(project: Path, server: Server, start: int, preview_dir: Path | None) -> list[StackMoment]:
    """Gate and advance every GATE_EVERY_S seconds until the plan is complete; the moments passed through."""
    seen = [StackMoment(1, 1)]
    state = None
    if preview_dir is not None:
        preview_changes(project, None, preview_dir, 0)
        state = preview_dir / "state-0.json"
    at = server.origin + start
    for index in range(1, 30):
        at += GATE_EVERY_S
        last = read_entries(audit_log_path(stack_file(project)))[-1:]
        if last and last[0]["decision"] == "rollback":
            # Rolled back: healthy again, but the stack holds until an operator retries.
            assert advance(project, server, at) == 3
            assert "pass --retry" in read_entries(audit_log_path(stack_file(project)))[-1]["reason"]
            code = advance(project, server, at, "--retry")
        else:
            code = advance(project, server, at)
        assert code in (0, 4)
        entry = read_entries(audit_log_path(stack_file(project)))[-1]
        if entry["to"] is None:  # the last moment passed its gate: the plan is complete
            assert code == 0 and entry["from"] == {"phase": len(PLAN.phases), "step": 100}
            return seen
        moved = StackMoment(**entry["to"])
        seen.append(moved)
        if preview_dir is not None:
            assert_exactly_the_step(seen[-2], moved, preview_changes(project, state, preview_dir, index))
            state = preview_dir / f"state-{index}.json"
    raise AssertionError(f"the walk did not end: {seen}")


@pytest.mark.slow
def test_the_example_walks_from_the_pilot_to_the_end_of_its_plan(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path / "project")
    (tmp_path / "previews").mkdir()
    seen = walk(project, prometheus, HEALTHY, tmp_path / "previews")
    assert seen == moments(len(PLAN.phases), STEPS)[1:]  # every moment from the pilot on, none skipped
    text = stack_file(project).read_text(encoding="utf-8")
    assert "maiaplan:phase: 3\n" in text and "maiaplan:step: 100\n" in text
    assert text.startswith("# The pilot: phase 1")  # the user's comments survive eleven rewrites
    entries = read_entries(audit_log_path(stack_file(project)))
    assert [e["decision"] for e in entries] == ["advance"] * 12
    assert [e["applied"] for e in entries] == [True] * 11 + [False]
    for entry, before, after in zip(entries, seen, seen[1:], strict=False):
        assert entry["from"] == before.as_dict() and entry["to"] == after.as_dict()
        assert entry["evidence"] and all(c["verdict"] == "pass" for c in entry["evidence"])
    assert len({e["plan_sha256"] for e in entries}) == 1


@pytest.mark.slow
def test_a_breach_in_the_middle_rolls_back_exactly_one_step(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    seen = walk(project, prometheus, BREACH_WALK, None)
    breach_at = seen.index(StackMoment(2, 10))
    assert seen[breach_at + 1] == StackMoment(2, 1)  # back one step, not to the phase's start or before
    assert seen[breach_at + 2] == StackMoment(2, 10)  # healthy again: forward one step
    assert seen[: breach_at + 1] + seen[breach_at + 3 :] == moments(len(PLAN.phases), STEPS)[1:]
    entries = read_entries(audit_log_path(stack_file(project)))
    rollback = next(e for e in entries if e["decision"] == "rollback")
    assert rollback["at_unix"] == prometheus.origin + BREACH[1]
    (failed,) = [c for c in rollback["evidence"] if c["verdict"] == "fail"]
    assert failed["workload"] == "safety-filter" and failed["name"] == "p99-time-per-output-token"
    assert [e["decision"] for e in entries].count("rollback") == 1
    assert [e["decision"] for e in entries].count("hold") == 1  # the retry waited for the operator
