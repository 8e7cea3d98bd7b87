"""Run Pulumi code in-process under ``pulumi.runtime.set_mocks`` and record every registration.

The SDK's mock monitor hands a mock only a resource's type, name and inputs; this one also keeps
each registration's parent and dependencies, so tests can check what sits under which component.
Its URNs are the SDK mock monitor's (see ../shared/reference/pulumi-engine.md): compare them with
each other, never with the engine's.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await


@dataclass(frozen=True)
class Registered:
    """One resource registration: inputs use the provider's own (camelCase) property names."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: tuple[str, ...]
    inputs: Mapping[str, Any]


def mock_id(name: str) -> str:
    """The id the mocks give the resource named ``name``."""
    return f"{name}-id"


class NamingMocks(pulumi.runtime.Mocks):
    """Every resource gets an ``id`` and a ``name`` output, nothing else; no invokes are expected.

    Inputs are not echoed as outputs: some providers' outputs have other shapes than their inputs
    (a scale set's ``identity.userAssignedIdentities`` is a list in, a map out).
    """

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return mock_id(args.name), {"name": args.inputs.get("name", args.name)}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        raise AssertionError(f"unexpected invoke {args.token}: maiaplan's components call no data sources")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, keeping each registration with its parent and dependencies."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            record = Registered(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                dependencies=tuple(request.dependencies),
                inputs=rpc.deserialize_properties(request.object),
            )
            with self._lock:
                self.registered.append(record)
        return response


@dataclass
class Recording:
    """What a program registered, and the stack outputs it exported."""

    resources: list[Registered]
    exports: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.resources.sort(key=lambda resource: resource.urn)
        self._by_urn = {resource.urn: resource for resource in self.resources}
        self._by_id = {mock_id(resource.name): resource for resource in self.resources if resource.custom}

    def __iter__(self) -> Iterator[Registered]:
        return iter(self.resources)

    def of_type(self, type_: str) -> list[Registered]:
        return [resource for resource in self.resources if resource.type == type_]

    def named(self, name: str) -> Registered:
        matches = [resource for resource in self.resources if resource.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named '{name}'")
        return matches[0]

    def parent_of(self, resource: Registered) -> Registered | None:
        return self._by_urn.get(resource.parent)

    def children_of(self, resource: Registered) -> list[Registered]:
        return [child for child in self.resources if child.parent == resource.urn]

    def ancestors_of(self, resource: Registered) -> list[Registered]:
        """Parent, grandparent, … up to the top-level resource."""
        chain = []
        parent = self.parent_of(resource)
        while parent is not None:
            chain.append(parent)
            parent = self.parent_of(parent)
        return chain

    def custom(self) -> list[Registered]:
        return [resource for resource in self.resources if resource.custom]

    def with_id(self, id_: str) -> Registered | None:
        """The custom resource the mocks gave ``id_``, if any."""
        return self._by_id.get(id_)

    def references_of(self, resource: Registered) -> list[Registered]:
        """The resources whose ids appear anywhere in ``resource``'s inputs."""
        found: list[Registered] = []

        def walk(value: Any) -> None:
            if isinstance(value, str):
                referenced = self._by_id.get(value)
                if referenced is not None:
                    found.append(referenced)
            elif isinstance(value, Mapping):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(dict(resource.inputs))
        return found


def run_pulumi(
    program: Callable[[], object],
    *,
    config: Mapping[str, str] | None = None,
    project: str = "maiaplan",
    stack: str = "test",
) -> Recording:
    """Run ``program`` as a preview under mocks, with ``config`` as the stack's config.

    The root stack of a previous run is discarded first: the SDK keeps it between runs.
    Exceptions of the program, or of any registration, propagate.
    """
    settings.ROOT.set(None)
    mocks = NamingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=True, monitor=monitor)
    pulumi.runtime.set_all_config(dict(config or {}))
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()

    def run() -> None:
        program()

    _sync_await(run_pulumi_func(run))
    root = settings.get_root_resource()
    exports = {
        name: _sync_await(pulumi.Output.from_input(value).future())
        for name, value in getattr(root, "outputs", {}).items()
    }
    return Recording(list(monitor.registered), exports)


def tag_property(type_token: str) -> str | None:
    """The property that holds a resource type's tags: ``tags`` (Azure, AWS), ``labels`` (GCP), or None.

    Read from the provider's own Python class, so that "taggable" means what the provider says.
    (A GCP resource's ``tags`` are network tags, not labels.)
    """
    package, module, name = type_token.split(":")
    python_module = importlib.import_module(f"pulumi_{package.replace('-', '_')}.{module.split('/')[0]}")
    parameters = inspect.signature(getattr(python_module, name)._internal_init).parameters
    wanted = "labels" if package == "gcp" else "tags"
    return wanted if wanted in parameters else None


def tags_of(resource: Registered) -> dict[str, str] | None:
    """A registered resource's tags as a mapping (AWS auto scaling groups list them), or None if untaggable."""
    key = tag_property(resource.type)
    if key is None:
        return None
    value = resource.inputs.get(key)
    if isinstance(value, list):
        return {tag["key"]: tag["value"] for tag in value}
    return dict(value or {})
