"""maiaplan's own project, previewed offline: every example stack, and the stacks in sequence.

pilot (phase 1 at 1 %) -> midway (phase 2 at 50 %) -> final (phase 3 at 100 %), each previewed
against the previous one's snapshot, must change exactly what the plan says: a phase's component
tree appears when the stack reaches the phase; a traffic profile changes when its phase's share
on the destination changes; a workload's source pool goes when its phase completes; dedicated hosts
follow the nodes a hardware-isolated cluster holds. The expectations come from the planner's plan,
not from the engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from maiaplan.cli import main
from maiaplan.commands.preview import ProjectDefaults, project_defaults
from maiaplan.formats import FORMATS, render
from maiaplan.version import state_manifest_version
from planner.plan_builder import plan_migration
from planner.spec import load_spec
from pulumi_dryrun.diff import Plan
from pulumi_dryrun.policy import PolicyPackRequest
from pulumi_dryrun.preview import PreviewResult, run_preview
from pulumi_dryrun.project import load_project, load_stack_config
from pulumi_dryrun.state import state_text

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STACKS = {"pilot": (1, 1), "midway": (2, 50), "final": (3, 100)}


def defaults(stack: str) -> ProjectDefaults:
    project = load_project(ROOT)
    return project_defaults(project, load_stack_config(project, stack))


@pytest.fixture(scope="module")
def previews(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PreviewResult]:
    """Each example stack previewed against the previous one's snapshot, as `maiaplan preview` does it:
    the guard pack configured from the stack's spec, the plan's summary."""
    directory = tmp_path_factory.mktemp("example-states")
    results: dict[str, PreviewResult] = {}
    state: Path | None = None
    for stack in STACKS:
        given = defaults(stack)
        result = run_preview(
            ROOT, stack, state=state, policy_packs=given.policy_packs, summary_markdown=given.summary_markdown
        )
        state = directory / f"{stack}.json"
        state.write_text(state_text(result.run.resources, state_manifest_version()), encoding="utf-8")
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


def test_the_guard_passes_every_example_stack(previews: dict[str, PreviewResult]) -> None:
    for result in previews.values():
        assert result.policies.counts()["mandatory"] == 0
        assert result.exit_code("mandatory") == 0


def test_the_comment_says_where_the_stack_stands_in_the_plan(previews: dict[str, PreviewResult]) -> None:
    text = render(previews["midway"], "markdown", "mandatory")
    assert "**Plan `maia-pilot`: phase 2 of 3, 50 % of its traffic on the new homes.**" in text
    phase_2 = plan_migration(load_spec(ROOT / "examples" / "maia-pilot.yaml")).phases[1]
    moves = "; ".join(f"`{m.workload}` {m.from_cluster} → {m.to_cluster} ({m.chips} chips)" for m in phase_2.moves)
    assert f"This phase moves {moves}." in text
    assert "<details><summary>The whole plan</summary>" in text
    assert "complete, its sources released" in render(previews["final"], "markdown", "mandatory")


@pytest.fixture(scope="module")
def over_the_lease(tmp_path_factory: pytest.TempPathFactory) -> PreviewResult:
    """The final stack with the Azure lease capped far below what the plan puts on Maia."""
    (pack,) = defaults("final").policy_packs
    config = pack.config
    assert isinstance(config, Mapping)
    contracts = [
        {**contract, "max_chips": 64} if contract["name"] == "azure-maia-lease" else contract
        for contract in config["contract-limits"]["contracts"]
    ]
    seeded = {**config, "contract-limits": {**config["contract-limits"], "contracts": contracts}}
    return run_preview(ROOT, "final", policy_packs=[PolicyPackRequest(ROOT / "policies", seeded)])


@pytest.mark.parametrize("format_", FORMATS)
def test_a_seeded_violation_fails_and_shows_in_every_format(over_the_lease: PreviewResult, format_: str) -> None:
    assert over_the_lease.exit_code("mandatory") == 1
    (violation,) = [v for v in over_the_lease.policies.violations if v.policy_name == "contract-limits"]
    assert violation.enforcement_level == "mandatory"
    text = render(over_the_lease, format_, "mandatory")
    assert "contract-limits" in text
    assert "azure-maia-lease" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--stack", "pilto"], "did you mean 'pilot'?"),
        (
            ["--stack", "pilot", "--config", "maiaplan:spec=examples/missing.yaml"],
            "--config: maiaplan:spec: names no file",
        ),
        (["--stack", "pilot", "--config", "maiaplan:phase=two"], "must be of type 'integer'"),
        (
            ["--stack", "pilot", "--config", "maiaplan:phase=9"],
            "--config: maiaplan:phase: is 9, but the plan of 'maia-pilot'",
        ),
        (["--stack", "pilot", "--config", "maiaplan:sshPublicKey=not-a-key"], "is not an OpenSSH public key"),
    ],
)
def test_bad_input_to_the_example_exits_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--project", str(ROOT), *args]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_policy_pack_config_replaces_the_one_derived_from_the_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pack,) = defaults("final").policy_packs
    assert isinstance(pack.config, Mapping)
    seeded = {**pack.config, "maiaplan-tags": {"enforcementLevel": "mandatory", "required_tags": {"cost-center": None}}}
    path = tmp_path / "guard.json"
    path.write_text(json.dumps(seeded))
    assert (
        main(
            [
                "preview",
                "--project",
                str(ROOT),
                "--stack",
                "final",
                "--policy-pack-config",
                str(path),
                "--format",
                "json",
            ]
        )
        == 1
    )
    document = json.loads(capsys.readouterr().out)
    failing = {v["policyName"] for v in document["policies"]["violations"] if v["failing"]}
    assert failing == {"maiaplan-tags"}
