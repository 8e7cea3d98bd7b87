"""The offline ``pulumi preview``: run the program, diff against a prior state, run the policy packs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pulumi_dryrun.analyzer import Violation
from pulumi_dryrun.diff import Plan, diff
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.monitor import LogEntry
from pulumi_dryrun.policy import PolicyPackRequest, PolicyPacks, PolicyReport
from pulumi_dryrun.project import Project, StackConfig, load_project, load_stack_config, with_overrides
from pulumi_dryrun.runner import DEFAULT_TIMEOUT_S, ProgramRun, run_loaded
from pulumi_dryrun.state import Snapshot, read_state, rebase
from pulumi_dryrun.values import scrub_model, scrubber, secret_plaintexts

EXIT_OK = 0
EXIT_VIOLATIONS = 1


@dataclass(frozen=True)
class PreviewResult:
    """Everything a preview found; the formats render it.

    ``summary_markdown`` is an optional paragraph the Markdown report puts first (maiaplan's plan
    summary for its own project).
    """

    run: ProgramRun
    plan: Plan
    policies: PolicyReport
    prior: Snapshot | None = None
    summary_markdown: str | None = None

    @property
    def project(self) -> str:
        return self.run.project.name

    @property
    def stack(self) -> str:
        return self.run.config.stack

    def secrets(self) -> set[str]:
        """Every plaintext that must not appear in a report: secret config and secret values."""
        values: list[Any] = [dict(self.run.outputs)]
        for record in self.run.resources:
            values.extend((dict(record.inputs), dict(record.outputs)))
        for step in self.plan.steps:
            if step.old is not None:
                values.extend((dict(step.old.inputs), dict(step.old.outputs)))
        return set(self.run.config.secret_values) | secret_plaintexts(values)

    def redacted(self) -> PreviewResult:
        """This result with every secret plaintext replaced by ``[secret]`` in every string of it
        (property values, outputs, diagnostics, policy messages), before any format escapes them:
        a secret holding ``"``, ``&`` or ``|`` cannot survive as ``\\"``, ``&amp;`` or ``\\|``."""
        clean = scrubber(self.secrets())
        redacted: PreviewResult = scrub_model(self, clean)
        return redacted

    def failing(self, fail_on: str) -> list[Violation]:
        return self.policies.failing(fail_on)

    def exit_code(self, fail_on: str) -> int:
        """0 when nothing fails the preview, 1 when a violation does (``fail_on``: see ``policy.fails``)."""
        return EXIT_VIOLATIONS if self.failing(fail_on) else EXIT_OK


def load_prior(path: Path | None, project: Project, config: StackConfig) -> Snapshot | None:
    """The prior state from ``path``, moved to this stack if it is another stack's of the project."""
    if path is None:
        return None
    return rebase(read_state(path), config.stack, project.name)


def run_preview(
    project_dir: Path | str,
    stack: str,
    *,
    state: Path | None = None,
    policy_packs: Sequence[PolicyPackRequest] = (),
    overrides: Mapping[str, Any] | None = None,
    organization: str = "organization",
    summary_markdown: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> PreviewResult:
    """Preview ``stack`` of the project in ``project_dir`` offline.

    Runs the program against the prior ``state`` (a ``pulumi stack export`` or ``--save-state``
    file; none means an empty stack) while the policy packs start, diffs, then runs each pack over
    the resources.

    Raises:
        DryRunError: bad project, stack, config, state or policy pack, or a failing program.
    """
    project = load_project(project_dir)
    config = with_overrides(project, load_stack_config(project, stack), overrides)
    prior = load_prior(state, project, config)
    old = prior.by_urn() if prior is not None else {}
    packs = PolicyPacks(
        policy_packs,
        project=project.name,
        stack=config.stack,
        config=config.values,
        organization=organization,
        timeout_s=timeout_s,
    )
    with packs:
        run = run_loaded(project, config, prior=old, organization=organization, timeout_s=timeout_s)
        plan = diff(run.resources, old)
        try:
            report = packs.analyze(run.resources)
        except DryRunError as error:
            # A pack's failure quotes its stderr, where an exception may repeat a secret it was given.
            secrets = PreviewResult(run, plan, PolicyReport(), prior).secrets()
            raise error.scrubbed(scrubber(secrets)) from None
    if prior is not None and prior.warnings:
        run = replace(run, log=run.log + tuple(LogEntry("warning", warning, None) for warning in prior.warnings))
    return PreviewResult(run, plan, report, prior, summary_markdown)
