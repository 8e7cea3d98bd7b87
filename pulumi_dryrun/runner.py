"""Running any Pulumi Python project in-process, as ``pulumi preview`` would run it.

``run_program`` reads the project and the stack's config the way the CLI does, runs the program's
``__main__.py`` with the project directory as working directory and on ``sys.path``, and records
every registration through ``RecordingMonitor``. Each run starts from a fresh Pulumi runtime (a new
``contextvars.Context``: no root stack, settings or config left from an earlier run) and forgets the
program's own modules afterwards, as a new process would.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import os
import runpy
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import empty_pb2
from pulumi.runtime import config as runtime_config
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import register_stack_transformation, run_in_stack

from pulumi_dryrun import urns
from pulumi_dryrun.failures import logged_error, program_error
from pulumi_dryrun.mocks import PreviewProviders
from pulumi_dryrun.monitor import LogEntry, RecordingEngine, RecordingMonitor, is_program_file
from pulumi_dryrun.project import Project, StackConfig, load_project, load_stack_config, with_overrides
from pulumi_dryrun.resources import ResourceRecord
from pulumi_dryrun.schema import resource_shape, restore_integers

# One program at a time per process: the working directory and sys.path are process-wide.
_RUN_LOCK = threading.Lock()


@dataclass(frozen=True)
class ProgramRun:
    """What a preview of one stack registers.

    ``resources`` (sorted by URN) includes the root stack, default providers and components;
    ``outputs`` are the stack outputs in wire form (secrets wrapped, unknowns as ``UNKNOWN``);
    ``log`` is what the program logged below error level.
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
) -> ProgramRun:
    """Run a Pulumi Python project's program for ``stack`` under a preview, offline.

    Parameters:
        project_dir: the directory holding ``Pulumi.yaml``.
        stack: the stack name (``Pulumi.<stack>.yaml`` in the project's ``stackConfigDir``).
        prior: the prior state's resources by URN; resources found there keep their ids, outputs
            and generated names, as they do in a real preview.
        overrides: config values (``namespace:key`` → value) set over the stack file's.
        organization: what ``pulumi.get_organization()`` returns.

    Returns:
        The registrations as ``ResourceRecord``s sorted by URN, and the stack outputs.

    Raises:
        DryRunError: a bad project, stack name or config, or a program that raised or logged an
            error (the message names the program's own frame).
    """
    project = load_project(project_dir)
    config = with_overrides(project, load_stack_config(project, stack), overrides)
    return run_loaded(project, config, prior=prior or {}, organization=organization)


def run_loaded(
    project: Project,
    config: StackConfig,
    *,
    prior: Mapping[str, ResourceRecord],
    organization: str = "organization",
) -> ProgramRun:
    """``run_program`` for a project and config already loaded."""
    class_of: dict[str, type] = {}
    preview = PreviewProviders(prior, config)
    monitor = RecordingMonitor(
        stack=config.stack,
        project=project.name,
        project_dir=project.directory,
        preview=preview,
        default_provider_inputs=preview.default_provider_inputs,
        class_of=class_of,
    )
    engine = RecordingEngine()

    async def program() -> None:
        # Every resource's constructor runs the root stack's transformations before it registers:
        # the one below only notes which SDK class the program used for each type token.
        register_stack_transformation(_note_class(class_of))
        runpy.run_path(str(project.program), run_name="__main__")
        # Let the registrations the program queued start before the SDK waits for them: the SDK
        # then drains its outstanding calls one by one, rather than polling every pending output
        # (tens of thousands for a large program) each time one of them resolves.
        await asyncio.sleep(0)

    with _RUN_LOCK, _program_environment(project), _without_cyclic_gc():
        failure = contextvars.Context().run(
            _run_in_fresh_runtime, program, monitor, engine, project, config, organization
        )
    if failure is not None:
        raise program_error(failure, project, config) from failure
    reported = logged_error(engine.entries, project)
    if reported is not None:
        raise reported
    records = tuple(
        sorted((_record(registration, class_of) for registration in monitor.registrations.values()), key=_urn)
    )
    stack_urn = urns.stack_urn(config.stack, project.name)
    stack = monitor.registrations.get(stack_urn)
    outputs = dict(stack.outputs) if stack is not None else {}
    log = tuple(entry for entry in engine.entries if entry.severity in ("warning", "info"))
    return ProgramRun(project=project, config=config, resources=records, outputs=outputs, log=log)


def _run_in_fresh_runtime(
    program: Callable[[], Awaitable[None]],
    monitor: RecordingMonitor,
    engine: RecordingEngine,
    project: Project,
    config: StackConfig,
    organization: str,
) -> BaseException | None:
    """Configure the Pulumi runtime in the current (fresh) context and run the program in a stack."""
    settings = runtime_settings.Settings(
        project=project.name,
        stack=config.stack,
        monitor=monitor,
        engine=engine,
        dry_run=True,
        organization=organization,
        root_directory=str(project.directory),
    )
    features = monitor.GetDeploymentInfo(empty_pb2.Empty())  # type: ignore[no-untyped-call]
    settings.monitor_features = set(features.supportedFeatures)
    runtime_settings.configure(settings)
    runtime_settings.ROOT.set(None)
    runtime_config.set_all_config(dict(config.values), sorted(config.secret_keys))
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, _context: None)
    try:
        loop.run_until_complete(run_in_stack(program))
    except (Exception, SystemExit) as error:  # the program's failure, reported as such; Ctrl-C propagates
        return error
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()
    return None


def _note_class(class_of: dict[str, type]) -> Any:
    def note(args: pulumi.ResourceTransformationArgs) -> None:
        class_of.setdefault(args.type_, type(args.resource))

    return note


@contextlib.contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector paused for the run.

    The SDK makes several asyncio tasks and futures per property of every resource; the collector's
    full passes over that heap took 60 % of the CPU of a 2,000-resource program (23.6 s to 9.3 s
    without them, for 90 MiB more at the peak). Reference counting still frees what it can; the
    cycles left are collected once the collector runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def _program_environment(project: Project) -> Iterator[None]:
    """The project as working directory and first on ``sys.path``; the program's modules forgotten after.

    Modules of the program's own that an earlier run of another project loaded under the same name
    are set aside for the run and put back afterwards, so each program imports its own.
    """
    program_dir = project.program if project.program.is_dir() else project.program.parent
    search_paths = list(dict.fromkeys([str(program_dir), str(project.directory)]))
    local_names = _local_module_names(program_dir) | _local_module_names(project.directory)
    set_aside = {
        name: module
        for name, module in sys.modules.items()
        if name.split(".", 1)[0] in local_names and not _loaded_from(module, project.directory)
    }
    for name in set_aside:
        del sys.modules[name]
    before = set(sys.modules)
    previous_cwd = os.getcwd()
    previous_path = list(sys.path)
    os.chdir(project.directory)
    sys.path[:0] = search_paths
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        sys.path[:] = previous_path
        for name in set(sys.modules) - before:
            if _loaded_from(sys.modules[name], project.directory):
                del sys.modules[name]
        sys.modules.update(set_aside)


def _local_module_names(directory: Path) -> set[str]:
    names = {path.stem for path in directory.glob("*.py") if path.stem != "__main__"}
    names.update(path.parent.name for path in directory.glob("*/__init__.py"))
    return names


def _loaded_from(module: Any, directory: Path) -> bool:
    filename = getattr(module, "__file__", None)
    return isinstance(filename, str) and is_program_file(Path(filename), directory)


def _record(registration: ResourceRecord, class_of: Mapping[str, type]) -> ResourceRecord:
    """The registration with integers restored where the type's schema says integer."""
    resource_class = class_of.get(registration.type)
    if not registration.custom or resource_class is None:
        return registration
    shape = resource_shape(resource_class)
    return replace(
        registration,
        inputs=restore_integers(registration.inputs, shape),
        outputs=restore_integers(registration.outputs, shape),
    )


def _urn(record: ResourceRecord) -> str:
    return record.urn
