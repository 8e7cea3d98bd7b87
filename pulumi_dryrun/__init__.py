"""The offline dry-run engine: any Pulumi Python project previewed as the CLI runs it, without the CLI.

The program runs in its own process, with the project's interpreter, behind a gRPC resource monitor
(``runner``, ``host``, ``child/``); the engine knows nothing of the application that calls it, and
reports every failure as a ``DryRunError`` (``errors``).

Public API:

- ``run_program(project_dir, stack, prior=..., overrides=...) -> ProgramRun``: run the program under
  a preview and get its registrations as ``ResourceRecord``s (sorted by URN) and its stack outputs.
- ``run_preview(project_dir, stack, state=..., policy_packs=...) -> PreviewResult``: the whole dry run
  (program, diff against a prior state, policy packs), which ``maiaplan.formats`` renders.
- ``read_state`` / ``state_text``: ``pulumi stack export`` files and ``--save-state`` snapshots.
- ``pulumi_dryrun.diff.diff(new, old) -> Plan``: the steps from a prior state to a preview's records.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public name -> the submodule that defines it. Imported on first use, so that importing one
# submodule (``pulumi_dryrun.errors`` in a CLI's start-up) does not load gRPC and the Pulumi SDK.
_HOMES = {
    "Plan": "diff",
    "PropertyChange": "diff",
    "Step": "diff",
    "PolicyPackRequest": "policy",
    "PolicyReport": "policy",
    "run_policy_packs": "policy",
    "PreviewResult": "preview",
    "run_preview": "preview",
    "ProgramRun": "runner",
    "run_loaded": "runner",
    "run_program": "runner",
    "Snapshot": "state",
    "read_state": "state",
    "state_text": "state",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


__all__ = [
    "Plan",
    "PolicyPackRequest",
    "PolicyReport",
    "PreviewResult",
    "ProgramRun",
    "PropertyChange",
    "Snapshot",
    "Step",
    "read_state",
    "run_loaded",
    "run_policy_packs",
    "run_preview",
    "run_program",
    "state_text",
]
