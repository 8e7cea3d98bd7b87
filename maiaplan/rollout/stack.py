"""A stack as the gate sees it: its file, spec, plan, moment, and the checks of that moment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deployment.adapters import promql_selector
from maiaplan.engine.project import load_project, load_stack_config
from maiaplan.rollout.judge import Selector
from maiaplan.rollout.moments import StackMoment, moments
from maiaplan.rollout.stackfile import PHASE_KEY, STEP_KEY, StackFile, read_stack_file, sha256
from planner.errors import InputError
from planner.gates import GateCheck
from planner.plan import MigrationPlan
from planner.planning import plan_migration
from planner.render import plan_json
from planner.spec import MigrationSpec, load_spec

SPEC_KEY = "maiaplan:spec"


@dataclass(frozen=True)
class GatedStack:
    """One stack of a maiaplan project, read once: what the gate judges and the audit records."""

    name: str
    file: StackFile
    spec: MigrationSpec
    plan: MigrationPlan
    moment: StackMoment
    spec_sha256: str
    plan_sha256: str

    @property
    def steps(self) -> tuple[int, ...]:
        return self.spec.migration.traffic_steps

    def checks(self) -> list[GateCheck]:
        """The checks of the stack's moment: those of every move of its phase at its step."""
        if self.moment.phase == 0:
            return []
        planned = self.plan.phases[self.moment.phase - 1]
        return [
            check
            for move in planned.moves
            for traffic_step in move.traffic_steps
            if traffic_step.percent == self.moment.step
            for check in traffic_step.checks
        ]

    def selector(self) -> Selector:
        """The label matchers of each check's series, from its cluster's provider adapter."""
        clusters = {c.name: c for c in self.plan.clusters}
        return lambda check: promql_selector(clusters[check.cluster], check.workload)


def _whole(file: Path, key: str, value: str | None) -> int:
    try:
        return int(value) if value is not None else -1
    except ValueError:
        raise InputError(str(file), key, f"must be a whole number, got '{value}'", "") from None


def load_gated_stack(project_dir: Path, stack: str) -> GatedStack:
    """Read stack ``stack`` of the project in ``project_dir``, plan its spec, check its moment.

    Raises
    ------
    InputError
        For a project, stack file or spec that cannot be read, a stack that names no spec, or a
        moment that is not one of the plan's.
    """
    project = load_project(project_dir)
    config = load_stack_config(project, stack)
    path = project.stack_config_file(stack)
    file = read_stack_file(path)
    spec_value = config.values.get(SPEC_KEY)
    if not spec_value:
        raise InputError(str(path), SPEC_KEY, "is not set", f"set {SPEC_KEY} to the migration spec's path")
    spec_path = project.directory / spec_value
    spec = load_spec(spec_path)
    plan = plan_migration(spec)
    moment = StackMoment(
        _whole(path, PHASE_KEY, config.values.get(PHASE_KEY)), _whole(path, STEP_KEY, config.values.get(STEP_KEY))
    )
    known = moments(len(plan.phases), spec.migration.traffic_steps)
    if moment not in known and not (moment.phase == 0 and moment.step in spec.migration.traffic_steps):
        raise InputError(
            str(path),
            f"{PHASE_KEY}, {STEP_KEY}",
            f"{moment} is not a moment of the plan of '{spec.name}' (phases 0 to {len(plan.phases)}, "
            f"steps {list(spec.migration.traffic_steps)})",
            "set the phase and step to one of the plan's, e.g. phase 1 and its first step",
        )
    return GatedStack(
        name=stack,
        file=file,
        spec=spec,
        plan=plan,
        moment=moment,
        spec_sha256=sha256(spec_path.read_bytes()),
        plan_sha256=sha256(plan_json(plan).encode("utf-8")),
    )
