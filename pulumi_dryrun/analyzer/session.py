"""A client of the Pulumi analyzer protocol: runs a Python policy pack the way the Pulumi CLI does.

The dry run and the tests evaluate ``policies/`` through this client, so what passes here passes
under ``pulumi preview --policy-pack``. It reproduces the CLI's side of the protocol
(``sdk/go/common/resource/plugin/analyzer_plugin.go``, ``pkg/resource/analyzer/config.go``,
``pkg/resource/deploy/step_generator.go`` in pulumi/pulumi):

1. start ``python -u -m pulumi.policy <engine-address> .`` in the pack's directory and in a process
   group of its own (``pulumi_dryrun.process``), with the pack's virtualenv when
   ``PulumiPolicy.yaml`` names one that exists, with the CLI's environment
   (``PULUMI_CONFIG``, ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_ORGANIZATION``,
   ``PULUMI_DRY_RUN``), and read the gRPC port from the first line of its stdout;
2. ``Handshake`` (a pack may leave it unimplemented), ``ConfigureStack``, ``GetAnalyzerInfo``;
3. ``Configure`` with every policy's level and properties reconciled as the CLI does: the schema
   defaults, then the pack's initial config, then the ``--policy-pack-config`` file (``all`` first,
   then each policy), the result validated against each policy's schema;
4. ``Analyze`` for each resource (its inputs), then one ``AnalyzeStack`` (outputs);
5. interrupt the process group, which stops the pack's server cleanly (then kill what is left).

The pack's engine address: pulumi-policy parses it but never dials it (the pack configures the
Pulumi runtime without an engine, so its logs go to stderr, which the session keeps), so the
session passes a placeholder address rather than serving an Engine.

Usage::

    with PolicyPackSession("policies", project="maiaplan", stack="dev",
                           policy_config=Path("guard.json")) as session:
        violations = session.analyze(records) + session.analyze_stack(records)
        blocking = [v for v in violations if v.blocking]
"""

from __future__ import annotations

import collections
import json
import os
import queue
import signal
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import grpc
import yaml
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from pulumi_dryrun.analyzer.config import load_policy_pack_config, parse_policy_pack_config, reconcile_policy_config
from pulumi_dryrun.analyzer.model import (
    _LEVEL_FROM_WIRE,
    _LEVEL_TO_WIRE,
    _SEVERITY_FROM_WIRE,
    AnalyzerInfo,
    EnforcementLevel,
    PolicyConfig,
    PolicyPackError,
    Violation,
)
from pulumi_dryrun.analyzer.wire import _json_like, _policy_info, analyze_request, stack_resource
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.process import ProcessGroup
from pulumi_dryrun.resources import ResourceRecord

# pulumi-policy never dials the engine address it is given (see the module docstring).
ENGINE_ADDRESS_PLACEHOLDER = "127.0.0.1:0"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
# The CLI's gRPC limit for analyzer messages (rpcutil.GrpcChannelOptions: 400 MiB).
_MAX_MESSAGE_BYTES = 400 * 1024 * 1024
_STDERR_KEPT_LINES = 200
# How long a pack may take to start (print its port), and to answer one call, by default.
START_TIMEOUT_S = 60.0
CALL_TIMEOUT_S = 300.0


def _read_pack_project(pack_dir: Path) -> tuple[dict[str, Any], Path | None]:
    """PulumiPolicy.yaml's contents and the pack's virtualenv python, if it names one that exists."""
    project_file = pack_dir / "PulumiPolicy.yaml"
    try:
        project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except OSError:
        raise DryRunError(
            str(pack_dir),
            "",
            "is not a policy pack: it has no readable PulumiPolicy.yaml",
            "pass the directory that holds PulumiPolicy.yaml (e.g. policies/).",
        ) from None
    except yaml.YAMLError as error:
        raise DryRunError(str(project_file), "", f"not valid YAML: {error}", "fix the YAML syntax.") from None
    runtime = project.get("runtime")
    name, options = (runtime.get("name"), runtime.get("options") or {}) if isinstance(runtime, dict) else (runtime, {})
    if name != "python":
        raise DryRunError(
            str(project_file),
            "runtime",
            f"runtime {name!r} is not supported here",
            "this client runs Python policy packs (runtime: python).",
        )
    venv = options.get("virtualenv")
    python = None
    if venv:
        root = Path(venv) if Path(venv).is_absolute() else pack_dir / venv
        candidate = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        python = candidate if candidate.exists() else None
    return project, python


# --- The session ------------------------------------------------------------------------------------


class PolicyPackSession:
    """A running policy pack, configured for one stack, that analyzes resource records.

    Parameters
    ----------
    pack_dir
        The policy pack's directory (holding ``PulumiPolicy.yaml``).
    project, stack, organization
        The stack being analyzed, as ``PULUMI_PROJECT`` / ``PULUMI_STACK`` / ``PULUMI_ORGANIZATION``.
    config
        The stack's configuration, ``"<namespace>:<key>" -> value`` (``PULUMI_CONFIG`` and
        ``ConfigureStack``); non-string values are sent as JSON, as the CLI does.
    policy_config
        The ``--policy-pack-config`` content: a path to the JSON file, or its parsed document.
    dry_run
        ``PULUMI_DRY_RUN``: True for a preview.
    stack_tags
        The stack's tags (``ConfigureStack``).
    env
        Extra environment variables for the pack process (e.g. ``MAIAPLAN_GUARD_TODAY``).
    python
        The interpreter to run the pack with when PulumiPolicy.yaml names no existing virtualenv;
        default: the current one.
    start_timeout_s, call_timeout_s
        How long to wait for the pack to print its port, and for any one call.

    Raises (on start)
    -----------------
    DryRunError
        When ``pack_dir`` is not a Python policy pack or ``policy_config`` is invalid.
    PolicyPackError
        When the pack process fails to start or to answer.
    """

    def __init__(
        self,
        pack_dir: Path | str,
        *,
        project: str,
        stack: str,
        organization: str = "organization",
        config: Mapping[str, Any] | None = None,
        policy_config: Path | str | Mapping[str, Any] | None = None,
        dry_run: bool = True,
        stack_tags: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        python: str | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
        call_timeout_s: float = CALL_TIMEOUT_S,
    ) -> None:
        self.pack_dir = Path(pack_dir).resolve()
        self.project, self.stack, self.organization = project, stack, organization
        self._stack_config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}
        self._policy_config_source = policy_config
        self.dry_run = dry_run
        self._stack_tags = dict(stack_tags or {})
        self._extra_env = dict(env or {})
        self._python = python or sys.executable
        self._start_timeout_s, self._call_timeout_s = start_timeout_s, call_timeout_s
        self._process: ProcessGroup | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._last_stderr = ""
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._info: AnalyzerInfo | None = None
        self._policy_config: dict[str, PolicyConfig] = {}

    # -- lifecycle

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def info(self) -> AnalyzerInfo:
        """The pack's metadata (after :meth:`start`)."""
        if self._info is None:
            raise RuntimeError("the policy pack session is not started")
        return self._info

    @property
    def policy_config(self) -> Mapping[str, PolicyConfig]:
        """Each policy's level and properties as sent to ``Configure``."""
        return dict(self._policy_config)

    @property
    def pid(self) -> int | None:
        """The pack process's id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def stderr(self) -> str:
        """The last lines the pack wrote to stderr (its logs and tracebacks)."""
        return (
            "".join(list(self._process.stderr)[-_STDERR_KEPT_LINES:])
            if self._process is not None
            else self._last_stderr
        )

    @property
    def root_urn(self) -> str:
        """The root stack resource's URN (stack violations naming no resource are attributed to it)."""
        return f"urn:pulumi:{self.stack}::{self.project}::{ROOT_STACK_TYPE}::{self.project}-{self.stack}"

    def start(self) -> None:
        """Start the pack and run the CLI's start-up calls (idempotent)."""
        if self._process is not None:
            return
        project, venv_python = _read_pack_project(self.pack_dir)
        given: dict[str, PolicyConfig] = {}
        source = "<policy config>"
        if isinstance(self._policy_config_source, Path | str):
            source = str(self._policy_config_source)
            given = load_policy_pack_config(Path(self._policy_config_source))
        elif self._policy_config_source is not None:
            given = parse_policy_pack_config(self._policy_config_source)
        try:
            self._launch(str(venv_python) if venv_python else self._python)
            info = self._handshake_and_describe(str(project.get("version") or ""))
            self._policy_config = reconcile_policy_config(info, given, source) if info.supports_config else {}
            self.configure()
        except BaseException:
            self.close()
            raise

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        values = {
            "PULUMI_CONFIG": json.dumps(self._stack_config) if self._stack_config else "",
            "PULUMI_ORGANIZATION": self.organization,
            "PULUMI_PROJECT": self.project,
            "PULUMI_STACK": self.stack,
            "PULUMI_DRY_RUN": "true" if self.dry_run else "false",
        }
        env.update({k: v for k, v in values.items() if v})  # the CLI sets only non-empty values
        env.update(self._extra_env)
        return env

    def _launch(self, python: str) -> None:
        with self._lock:
            if self._closed:
                raise PolicyPackError(f"policy pack {self.pack_dir} was stopped before it started")
            self._process = ProcessGroup(
                [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS_PLACEHOLDER, "."],
                cwd=self.pack_dir,
                env=self._environment(),
            )
        try:
            line = self._process.first_stdout_line.get(timeout=self._start_timeout_s)
        except queue.Empty:
            raise self._failure(f"did not print its port within {self._start_timeout_s:g} s") from None
        if line is None:
            code = self._process.process.wait(timeout=self._start_timeout_s)
            self._process.join_readers()
            raise self._failure(f"exited with code {code} before printing its port")
        try:
            port = int(line.strip())
        except ValueError:
            raise self._failure(f"printed {line.strip()!r} instead of its port as its first line") from None
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}",
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES),
            ],
        )
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self._start_timeout_s)
        except grpc.FutureTimeoutError:
            raise self._failure(f"printed port {port} but accepted no connection") from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)

    def _failure(self, what: str) -> PolicyPackError:
        tail = self.stderr.strip()
        detail = f"\n--- the pack's stderr (last lines) ---\n{tail}" if tail else ""
        return PolicyPackError(f"policy pack {self.pack_dir} {what}{detail}")

    def _started_stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            raise RuntimeError("the policy pack session is not started (use it as a context manager, or start())")
        return self._stub

    def _call(self, method: str, request: Any) -> Any:
        stub = self._started_stub()
        try:
            return getattr(stub, method)(request, timeout=self._call_timeout_s)
        except grpc.RpcError as error:
            raise self._failure(f"failed {method}: {error.code().name}: {error.details()}") from None

    def _handshake_and_describe(self, project_version: str) -> AnalyzerInfo:
        stub = self._started_stub()
        try:
            stub.Handshake(
                analyzer_pb2.AnalyzerHandshakeRequest(
                    engine_address=ENGINE_ADDRESS_PLACEHOLDER,
                    root_directory=str(self.pack_dir),
                    program_directory=str(self.pack_dir),
                ),
                timeout=self._call_timeout_s,
            )
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._failure(f"failed Handshake: {error.code().name}: {error.details()}") from None
        try:
            stub.ConfigureStack(
                analyzer_pb2.AnalyzerStackConfigureRequest(
                    stack=self.stack,
                    project=self.project,
                    organization=self.organization,
                    dry_run=self.dry_run,
                    config=self._stack_config,
                    tags=self._stack_tags,
                ),
                timeout=self._call_timeout_s,
            )
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._failure(f"failed ConfigureStack: {error.code().name}: {error.details()}") from None
        response = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        policies = sorted((_policy_info(p, response.supportsConfig) for p in response.policies), key=lambda p: p.name)
        initial = {
            name: PolicyConfig(_LEVEL_FROM_WIRE[config.enforcementLevel], json_format.MessageToDict(config.properties))
            for name, config in response.initialConfig.items()
        }
        self._info = AnalyzerInfo(
            name=response.name,
            version=project_version or response.version,
            description=response.description,
            supports_config=response.supportsConfig,
            policies=tuple(policies),
            initial_config=initial,
        )
        return self._info

    def configure(self) -> None:
        """Send ``Configure`` with every policy's reconciled level and properties (if the pack takes config)."""
        if not self._policy_config:
            return
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, config in self._policy_config.items():
            assert config.enforcement_level is not None
            request.policyConfig[name].enforcementLevel = _LEVEL_TO_WIRE[config.enforcement_level]
            request.policyConfig[name].properties.update(_json_like(dict(config.properties)))
        self._call("Configure", request)

    def close(self) -> None:
        """Stop the pack: interrupt it (its server stops cleanly), kill it if it lingers."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
        with self._lock:
            self._closed = True
            process, self._process = self._process, None
        if process is not None:
            process.stop(signal.SIGINT, grace_s=10.0)
            self._last_stderr = "".join(list(process.stderr)[-_STDERR_KEPT_LINES:])

    # -- analysis

    def _violation(self, diagnostic: analyzer_pb2.AnalyzeDiagnostic, urn: str) -> Violation:
        level = _LEVEL_FROM_WIRE[diagnostic.enforcementLevel]
        message = diagnostic.message
        prefix = f"{diagnostic.description}\n"
        if diagnostic.description and message.startswith(prefix):
            message = message[len(prefix) :]
        return Violation(
            policy_name=diagnostic.policyName,
            policy_pack_name=diagnostic.policyPackName,
            policy_pack_version=self.info.version or diagnostic.policyPackVersion,
            enforcement_level=EnforcementLevel.MANDATORY if level == EnforcementLevel.REMEDIATE else level,
            message=message,
            description=diagnostic.description,
            urn=urn,
            severity=_SEVERITY_FROM_WIRE.get(diagnostic.severity, ""),
        )

    def analyze(self, records: Iterable[ResourceRecord], *, in_flight: int = 8) -> list[Violation]:
        """``Analyze`` each record (its inputs), as the engine does for each resource it registers.

        Provider references resolve among ``records``. Violations come in record order; each carries
        the analyzed resource's URN, as the engine reports it. Up to ``in_flight`` calls overlap.
        """
        stub = self._started_stub()
        records = list(records)
        by_urn = {record.urn: record for record in records}
        pending: collections.deque[tuple[ResourceRecord, Any]] = collections.deque()
        violations: list[Violation] = []

        def collect() -> None:
            record, future = pending.popleft()
            try:
                response = future.result()
            except grpc.RpcError as error:
                raise self._failure(f"failed Analyze of {record.urn}: {error.code().name}: {error.details()}") from None
            violations.extend(self._violation(d, record.urn) for d in response.diagnostics)

        for record in records:
            future = stub.Analyze.future(analyze_request(record, by_urn), timeout=self._call_timeout_s)
            pending.append((record, future))
            if len(pending) >= in_flight:
                collect()
        while pending:
            collect()
        return violations

    def analyze_stack(self, records: Sequence[ResourceRecord]) -> list[Violation]:
        """One ``AnalyzeStack`` over every record (outputs, parents, dependencies)."""
        by_urn = {record.urn: record for record in records}
        request = analyzer_pb2.AnalyzeStackRequest(resources=[stack_resource(r, by_urn) for r in records])
        response = self._call("AnalyzeStack", request)
        return [self._violation(d, d.urn if d.urn in by_urn else self.root_urn) for d in response.diagnostics]
