"""URNs in the engine's form, and the names the engine gives default providers.

``urn:pulumi:<stack>::<project>::<qualified type>::<name>``: the qualified type is the chain of the
parents' types joined by ``$`` and ending in the resource's own type, without the root stack's type
(pkg/resource/deploy/deployment.go generateURN). The Python SDK's mock monitor builds them
differently, so the engine here never takes its URNs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
_SEPARATOR = "::"
_NOT_QNAME = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class UrnParts:
    """The fields of a URN; ``type`` is the resource's own type, the last of ``qualified_type``."""

    stack: str
    project: str
    qualified_type: str
    name: str

    @property
    def type(self) -> str:
        return self.qualified_type.rsplit("$", 1)[-1]


def parse_urn(urn: str) -> UrnParts:
    """Split a URN into its fields.

    Raises:
        ValueError: ``urn`` does not start with ``urn:pulumi:`` or has too few fields.
    """
    if not urn.startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    parts = urn[len("urn:pulumi:") :].split(_SEPARATOR, 3)
    if len(parts) != 4:
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    stack, project, qualified_type, name = parts
    return UrnParts(stack, project, qualified_type, name)


def stack_urn(stack: str, project: str) -> str:
    """The root stack resource's URN: ``...::pulumi:pulumi:Stack::<project>-<stack>``."""
    return make_urn(stack, project, None, STACK_TYPE, f"{project}-{stack}")


def make_urn(stack: str, project: str, parent: str | None, type_: str, name: str) -> str:
    """The engine's URN of a resource registered with ``parent`` (a URN, or None at the top).

    A child of the root stack is qualified by its own type alone; a child of any other resource by
    the parent's whole qualified type, ``$``, then its own.
    """
    qualified = type_
    if parent:
        parent_parts = parse_urn(parent)
        if parent_parts.type != STACK_TYPE:
            qualified = f"{parent_parts.qualified_type}${type_}"
    return f"urn:pulumi:{stack}{_SEPARATOR}{project}{_SEPARATOR}{qualified}{_SEPARATOR}{name}"


def provider_package(type_: str) -> str | None:
    """The package of a provider resource type ``pulumi:providers:<pkg>``, else None."""
    if type_.startswith(PROVIDER_TYPE_PREFIX):
        return type_[len(PROVIDER_TYPE_PREFIX) :]
    return None


def resource_package(type_: str) -> str:
    """The package a resource type belongs to: ``aws`` for ``aws:s3/bucket:Bucket``."""
    return provider_package(type_) or type_.split(":", 1)[0]


def default_provider_name(version: str) -> str:
    """The engine's name for the default provider of a package version: ``default_7_51_1``.

    Names may not contain dashes or dots, so the version's parts (pre-release and build parts too)
    are joined by underscores; without a version the name is ``default``.
    """
    if not version:
        return "default"
    core, _, rest = version.lstrip("v").partition("-")
    core, _, build = core.partition("+")
    if "+" in rest:
        rest, _, build = rest.partition("+")
    parts = core.split(".") + [part for part in rest.split(".") if part] + [part for part in build.split(".") if part]
    return "default_" + "_".join(_NOT_QNAME.sub("_", part) for part in parts)


def provider_reference(urn: str, id_: str) -> str:
    """A provider reference as resources carry it: ``<provider urn>::<provider id>``."""
    return f"{urn}{_SEPARATOR}{id_}"


def split_provider_reference(reference: str) -> tuple[str, str]:
    """The URN and id of a provider reference."""
    urn, _, id_ = reference.rpartition(_SEPARATOR)
    return urn, id_


def display_type(type_: str) -> str:
    """The short type the CLI prints: ``aws:s3:Bucket`` for ``aws:s3/bucket:Bucket``.

    The module's last path segment is dropped when it only repeats the type's name.
    """
    parts = type_.split(":")
    if len(parts) != 3:
        return type_
    package, module, name = parts
    head, slash, last = module.rpartition("/")
    if slash and last.lower() == name.lower():
        module = head
    return f"{package}:{module}:{name}"
