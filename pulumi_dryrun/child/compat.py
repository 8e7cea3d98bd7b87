"""The one home of the private Pulumi SDK internals the dry run relies on, checked at start.

The program's process reads each resource type's schema from the generated SDK classes through the
SDK's own type-hint resolver, ``pulumi._types._raw_return_hints`` (the getter's wire name and its
resolved return hint), and its ``is_input_type``/``is_output_type`` markers. These are not public
API: ``missing()`` says which of them the installed SDK lacks, and ``untested()`` whether its
version is outside the range the dry run was tested with, so that the bootstrap can refuse (or
warn) at start instead of misreading schemas later.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import metadata
from typing import Any

# The Pulumi SDK versions the dry run is tested with (pyproject.toml: pulumi>=3.200,<4).
TESTED_SDK = ((3, 200), (4, 0))
_INTERNALS = ("_raw_return_hints", "is_input_type", "is_output_type")


def _types_module() -> Any:
    from pulumi import _types

    return _types


def missing() -> list[str]:
    """The private SDK internals this process's Pulumi SDK lacks (empty when all are there)."""
    try:
        module = _types_module()
    except ImportError:
        return ["pulumi._types"]
    return [f"pulumi._types.{name}" for name in _INTERNALS if not callable(getattr(module, name, None))]


def sdk_version() -> str:
    try:
        return metadata.version("pulumi")
    except metadata.PackageNotFoundError:
        return "unknown"


def untested() -> bool:
    """Whether the installed SDK's version is outside ``TESTED_SDK``."""
    try:
        major, minor = (int(part) for part in sdk_version().split(".")[:2])
    except ValueError:
        return True
    return not (TESTED_SDK[0] <= (major, minor) < TESTED_SDK[1])


def raw_return_hints(cls: type) -> dict[str, Any]:
    """Wire name → resolved annotation of a generated class's properties (the SDK's resolver)."""
    hints: Callable[[type], dict[str, Any]] = _types_module()._raw_return_hints
    return dict(hints(cls))


def is_input_type(cls: type) -> bool:
    return bool(_types_module().is_input_type(cls))


def is_output_type(cls: type) -> bool:
    return bool(_types_module().is_output_type(cls))
