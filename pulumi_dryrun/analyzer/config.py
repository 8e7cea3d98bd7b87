"""The ``--policy-pack-config`` file and its reconciliation with a pack's policies, as the CLI does it
(``pkg/resource/analyzer/config.go``: ``parsePolicyPackConfig``, ``ReconcilePolicyPackConfig``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from pulumi_dryrun.analyzer.model import AnalyzerInfo, EnforcementLevel, PolicyConfig
from pulumi_dryrun.errors import DryRunError, did_you_mean


def parse_policy_pack_config(data: Any, source: str = "<policy config>") -> dict[str, PolicyConfig]:
    """A ``--policy-pack-config`` document as the CLI parses it (``parsePolicyPackConfig``).

    Each top-level entry is a level (``"mandatory"``) or an object with an optional
    ``enforcementLevel`` and properties; entries with neither are dropped.

    Raises
    ------
    DryRunError
        When the document is not an object, or a level is not one of the four.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise DryRunError(
            source,
            "",
            f"the policy pack config must be a JSON object, not {type(data).__name__}",
            'write {"<policy name>": {"enforcementLevel": ..., <properties>}}.',
        )
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
            raise DryRunError(
                source,
                name,
                f"{value!r} is not a valid value; must be a string or object",
                "give a level or an object of properties.",
            )
        if raw_level is not None:
            if raw_level not in levels:
                raise DryRunError(
                    source, name, f"{raw_level!r} is not a valid enforcement level", f"use one of {', '.join(levels)}."
                )
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
        raise DryRunError(
            str(path), "", f"cannot read the policy pack config: {error.strerror}", "pass an existing JSON file."
        ) from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise DryRunError(
            str(path), f"line {error.lineno}", f"not valid JSON: {error.msg}", "fix the JSON syntax."
        ) from None
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
    DryRunError
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
        raise DryRunError(
            source,
            path,
            message + (more if len(problems) > 1 else ""),
            "make the configuration match the policy's schema (docs/policies.md).",
        )
    known = [policy.name for policy in info.policies]
    for name, config in result.items():
        if config.enforcement_level is None:
            raise DryRunError(
                source,
                name,
                f"'{name}' names no policy of pack {info.name} and sets no "
                f"enforcementLevel, which the Pulumi CLI rejects{did_you_mean(name, known)}",
                f"use one of the policy names: {', '.join(known)}.",
            )
    return result
