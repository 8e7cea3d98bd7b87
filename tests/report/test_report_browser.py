"""The report in a real headless Chromium with the network cut off: it draws every chart, makes no
request, logs no error, and its Gantt names every move; a screenshot of each is kept in out/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from browser import available, chart_marks, full_page_screenshot, offline_chromium, open_report
from conftest import ARTIFACTS

from maiaplan.report import ReportInputs, report_sections

# Skipped on a machine without Chromium, except where MAIAPLAN_REQUIRE_BROWSER is set (.ci/run).
pytestmark = pytest.mark.skipif(
    not available() and not os.environ.get("MAIAPLAN_REQUIRE_BROWSER"),
    reason="needs /usr/bin/chromium and chromedriver (.ci/run installs them)",
)


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    with offline_chromium() as driver:
        yield driver


def _expected_charts(inputs: ReportInputs) -> set[str]:
    return {figure.chart_id for section in report_sections(inputs) for figure in section.figures}


def _moved(inputs: ReportInputs) -> set[str]:
    return {move["workload"] for phase in inputs.plan["phases"] for move in phase["moves"]}


def _check_page(browser, page: Path, inputs: ReportInputs, name: str) -> None:  # type: ignore[no-untyped-def]
    visit = open_report(browser, page)
    state = browser.execute_script(
        "var r = document.documentElement; return [r.getAttribute('data-charts-drawn'), r.getAttribute('data-charts-failed')];"
    )
    assert state[1] is None, f"a chart failed: {state[1]}"
    assert visit.console_errors == []
    assert visit.remote_requests == [], "the page asked the network for something"
    assert visit.failed == []
    assert all(url.startswith("file:") for url in visit.requests), visit.requests
    expected = _expected_charts(inputs)
    assert state[0] == str(len(expected))
    marks = chart_marks(browser)
    assert set(marks) == expected
    assert all(count > 0 for count in marks.values()), marks
    gantt_labels = set(
        browser.execute_script(
            "return Array.from(document.querySelectorAll('#chart-gantt svg text')).map(function (t) { return t.textContent; });"
        )
    )
    assert _moved(inputs) <= gantt_labels, sorted(_moved(inputs) - gantt_labels)[:5]
    table_workloads = set(
        browser.execute_script(
            "return Array.from(document.querySelectorAll('#phases table:first-of-type tbody tr td:nth-child(2)')).map(function (t) { return t.textContent; });"
        )
    )
    assert _moved(inputs) <= table_workloads
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    full_page_screenshot(browser, ARTIFACTS / f"report-{name}.png")
    shutil.copyfile(page, ARTIFACTS / f"report-{name}.html")
    assert (ARTIFACTS / f"report-{name}.png").stat().st_size > 10_000


def test_example_report_draws_offline(browser, example_page: Path, example_inputs: ReportInputs) -> None:  # type: ignore[no-untyped-def]
    _check_page(browser, example_page, example_inputs, "example")


@pytest.mark.slow
def test_example_report_with_dry_run_draws_offline(browser, final_page: Path, final_inputs: ReportInputs) -> None:  # type: ignore[no-untyped-def]
    _check_page(browser, final_page, final_inputs, "example-final")
    tree = browser.execute_script(
        "return document.querySelectorAll('details.tree details, details.tree .leaf').length;"
    )
    assert final_inputs.preview is not None
    assert tree == len(final_inputs.preview["steps"])


def test_generated_fleet_report_draws_offline(browser, fleet_page: Path, fleet_inputs: ReportInputs) -> None:  # type: ignore[no-untyped-def]
    assert len(_moved(fleet_inputs)) > 100
    _check_page(browser, fleet_page, fleet_inputs, "fleet-200")


def test_print_layout_opens_folded_parts(browser, example_page: Path) -> None:  # type: ignore[no-untyped-def]
    open_report(browser, example_page)
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'));")
    assert browser.execute_script("return document.querySelectorAll('details:not([open])').length;") == 0
    browser.execute_script("window.dispatchEvent(new Event('afterprint'));")
    assert browser.execute_script("return document.querySelectorAll('details[open]').length;") == 0
    pdf = browser.execute_cdp_cmd("Page.printToPDF", {"landscape": True, "printBackground": False})
    assert len(pdf["data"]) > 10_000


def test_the_harness_sees_a_request_that_leaves_the_page(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The checks above would catch a page that fetches: one that does is blocked and reported."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="https://cdn.example.com/x.png">'
        "<script>document.documentElement.setAttribute('data-charts-drawn', '0');</script></body></html>",
        encoding="utf-8",
    )
    visit = open_report(browser, page)
    assert visit.remote_requests == ["https://cdn.example.com/x.png"]
    assert visit.failed
