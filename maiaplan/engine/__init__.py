"""The offline dry-run engine: any Pulumi Python project previewed in-process, without the CLI.

Public API:

- ``run_program(project_dir, stack, prior=..., overrides=...) -> ProgramRun``: run the program under
  a preview and get its registrations as ``ResourceRecord``s (sorted by URN) and its stack outputs.
- ``run_preview(project_dir, stack, state=..., policy_packs=...) -> PreviewResult``: the whole dry run
  (program, diff against a prior state, policy packs), which ``maiaplan.formats`` renders.
- ``read_state`` / ``write_state``: ``pulumi stack export`` files and ``--save-state`` snapshots.
- ``diff(new, old) -> Plan``: the steps from a prior state to a preview's records.
"""

from __future__ import annotations

from importlib import metadata

from maiaplan.engine.diff import Plan, PropertyChange, Step, diff
from maiaplan.engine.policy import PolicyPackRequest, PolicyReport, run_policy_packs
from maiaplan.engine.preview import PreviewResult, run_preview
from maiaplan.engine.runner import ProgramRun, run_loaded, run_program
from maiaplan.engine.state import Snapshot, read_state, write_state


def maiaplan_version() -> str:
    """The installed maiaplan's version (``0+source`` when run from a checkout that is not installed)."""
    try:
        return metadata.version("maiaplan")
    except metadata.PackageNotFoundError:
        return "0+source"


__all__ = [
    "Plan",
    "PolicyPackRequest",
    "PolicyReport",
    "PreviewResult",
    "ProgramRun",
    "PropertyChange",
    "Snapshot",
    "Step",
    "diff",
    "maiaplan_version",
    "read_state",
    "run_loaded",
    "run_policy_packs",
    "run_preview",
    "run_program",
    "write_state",
]
