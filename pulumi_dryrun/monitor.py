"""A resource monitor that records every registration as the engine would see it.

It stands where the engine's resource monitor stands when the Pulumi CLI runs a program (the
program's process reaches it over gRPC, through ``pulumi_dryrun.host``): the SDK sends it
``RegisterResourceRequest``s, and it takes parents, dependencies, property dependencies,
providers and resource options from those requests themselves. It gives resources the engine's
URNs (``urns.make_urn``), creates the default provider of each package version the first time a
resource needs one, and answers with what ``mocks.PreviewProviders`` says a provider would.

The gRPC server calls it from its worker threads, so its bookkeeping is behind a lock. A second
registration of a URN is refused, as the engine refuses it, and remembered, so that a program that
swallows the error still fails the preview.
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
from pulumi.runtime.proto import engine_pb2, provider_pb2, resource_pb2

from pulumi_dryrun import urns
from pulumi_dryrun.mocks import PreviewProviders
from pulumi_dryrun.resources import UNKNOWN, ResourceRecord
from pulumi_dryrun.schema import ResourceSchema
from pulumi_dryrun.values import from_struct, to_struct


@dataclass(frozen=True)
class LogEntry:
    """A message the program logged through the engine (``pulumi.log``)."""

    severity: str
    message: str
    urn: str | None


class DuplicateURN(Exception):
    """A resource registered under a URN that another resource of the program already has."""

    def __init__(self, urn: str) -> None:
        self.urn = urn
        super().__init__(f"Duplicate resource URN '{urn}'; try giving it a unique name")


# What the monitor supports (``GetDeploymentInfo``): what the engine supports, except output values
# (the SDK then sends plain values, resolved, in registrations) and the invoke dependency gate.
SUPPORTED_FEATURES = (
    resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
    resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_REPLACEMENT_TRIGGER,
    resource_pb2.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
    resource_pb2.RESOURCE_MONITOR_FEATURE_REPLACE_WITH,
    resource_pb2.RESOURCE_MONITOR_FEATURE_TRANSFORMS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_INVOKE_TRANSFORMS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_PARAMETERIZATION,
    resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_HOOKS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_ERROR_HOOKS,
)
# The legacy feature names (``SupportsFeature``) an older SDK asks about, by the features above.
_LEGACY_FEATURES = {
    "secrets": resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
    "resourceReferences": resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
    "deletedWith": resource_pb2.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
    "replaceWith": resource_pb2.RESOURCE_MONITOR_FEATURE_REPLACE_WITH,
    "aliasSpecs": resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
    "transforms": resource_pb2.RESOURCE_MONITOR_FEATURE_TRANSFORMS,
    "invokeTransforms": resource_pb2.RESOURCE_MONITOR_FEATURE_INVOKE_TRANSFORMS,
    "parameterization": resource_pb2.RESOURCE_MONITOR_FEATURE_PARAMETERIZATION,
    "resourceHooks": resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_HOOKS,
    "errorHooks": resource_pb2.RESOURCE_MONITOR_FEATURE_ERROR_HOOKS,
}


class RecordingMonitor:
    """The engine's side of the resource-monitor protocol, for one preview of one stack.

    ``schemas`` maps a type token to its schema, as the program's process described the SDK class
    it constructed for it; ``project_dir`` locates the program's own source frames.
    """

    def __init__(
        self,
        stack: str,
        project: str,
        project_dir: Path,
        preview: PreviewProviders,
        default_provider_inputs: Callable[[str], dict[str, Any]],
        schemas: Mapping[str, ResourceSchema],
    ) -> None:
        self.stack = stack
        self.project = project
        self.project_dir = project_dir
        self.preview = preview
        self.default_provider_inputs = default_provider_inputs
        self.schemas = schemas
        self.registrations: dict[str, ResourceRecord] = {}
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        self.duplicates: list[str] = []
        self._lock = threading.Lock()

    def GetDeploymentInfo(self, request: empty_pb2.Empty) -> resource_pb2.DeploymentInfo:
        return resource_pb2.DeploymentInfo(supportedFeatures=list(SUPPORTED_FEATURES))

    def SupportsFeature(self, request: resource_pb2.SupportsFeatureRequest) -> resource_pb2.SupportsFeatureResponse:
        return resource_pb2.SupportsFeatureResponse(hasSupport=_LEGACY_FEATURES.get(request.id) in SUPPORTED_FEATURES)

    def _record(self, registration: ResourceRecord) -> None:
        """Keep a registration; a URN registered before is refused (``DuplicateURN``)."""
        with self._lock:
            if registration.urn in self.registrations:
                self.duplicates.append(registration.urn)
                raise DuplicateURN(registration.urn)
            self.registrations[registration.urn] = registration

    def RegisterResource(self, request: resource_pb2.RegisterResourceRequest) -> Any:
        parent = request.parent or None
        urn = urns.make_urn(self.stack, self.project, parent, request.type, request.name)
        inputs = from_struct(request.object)
        options: dict[str, Any] = {
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
            self._record(
                ResourceRecord(
                    urn=urn, type=request.type, name=request.name, custom=request.custom, inputs=inputs, **options
                )
            )
            return resource_pb2.RegisterResourceResponse(urn=urn)
        if urns.provider_package(request.type) is not None:
            id_, inputs, outputs = self.preview.provider_resource(urn, inputs, request.version)
        elif request.custom:
            provider = request.provider or self._default_provider(urns.resource_package(request.type), request.version)
            id_, inputs, outputs = self.preview.custom_resource(
                urn, request.type, request.name, inputs, self.schemas.get(request.type), options["ignore_changes"]
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
        self._record(registration)
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
        self._record(registration)
        return resource_pb2.ReadResourceResponse(urn=urn, id=request.id, properties=to_struct(outputs))

    def Invoke(self, request: resource_pb2.ResourceInvokeRequest) -> Any:
        args = from_struct(request.args)
        if request.tok == "pulumi:pulumi:getResource":
            return self._get_resource(str(args.get("urn", "")))
        answer = self.preview.invoke(request.tok, args)
        with self._lock:
            self.invokes.append((request.tok, args))
        return resource_pb2.ResourceInvokeResponse(**{"return": to_struct(answer)})

    def Call(self, request: resource_pb2.ResourceCallRequest) -> Any:
        """A component method's answer: like a data source's (its arguments back, and an id)."""
        args = from_struct(request.args)
        answer = self.preview.invoke(request.tok, args)
        with self._lock:
            self.invokes.append((request.tok, args))
        return provider_pb2.CallResponse(**{"return": to_struct(answer)})

    def ExistsResource(self, request: resource_pb2.ExistsResourceRequest) -> Any:
        """Whether a resource of ``type`` with ``id`` exists: known when the prior state or this
        preview has it; otherwise unknown, as only the provider's ``Read`` could tell."""
        with self._lock:
            known = [*self.registrations.values()]
        known += self.preview.prior_resources()
        exists = any(record.type == request.type and record.id == request.id for record in known)
        return resource_pb2.ExistsResourceResponse(exists=exists, unknown=not exists)

    def _get_resource(self, urn: str) -> Any:
        """``pulumi:pulumi:getResource``: a registered resource's URN, id and state, by URN."""
        with self._lock:
            registration = self.registrations.get(urn)
        if registration is None:
            raise LookupError(f"unknown resource {urn}")
        answer = {"urn": urn, "id": registration.id or "", "state": dict(registration.outputs)}
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
        self.root_resource = ""
        self._lock = threading.Lock()

    def GetRootResource(self, request: engine_pb2.GetRootResourceRequest) -> engine_pb2.GetRootResourceResponse:
        return engine_pb2.GetRootResourceResponse(urn=self.root_resource)

    def SetRootResource(self, request: engine_pb2.SetRootResourceRequest) -> engine_pb2.SetRootResourceResponse:
        self.root_resource = request.urn
        return engine_pb2.SetRootResourceResponse()

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
