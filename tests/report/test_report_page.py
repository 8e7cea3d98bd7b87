"""The report as a file: self-contained, deterministic, complete, small; and the command's errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLE, REPO

from maiaplan.cli import main
from maiaplan.report import ReportInputs, build_report, load_inputs, report_sections

SPECS = re.compile(r'<script id="report-specs" type="application/json">(.*?)</script>', re.S)


def _specs(page: str) -> dict[str, dict]:  # type: ignore[type-arg]
    match = SPECS.search(page)
    assert match is not None
    specs: dict[str, dict] = json.loads(match.group(1))  # type: ignore[type-arg]
    return specs


def _datasets(spec: object) -> list[dict]:  # type: ignore[type-arg]
    """Every inline data row anywhere in a Vega-Lite spec (``datasets`` or ``data.values``)."""
    if isinstance(spec, dict):
        rows = [row for rows in spec.get("datasets", {}).values() for row in rows]
        values = spec.get("values")
        if isinstance(values, list):  # data values; an axis's values are numbers
            rows += [row for row in values if isinstance(row, dict)]
        return rows + [
            row for key, value in spec.items() if key not in ("datasets", "values") for row in _datasets(value)
        ]
    if isinstance(spec, list):
        return [row for item in spec for row in _datasets(item)]
    return []


def test_the_page_refers_to_nothing_outside_itself(example_page: Path) -> None:
    page = example_page.read_text(encoding="utf-8")
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "<script></script>", page, flags=re.S)
    assert not re.search(r"<(link|img|iframe|object|embed)\b", markup)
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert "@import" not in markup and "url(http" not in markup
    assert re.search(
        r'http-equiv="Content-Security-Policy" content="default-src \'none\';[^"]*connect-src \'none\'', page
    )
    # Every chart's data is inline: no spec names a URL to load.
    for spec in _specs(page).values():
        assert '"url"' not in json.dumps(spec)


def test_every_chart_has_its_numbers_beside_it(example_page: Path, example_inputs: ReportInputs) -> None:
    page = example_page.read_text(encoding="utf-8")
    figures = re.findall(r'<figure class="figure[^"]*".*?</figure>', page, re.S)
    assert len(figures) == len(_specs(page)) == sum(len(s.figures) for s in report_sections(example_inputs))
    assert all("<table>" in figure for figure in figures)


def test_the_gantt_and_the_moves_table_hold_every_move_with_its_steps(
    example_page: Path, example_inputs: ReportInputs
) -> None:
    page = example_page.read_text(encoding="utf-8")
    gantt = _specs(page)["chart-gantt"]
    rows = _datasets(gantt)
    moves = [(phase["phase"], move["workload"]) for phase in example_inputs.plan["phases"] for move in phase["moves"]]
    bars = {(row["phase"], row["workload"]) for row in rows if "binding_rule" in row}
    assert bars == set(moves)
    steps = [row for row in rows if "gate" in row]
    assert len(steps) == sum(len(m["traffic_steps"]) for p in example_inputs.plan["phases"] for m in p["moves"])
    # A dependency between two moves is drawn: safety-filter (phase 2) waits for router-small (phase 1).
    links = {(row["dependency"], row["dependent"]) for row in rows if "dependent" in row}
    assert ("router-small", "safety-filter") in links
    for stay in example_inputs.plan["not_migrated"]:
        assert f'<td class="nw">{stay["workload"]}</td>' in page and stay["rule"] in page


def test_capacity_shows_both_ends_held_during_a_phase(example_inputs: ReportInputs) -> None:
    """aws-use1-h100 holds router-small at both ends during phase 1: its peak is above its end."""
    from maiaplan.report.extract import capacity_rows

    row = next(r for r in capacity_rows(example_inputs.plan) if r["cluster"] == "aws-use1-h100" and r["phase"] == 1)
    # The chips it releases at the end of the phase are held on top of what it ends with.
    assert row["overlap_chips"] > 0
    assert row["peak_chips"] == row["end_chips"] + row["overlap_chips"]


def test_topology_colours_every_chip_once_per_state(example_inputs: ReportInputs) -> None:
    from maiaplan.report.extract import topology_cells

    for index, layout in enumerate(example_inputs.layouts):
        states = [state[index] for state in example_inputs.placements]
        cells = topology_cells(layout, states)
        chips = layout["racks"] * layout["nodes_per_rack"] * layout["chips_per_node"]
        for number, placement in enumerate(states):
            mine = [c for c in cells if c["phase"] == number]
            assert sum(c["chips"] for c in mine) == chips
            assert sum(c["chips"] for c in mine if c["part"] == "free") == placement["free_chips"]


def test_same_input_same_bytes_in_one_process(example_inputs: ReportInputs) -> None:
    assert build_report(example_inputs) == build_report(load_inputs(EXAMPLE))


def test_same_input_same_bytes_whatever_the_hash_seed_or_directory(tmp_path: Path) -> None:
    outs = []
    for seed, cwd in (("1", REPO), ("2", tmp_path)):
        out = tmp_path / f"report-{seed}.html"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        subprocess.run(
            [sys.executable, "-m", "maiaplan.cli", "report", str(EXAMPLE), "--out", str(out)],
            cwd=cwd, env=env, check=True, capture_output=True,
        )  # fmt: skip
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert b"2026" not in outs[0] or b"generated at" not in outs[0]


def test_a_200_workload_fleet_stays_under_5_mb(fleet_page: Path) -> None:
    assert fleet_page.stat().st_size < 5 * 1024 * 1024


def test_the_seeds_perf_per_watt_claim_is_judged_on_the_page(example_inputs: ReportInputs) -> None:
    # The verdict of `maiaplan claims` on the default claim, overall first, then every workload.
    rows = example_inputs.claims
    assert rows[0]["workload"] == "overall" and rows[0]["claim"] == "maia-100 vs h100-sxm tokens_per_joule >= 1.4"
    assert [row["workload"] for row in rows[1:]] == [w["name"] for w in example_inputs.plan["workloads"]]
    page = build_report(example_inputs)
    assert "chart-claims" in _specs(page)
    assert "Performance claims" in page and str(rows[0]["verdict"]) in page


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "no-such-spec.yaml"], "no-such-spec.yaml"),
        (["report", str(EXAMPLE), "--state", "prior.json"], "--state"),
        (["report", str(EXAMPLE), "--stack", "nosuchstack", "--project", str(REPO)], "nosuchstack"),
    ],
)
def test_bad_input_exits_2_with_one_paragraph_and_no_file(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.html"
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1
    assert not out.exists()


def test_a_stack_that_plans_another_spec_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "copy.yaml"
    other.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "report.html"
    assert main(["report", str(other), "--stack", "final", "--project", str(REPO), "--out", str(out)]) == 2
    assert "maiaplan:spec" in capsys.readouterr().err
    assert not out.exists()


def test_an_out_path_that_is_a_directory_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(EXAMPLE), "--out", str(tmp_path)]) == 2
    assert "--out" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_bad_spec_names_its_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace("max_phases: 6", "max_phases: -1"), encoding="utf-8")
    out = tmp_path / "report.html"
    assert main(["report", str(bad), "--out", str(out)]) == 2
    assert "max_phases" in capsys.readouterr().err
    assert not out.exists()
