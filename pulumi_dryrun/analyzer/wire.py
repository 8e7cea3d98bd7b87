"""The analyzer protocol's wire format: resource records as the engine sends them to policy packs
(``pkg/resource/deploy/step_generator.go``, ``sdk/go/common/resource/plugin/analyzer_plugin.go``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

from pulumi_dryrun.analyzer.model import (
    _LEVEL_FROM_WIRE,
    _POLICY_TYPE_FROM_WIRE,
    _SEVERITY_FROM_WIRE,
    PolicyInfo,
    PolicyType,
)
from pulumi_dryrun.durations import duration_seconds
from pulumi_dryrun.resources import ResourceRecord


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
            create=timeouts.get("create", 0.0),
            update=timeouts.get("update", 0.0),
            delete=timeouts.get("delete", 0.0),
        ),
        parent=record.parent or "",
    )


def _provider(
    record: ResourceRecord, by_urn: Mapping[str, ResourceRecord]
) -> analyzer_pb2.AnalyzerProviderResource | None:
    provider = by_urn.get(_provider_urn(record.provider) or "")
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider.type, urn=provider.urn, name=provider.name, properties=_struct(provider.inputs)
    )


def analyze_request(record: ResourceRecord, by_urn: Mapping[str, ResourceRecord]) -> analyzer_pb2.AnalyzeRequest:
    """The ``Analyze`` request the engine sends for ``record`` (its inputs after the provider's check)."""
    return analyzer_pb2.AnalyzeRequest(
        type=record.type,
        urn=record.urn,
        name=record.name,
        properties=_struct(record.inputs),
        options=_options(record),
        provider=_provider(record, by_urn),
    )


def stack_resource(record: ResourceRecord, by_urn: Mapping[str, ResourceRecord]) -> analyzer_pb2.AnalyzerResource:
    """``record`` in an ``AnalyzeStack`` request: its outputs (its inputs when it has no outputs,
    which is what a preview's outputs of a resource to create amount to), parent and dependencies."""
    return analyzer_pb2.AnalyzerResource(
        type=record.type,
        urn=record.urn,
        name=record.name,
        properties=_struct(record.outputs if record.outputs else record.inputs),
        options=_options(record),
        provider=_provider(record, by_urn),
        parent=record.parent or "",
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
