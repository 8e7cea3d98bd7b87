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
- ``diff(new, old) -> Plan``: the steps from a prior state to a preview's records.
"""

from __future__ import annotations

from pulumi_dryrun.diff import Plan, PropertyChange, Step, diff
from pulumi_dryrun.policy import PolicyPackRequest, PolicyReport, run_policy_packs
from pulumi_dryrun.preview import PreviewResult, run_preview
from pulumi_dryrun.runner import ProgramRun, run_loaded, run_program
from pulumi_dryrun.state import Snapshot, read_state, state_text

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
    "read_state",
    "run_loaded",
    "run_policy_packs",
    "run_preview",
    "run_program",
    "state_text",
]
