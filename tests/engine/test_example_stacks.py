"""maiaplan's own project, previewed offline: every example stack, and the stacks in sequence.

pilot (phase 1 at 1 %) -> midway (phase 2 at 50 %) -> final (phase 3 at 100 %), each previewed
against the previous one's snapshot, must change exactly what the plan says: a phase's component
tree appears when the stack reaches the phase; a traffic profile changes when its phase's share
on the destination changes; a workload's source pool goes when its phase completes; dedicated hosts
follow the nodes a hardware-isolated cluster holds. The expectations come from the planner's plan,
not from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from maiaplan.cli import main
from maiaplan.engine import maiaplan_version
from maiaplan.engine.diff import Plan
from maiaplan.engine.policy import PolicyPackRequest
from maiaplan.engine.preview import PreviewResult, run_preview
from maiaplan.engine.state import write_state
from planner.planning import plan_migration
from planner.spec import load_spec

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STACKS = {"pilot": (1, 1), "midway": (2, 50), "final": (3, 100)}


@pytest.fixture(scope="module")
def previews(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PreviewResult]:
    """Each example stack previewed against the previous one's snapshot, with the guard pack."""
    directory = tmp_path_factory.mktemp("example-states")
    results: dict[str, PreviewResult] = {}
    state: Path | None = None
    for stack in STACKS:
        result = run_preview(ROOT, stack, state=state, policy_packs=[PolicyPackRequest(ROOT / "policies")])
        state = directory / f"{stack}.json"
        write_state(state, result.run.resources, maiaplan_version())
        results[stack] = result
    return results


@dataclass(frozen=True)
class Changes:
    created: frozenset[str]
    updated: frozenset[str]
    deleted: frozenset[str]


def changes(plan: Plan) -> Changes:
    """Names of the resources each operation touches (default providers aside)."""
    by_op: dict[str, set[str]] = {"create": set(), "update": set(), "delete": set()}
    for step in plan.steps:
        if step.op in by_op and not step.is_default_provider:
            by_op[step.op].add(step.name)
    return Changes(frozenset(by_op["create"]), frozenset(by_op["update"]), frozenset(by_op["delete"]))


def subtree(result: PreviewResult, root_name: str) -> set[str]:
    """Names of a component and everything under it, from the records' parents."""
    records = result.run.resources
    urns = {record.urn for record in records if record.name == root_name}
    names = {root_name}
    grew = True
    while grew:
        children = [record for record in records if record.parent in urns and record.urn not in urns]
        grew = bool(children)
        urns |= {record.urn for record in children}
        names |= {record.name for record in children}
    return names


def expected(before: str, after: str, previews: dict[str, PreviewResult]) -> Changes:
    """What the plan says moving from stack ``before`` to stack ``after`` changes."""
    plan = plan_migration(load_spec(ROOT / "examples" / "maia-pilot.yaml"))
    (phase_a, step_a), (phase_b, step_b) = STACKS[before], STACKS[after]
    created: set[str] = set()
    updated: set[str] = set()
    deleted: set[str] = set()
    for planned in plan.phases:
        phase = planned.phase
        if phase_a < phase <= phase_b:
            created |= subtree(previews[after], f"phase-{phase}")
        for move in planned.moves:
            share_a = (step_a if phase == phase_a else 100) if phase <= phase_a else None
            share_b = (step_b if phase == phase_b else 100) if phase <= phase_b else None
            if share_a is not None and share_b is not None and share_a != share_b:
                updated.add(f"phase-{phase}-{move.workload}-traffic-tm")
            released_a = phase < phase_a or (phase == phase_a and step_a == 100)
            released_b = phase < phase_b or (phase == phase_b and step_b == 100)
            if released_b and not released_a:
                deleted |= subtree(previews[before], f"{move.from_cluster}-{move.workload}")
    return Changes(frozenset(created), frozenset(updated), frozenset(deleted))


def test_every_example_stack_previews(previews: dict[str, PreviewResult]) -> None:
    for stack, (phase, step) in STACKS.items():
        result = previews[stack]
        assert result.run.outputs["phase"] == phase and result.run.outputs["step"] == step
        assert len(result.run.resources) > 50
        assert not any("pulumi:pulumi:Stack$" in record.urn for record in result.run.resources)
        assert result.policies.packs[0].info.name == "maiaplan-guard"
    assert set(changes(previews["pilot"].plan).created) == {
        record.name for record in previews["pilot"].run.resources if not record.name.startswith("default_")
    }


@pytest.mark.parametrize(("before", "after"), [("pilot", "midway"), ("midway", "final")])
def test_consecutive_stacks_change_exactly_what_the_plan_says(
    previews: dict[str, PreviewResult], before: str, after: str
) -> None:
    actual = changes(previews[after].plan)
    plan_says = expected(before, after, previews)
    assert plan_says.created and plan_says.updated and plan_says.deleted
    hosts = "-host-"
    assert actual.updated == plan_says.updated
    assert {name for name in actual.created if hosts not in name} == plan_says.created
    assert {name for name in actual.deleted if hosts not in name} == plan_says.deleted
    # Moving workloads onto the hardware-isolated Maia cluster adds its dedicated hosts, one per node.
    assert {name for name in actual.created | actual.deleted if hosts in name} == {
        name for name in actual.created if name.startswith("az-eastus-maia-host-")
    }


def test_traffic_updates_change_only_the_routing(previews: dict[str, PreviewResult]) -> None:
    for stack in ("midway", "final"):
        for step in previews[stack].plan.steps:
            if step.op == "update":
                assert step.type == "azure-native:trafficmanager:Profile"
                assert set(step.keys) == {"endpoints"}


@pytest.mark.xfail(
    strict=True,
    reason="the guard needs the policy config derived from the stack's spec (commands/preview.py project_defaults)",
)
def test_the_guard_passes_every_example_stack(previews: dict[str, PreviewResult]) -> None:
    for result in previews.values():
        assert result.failing("mandatory") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "pilto"], "did you mean 'pilot'?"),
        (["--stack", "pilot", "--config", "maiaplan:spec=examples/missing.yaml"], "maiaplan:spec: names no file"),
        (["--stack", "pilot", "--config", "maiaplan:phase=two"], "must be of type 'integer'"),
        (["--stack", "pilot", "--config", "maiaplan:phase=9"], "maiaplan:phase: is 9, but the plan of 'maia-pilot'"),
        (["--stack", "pilot", "--config", "maiaplan:sshPublicKey=not-a-key"], "is not an OpenSSH public key"),
    ],
)
def test_bad_input_to_the_example_exits_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--project", str(ROOT), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
