"""What a policy pack reports, as the analyzer protocol's client sees it: levels, policies, violations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pulumi.runtime.proto import analyzer_pb2

# A violation message starting with this is covered by a waiver (a pack convention: it reports as waived).
WAIVED_PREFIX = "waived:"


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
_LEVEL_TO_WIRE: dict[EnforcementLevel, analyzer_pb2.EnforcementLevel.ValueType] = {
    level: wire for wire, level in _LEVEL_FROM_WIRE.items()
}
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
