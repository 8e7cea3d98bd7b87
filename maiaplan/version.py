"""maiaplan's own version, for ``--version``, reports and state snapshots (a light module: the CLI
reads it at start-up, before any command's heavy imports)."""

from __future__ import annotations

from importlib import metadata


def maiaplan_version() -> str:
    """The installed maiaplan's version (``0+source`` when run from a checkout that is not installed)."""
    try:
        return metadata.version("maiaplan")
    except metadata.PackageNotFoundError:
        return "0+source"


def state_manifest_version() -> str:
    """What a ``--save-state`` snapshot names as the tool that wrote it."""
    return f"maiaplan-{maiaplan_version()}"
