"""The stack's ``maiaplan:*`` config (``stacks/Pulumi.<stack>.yaml``), read and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pulumi

from planner.errors import InputError
from planner.plan_document import MigrationPlan
from planner.spec import MigrationSpec

_SSH_PUBLIC_KEY = re.compile(r"(ssh-(rsa|ed25519)|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+( .*)?")
_DOMAIN = re.compile(r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class StackConfigError(InputError, pulumi.RunError):
    """Missing or invalid stack config. A RunError, so that the Pulumi CLI prints it without a traceback."""

    def __init__(self, key: str, problem: str, fix: str) -> None:
        super().__init__(f"stacks/Pulumi.{pulumi.get_stack()}.yaml", f"maiaplan:{key}", problem, fix)


class ConfigSource(Protocol):
    """What :func:`read_settings` reads: ``pulumi.Config("maiaplan")`` or anything with its ``get``."""

    def get(self, key: str) -> str | None: ...


@dataclass(frozen=True)
class StackSettings:
    """The stack's config, read and checked."""

    spec_path: Path
    phase: int
    step: int
    ssh_public_key: str | None
    serving_domain: str | None


def _integer(config: ConfigSource, key: str, meaning: str) -> int:
    text = config.get(key)
    if text is None:
        raise StackConfigError(key, "is not set", f"pulumi config set maiaplan:{key} <{meaning}>")
    try:
        return int(text)
    except ValueError:
        raise StackConfigError(key, f"must be a whole number ({meaning}), got '{text}'", "") from None


def read_settings(config: ConfigSource, project_dir: Path) -> StackSettings:
    """Read the stack's ``maiaplan:*`` config; the spec's path is relative to ``project_dir``.

    Raises
    ------
    StackConfigError
        Naming the key that is missing or invalid.
    """
    spec = config.get("spec")
    if not spec:
        raise StackConfigError("spec", "is not set", "pulumi config set maiaplan:spec examples/maia-pilot.yaml")
    spec_path = project_dir / spec
    if not spec_path.is_file():
        raise StackConfigError("spec", f"names no file: {spec_path}", "give the spec's path relative to the project")
    ssh_public_key = config.get("sshPublicKey")
    if ssh_public_key is not None and not _SSH_PUBLIC_KEY.fullmatch(ssh_public_key.strip()):
        raise StackConfigError(
            "sshPublicKey", "is not an OpenSSH public key", "paste one line of a .pub file (ssh-ed25519 AAAA… name)"
        )
    serving_domain = config.get("servingDomain")
    if serving_domain is not None and not _DOMAIN.fullmatch(serving_domain):
        raise StackConfigError(
            "servingDomain", f"'{serving_domain}' is not a DNS domain", "use lowercase labels, e.g. serving.example.com"
        )
    return StackSettings(
        spec_path=spec_path,
        phase=_integer(config, "phase", "a migration phase, 0 = nothing moved yet"),
        step=_integer(config, "step", "a percent from migration.traffic_steps"),
        ssh_public_key=ssh_public_key.strip() if ssh_public_key else None,
        serving_domain=serving_domain,
    )


def check_moment(settings: StackSettings, spec: MigrationSpec, plan: MigrationPlan) -> None:
    """Check that the configured phase and step exist in this plan and spec.

    Raises
    ------
    StackConfigError
        For a phase outside 0..len(plan.phases) or a step that is not one of the spec's traffic steps.
    """
    last = len(plan.phases)
    if not 0 <= settings.phase <= last:
        raise StackConfigError(
            "phase",
            f"is {settings.phase}, but the plan of '{spec.name}' has phases 0 to {last}",
            f"set it to a phase from 0 to {last}",
        )
    steps = spec.migration.traffic_steps
    if settings.step not in steps:
        raise StackConfigError(
            "step",
            f"is {settings.step}, which is not one of migration.traffic_steps {list(steps)}",
            f"set it to one of {', '.join(map(str, steps))}",
        )


def require(key: str, value: str | None, needed_for: str, example: str) -> str:
    """``value``, which ``needed_for`` needs.

    Raises
    ------
    StackConfigError
        When the key is not set.
    """
    if value is None:
        raise StackConfigError(key, f"is not set, and {needed_for}", f"pulumi config set maiaplan:{key} {example}")
    return value
