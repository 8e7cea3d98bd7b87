"""maiaplan/render: terminal tables, the Markdown escaper, progress on a terminal only."""

from __future__ import annotations

import io

import pytest
from helpers_spec import EXAMPLE

from maiaplan.cli import main
from maiaplan.render import RENDERERS, formats
from maiaplan.render.markdown import code_cell, escape_cell, escape_text
from maiaplan.render.progress import progress
from maiaplan.render.tables import output_width, prose, table

HEADERS = ("WORKLOAD", "CLUSTER", "CHIPS", "WHY")
ROWS = [
    ["router-small", "az-eastus-maia", 28, "phase 1: no dependency, risk, capacity or contract rule held it back"],
    ["safety-filter", "az-eastus-maia", 44, "not in phase 1: it waits for router-small, which moves in phase 1"],
]


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_an_unlimited_table_is_aligned_plain_text() -> None:
    lines = table(HEADERS, ROWS, right=(2,), wrap=(3,), width=None).split("\n")
    assert lines[0].startswith("WORKLOAD       CLUSTER         CHIPS  WHY")
    assert lines[1].startswith("-------------  --------------  -----  ---")
    assert lines[2].startswith("router-small   az-eastus-maia     28  phase 1:")
    assert len(lines) == 4


@pytest.mark.parametrize("width", [20, 40, 60, 80])
def test_a_table_wraps_then_folds_to_fit(width: int) -> None:
    text = table(HEADERS, ROWS, right=(2,), wrap=(3,), width=width)
    assert max(len(line) for line in text.split("\n")) <= width
    flat = " ".join(text.split())
    if width >= 40:  # narrower, names break across lines as a terminal would break them
        for word in ("router-small", "safety-filter", "az-eastus-maia", "44", "contract"):
            assert word in flat


def test_rich_markup_in_a_cell_is_text() -> None:
    assert "[bold]x[/bold]" in table(("A",), [["[bold]x[/bold] :smile:"]], width=None)


def test_the_width_comes_from_columns_then_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    assert output_width() == 100
    monkeypatch.delenv("COLUMNS")
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert output_width() is None
    monkeypatch.setattr("sys.stdout", FakeTerminal())
    assert output_width() is not None
    assert len(prose("word " * 40, width=30).split("\n")[0]) <= 30


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a | b", "a \\| b"),
        ("*bold*", "\\*bold\\*"),
        ("_em_", "\\_em\\_"),
        ("`code`", "\\`code\\`"),
        ("<script>", "&lt;script&gt;"),
        ("a > b", "a &gt; b"),
        ("[link](x)", "\\[link\\](x)"),
    ],
)
def test_the_escaper_neutralises_markdown(text: str, escaped: str) -> None:
    assert escape_cell(text) == escaped and escape_text(text) == escaped


def test_cells_keep_line_breaks_text_does_not() -> None:
    assert escape_cell("a\nb\r\nc") == "a<br>b<br>c"
    assert escape_text("a\nb") == "a b"
    assert escape_cell("min_share") == "min_share"  # an underscore inside a word is no emphasis


def test_a_code_cell_survives_backticks_and_pipes() -> None:
    cell = code_cell('sum(rate(x{a="b|c"}[5m])) `y`')
    assert cell.startswith("`` ") and cell.endswith(" ``") and "\\|" in cell and "\n" not in cell


def test_the_registry_names_every_format() -> None:
    assert formats("plan") == ("table", "json", "markdown")
    assert formats("explain") == ("text", "json")
    assert all(callable(r) for entry in RENDERERS.values() for r in entry.values())


def test_progress_on_a_terminal_shows_and_reports_the_time() -> None:
    terminal = FakeTerminal()
    with progress("planning maia-pilot", terminal) as status:
        status.update("placing")
        status.done("planned")
    shown = terminal.getvalue()
    assert "planned in " in shown and "s wall time" in shown


def test_progress_when_not_a_terminal_prints_nothing() -> None:
    piped = io.StringIO()
    with progress("planning maia-pilot", piped) as status:
        status.update("placing")
        status.done("planned")
    assert piped.getvalue() == ""


def test_plan_on_a_terminal_says_how_long_it_took(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal, out = FakeTerminal(), io.StringIO()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr("sys.stdout", out)
    assert main(["plan", str(EXAMPLE), "--format", "json"]) == 0
    assert "planned (cp-sat) in " in terminal.getvalue()
    assert "planned" not in out.getvalue() and out.getvalue().startswith("{")
