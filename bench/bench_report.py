"""Benchmark the HTML report (run on demand: `python3 bench/bench_report.py`).

A generated fleet (bench/synthetic_fleet.py: 200 workloads on 8 clusters, 4,096 chips) and the
example spec: the time to build the page (plan, placement of every fleet state, charts, HTML;
the Vega bundle built once per process, timed apart), its size, and the time a headless Chromium
with the network cut off takes from opening the file to every chart drawn (median of 5 loads).
Figures go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "report"))

from browser import available, offline_chromium, open_report
from synthetic_fleet import synthetic_spec

from maiaplan.report import build_report, bundle, load_inputs

REPO = Path(__file__).resolve().parents[1]


def bench(spec: Path, label: str, loads: int) -> None:
    started = time.perf_counter()
    inputs = load_inputs(spec)
    planned = time.perf_counter()
    page = build_report(inputs)
    built = time.perf_counter()
    moves = sum(len(phase["moves"]) for phase in inputs.plan["phases"])
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "report.html"
        path.write_text(page, encoding="utf-8")
        draws = []
        if available():
            with offline_chromium() as driver:
                for _ in range(loads):
                    visit = open_report(driver, path)
                    state = driver.execute_script("return document.documentElement.getAttribute('data-charts-drawn');")
                    if state is None or visit.console_errors:
                        raise SystemExit(f"{label}: the charts were not drawn: {visit.console_errors}")
                    draws.append(visit.seconds_to_draw)
    size_mb = len(page.encode("utf-8")) / 1e6
    drawn = (
        f"open to drawn median {statistics.median(draws):.2f} s (max {max(draws):.2f} s, {loads} loads)"
        if draws
        else "no Chromium"
    )
    print(
        f"{label}: {len(inputs.plan['workloads'])} workloads, {moves} moves, {len(inputs.plan['phases'])} phases; "
        f"inputs {planned - started:.2f} s, page {built - planned:.2f} s, {size_mb:.2f} MB; {drawn}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=5, help="page loads per report (default 5)")
    args = parser.parse_args()
    started = time.perf_counter()
    bundle.javascript_bundle()
    print(
        f"Vega bundle (vl-convert-python): {time.perf_counter() - started:.2f} s once per process, {len(bundle.javascript_bundle()) / 1e6:.2f} MB"
    )
    with tempfile.TemporaryDirectory() as directory:
        fleet = Path(directory) / "fleet-200.json"
        fleet.write_text(json.dumps(synthetic_spec(8, 200, 4096)), encoding="utf-8")
        bench(fleet, "fleet 200 workloads / 8 clusters / 4,096 chips", args.loads)
    bench(REPO / "examples" / "maia-pilot.yaml", "example maia-pilot", args.loads)


if __name__ == "__main__":
    main()
