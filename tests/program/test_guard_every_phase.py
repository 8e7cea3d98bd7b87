"""Issue 6's acceptance: the resources of every phase and traffic step of the example, from the real
Pulumi program under the offline engine, pass maiaplan-guard over the analyzer protocol with zero
mandatory violations (and zero advisory ones), with the pack configured from the same spec."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from maiaplan.guard_config import policy_config
from planner.plan_builder import plan_migration
from planner.spec import load_spec
from pulumi_dryrun import run_program
from pulumi_dryrun.analyzer import PolicyPackSession

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_spec(ROOT / "examples" / "maia-pilot.yaml")
PLAN = plan_migration(SPEC)
MOMENTS = [(0, 100)] + [(phase.phase, step) for phase in PLAN.phases for step in SPEC.migration.traffic_steps]


@pytest.fixture(scope="module")
def guard() -> Iterator[PolicyPackSession]:
    with PolicyPackSession(
        ROOT / "policies", project="maiaplan", stack="final", policy_config=policy_config(SPEC, {})
    ) as session:
        yield session


def test_the_example_has_moments_to_check() -> None:
    assert len(MOMENTS) == 1 + 3 * 4


@pytest.mark.parametrize(("phase", "step"), MOMENTS, ids=[f"phase{p}-step{s}" for p, s in MOMENTS])
def test_every_phase_and_step_passes_the_guard(guard: PolicyPackSession, phase: int, step: int) -> None:
    run = run_program(ROOT, "final", overrides={"maiaplan:phase": phase, "maiaplan:step": step})
    assert any(r.type == "azure-native:compute:VirtualMachineScaleSet" for r in run.resources)
    violations = guard.analyze(run.resources) + guard.analyze_stack(run.resources)
    assert [v.message for v in violations] == []


def test_the_same_harness_catches_a_tampered_resource(guard: PolicyPackSession) -> None:
    # Control: the all-clear above means something only if this harness can fail.
    run = run_program(ROOT, "final", overrides={"maiaplan:phase": 3, "maiaplan:step": 100})
    target = next(r for r in run.resources if r.type == "azure-native:compute:VirtualMachineScaleSet")
    profile = target.inputs["virtualMachineProfile"]
    unencrypted = {**profile, "securityProfile": {**profile["securityProfile"], "encryptionAtHost": False}}
    tampered = replace(target, inputs={**target.inputs, "virtualMachineProfile": unencrypted})
    records = [tampered if r.urn == target.urn else r for r in run.resources]
    violations = guard.analyze(records)
    assert [(v.policy_name, v.enforcement_level, v.urn) for v in violations] == [
        ("encryption-at-host", "mandatory", target.urn)
    ]
