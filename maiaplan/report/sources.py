"""Where the report's inputs come from: the one module that calls the planner and the dry-run engine.

Everything else in :mod:`maiaplan.report` reads plain JSON documents: the plan document
(docs/plan-format.md), each phase's placement (``maiaplan place --format json`` plus the shard
groups' chips), the preview's JSON report (docs/preview.md) and, when the planner has them, the
verdict on the seed's performance claim. The planner's and the engine's module paths are named here and
nowhere else in the package, so that a move of either is a one-line change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maiaplan.commands.preview import SPEC_KEY, project_defaults
from maiaplan.formats import render
from maiaplan.render.plans import plan_json
from planner.claims import evaluate_default_claim
from planner.errors import InputError
from planner.fleet_placement import place_fleet
from planner.options import all_options
from planner.plan_builder import plan_migration
from planner.spec import MigrationSpec, load_spec
from planner.topology import build_cluster_graph
from pulumi_dryrun.preview import run_preview
from pulumi_dryrun.project import load_project, load_stack_config

# The preview's result is read at the default threshold of `maiaplan preview`.
PREVIEW_FAIL_ON = "mandatory"

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report shows, as JSON documents.

    Attributes
    ----------
    plan
        The plan document.
    layouts
        Per cluster (spec order): ``cluster``, ``kind``, ``racks``, ``nodes_per_rack``, ``chips_per_node``.
    placements
        Per fleet state (0: before the migration, then each phase): the list of cluster placements,
        each workload with ``node_chips`` (chips it uses per node it holds).
    preview
        The preview's JSON report, or None without ``--stack``.
    claims
        The seed's perf/W claim judged per workload and overall (:func:`claims_verdicts`).
    """

    plan: JsonDict
    layouts: list[JsonDict]
    placements: list[list[JsonDict]]
    preview: JsonDict | None
    claims: list[JsonDict]


def load_inputs(
    spec_path: Path, stack: str | None = None, project: Path = Path("."), state: Path | None = None
) -> ReportInputs:
    """Plan the spec, place every fleet state and, with ``stack``, run the dry run.

    Parameters
    ----------
    spec_path
        The migration spec.
    stack
        A stack of ``project`` whose preview the report shows, or None.
    project
        The Pulumi project directory (its ``Pulumi.yaml``).
    state
        The prior state for the preview (``--save-state`` output or ``pulumi stack export``).

    Returns
    -------
    ReportInputs

    Raises
    ------
    InputError
        Bad spec, bad project or stack, a stack whose ``maiaplan:spec`` is another file, a
        preview whose program fails.

    Complexity: one plan, one placement per fleet state (linear in chips each), one preview.
    """
    spec = load_spec(spec_path)
    plan = plan_migration(spec)
    options = all_options(spec)
    layouts = _layouts(spec)
    placements = [
        [
            _placement_document(fleet.placement, layout["chips_per_node"])
            for fleet, layout in zip(
                place_fleet(spec, options, plan.state_after(k).allocations, k), layouts, strict=True
            )
        ]
        for k in range(len(plan.phases) + 1)
    ]
    preview = _preview_document(spec_path, stack, project, state) if stack is not None else None
    return ReportInputs(
        plan=json.loads(plan_json(plan)),
        layouts=layouts,
        placements=placements,
        preview=preview,
        claims=claims_verdicts(spec),
    )


def _layouts(spec: MigrationSpec) -> list[JsonDict]:
    layouts = []
    for cluster in spec.clusters:
        layout = build_cluster_graph(spec, cluster).graph["layout"]
        layouts.append(
            {
                "cluster": cluster.name,
                "kind": str(layout.kind),
                "racks": layout.racks,
                "nodes_per_rack": layout.nodes_per_rack,
                "chips_per_node": layout.chips_per_node,
            }
        )
    return layouts


def _placement_document(placement: Any, chips_per_node: int) -> JsonDict:
    """A cluster placement as ``maiaplan place --format json`` writes it, plus, per workload,
    ``node_chips``: the chips its shard groups use on each node it holds (node → chips)."""
    document: JsonDict = placement.model_dump(mode="json", exclude={"workloads": {"__all__": {"groups"}}})
    for workload, model in zip(document["workloads"], placement.workloads, strict=True):
        used = dict.fromkeys(model.nodes, 0)
        for group in model.groups:
            for chip in group.chips:
                used[chip // chips_per_node] = used.get(chip // chips_per_node, 0) + 1
        workload["node_chips"] = {str(node): chips for node, chips in sorted(used.items())}
    return document


def _preview_document(spec_path: Path, stack: str, project_dir: Path, state: Path | None) -> JsonDict:
    """The preview's JSON report for ``stack``, with the defaults ``maiaplan preview`` uses (the
    project's policy pack, configured from the stack's spec)."""
    project = load_project(project_dir)
    config = load_stack_config(project, stack)
    named = config.values.get(SPEC_KEY)
    if named is not None and (project.directory / named).resolve() != spec_path.resolve():
        raise InputError(
            str(spec_path),
            "--stack",
            f"stack {stack} plans from {named} ({SPEC_KEY}), not from this spec, so its dry run would "
            "not show this plan",
            f"give {named} as the spec, or a stack whose {SPEC_KEY} is this file",
        )
    defaults = project_defaults(project, config, summary=False)
    result = run_preview(project.directory, stack, state=state, policy_packs=defaults.policy_packs)
    document: JsonDict = json.loads(render(result, "json", PREVIEW_FAIL_ON))
    return document


def claims_verdicts(spec: MigrationSpec) -> list[JsonDict]:
    """The seed's perf/W claim judged on ``spec`` (:func:`planner.claims.evaluate_default_claim`),
    as flat rows: overall first, then one per workload."""
    result = evaluate_default_claim(spec)
    overall: JsonDict = {
        "claim": result.claim,
        "workload": "overall",
        "ratio": result.ratio,
        "basis": result.basis,
        "verdict": result.verdict,
        "settle": result.settle,
    }
    rows = [overall]
    for workload in result.workloads:
        rows.append(
            {
                "claim": result.claim,
                "workload": workload.workload,
                "ratio": workload.ratio,
                "basis": workload.basis,
                "verdict": workload.verdict,
                "reason": workload.note,
            }
        )
    return rows
