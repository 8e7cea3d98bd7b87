"""The maiaplan-guard configuration that guards what a spec plans (``maiaplan policy-config SPEC``).

It is the JSON file that ``pulumi preview --policy-pack policies --policy-pack-config FILE``
(and ``maiaplan preview``) take, keyed by policy name: the spec's tenants and their isolation
(``dedicated-hardware``, ``tenant-network-boundary``), its contracts and the chips per SKU of its
catalog, built-in figures with the spec's overrides (``contract-limits``). So one spec drives both
the plan and its guard. ``--waivers FILE`` adds waivers, each naming its policy; they land in that
policy's configuration.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from planner.errors import InputError, did_you_mean
from planner.spec import MigrationSpec
from planner.yaml_input import load_yaml

# maiaplan-guard's policy names (its public interface; the pack imports nothing of maiaplan).
TAGS = "maiaplan-tags"
DEDICATED_HARDWARE = "dedicated-hardware"
NO_PUBLIC_INGRESS = "no-public-ingress"
ENCRYPTION_AT_HOST = "encryption-at-host"
TENANT_NETWORK_BOUNDARY = "tenant-network-boundary"
CONTRACT_LIMITS = "contract-limits"
POLICIES = (TAGS, DEDICATED_HARDWARE, NO_PUBLIC_INGRESS, ENCRYPTION_AT_HOST, TENANT_NETWORK_BOUNDARY, CONTRACT_LIMITS)


def chip_tables(spec: MigrationSpec) -> tuple[dict[str, int], dict[str, int]]:
    """Chips per VM size / instance type, and TensorCores per chip per TPU type prefix, of the spec's
    catalog (built-in entries with the spec's overrides).

    Raises
    ------
    InputError
        When two accelerators sell the same SKU with different chip counts.
    """
    chips: dict[str, int] = {}
    cores: dict[str, int] = {}
    owners: dict[str, str] = {}
    for name, accelerator in spec.accelerators.items():
        table, value = (
            (cores, accelerator.tpu_cores_per_chip)
            if accelerator.tpu_cores_per_chip
            else (chips, accelerator.chips_per_sku)
        )
        previous = table.get(accelerator.sku)
        if previous is not None and previous != value:
            raise InputError(
                spec.source_file,
                f"catalog.{name}.sku",
                f"SKU '{accelerator.sku}' is also sold by '{owners[accelerator.sku]}' with a different chip count "
                f"({previous} there, {value} here), so the policy pack could not count its chips",
                "give each accelerator its own SKU, or the same chips_per_sku / tpu_cores_per_chip.",
            )
        table[accelerator.sku] = value
        owners[accelerator.sku] = name
    return dict(sorted(chips.items())), dict(sorted(cores.items()))


def policy_config(spec: MigrationSpec, waivers: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The ``--policy-pack-config`` document for ``spec``, with ``waivers`` by policy name."""
    tenants = [{"name": t.name, "isolation": t.isolation} for t in spec.tenants]
    chips_per_sku, tpu_cores_per_chip = chip_tables(spec)
    contracts = [
        {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in contract.model_dump().items()
            if value is not None and value != ()
        }
        for contract in spec.contracts
    ]
    config: dict[str, dict[str, Any]] = {
        DEDICATED_HARDWARE: {"tenants": tenants},
        TENANT_NETWORK_BOUNDARY: {"tenants": tenants},
        CONTRACT_LIMITS: {
            "contracts": contracts,
            "chips_per_sku": chips_per_sku,
            "tpu_cores_per_chip": tpu_cores_per_chip,
        },
    }
    for policy, entries in waivers.items():
        config.setdefault(policy, {})["waivers"] = entries
    return {policy: config[policy] for policy in POLICIES if policy in config}


def render(config: Mapping[str, Any]) -> str:
    return json.dumps(config, indent=2) + "\n"


def _date(value: Any) -> str | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    return None


def load_waivers(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Waivers from ``path`` (YAML or JSON), checked and grouped by policy.

    Each entry: ``policy`` (a maiaplan-guard policy), exactly one of ``urn`` (a resource URN) or
    ``tags`` (a tag selector: every resource carrying all these tags), ``reason``, and ``expires``
    (YYYY-MM-DD, the last day the waiver applies).

    Raises
    ------
    InputError
        Naming the entry and field of the first problem.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(source, "", f"cannot read the waivers: {error.strerror}", "pass an existing file.") from None
    except UnicodeDecodeError:
        raise InputError(source, "", "is not UTF-8 text", "save the waivers as UTF-8 YAML or JSON.") from None
    entries = load_yaml(text, source)  # dates stay text: `expires: 2099-02-30` is checked below, not a traceback
    if entries is None:
        return {}
    if not isinstance(entries, list):
        raise InputError(
            source, "", "waivers must be a list", "write a list of {policy, urn or tags, reason, expires}."
        )
    grouped: dict[str, list[dict[str, Any]]] = {}
    for index, entry in enumerate(entries):
        where = f"[{index}]"
        if not isinstance(entry, Mapping):
            raise InputError(source, where, "a waiver must be a mapping", "give policy, urn or tags, reason, expires.")
        unknown = sorted(set(entry) - {"policy", "urn", "tags", "reason", "expires"})
        if unknown:
            raise InputError(
                source,
                f"{where}.{unknown[0]}",
                f"unknown field '{unknown[0]}'",
                "use only policy, urn, tags, reason and expires.",
            )
        policy = entry.get("policy")
        if policy not in POLICIES:
            raise InputError(
                source,
                f"{where}.policy",
                f"'{policy}' is not a maiaplan-guard policy{did_you_mean(str(policy), POLICIES)}",
                f"use one of {', '.join(POLICIES)}.",
            )
        target: dict[str, Any]
        if ("urn" in entry) == ("tags" in entry):
            raise InputError(
                source,
                where,
                "a waiver names exactly one of 'urn' or 'tags'",
                "give the resource's URN, or a tags selector such as {cluster: az-eastus-maia}.",
            )
        if "urn" in entry:
            if not isinstance(entry["urn"], str) or not entry["urn"].startswith("urn:pulumi:"):
                raise InputError(
                    source,
                    f"{where}.urn",
                    f"{entry['urn']!r} is not a Pulumi URN",
                    "copy the URN from `maiaplan preview --format json` or `pulumi stack --show-urns`.",
                )
            target = {"urn": entry["urn"]}
        else:
            tags = entry["tags"]
            if not isinstance(tags, Mapping) or not tags or not all(isinstance(v, str) for v in tags.values()):
                raise InputError(
                    source,
                    f"{where}.tags",
                    "tags must map tag keys to string values",
                    "e.g. tags: {cluster: az-eastus-maia, workload: embed}.",
                )
            target = {"tags": {str(k): v for k, v in tags.items()}}
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise InputError(source, f"{where}.reason", "a waiver needs a reason", "say why the violation is accepted.")
        expires = _date(entry.get("expires"))
        if expires is None:
            raise InputError(
                source,
                f"{where}.expires",
                f"{entry.get('expires')!r} is not a date (YYYY-MM-DD of a day that exists)",
                "give the last day the waiver applies as YYYY-MM-DD.",
            )
        grouped.setdefault(policy, []).append({**target, "reason": reason, "expires": expires})
    return grouped
