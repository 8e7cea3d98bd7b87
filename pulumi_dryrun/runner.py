"""Running any Pulumi Python project in a process of its own, as ``pulumi preview`` runs it.

``run_program`` reads the project and the stack's config the way the CLI does, serves the engine's
side (``host.ProgramHost``: resource monitor, log service) on loopback, and runs the program's
``__main__.py`` through ``child/bootstrap.py`` with the project's own interpreter
(``project.program_interpreter``), in a process group of its own, as the Python language host runs
``pulumi-language-python-exec``. Nothing the program does in its process reaches the engine's
state except through the monitor: it cannot change the verdict, print on the engine's output, or
outlive the run.

A program that does not finish within the timeout is probed (SIGUSR1: where its code is, which
resources never registered, which threads keep it alive), then stopped with its whole group; one
that exits before it finishes is reported with its exit code and last output.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pulumi_dryrun import urns
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.failures import exited_error, logged_error, program_error, timeout_error, waiting_description
from pulumi_dryrun.host import BootstrapReports, ProgramHost
from pulumi_dryrun.mocks import PreviewProviders
from pulumi_dryrun.monitor import LogEntry, RecordingEngine, RecordingMonitor
from pulumi_dryrun.process import ProcessGroup
from pulumi_dryrun.project import (
    Project,
    StackConfig,
    load_project,
    load_stack_config,
    program_interpreter,
    with_overrides,
)
from pulumi_dryrun.resources import ResourceRecord
from pulumi_dryrun.schema import ResourceSchema, restore_integers
from pulumi_dryrun.values import scrubber, secret_plaintexts

BOOTSTRAP = Path(__file__).resolve().parent / "child" / "bootstrap.py"
DEFAULT_TIMEOUT_S = 600.0
# The CLI's default for --parallel (a preview with no limit passes the CPU count times four).
DEFAULT_PARALLEL = 16
# How long a probed program has to answer, and an ended program to close its streams.
_PROBE_WAIT_S = 2.0
_POLL_S = 0.05


@dataclass(frozen=True)
class ProgramRun:
    """What a preview of one stack registers.

    ``resources`` (sorted by URN) includes the root stack, default providers and components;
    ``outputs`` are the stack outputs in wire form (secrets wrapped, unknowns as ``UNKNOWN``);
    ``log`` is what the program logged below error level, then what it printed (stdout, then
    stderr), as the CLI shows both among the stack's diagnostics.
    """

    project: Project
    config: StackConfig
    resources: tuple[ResourceRecord, ...]
    outputs: Mapping[str, Any]
    log: tuple[LogEntry, ...] = ()

    @property
    def stack_urn(self) -> str:
        return urns.stack_urn(self.config.stack, self.project.name)

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {record.urn: record for record in self.resources}


def run_program(
    project_dir: Path | str,
    stack: str,
    *,
    prior: Mapping[str, ResourceRecord] | None = None,
    overrides: Mapping[str, Any] | None = None,
    organization: str = "organization",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProgramRun:
    """Run a Pulumi Python project's program for ``stack`` under a preview, offline.

    Parameters:
        project_dir: the directory holding ``Pulumi.yaml``.
        stack: the stack name (``Pulumi.<stack>.yaml`` in the project's ``stackConfigDir``).
        prior: the prior state's resources by URN; resources found there keep their ids, outputs
            and generated names, as they do in a real preview.
        overrides: config values (``namespace:key`` → value) set over the stack file's.
        organization: what ``pulumi.get_organization()`` returns.
        timeout_s: how long the program may run.

    Returns:
        The registrations as ``ResourceRecord``s sorted by URN, and the stack outputs.

    Raises:
        DryRunError: a bad project, stack name or config; a program that raised, logged an error,
            registered a URN twice, exited before it finished or did not finish in time.
    """
    project = load_project(project_dir)
    config = with_overrides(project, load_stack_config(project, stack), overrides)
    return run_loaded(project, config, prior=prior or {}, organization=organization, timeout_s=timeout_s)


def run_loaded(
    project: Project,
    config: StackConfig,
    *,
    prior: Mapping[str, ResourceRecord],
    organization: str = "organization",
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> ProgramRun:
    """``run_program`` for a project and config already loaded."""
    python = program_interpreter(project)
    reports = BootstrapReports()
    preview = PreviewProviders(prior, config)
    monitor = RecordingMonitor(
        stack=config.stack,
        project=project.name,
        project_dir=project.directory,
        preview=preview,
        default_provider_inputs=preview.default_provider_inputs,
        schemas=reports.schemas,
    )
    engine = RecordingEngine()
    try:
        with ProgramHost(monitor, engine, reports) as host:
            output = _run_child(python, project, config, organization, host, monitor, timeout_s)
        return _finished_run(project, config, monitor, engine, host, output)
    except DryRunError as error:
        # A failure quotes the program's own words and output: no secret of the run may be in them.
        values: list[Any] = [dict(r.inputs) for r in monitor.registrations.values()]
        values += [dict(r.outputs) for r in monitor.registrations.values()]
        raise error.scrubbed(scrubber([*config.secret_values, *secret_plaintexts(values)])) from None


def _finished_run(
    project: Project,
    config: StackConfig,
    monitor: RecordingMonitor,
    engine: RecordingEngine,
    host: ProgramHost,
    output: list[tuple[str, str]],
) -> ProgramRun:
    """The run of a program that finished, or the error it ended with."""
    reports = host.reports
    if monitor.duplicates:
        urn = sorted(set(monitor.duplicates))[0]
        raise DryRunError(
            str(project.program),
            "",
            f"the Pulumi program registered {len(monitor.duplicates)} resource(s) under a URN already taken: "
            f"Duplicate resource URN '{urn}'.",
            "give each resource a name unique among the resources of its type and parent.",
        )
    if reports.failure is not None:
        raise program_error(reports.failure, project, config)
    reported = logged_error(engine.entries, project)
    if reported is not None:
        raise reported
    problems = host.errors + reports.problems
    if problems:
        raise DryRunError(str(project.program), "", f"the dry run could not answer the program: {problems[0]}.", "")
    records = tuple(sorted((_record(r, reports.schemas) for r in monitor.registrations.values()), key=_urn))
    stack = monitor.registrations.get(urns.stack_urn(config.stack, project.name))
    outputs = dict(stack.outputs) if stack is not None else {}
    stack_urn = urns.stack_urn(config.stack, project.name)
    log = [entry for entry in engine.entries if entry.severity in ("warning", "info")]
    log += [LogEntry("info", line.rstrip("\n"), stack_urn) for _stream, line in output if line.strip()]
    return ProgramRun(project=project, config=config, resources=records, outputs=outputs, log=tuple(log))


def _environment(project: Project, config: StackConfig, organization: str) -> dict[str, str]:
    """The program's environment: the engine's, with the stack's config as the language host sets it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PULUMI_CONFIG")}
    env.update(
        {
            "PULUMI_CONFIG": json.dumps(dict(config.values), sort_keys=True),
            "PULUMI_CONFIG_SECRET_KEYS": json.dumps(sorted(config.secret_keys)),
            "PULUMI_PROJECT": project.name,
            "PULUMI_STACK": config.stack,
            "PULUMI_ORGANIZATION": organization,
            "PULUMI_DRY_RUN": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _run_child(
    python: str,
    project: Project,
    config: StackConfig,
    organization: str,
    host: ProgramHost,
    monitor: RecordingMonitor,
    timeout_s: float,
) -> list[tuple[str, str]]:
    """Run the program's process to its end; its output as (stream, line) pairs.

    Raises:
        DryRunError: it exited before it finished, or did not finish within ``timeout_s``.
    """
    reports = host.reports
    lifeline_read, lifeline_write = os.pipe()
    argv = [
        python, "-u", str(BOOTSTRAP),
        "--monitor", host.address, "--engine", host.address,
        "--project", project.name, "--stack", config.stack, "--organization", organization,
        "--root-directory", str(project.directory), "--pwd", str(project.directory),
        "--parallel", str(DEFAULT_PARALLEL), "--dry-run", "true", "--lifeline", str(lifeline_read),
        str(project.program),
    ]  # fmt: skip
    try:
        child = ProcessGroup(
            argv, cwd=project.directory, env=_environment(project, config, organization), pass_fds=(lifeline_read,)
        )
    except OSError as error:
        os.close(lifeline_write)
        raise DryRunError(python, "", f"cannot run the project's interpreter: {error.strerror}.", "") from error
    finally:
        os.close(lifeline_read)
    try:
        deadline = time.monotonic() + timeout_s
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        code = child.poll()
        if code is None and reports.failure is not None:
            return child.output()  # it failed, and something it started keeps it alive: report the failure
        if code is None:
            waiting = _probe(child, reports, monitor, project)
            child.stop(signal.SIGKILL, grace_s=0)
            raise timeout_error(timeout_s, waiting, child.output(), project)
        child.join_readers()
        output = child.output()
        if not reports.ended.is_set():
            raise exited_error(code, output, project)
        return output
    finally:
        child.stop(signal.SIGTERM, grace_s=2.0)
        os.close(lifeline_write)


def _probe(child: ProcessGroup, reports: BootstrapReports, monitor: RecordingMonitor, project: Project) -> str:
    """Ask a program that does not finish what it is doing (SIGUSR1 to the bootstrap); describe it."""
    if not reports.ended.is_set():
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGUSR1)
        reports.probed.wait(_PROBE_WAIT_S)
    elif reports.finished_threads:
        return f"its code and its registrations finished, but non-daemon thread(s) {', '.join(sorted(reports.finished_threads))} kept it running"
    registered = {(record.type, record.name) for record in list(monitor.registrations.values())}
    return waiting_description(reports.waiting, reports.returned.is_set(), registered, project)


def _record(registration: ResourceRecord, schemas: Mapping[str, ResourceSchema]) -> ResourceRecord:
    """The registration with integers restored where the type's schema says integer."""
    schema = schemas.get(registration.type)
    if not registration.custom or schema is None:
        return registration
    return replace(
        registration,
        inputs=restore_integers(registration.inputs, schema.shape),
        outputs=restore_integers(registration.outputs, schema.shape),
    )


def _urn(record: ResourceRecord) -> str:
    return record.urn
