"""A stack as the gate sees it (its file, spec, plan, moment, the checks of that moment), and its judgement."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from deployment.adapters import promql_selector
from maiaplan.render.plans import plan_json
from maiaplan.rollout.audit import audit_log_path, reached_at, read_entries, rolled_back_into
from maiaplan.rollout.judge import GateDecision, Selector, decide
from maiaplan.rollout.moments import StackMoment, moments, next_moment, previous_moment
from maiaplan.rollout.prometheus import Prometheus
from maiaplan.rollout.stackfile import PHASE_KEY, STEP_KEY, StackFile, read_stack_file, sha256
from planner.errors import InputError
from planner.gates import GateCheck
from planner.plan_builder import plan_migration
from planner.plan_document import MigrationPlan
from planner.spec import MigrationSpec, load_spec
from pulumi_dryrun.project import load_project, load_stack_config

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


class Judged(NamedTuple):
    """A stack, the decision on its moment, and the moment the decision leads to (None: it stays)."""

    stack: GatedStack
    decision: GateDecision
    to: StackMoment | None


def judge_stack(project_dir: Path, name: str, prometheus: Prometheus, at: float, retry: bool = False) -> Judged:
    """Judge stack ``name``'s moment at ``at``, its step's start taken from the audit log.

    After a rollback the stack holds even when its step passes, unless ``retry``: a lasting fault
    would otherwise flap the stack forward into the failing step and back again.

    Raises
    ------
    InputError
        For a stack, spec or audit log that cannot be read, or a query Prometheus cannot answer.
    """
    stack = load_gated_stack(project_dir, name)
    entries = read_entries(audit_log_path(stack.file.path))
    moment = stack.moment
    decision = decide(
        prometheus, stack.checks(), stack.selector(), moment.phase, moment.step, at, reached_at(entries, moment)
    )
    rollback = rolled_back_into(entries, moment)
    if decision.decision == "advance" and rollback is not None and not retry:
        decision = decision.model_copy(
            update={
                "decision": "hold",
                "reason": f"{decision.reason}, but the stack was rolled back to this step from "
                f"{StackMoment(**rollback['from'])} at {rollback.get('at', '?')}; pass --retry to move into it "
                "again once the cause is fixed",
            }
        )
    phases = len(stack.plan.phases)
    if decision.decision == "advance":
        to = next_moment(moment, phases, stack.steps)
    elif decision.decision == "rollback":
        to = previous_moment(moment, phases, stack.steps)
    else:
        to = None
    return Judged(stack, decision, to)
