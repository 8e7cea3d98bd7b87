"""The report's rows on hand-made plan fragments: what the charts and tables are drawn from."""

from __future__ import annotations

import pytest

from maiaplan.report import extract

PLAN = {
    "spec": "tiny",
    "workloads": [
        {"name": "a", "depends_on": []},
        {"name": "b", "depends_on": ["a"]},
        {"name": "c", "depends_on": ["b"]},
    ],
    "initial": {"economics": {"usd_per_hour": 100.0, "tokens_per_joule": 2.0, "usd_per_million_tokens": 1.0}},
    "phases": [
        {
            "phase": 2,
            "moves": [
                {
                    "workload": "b",
                    "traffic_steps": [{"percent": 50}, {"percent": 100, "gate": {"description": "p99 ok"}}],
                }
            ],
            "capacity": [{"cluster": "x", "capacity_chips": 64, "peak_chips": 48, "end_chips": 32}],
            "economics": {"usd_per_hour": 110.0, "tokens_per_joule": 2.5, "usd_per_million_tokens": 0.9},
        },
        {
            "phase": 1,
            "moves": [{"workload": "a", "traffic_steps": [{"percent": 100}]}],
            "capacity": [{"cluster": "x", "capacity_chips": 0, "peak_chips": 0, "end_chips": 0}],
            "economics": {"usd_per_hour": 100.0, "tokens_per_joule": 2.0, "usd_per_million_tokens": 1.0},
        },
    ],
    "not_migrated": [{"workload": "c", "cluster": "y", "rule": "dependency", "reason": "c waits"}],
}


def test_moves_in_phase_order_with_bars_inside_their_phase() -> None:
    rows = extract.move_rows(PLAN)
    assert [(r["phase"], r["workload"]) for r in rows] == [(1, "a"), (2, "b")]
    for row in rows:
        assert row["phase"] - 1 < row["start"] < row["end"] < row["phase"]
    assert rows[1]["traffic"] == "50 → 100 %"


def test_traffic_steps_spread_along_the_bar_the_last_at_its_end() -> None:
    steps = [s for s in extract.traffic_step_rows(PLAN) if s["workload"] == "b"]
    bar = extract.move_rows(PLAN)[1]
    assert [s["percent"] for s in steps] == [50, 100]
    assert bar["start"] < steps[0]["x"] < steps[1]["x"] == pytest.approx(bar["end"])
    assert steps[1]["gate"] == "p99 ok"  # a structured gate (with checks) reads as its description


def test_dependencies_only_between_moves() -> None:
    rows = extract.dependency_rows(PLAN)
    assert [(r["dependency"], r["dependent"]) for r in rows] == [("a", "b")]  # c stays: no line
    assert rows[0]["x"] < rows[0]["x2"]


def test_capacity_overlap_is_what_only_the_move_holds() -> None:
    rows = extract.capacity_rows(PLAN)
    assert [(r["phase"], r["overlap_chips"], r["peak_share"]) for r in rows] == [(1, 0, None), (2, 16, 0.75)]


def test_economics_against_the_starting_fleet() -> None:
    rows = extract.economics_rows(PLAN)
    assert [r["state"] for r in rows] == ["start", "phase 1", "phase 2"]
    assert rows[2]["usd_per_hour_vs_start"] == pytest.approx(0.1)
    assert rows[2]["tokens_per_joule_vs_start"] == pytest.approx(0.25)
    assert len(extract.economics_long(rows)) == 9


def test_node_ranges() -> None:
    assert extract.node_ranges([7, 0, 1, 2, 3, 9, 10]) == "0–3, 7, 9–10"
    assert extract.node_ranges([]) == ""


def test_topology_cells_split_a_held_node_into_used_and_free_chips() -> None:
    layout = {"racks": 1, "nodes_per_rack": 2, "chips_per_node": 4}
    state = {"workloads": [{"workload": "a", "nodes": [1], "node_chips": {"1": 3}}]}
    cells = extract.topology_cells(layout, [state])
    assert [(c["node"], c["part"], c["chips"], c["x"], c["x2"]) for c in cells] == [
        (0, "free", 4, 0.0, 1),
        (1, "used", 3, 1, 1.75),
        (1, "free", 1, 1.75, 2),
    ]


def test_a_previewed_stack_is_shaded_up_to_its_traffic_steps_tick() -> None:
    from maiaplan.report import charts
    from maiaplan.report.dryrun import stack_position

    stack = stack_position({"stack": "midway", "config": {"maiaplan:phase": "2", "maiaplan:step": "50"}})
    assert stack == {"name": "midway", "phase": 2, "step": 50}
    assert stack_position({"stack": "other", "config": {}}) is None
    steps = extract.traffic_step_rows(PLAN)
    spec = charts.gantt(extract.move_rows(PLAN), steps, extract.dependency_rows(PLAN), 2, stack)
    (band,) = [rows[0] for rows in spec["datasets"].values() if rows and "label" in rows[0] and "x2" in rows[0]]
    tick = next(s["x"] for s in steps if s["workload"] == "b" and s["percent"] == 50)
    assert (band["x"], band["x2"]) == (1, tick)
