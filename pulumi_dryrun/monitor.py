"""A resource monitor that records every registration as the engine would see it.

It stands where the engine's resource monitor stands when the Pulumi CLI runs a program: the SDK
sends it ``RegisterResourceRequest``s, and it takes parents, dependencies, property dependencies,
providers and resource options from those requests themselves. It gives resources the engine's
URNs (``urns.make_urn``), creates the default provider of each package version the first time a
resource needs one, and answers with what ``mocks.PreviewProviders`` says a provider would.

The SDK calls it from its executor threads, so its bookkeeping is behind a lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from google.protobuf import empty_pb2
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.proto import engine_pb2, resource_pb2

from pulumi_dryrun import urns
from pulumi_dryrun.mocks import PreviewProviders
from pulumi_dryrun.resources import UNKNOWN, ResourceRecord
from pulumi_dryrun.values import from_struct, to_struct


@dataclass(frozen=True)
class LogEntry:
    """A message the program logged through the engine (``pulumi.log``)."""

    severity: str
    message: str
    urn: str | None


class _NoMocks(Mocks):
    """The monitor answers everything itself; the SDK's Mocks interface is only a formality."""

    def call(self, args: Any) -> tuple[dict[str, Any], None]:
        raise NotImplementedError("invokes are answered by RecordingMonitor.Invoke")

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError("registrations are answered by RecordingMonitor.RegisterResource")


class RecordingMonitor(MockMonitor):
    """The engine's side of the resource-monitor protocol, for one preview of one stack.

    ``class_of`` maps a type token to the SDK class the program constructed for it (the shapes of
    its properties come from there); ``project_dir`` locates the program's own source frames.
    """

    def __init__(
        self,
        stack: str,
        project: str,
        project_dir: Path,
        preview: PreviewProviders,
        default_provider_inputs: Callable[[str], dict[str, Any]],
        class_of: Mapping[str, type],
    ) -> None:
        super().__init__(_NoMocks())
        self.stack = stack
        self.project = project
        self.project_dir = project_dir
        self.preview = preview
        self.default_provider_inputs = default_provider_inputs
        self.class_of = class_of
        self.registrations: dict[str, ResourceRecord] = {}
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    # The SDK asks for the URN shape of a resource that has not registered yet (aliases, logs).
    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return urns.make_urn(self.stack, self.project, parent or None, type_, name)

    def RegisterResource(self, request: resource_pb2.RegisterResourceRequest) -> Any:
        parent = request.parent or None
        urn = urns.make_urn(self.stack, self.project, parent, request.type, request.name)
        inputs = from_struct(request.object)
        options = {
            "dependencies": tuple(sorted(set(request.dependencies))),
            "property_dependencies": {
                key: tuple(sorted(set(value.urns))) for key, value in sorted(request.propertyDependencies.items())
            },
            "protect": bool(request.protect),
            "ignore_changes": tuple(request.ignoreChanges),
            "replace_on_changes": tuple(request.replaceOnChanges),
            "delete_before_replace": request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None,
            "retain_on_delete": bool(request.retainOnDelete),
            "additional_secret_outputs": tuple(request.additionalSecretOutputs),
            "aliases": self._alias_urns(request, parent, urn),
            "custom_timeouts": {
                key: value for key in ("create", "update", "delete") if (value := getattr(request.customTimeouts, key))
            },
            "source_position": self._source_position(request),
        }
        provider: str | None = None
        if request.type == urns.STACK_TYPE:
            with self._lock:
                self.registrations[urn] = ResourceRecord(
                    urn=urn, type=request.type, name=request.name, custom=request.custom, inputs=inputs, **options
                )
            return resource_pb2.RegisterResourceResponse(urn=urn)
        if urns.provider_package(request.type) is not None:
            id_, inputs, outputs = self.preview.provider_resource(urn, inputs, request.version)
        elif request.custom:
            provider = request.provider or self._default_provider(urns.resource_package(request.type), request.version)
            id_, inputs, outputs = self.preview.custom_resource(
                urn, request.type, request.name, inputs, self.class_of.get(request.type), options["ignore_changes"]
            )
        else:
            id_, outputs = "", {}
        registration = ResourceRecord(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=request.custom,
            inputs=inputs,
            outputs=outputs,
            parent=parent,
            id=id_ or None,
            provider=provider,
            **options,
        )
        with self._lock:
            self.registrations[urn] = registration
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, outputs)
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id="" if id_ == UNKNOWN else id_, object=to_struct(outputs)
        )

    def RegisterResourceOutputs(self, request: resource_pb2.RegisterResourceOutputsRequest) -> Any:
        outputs = from_struct(request.outputs)
        with self._lock:
            registration = self.registrations.get(request.urn)
            if registration is not None and not registration.custom:
                self.registrations[request.urn] = replace(registration, outputs=outputs)
        return empty_pb2.Empty()

    def ReadResource(self, request: resource_pb2.ReadResourceRequest) -> Any:
        parent = request.parent or None
        urn = urns.make_urn(self.stack, self.project, parent, request.type, request.name)
        inputs = from_struct(request.properties)
        outputs = self.preview.read(urn, request.type, request.id, inputs)
        provider = None
        if not urns.provider_package(request.type) and request.type != "pulumi:pulumi:StackReference":
            provider = request.provider or self._default_provider(urns.resource_package(request.type), request.version)
        registration = ResourceRecord(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=True,
            inputs=inputs,
            outputs=outputs,
            parent=parent,
            id=request.id,
            provider=provider,
            external=True,
            dependencies=tuple(sorted(set(request.dependencies))),
            additional_secret_outputs=tuple(request.additionalSecretOutputs),
            source_position=self._source_position(request),
        )
        with self._lock:
            self.registrations[urn] = registration
            self.resources[urn] = MockMonitor.ResourceRegistration(urn, request.id, outputs)
        return resource_pb2.ReadResourceResponse(urn=urn, id=request.id, properties=to_struct(outputs))

    def Invoke(self, request: resource_pb2.ResourceInvokeRequest) -> Any:
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)  # type: ignore[no-untyped-call]
        args = from_struct(request.args)
        answer = self.preview.invoke(request.tok, args)
        with self._lock:
            self.invokes.append((request.tok, args))
        return resource_pb2.ResourceInvokeResponse(**{"return": to_struct(answer)})

    def _default_provider(self, package: str, version: str) -> str:
        """The reference of the package's default provider, registering it on first use."""
        urn = urns.make_urn(
            self.stack, self.project, None, f"{urns.PROVIDER_TYPE_PREFIX}{package}", urns.default_provider_name(version)
        )
        with self._lock:
            existing = self.registrations.get(urn)
            if existing is None:
                id_, inputs, outputs = self.preview.provider_resource(
                    urn, self.default_provider_inputs(package), version
                )
                existing = ResourceRecord(
                    urn=urn,
                    type=f"{urns.PROVIDER_TYPE_PREFIX}{package}",
                    name=urns.parse_urn(urn).name,
                    custom=True,
                    inputs=inputs,
                    outputs=outputs,
                    id=id_,
                )
                self.registrations[urn] = existing
        return urns.provider_reference(urn, existing.id or UNKNOWN)

    def _alias_urns(
        self, request: resource_pb2.RegisterResourceRequest, parent: str | None, urn: str
    ) -> tuple[str, ...]:
        """The URNs the resource may have had before, from its alias specs (fields default to its own)."""
        found: list[str] = list(request.aliasURNs)
        for alias in request.aliases:
            if alias.urn:
                found.append(alias.urn)
                continue
            spec = alias.spec
            alias_parent = None if spec.noParent else (spec.parentUrn or parent)
            found.append(
                urns.make_urn(
                    spec.stack or self.stack,
                    spec.project or self.project,
                    alias_parent,
                    spec.type or request.type,
                    spec.name or request.name,
                )
            )
        return tuple(sorted({alias for alias in found if alias != urn}))

    def _source_position(self, request: Any) -> str | None:
        """``path:line`` of the innermost frame of the program's own code that declared the resource."""
        positions = [frame.pc for frame in request.stackTrace.frames if frame.HasField("pc")]
        if request.HasField("sourcePosition"):
            positions.insert(0, request.sourcePosition)
        for position in positions:
            relative = _program_relative_path(position.uri, self.project_dir)
            if relative is not None:
                return f"{relative}:{position.line}"
        return None


_SEVERITIES: Mapping[int, str] = {
    engine_pb2.DEBUG: "debug",
    engine_pb2.INFO: "info",
    engine_pb2.WARNING: "warning",
    engine_pb2.ERROR: "error",
}


class RecordingEngine:
    """The engine's logging endpoint: keeps what the program logs, by severity."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def Log(self, request: engine_pb2.LogRequest) -> empty_pb2.Empty:
        entry = LogEntry(_SEVERITIES.get(request.severity, "info"), request.message, request.urn or None)
        with self._lock:
            self.entries.append(entry)
        return empty_pb2.Empty()


@functools.lru_cache(maxsize=4096)
def _program_relative_path(uri: str, project_dir: Path) -> str | None:
    """The project-relative path of a ``file://`` URI in the program's own code, else None."""
    path = Path(unquote(urlparse(uri).path))
    if not is_program_file(path, project_dir):
        return None
    return path.resolve().relative_to(project_dir).as_posix()


# The engine's own code is never the program's, even when the project holds it (maiaplan's does).
_ENGINE_DIR = Path(__file__).resolve().parent


def is_program_file(path: Path, project_dir: Path) -> bool:
    """Whether ``path`` is the program's own source: inside the project, not an installed package
    and not this engine."""
    try:
        resolved = path.resolve()
        relative = resolved.relative_to(project_dir)
    except (ValueError, OSError):
        return False
    if resolved.is_relative_to(_ENGINE_DIR):
        return False
    return not any(part in ("site-packages", "dist-packages") for part in relative.parts)
