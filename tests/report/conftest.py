"""Reports shared by the report tests: the example (with and without its final stack's dry run)
and a generated 200-workload fleet, each built once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from maiaplan.report import ReportInputs, build_report, load_inputs

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "maia-pilot.yaml"
# Screenshots and pages the browser tests leave behind for people (CI keeps out/ as an artifact).
ARTIFACTS = REPO / "out" / "test-artifacts"

sys.path.insert(0, str(REPO / "bench"))
from synthetic_fleet import synthetic_spec  # noqa: E402


@pytest.fixture(scope="session")
def example_inputs() -> ReportInputs:
    return load_inputs(EXAMPLE)


@pytest.fixture(scope="session")
def example_page(example_inputs: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "example.html"
    path.write_text(build_report(example_inputs), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def final_inputs() -> ReportInputs:
    """The example with the dry run of its final stack (runs the Pulumi program and the pack)."""
    return load_inputs(EXAMPLE, stack="final", project=REPO)


@pytest.fixture(scope="session")
def final_page(final_inputs: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "final.html"
    path.write_text(build_report(final_inputs), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fleet_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated fleet of 200 workloads on 8 clusters (bench/synthetic_fleet.py)."""
    path = tmp_path_factory.mktemp("spec") / "fleet-200.json"
    path.write_text(json.dumps(synthetic_spec(8, 200, 4096)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def fleet_inputs(fleet_spec: Path) -> ReportInputs:
    return load_inputs(fleet_spec)


@pytest.fixture(scope="session")
def fleet_page(fleet_inputs: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "fleet-200.html"
    path.write_text(build_report(fleet_inputs), encoding="utf-8")
    return path
