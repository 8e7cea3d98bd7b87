"""Each policy's configuration: its JSON schema (what the CLI validates) and its typed form.

The CLI fills schema defaults, then the pack's initial config, then the ``--policy-pack-config``
file, and validates the result against these schemas before ``Configure``. The pack applies the
same defaults itself, so it behaves the same when run without any configuration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from . import (
    CONTRACT_LIMITS,
    DEDICATED_HARDWARE,
    ENCRYPTION_AT_HOST,
    NO_PUBLIC_INGRESS,
    TAGS,
    TENANT_NETWORK_BOUNDARY,
)
from .catalog import DEFAULT_CHIPS_PER_SKU, DEFAULT_TPU_CORES_PER_CHIP

JsonSchema = dict[str, Any]

ISOLATIONS: Final = ("hardware", "shared")
PROVIDERS: Final = ("azure", "aws", "gcp")

WAIVERS_SCHEMA: Final[JsonSchema] = {
    "type": "array",
    "description": "Violations to report as waived (advisory, with the reason) until the expiry date.",
    "default": [],
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["reason", "expires"],
        "properties": {
            "urn": {"type": "string", "minLength": 1, "description": "The waived resource's URN."},
            "tags": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": {"type": "string"},
                "description": "Waive every resource carrying all these tags (labels on GCP).",
            },
            "reason": {"type": "string", "minLength": 1},
            "expires": {
                "type": "string",
                "format": "date",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
                "description": "Last day the waiver applies (YYYY-MM-DD).",
            },
        },
        "oneOf": [{"required": ["urn"]}, {"required": ["tags"]}],
    },
}

TENANTS_SCHEMA: Final[JsonSchema] = {
    "type": "array",
    "description": "Tenants and their isolation; a tenant not listed is treated as 'hardware'.",
    "default": [],
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "isolation"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "isolation": {"type": "string", "enum": list(ISOLATIONS)},
        },
    },
}

CONTRACTS_SCHEMA: Final[JsonSchema] = {
    "type": "array",
    "description": "Cloud contracts, in the spec's shape.",
    "default": [],
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "tenant", "provider"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "tenant": {"type": "string", "minLength": 1},
            "provider": {"type": "string", "enum": list(PROVIDERS)},
            "min_share": {"type": "number", "minimum": 0, "maximum": 1},
            "min_chips": {"type": "integer", "minimum": 0},
            "max_chips": {"type": "integer", "minimum": 0},
            "regions": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "exclusive_workloads": {"type": "array", "items": {"type": "string", "minLength": 1}},
        },
    },
}

CHIPS_PER_SKU_SCHEMA: Final[JsonSchema] = {
    "type": "object",
    "description": "Accelerator chips per VM size / instance type / machine type (0 for CPU-only SKUs).",
    "additionalProperties": {"type": "integer", "minimum": 0},
    "default": dict(DEFAULT_CHIPS_PER_SKU),
}

TPU_CORES_PER_CHIP_SCHEMA: Final[JsonSchema] = {
    "type": "object",
    "description": "TensorCores per chip by TPU accelerator-type prefix (v5p-32 = 32 cores = 16 chips).",
    "additionalProperties": {"type": "integer", "minimum": 1},
    "default": dict(DEFAULT_TPU_CORES_PER_CHIP),
}

REQUIRED_TAGS_SCHEMA: Final[JsonSchema] = {
    "type": "object",
    "description": "Tag keys every taggable resource carries; a string value is the required value.",
    "additionalProperties": {"type": ["string", "null"]},
    "default": {"tenant": None, "managed-by": "maiaplan"},
}

EXTERNAL_NETWORKS_SCHEMA: Final[JsonSchema] = {
    "type": "object",
    "description": "Networks outside the stack (id or name) -> owning tenant, for peerings to them.",
    "additionalProperties": {"type": "string", "minLength": 1},
    "default": {},
}

# Each policy's config schema properties (PolicyConfigSchema.properties).
POLICY_SCHEMAS: Final[Mapping[str, Mapping[str, JsonSchema]]] = {
    TAGS: {"required_tags": REQUIRED_TAGS_SCHEMA, "waivers": WAIVERS_SCHEMA},
    DEDICATED_HARDWARE: {"tenants": TENANTS_SCHEMA, "waivers": WAIVERS_SCHEMA},
    NO_PUBLIC_INGRESS: {"waivers": WAIVERS_SCHEMA},
    ENCRYPTION_AT_HOST: {"waivers": WAIVERS_SCHEMA},
    TENANT_NETWORK_BOUNDARY: {
        "tenants": TENANTS_SCHEMA,
        "external_networks": EXTERNAL_NETWORKS_SCHEMA,
        "waivers": WAIVERS_SCHEMA,
    },
    CONTRACT_LIMITS: {
        "contracts": CONTRACTS_SCHEMA,
        "chips_per_sku": CHIPS_PER_SKU_SCHEMA,
        "tpu_cores_per_chip": TPU_CORES_PER_CHIP_SCHEMA,
        "waivers": WAIVERS_SCHEMA,
    },
}


class ConfigError(ValueError):
    """A policy's configuration cannot be read (the CLI's schema check should have caught it)."""


@dataclass(frozen=True)
class Waiver:
    """A waiver of one policy's violations on one resource (by URN) or on tagged resources."""

    reason: str
    expires: dt.date
    urn: str | None = None
    tags: Mapping[str, str] | None = None

    def describe(self) -> str:
        return f"{self.reason} (expires {self.expires.isoformat()})"


@dataclass(frozen=True)
class Contract:
    name: str
    tenant: str
    provider: str
    min_share: float | None = None
    min_chips: int | None = None
    max_chips: int | None = None
    regions: tuple[str, ...] = ()
    exclusive_workloads: tuple[str, ...] = ()


@dataclass(frozen=True)
class GuardConfig:
    """The typed configuration of one policy (fields a policy's schema lacks keep their defaults)."""

    waivers: tuple[Waiver, ...] = ()
    tenants: Mapping[str, str] = field(default_factory=dict)  # lowercased name -> isolation
    required_tags: Mapping[str, str | None] = field(default_factory=lambda: dict(REQUIRED_TAGS_SCHEMA["default"]))
    contracts: tuple[Contract, ...] = ()
    chips_per_sku: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_CHIPS_PER_SKU))
    tpu_cores_per_chip: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TPU_CORES_PER_CHIP))
    external_networks: Mapping[str, str] = field(default_factory=dict)

    def isolation_of(self, tenant: str | None) -> str:
        """A tenant's isolation; ``hardware`` for an unknown or unlisted tenant (fail closed)."""
        if tenant is None:
            return "hardware"
        return self.tenants.get(tenant.lower(), "hardware")


def _whole(value: Any, where: str) -> int:
    # Numbers arrive as floats through the protocol's Struct.
    if isinstance(value, bool) or not isinstance(value, int | float) or float(value) != int(value):
        raise ConfigError(f"{where} must be a whole number, not {value!r}")
    return int(value)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings, not {value!r}")
    return tuple(value)


def _waiver(raw: Any, where: str) -> Waiver:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be an object, not {raw!r}")
    reason, expires = raw.get("reason"), raw.get("expires")
    if not isinstance(reason, str) or not reason:
        raise ConfigError(f"{where}.reason must be a non-empty string")
    try:
        expiry = dt.date.fromisoformat(str(expires))
    except ValueError:
        raise ConfigError(f"{where}.expires must be a date YYYY-MM-DD, not {expires!r}") from None
    urn, tags = raw.get("urn"), raw.get("tags")
    if (urn is None) == (tags is None):
        raise ConfigError(f"{where} must name either a 'urn' or a 'tags' selector")
    if tags is not None and (
        not isinstance(tags, Mapping) or not tags or not all(isinstance(v, str) for v in tags.values())
    ):
        raise ConfigError(f"{where}.tags must be a non-empty object of strings")
    return Waiver(reason=reason, expires=expiry, urn=urn, tags=dict(tags) if tags is not None else None)


def _contract(raw: Any, where: str) -> Contract:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be an object, not {raw!r}")
    try:
        name, tenant, provider = str(raw["name"]), str(raw["tenant"]), str(raw["provider"])
    except KeyError as missing:
        raise ConfigError(f"{where} lacks {missing}") from None
    if provider not in PROVIDERS:
        raise ConfigError(f"{where}.provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
    min_share = raw.get("min_share")
    if min_share is not None and (not isinstance(min_share, int | float) or not 0 <= min_share <= 1):
        raise ConfigError(f"{where}.min_share must be a number from 0 to 1, not {min_share!r}")
    return Contract(
        name=name,
        tenant=tenant.lower(),
        provider=provider,
        min_share=float(min_share) if min_share is not None else None,
        min_chips=_whole(raw["min_chips"], f"{where}.min_chips") if raw.get("min_chips") is not None else None,
        max_chips=_whole(raw["max_chips"], f"{where}.max_chips") if raw.get("max_chips") is not None else None,
        regions=_strings(raw.get("regions", []), f"{where}.regions"),
        exclusive_workloads=_strings(raw.get("exclusive_workloads", []), f"{where}.exclusive_workloads"),
    )


def parse_config(props: Mapping[str, Any]) -> GuardConfig:
    """The typed form of one policy's configuration properties (absent ones take their defaults).

    Raises
    ------
    ConfigError
        When a property has the wrong shape.
    """
    values: dict[str, Any] = {}
    if "waivers" in props:
        raw = props["waivers"]
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise ConfigError(f"waivers must be a list, not {raw!r}")
        values["waivers"] = tuple(_waiver(item, f"waivers[{i}]") for i, item in enumerate(raw))
    if "tenants" in props:
        tenants: dict[str, str] = {}
        for i, item in enumerate(props["tenants"] or []):
            if not isinstance(item, Mapping) or item.get("isolation") not in ISOLATIONS or not item.get("name"):
                raise ConfigError(f"tenants[{i}] must be {{name, isolation: hardware|shared}}, not {item!r}")
            tenants[str(item["name"]).lower()] = str(item["isolation"])
        values["tenants"] = tenants
    if "required_tags" in props:
        raw = props["required_tags"]
        if not isinstance(raw, Mapping) or not all(v is None or isinstance(v, str) for v in raw.values()):
            raise ConfigError(f"required_tags must map tag keys to a value or null, not {raw!r}")
        values["required_tags"] = dict(raw)
    if "contracts" in props:
        values["contracts"] = tuple(
            _contract(item, f"contracts[{i}]") for i, item in enumerate(props["contracts"] or [])
        )
    for key in ("chips_per_sku", "tpu_cores_per_chip"):
        if key in props:
            raw = props[key]
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{key} must be an object, not {raw!r}")
            values[key] = {str(sku): _whole(count, f"{key}.{sku}") for sku, count in raw.items()}
    if "external_networks" in props:
        raw = props["external_networks"]
        if not isinstance(raw, Mapping) or not all(isinstance(v, str) for v in raw.values()):
            raise ConfigError(f"external_networks must map network ids or names to tenants, not {raw!r}")
        values["external_networks"] = {str(k): v.lower() for k, v in raw.items()}
    return GuardConfig(**values)
