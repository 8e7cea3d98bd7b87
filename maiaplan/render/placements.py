"""The fleet's placement on chips (planner/fleet_placement.py) as a table and as JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from maiaplan.render.tables import prose, table
from planner.fleet_placement import FleetClusterPlacement


def placement_json(placements: Sequence[FleetClusterPlacement]) -> str:
    """One object per cluster: the placement's fields, with the phase's capacity and the plan's chips.

    Complexity: O(workloads placed).
    """
    documents = []
    for fleet in placements:
        document = fleet.placement.model_dump(mode="json", exclude={"workloads": {"__all__": {"groups"}}})
        for workload in document["workloads"]:
            workload["allocated_chips"] = fleet.allocated_by_workload[workload["workload"]]
        document |= {
            "phase": fleet.phase,
            "capacity_chips": fleet.capacity_chips,
            "allocated_chips": fleet.allocated_chips,
            "free_capacity_chips": fleet.free_chips,
            "stranded_chips": fleet.stranded_chips,
        }
        documents.append(document)
    return json.dumps(documents, indent=2)


def placement_table(placements: Sequence[FleetClusterPlacement]) -> str:
    """Per cluster: size, phase capacity, chips allocated (SKU units), free; per workload: chips and hops.

    Complexity: O(workloads placed).
    """
    clusters = table(
        ("CLUSTER", "TENANT", "SIZE", "CAPACITY", "ALLOCATED", "IN GROUPS", "FREE", "COST HOPS"),
        [
            [
                fleet.placement.cluster,
                fleet.placement.tenant,
                fleet.placement.chips,
                fleet.capacity_chips,
                fleet.allocated_chips,
                fleet.placement.used_chips,
                fleet.free_chips,
                fleet.placement.cost_hops,
            ]
            for fleet in placements
        ],
        right=range(2, 8),
    )
    workloads = table(
        ("WORKLOAD", "CLUSTER", "TP×PP", "REPLICAS", "CHIPS", "IN GROUPS", "NODES", "MEAN HOPS", "MAX HOPS"),
        [
            [
                w.workload,
                fleet.placement.cluster,
                f"{w.tensor_parallel}×{w.pipeline_parallel}",
                w.replicas,
                fleet.allocated_by_workload[w.workload],
                w.chips,
                len(w.nodes),
                f"{w.mean_hops:.2f}",
                w.max_hops,
            ]
            for fleet in placements
            for w in fleet.placement.workloads
        ],
        right=range(3, 9),
    )
    phase = placements[0].phase if placements else 0
    when = "before the migration" if phase == 0 else f"at the end of phase {phase}"
    head = prose(
        f"Placement {when}: chips in whole SKU units, as the plan counts them; capacity from capacity_by_phase."
    )
    return f"{head}\n\n{clusters}\n\n{workloads}"
