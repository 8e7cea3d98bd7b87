"""A client of the Pulumi analyzer protocol: runs a Python policy pack the way the Pulumi CLI does.

The dry run and the tests evaluate ``policies/`` through this client, so what passes here passes
under ``pulumi preview --policy-pack``. It reproduces the CLI's side of the protocol
(``sdk/go/common/resource/plugin/analyzer_plugin.go``, ``pkg/resource/analyzer/config.go``,
``pkg/resource/deploy/step_generator.go`` in pulumi/pulumi):

1. start ``python -u -m pulumi.policy <engine-address> .`` in the pack's directory (with the
   pack's virtualenv when ``PulumiPolicy.yaml`` names one that exists), with the CLI's environment
   (``PULUMI_CONFIG``, ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_ORGANIZATION``,
   ``PULUMI_DRY_RUN``), and read the gRPC port from the first line of its stdout;
2. ``Handshake`` (a pack may leave it unimplemented), ``ConfigureStack``, ``GetAnalyzerInfo``;
3. ``Configure`` with every policy's level and properties reconciled as the CLI does: the schema
   defaults, then the pack's initial config, then the ``--policy-pack-config`` file (``all`` first,
   then each policy), the result validated against each policy's schema;
4. ``Analyze`` for each resource (its inputs), then one ``AnalyzeStack`` (outputs);
5. interrupt the process, which stops the pack's server cleanly.

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
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import grpc
import jsonschema
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from maiaplan.resources import ResourceRecord
from planner.errors import InputError, did_you_mean

# pulumi-policy never dials the engine address it is given (see the module docstring).
ENGINE_ADDRESS_PLACEHOLDER = "127.0.0.1:0"
# A violation message starting with this is covered by a waiver (maiaplan-guard's convention).
WAIVED_PREFIX = "waived:"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
# The CLI's gRPC limit for analyzer messages (rpcutil.GrpcChannelOptions: 400 MiB).
_MAX_MESSAGE_BYTES = 400 * 1024 * 1024
_STDERR_KEPT_LINES = 200


class EnforcementLevel(StrEnum):
    ADVISORY = "advisory"
    MANDATORY = "mandatory"
    REMEDIATE = "remediate"
    DISABLED = "disabled"


class PolicyType(StrEnum):
    RESOURCE = "resource"
    STACK = "stack"
    UNKNOWN = "unknown"


_LEVEL_FROM_WIRE: dict[analyzer_pb2.EnforcementLevel.ValueType, EnforcementLevel] = {
    analyzer_pb2.ADVISORY: EnforcementLevel.ADVISORY,
    analyzer_pb2.MANDATORY: EnforcementLevel.MANDATORY,
    analyzer_pb2.REMEDIATE: EnforcementLevel.REMEDIATE,
    analyzer_pb2.DISABLED: EnforcementLevel.DISABLED,
}
_LEVEL_TO_WIRE: dict[EnforcementLevel, analyzer_pb2.EnforcementLevel.ValueType] = {level: wire for wire, level in _LEVEL_FROM_WIRE.items()}
_POLICY_TYPE_FROM_WIRE: dict[int, PolicyType] = {
    analyzer_pb2.POLICY_TYPE_RESOURCE: PolicyType.RESOURCE,
    analyzer_pb2.POLICY_TYPE_STACK: PolicyType.STACK,
}
_SEVERITY_FROM_WIRE: dict[int, str] = {
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


class PolicyPackError(RuntimeError):
    """The policy pack failed to start or failed a call; the message includes its stderr's tail."""


@dataclass(frozen=True)
class PolicyConfig:
    """One policy's configuration: a level (None when a config entry names none) and properties."""

    enforcement_level: EnforcementLevel | None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyInfo:
    """A policy as the pack describes it in ``GetAnalyzerInfo``."""

    name: str
    description: str
    enforcement_level: EnforcementLevel
    policy_type: PolicyType
    config_schema: Mapping[str, Any] | None  # JSON-schema properties; None when the policy takes no config
    required: tuple[str, ...] = ()
    severity: str = ""


@dataclass(frozen=True)
class AnalyzerInfo:
    """The pack's metadata; ``version`` is PulumiPolicy.yaml's when set, as the CLI reports it."""

    name: str
    version: str
    description: str
    supports_config: bool
    policies: tuple[PolicyInfo, ...]
    initial_config: Mapping[str, PolicyConfig]

    def policy(self, name: str) -> PolicyInfo:
        for policy in self.policies:
            if policy.name == name:
                return policy
        raise KeyError(name)


@dataclass(frozen=True)
class Violation:
    """One policy violation as the CLI would report it.

    ``message`` is the pack's own text (pulumi-policy prefixes the policy description; that is in
    ``description``). ``urn`` is the violating resource's; for a stack policy's violation that names no
    resource of the stack, the root stack's, as the CLI attributes it.
    """

    policy_name: str
    policy_pack_name: str
    policy_pack_version: str
    enforcement_level: EnforcementLevel
    message: str
    description: str
    urn: str
    severity: str = ""

    @property
    def blocking(self) -> bool:
        """Whether the CLI fails the preview on it (mandatory; remediate counts as mandatory)."""
        return self.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.REMEDIATE)

    @property
    def waived(self) -> bool:
        return self.message.startswith(WAIVED_PREFIX)


# --- The --policy-pack-config file -------------------------------------------------------------------


def parse_policy_pack_config(data: Any, source: str = "<policy config>") -> dict[str, PolicyConfig]:
    """A ``--policy-pack-config`` document as the CLI parses it (``parsePolicyPackConfig``).

    Each top-level entry is a level (``"mandatory"``) or an object with an optional
    ``enforcementLevel`` and properties; entries with neither are dropped.

    Raises
    ------
    InputError
        When the document is not an object, or a level is not one of the four.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InputError(source, "", f"the policy pack config must be a JSON object, not {type(data).__name__}",
                         "write {\"<policy name>\": {\"enforcementLevel\": ..., <properties>}}.")
    levels = [level.value for level in EnforcementLevel]
    result: dict[str, PolicyConfig] = {}
    for name, value in data.items():
        level: EnforcementLevel | None = None
        properties: dict[str, Any] = {}
        if isinstance(value, str):
            raw_level: Any = value
        elif isinstance(value, Mapping):
            properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
            raw_level = value.get("enforcementLevel")
        else:
            raise InputError(source, name, f"{value!r} is not a valid value; must be a string or object",
                             "give a level or an object of properties.")
        if raw_level is not None:
            if raw_level not in levels:
                raise InputError(source, name, f"{raw_level!r} is not a valid enforcement level",
                                 f"use one of {', '.join(levels)}.")
            level = EnforcementLevel(raw_level)
        if level is None and not properties:
            continue
        result[str(name)] = PolicyConfig(level, properties)
    return result


def load_policy_pack_config(path: Path) -> dict[str, PolicyConfig]:
    """Read a ``--policy-pack-config`` file (an empty file is no config, as for the CLI)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(str(path), "", f"cannot read the policy pack config: {error.strerror}",
                         "pass an existing JSON file.") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(str(path), f"line {error.lineno}", f"not valid JSON: {error.msg}",
                         "fix the JSON syntax.") from None
    return parse_policy_pack_config(data, str(path))


def _apply_config(result: dict[str, PolicyConfig], given: Mapping[str, PolicyConfig]) -> None:
    """The CLI's ``applyConfig``: ``all``'s level on every policy, then each entry over its policy."""
    everyone = given.get("all")
    if everyone is not None and everyone.enforcement_level is not None:
        for name, config in result.items():
            result[name] = PolicyConfig(everyone.enforcement_level, config.properties)
    for name, config in given.items():
        current = result.get(name, PolicyConfig(None, {}))
        level = config.enforcement_level if config.enforcement_level is not None else current.enforcement_level
        result[name] = PolicyConfig(level, {**current.properties, **config.properties})


def reconcile_policy_config(
    info: AnalyzerInfo, given: Mapping[str, PolicyConfig], source: str = "<policy config>"
) -> dict[str, PolicyConfig]:
    """Every policy's level and properties as the CLI sends them to ``Configure``.

    Schema defaults and policy levels first, then the pack's initial config, then ``given``; the
    result is validated against each policy's schema (the CLI's ``ReconcilePolicyPackConfig``).

    Raises
    ------
    InputError
        When the result breaks a policy's schema, or an entry names no policy and no level (which
        the CLI's ``Configure`` rejects).
    """
    result: dict[str, PolicyConfig] = {}
    for policy in info.policies:
        defaults = {k: v["default"] for k, v in (policy.config_schema or {}).items() if "default" in v}
        result[policy.name] = PolicyConfig(policy.enforcement_level, defaults)
    _apply_config(result, info.initial_config)
    _apply_config(result, given)
    problems: list[tuple[str, str]] = []
    for policy in info.policies:
        if policy.config_schema is None:
            continue
        schema: dict[str, Any] = {"type": "object", "properties": dict(policy.config_schema)}
        if policy.required:
            schema["required"] = list(policy.required)
        validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
        for error in sorted(validator.iter_errors(dict(result[policy.name].properties)), key=str):
            where = ".".join(str(part) for part in error.absolute_path)
            problems.append((f"{policy.name}.{where}" if where else policy.name, error.message))
    if problems:
        path, message = problems[0]
        more = f" ({len(problems) - 1} more: " + "; ".join(f"{p}: {m}" for p, m in problems[1:]) + ")"
        raise InputError(source, path, message + (more if len(problems) > 1 else ""),
                         "make the configuration match the policy's schema (docs/policies.md).")
    known = [policy.name for policy in info.policies]
    for name, config in result.items():
        if config.enforcement_level is None:
            raise InputError(source, name, f"'{name}' names no policy of pack {info.name} and sets no "
                             f"enforcementLevel, which the Pulumi CLI rejects{did_you_mean(name, known)}",
                             f"use one of the policy names: {', '.join(known)}.")
    return result


# --- Wire format ---------------------------------------------------------------------------------------


def _json_like(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_like(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_like(v) for v in value]
    return value


def _struct(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Properties as the engine marshals them for analyzers (keeping unknowns and secrets, without
    internal ``__`` keys)."""
    struct = struct_pb2.Struct()
    struct.update({k: _json_like(v) for k, v in props.items() if not k.startswith("__")})
    return struct


def _provider_urn(reference: str | None) -> str | None:
    # A provider reference is "<provider urn>::<provider id>".
    return reference.rsplit("::", 1)[0] if reference else None


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?)(h|ms|m|s|us|µs|ns)")
_SECONDS_PER_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def duration_seconds(text: str) -> float:
    """A Go duration (``"20m"``, ``"1h30m"``), as programs give custom timeouts, in seconds."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text.strip():
        raise ValueError(f"{text!r} is not a duration such as '20m' or '1h30m'")
    return sum(float(number) * _SECONDS_PER_UNIT[unit] for number, unit in parts)


def _options(record: ResourceRecord) -> analyzer_pb2.AnalyzerResourceOptions:
    """The resource options the engine passes to analyzers (step_generator.go)."""
    timeouts = {key: duration_seconds(value) for key, value in record.custom_timeouts.items()}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=record.protect,
        ignoreChanges=list(record.ignore_changes),
        deleteBeforeReplace=bool(record.delete_before_replace),
        deleteBeforeReplaceDefined=record.delete_before_replace is not None,
        additionalSecretOutputs=list(record.additional_secret_outputs),
        aliases=list(record.aliases),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=timeouts.get("create", 0.0), update=timeouts.get("update", 0.0),
            delete=timeouts.get("delete", 0.0),
        ),
        parent=record.parent or "",
    )


def _provider(record: ResourceRecord, by_urn: Mapping[str, ResourceRecord]) -> analyzer_pb2.AnalyzerProviderResource | None:
    provider = by_urn.get(_provider_urn(record.provider) or "")
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.inputs)
    )


def analyze_request(record: ResourceRecord, by_urn: Mapping[str, ResourceRecord]) -> analyzer_pb2.AnalyzeRequest:
    """The ``Analyze`` request the engine sends for ``record`` (its inputs after the provider's check)."""
    return analyzer_pb2.AnalyzeRequest(
        type=record.type, urn=record.urn, name=record.name, properties=_struct(record.inputs),
        options=_options(record), provider=_provider(record, by_urn),
    )


def stack_resource(record: ResourceRecord, by_urn: Mapping[str, ResourceRecord]) -> analyzer_pb2.AnalyzerResource:
    """``record`` in an ``AnalyzeStack`` request: its outputs (its inputs when it has no outputs,
    which is what a preview's outputs of a resource to create amount to), parent and dependencies."""
    return analyzer_pb2.AnalyzerResource(
        type=record.type, urn=record.urn, name=record.name,
        properties=_struct(record.outputs if record.outputs else record.inputs),
        options=_options(record), provider=_provider(record, by_urn), parent=record.parent or "",
        dependencies=list(record.dependencies),
        propertyDependencies={
            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(urns))
            for key, urns in record.property_dependencies.items()
            if urns
        },
    )


def _policy_info(policy: analyzer_pb2.PolicyInfo, supports_config: bool) -> PolicyInfo:
    schema: Mapping[str, Any] | None = None
    if supports_config:
        schema = json_format.MessageToDict(policy.configSchema.properties)
    return PolicyInfo(
        name=policy.name,
        description=policy.description,
        enforcement_level=_LEVEL_FROM_WIRE[policy.enforcementLevel],
        policy_type=_POLICY_TYPE_FROM_WIRE.get(policy.policy_type, PolicyType.UNKNOWN),
        config_schema=schema,
        required=tuple(policy.configSchema.required),
        severity=_SEVERITY_FROM_WIRE.get(policy.severity, ""),
    )


def _read_pack_project(pack_dir: Path) -> tuple[dict[str, Any], Path | None]:
    """PulumiPolicy.yaml's contents and the pack's virtualenv python, if it names one that exists."""
    project_file = pack_dir / "PulumiPolicy.yaml"
    try:
        project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except OSError:
        raise InputError(str(pack_dir), "", "is not a policy pack: it has no readable PulumiPolicy.yaml",
                         "pass the directory that holds PulumiPolicy.yaml (e.g. policies/).") from None
    except yaml.YAMLError as error:
        raise InputError(str(project_file), "", f"not valid YAML: {error}", "fix the YAML syntax.") from None
    runtime = project.get("runtime")
    name, options = (runtime.get("name"), runtime.get("options") or {}) if isinstance(runtime, dict) else (runtime, {})
    if name != "python":
        raise InputError(str(project_file), "runtime", f"runtime {name!r} is not supported here",
                         "this client runs Python policy packs (runtime: python).")
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
    InputError
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
        start_timeout_s: float = 60.0,
        call_timeout_s: float = 300.0,
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
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=_STDERR_KEPT_LINES)
        self._readers: list[threading.Thread] = []
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
        return "".join(self._stderr)

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
            self._configure()
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
        self._process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS_PLACEHOLDER, "."],
            cwd=self.pack_dir,
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        first_line: queue.Queue[str | None] = queue.Queue(maxsize=1)
        assert self._process.stdout is not None and self._process.stderr is not None
        stdout, stderr = self._process.stdout, self._process.stderr

        def read_stdout() -> None:
            line = stdout.readline()
            first_line.put(line.decode(errors="replace") if line else None)
            for _ in iter(stdout.readline, b""):  # keep the pipe drained
                pass

        def read_stderr() -> None:
            for raw in iter(stderr.readline, b""):
                self._stderr.append(raw.decode(errors="replace"))

        self._readers = [threading.Thread(target=read_stdout, daemon=True),
                         threading.Thread(target=read_stderr, daemon=True)]
        for reader in self._readers:
            reader.start()
        try:
            line = first_line.get(timeout=self._start_timeout_s)
        except queue.Empty:
            raise self._failure(f"did not print its port within {self._start_timeout_s:g} s") from None
        if line is None:
            self._process.wait(timeout=self._start_timeout_s)
            self._readers[1].join(timeout=5)
            raise self._failure(f"exited with code {self._process.returncode} before printing its port")
        try:
            port = int(line.strip())
        except ValueError:
            raise self._failure(f"printed {line.strip()!r} instead of its port as its first line") from None
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}",
            options=[("grpc.max_receive_message_length", _MAX_MESSAGE_BYTES),
                     ("grpc.max_send_message_length", _MAX_MESSAGE_BYTES)],
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
                    stack=self.stack, project=self.project, organization=self.organization,
                    dry_run=self.dry_run, config=self._stack_config, tags=self._stack_tags,
                ),
                timeout=self._call_timeout_s,
            )
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise self._failure(f"failed ConfigureStack: {error.code().name}: {error.details()}") from None
        response = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        policies = sorted((_policy_info(p, response.supportsConfig) for p in response.policies),
                          key=lambda p: p.name)
        initial = {
            name: PolicyConfig(_LEVEL_FROM_WIRE[config.enforcementLevel],
                               json_format.MessageToDict(config.properties))
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

    def _configure(self) -> None:
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
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            for reader in self._readers:
                reader.join(timeout=5)
            for pipe in (process.stdout, process.stderr):
                if pipe is not None:
                    pipe.close()

    # -- analysis

    def _violation(self, diagnostic: analyzer_pb2.AnalyzeDiagnostic, urn: str) -> Violation:
        level = _LEVEL_FROM_WIRE[diagnostic.enforcementLevel]
        message = diagnostic.message
        prefix = f"{diagnostic.description}\n"
        if diagnostic.description and message.startswith(prefix):
            message = message[len(prefix):]
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
                raise self._failure(
                    f"failed Analyze of {record.urn}: {error.code().name}: {error.details()}"
                ) from None
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
        return [
            self._violation(d, d.urn if d.urn in by_urn else self.root_urn) for d in response.diagnostics
        ]
