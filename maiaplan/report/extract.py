"""The plan's pictures as rows: small pure functions from the plan document to flat records.

Each function reads the documented fields of the plan document (docs/plan-format.md) with
defaults for what an older or newer plan may lack, and returns a list of flat dicts that a chart
and its table both draw from, so that the picture and its numbers cannot disagree. Phase 0 is the
fleet before the migration (``initial``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

JsonDict = dict[str, Any]
Row = dict[str, Any]

# Categorical colours (Tableau 20, as Vega's "tableau20" scheme), one per workload in spec order.
WORKLOAD_PALETTE = (
    "#4c78a8", "#9ecae9", "#f58518", "#ffbf79", "#54a24b", "#88d27a", "#b79a20", "#f2cf5b",
    "#439894", "#83bcb6", "#e45756", "#ff9d98", "#79706e", "#bab0ac", "#d67195", "#fcbfd2",
    "#b279a2", "#d6a5c9", "#9e765f", "#d8b5a5",
)  # fmt: skip
# The bar of a move spans this share of its phase's column (the rest separates the phases).
BAR_SPAN = 0.84
BAR_START = (1 - BAR_SPAN) / 2


def phases(plan: Mapping[str, Any]) -> list[JsonDict]:
    """The plan's phases, in order."""
    return sorted(plan.get("phases", []), key=lambda phase: int(phase.get("phase", 0)))


def state_label(phase: int) -> str:
    """How the report names fleet state ``phase``: "start" before the migration, else "phase k"."""
    return "start" if phase == 0 else f"phase {phase}"


def workload_colours(plan: Mapping[str, Any]) -> dict[str, str]:
    """A colour per workload, by its position in the spec, so a workload keeps its colour everywhere.

    Complexity: O(workloads).
    """
    names = [w["name"] for w in plan.get("workloads", [])]
    for state in [plan.get("initial", {}), *phases(plan)]:
        names += [a["workload"] for a in state.get("allocations", []) if a["workload"] not in names]
    return {name: WORKLOAD_PALETTE[index % len(WORKLOAD_PALETTE)] for index, name in enumerate(names)}


def summary(plan: Mapping[str, Any]) -> JsonDict:
    """The headline: phases, lower bound, optimality, moves and stays."""
    return {
        "spec": plan.get("spec", ""),
        "phases": len(plan.get("phases", [])),
        "lower_bound_phases": plan.get("lower_bound_phases"),
        "optimal": bool(plan.get("optimal", False)),
        "optimality": plan.get("optimality", ""),
        "moves": sum(len(phase.get("moves", [])) for phase in plan.get("phases", [])),
        "stays": len(plan.get("not_migrated", [])),
        "workloads": len(plan.get("workloads", [])),
        "clusters": len(plan.get("clusters", [])),
    }


def move_rows(plan: Mapping[str, Any]) -> list[Row]:
    """One row per move, in phase order: its bar on the Gantt (``start``, ``end`` on the phase
    axis, phase k spanning k−1 to k) and what the moves table says.

    Complexity: O(moves).
    """
    rows = []
    for phase in phases(plan):
        number = int(phase["phase"])
        for move in phase.get("moves", []):
            steps = move.get("traffic_steps", [])
            rows.append(
                {
                    "phase": number,
                    "workload": move["workload"],
                    "from_cluster": move.get("from_cluster", ""),
                    "to_cluster": move.get("to_cluster", ""),
                    "chips": move.get("chips", 0),
                    "source_chips": move.get("source_chips", 0),
                    "sharding": f"TP{move.get('tensor_parallel', '?')} × PP{move.get('pipeline_parallel', '?')}"
                    f" × {move.get('replicas', '?')} replicas",
                    "binding_rule": move.get("binding_rule", "none"),
                    "traffic": " → ".join(str(step.get("percent")) for step in steps) + (" %" if steps else ""),
                    "why_this_phase": move.get("why_this_phase", ""),
                    "why_this_cluster": move.get("why_this_cluster", ""),
                    "start": number - 1 + BAR_START,
                    "end": number - 1 + BAR_START + BAR_SPAN,
                }
            )
    return rows


def traffic_step_rows(plan: Mapping[str, Any]) -> list[Row]:
    """One row per traffic step of each move: its mark on the move's bar (steps spread evenly,
    the last at the bar's end), its gate and its rollback.

    Complexity: O(moves × steps).
    """
    rows = []
    for phase in phases(plan):
        number = int(phase["phase"])
        for move in phase.get("moves", []):
            steps = move.get("traffic_steps", [])
            for index, step in enumerate(steps):
                rows.append(
                    {
                        "phase": number,
                        "workload": move["workload"],
                        "step": index + 1,
                        "percent": step.get("percent"),
                        "label": f"{step.get('percent')} %",
                        "gate": _text(step.get("gate", "")),
                        "rollback": _text(step.get("rollback", "")),
                        "x": number - 1 + BAR_START + BAR_SPAN * (index + 1) / len(steps),
                    }
                )
    return rows


def _text(value: Any) -> str:
    """A gate as a sentence: the plan may carry a string, or (with checks) a mapping or a list."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return str(
            value.get("description") or value.get("summary") or "; ".join(f"{k}: {v}" for k, v in sorted(value.items()))
        )
    if isinstance(value, Sequence):
        return "; ".join(_text(item) for item in value)
    return str(value)


def dependency_rows(plan: Mapping[str, Any]) -> list[Row]:
    """One row per dependency between two moved workloads: a line from the end of the
    dependency's bar to the start of the dependent's.

    Complexity: O(workloads + dependencies).
    """
    bars = {row["workload"]: row for row in move_rows(plan)}
    rows = []
    for workload in plan.get("workloads", []):
        dependent = bars.get(workload["name"])
        if dependent is None:
            continue
        for name in workload.get("depends_on", []):
            dependency = bars.get(name)
            if dependency is not None:
                rows.append(
                    {
                        "dependency": name,
                        "dependent": workload["name"],
                        "x": dependency["end"],
                        "x2": dependent["start"],
                        "phases": f"{dependency['phase']} → {dependent['phase']}",
                    }
                )
    return rows


def stay_rows(plan: Mapping[str, Any]) -> list[Row]:
    """The workloads that stay, with the rule that holds each and its sentence."""
    return [
        {
            "workload": stay["workload"],
            "cluster": stay.get("cluster", ""),
            "rule": stay.get("rule", ""),
            "reason": stay.get("reason", ""),
        }
        for stay in plan.get("not_migrated", [])
    ]


def capacity_rows(plan: Mapping[str, Any]) -> list[Row]:
    """Per cluster per phase: the ramp's capacity, the peak during the phase (moving workloads
    held at both ends), the chips at its end, and what only the overlap holds (``peak − end``).

    Complexity: O(phases × clusters).
    """
    rows = []
    for phase in phases(plan):
        for entry in phase.get("capacity", []):
            capacity, peak, end = entry.get("capacity_chips", 0), entry.get("peak_chips", 0), entry.get("end_chips", 0)
            rows.append(
                {
                    "cluster": entry["cluster"],
                    "phase": int(phase["phase"]),
                    "state": state_label(int(phase["phase"])),
                    "capacity_chips": capacity,
                    "peak_chips": peak,
                    "end_chips": end,
                    "overlap_chips": max(0, peak - end),
                    "peak_share": round(peak / capacity, 4) if capacity else None,
                }
            )
    order = {cluster.get("name"): index for index, cluster in enumerate(plan.get("clusters", []))}
    return sorted(rows, key=lambda row: (order.get(row["cluster"], len(order)), row["cluster"], row["phase"]))


def contract_rows(plan: Mapping[str, Any]) -> list[Row]:
    """Per phase, each limit of each contract: its value, the limit, the margin inside it, and
    whether it is a share (``unit`` "share") or a chip count ("chips").

    Complexity: O(phases × contract limits).
    """
    rows = []
    for phase in phases(plan):
        for entry in phase.get("contracts", []):
            rule = str(entry.get("rule", ""))
            rows.append(
                {
                    "contract": entry.get("contract", ""),
                    "rule": rule,
                    "limit_name": f"{entry.get('contract', '')} · {rule}",
                    "unit": "share" if "share" in rule else "chips",
                    "phase": int(phase["phase"]),
                    "state": state_label(int(phase["phase"])),
                    "value": entry.get("value"),
                    "limit": entry.get("limit"),
                    "margin": entry.get("margin"),
                    "ok": bool(entry.get("ok", True)),
                    "verdict": "holds" if entry.get("ok", True) else "broken",
                    "detail": entry.get("detail", ""),
                }
            )
    # Grouped by limit (in the plan's order), then by phase: the table reads one limit at a time.
    first = {name: index for index, name in enumerate(dict.fromkeys(row["limit_name"] for row in rows))}
    return sorted(rows, key=lambda row: (first[row["limit_name"]], row["phase"]))


def drawable_contract_rows(rows: Sequence[Row]) -> list[Row]:
    """The contract rows worth a chart: a limit whose value and limit are zero in every phase (a
    region rule that holds) has nothing to draw and is left to the table."""
    drawn = {row["limit_name"] for row in rows if row["value"] or row["limit"] or not row["ok"]}
    return [row for row in rows if row["limit_name"] in drawn]


ECONOMICS_METRICS = (
    ("usd_per_hour", "$ per hour"),
    ("tokens_per_joule", "tokens per joule"),
    ("usd_per_million_tokens", "$ per million tokens"),
)


def economics_rows(plan: Mapping[str, Any]) -> list[Row]:
    """The fleet's economics before the migration and at the end of every phase, each figure with
    its change against the starting fleet.

    Complexity: O(phases).
    """
    states = [(0, plan.get("initial", {}))] + [(int(p["phase"]), p) for p in phases(plan)]
    start = states[0][1].get("economics", {})
    rows = []
    for number, state in states:
        economics = state.get("economics", {})
        row: Row = {"phase": number, "state": state_label(number)}
        for key in ("chips", "usd_per_hour", "watts", "tokens_per_s", "tokens_per_joule", "usd_per_million_tokens"):
            row[key] = economics.get(key)
        for key, _ in ECONOMICS_METRICS:
            base, value = start.get(key), economics.get(key)
            row[f"{key}_vs_start"] = round(value / base - 1, 4) if base and value is not None else None
        rows.append(row)
    return rows


def economics_long(rows: Iterable[Row]) -> list[Row]:
    """``economics_rows`` as one row per (state, metric), for a faceted chart."""
    return [
        {
            "phase": row["phase"],
            "state": row["state"],
            "metric": label,
            "value": row[key],
            "vs_start": row[f"{key}_vs_start"],
        }
        for row in rows
        for key, label in ECONOMICS_METRICS
        if row[key] is not None
    ]


def node_ranges(nodes: Iterable[int]) -> str:
    """Node numbers as ranges: ``0–3, 7, 9–10``."""
    ordered = sorted(set(nodes))
    parts: list[str] = []
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        parts.append(str(ordered[index]) if end == index else f"{ordered[index]}–{ordered[end]}")
        index = end + 1
    return ", ".join(parts)


def topology_cells(layout: Mapping[str, Any], states: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Every node of one cluster in every fleet state, as the cells of a rack × node grid: the part
    its workload's chips use (coloured) and the free part (grey), in units of one node's width.

    Parameters
    ----------
    layout
        The cluster's ``racks``, ``nodes_per_rack`` and ``chips_per_node``.
    states
        The cluster's placement in each fleet state, phase 0 first.

    Returns
    -------
    list of dict
        ``state``, ``rack``, ``node``, ``x``, ``x2`` (within the rack's row), ``workload`` (None
        for free chips), ``chips``, ``part`` ("used" or "free").

    Complexity: O(states × nodes).
    """
    per_rack, per_node = int(layout["nodes_per_rack"]), int(layout["chips_per_node"])
    cells = []
    for number, placement in enumerate(states):
        owner: dict[int, tuple[str, int]] = {}
        for workload in placement.get("workloads", []):
            for node, chips in workload.get(
                "node_chips", {str(n): per_node for n in workload.get("nodes", [])}
            ).items():
                owner[int(node)] = (workload["workload"], int(chips))
        for node in range(int(layout["racks"]) * per_rack):
            name, used = owner.get(node, (None, 0))
            slot = node % per_rack
            base = {"state": state_label(number), "phase": number, "rack": f"rack {node // per_rack}", "node": node}
            if used:
                cells.append(
                    {**base, "x": slot, "x2": slot + used / per_node, "workload": name, "chips": used, "part": "used"}
                )
            if used < per_node:
                cells.append(
                    {
                        **base,
                        "x": slot + used / per_node,
                        "x2": slot + 1,
                        "workload": None,
                        "chips": per_node - used,
                        "part": "free",
                        "held_by": name,
                    }
                )
    return cells


def topology_rows(states: Sequence[Mapping[str, Any]]) -> list[Row]:
    """The placement's numbers for one cluster: per state each workload's nodes, chips and hop
    distances, then the cluster's free chips, empty nodes and fragmentation.

    Complexity: O(states × workloads).
    """
    rows = []
    for number, placement in enumerate(states):
        for workload in placement.get("workloads", []):
            rows.append(
                {
                    "state": state_label(number),
                    "workload": workload["workload"],
                    "shape": f"TP{workload.get('tensor_parallel')} × PP{workload.get('pipeline_parallel')} × {workload.get('replicas')}",
                    "nodes": node_ranges(workload.get("nodes", [])),
                    "chips": workload.get("chips", 0),
                    "mean_hops": workload.get("mean_hops"),
                    "max_hops": workload.get("max_hops"),
                }
            )
        rows.append(
            {
                "state": state_label(number),
                "workload": "(free)",
                "shape": f"{placement.get('empty_nodes', 0)} empty nodes; {placement.get('fragmentation_share', 0):.0%} of free chips stranded",
                "nodes": "",
                "chips": placement.get("free_chips", 0),
                "mean_hops": None,
                "max_hops": None,
            }
        )
    return rows
