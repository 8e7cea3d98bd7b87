"""What the non-preview commands print: tables that fit, explain said once, bounded name lists,
clean standard error when piped, --format and exit codes in every --help (issue 13)."""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import pytest
import yaml
from helpers_spec import EXAMPLE, example_data

from maiaplan.cli import EXIT_BAD_INPUT, EXIT_CODES_HELP, build_parser, main

SPEC = str(EXAMPLE)


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").split("\n")


@pytest.mark.parametrize("width", [80, 100, 120])
@pytest.mark.parametrize(
    "argv",
    [["plan", SPEC], ["shard", SPEC], ["place", SPEC], ["claims", SPEC], ["explain", SPEC, "router-small"]],
    ids=["plan", "shard", "place", "claims", "explain"],
)
def test_tables_fit_the_width_columns_gives(
    argv: list[str], width: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: plan printed 188-column lines and shard 138 whatever the terminal.
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in _lines(out)) <= width
    assert "router-small" in out
    if argv[0] != "explain":  # folding keeps every row's name
        assert "chat-fast" in out


def test_a_folded_table_keeps_every_cell(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["shard", SPEC]) == 0
    out = capsys.readouterr().out
    for header in ("WORKLOAD", "ACCELERATOR", "TOKENS/S", "W BASIS", "$/M TOKENS"):
        assert header in out
    parts = out.split("\n\n")
    assert len(parts) > 1 and all(part.startswith("WORKLOAD") for part in parts)


def test_piped_output_is_plain_and_unwrapped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["shard", SPEC]) == 0
    lines = _lines(capsys.readouterr().out)
    assert lines[0].split() == [
        "WORKLOAD", "CLUSTER", "ROLE", "ACCELERATOR", "CHIPS", "TP×PP", "REPLICAS", "BATCH", "STEP", "MS",
        "TTFT", "MS", "TOKENS/S", "KW", "W", "BASIS", "TOKENS/J", "$/M", "TOKENS",
    ]  # fmt: skip
    assert set(lines[1]) == {"-", " "} and "\x1b" not in "".join(lines)
    assert len(lines) == 2 + 20  # one line per option: nothing wraps
    assert all(line == line.rstrip() for line in lines)


def test_plan_prints_nothing_on_stderr_when_piped(capsys: pytest.CaptureFixture[str]) -> None:
    # Before: "planned in X s wall time" on stderr, whatever stderr was (CI logs).
    assert main(["plan", SPEC]) == 0
    assert capsys.readouterr().err == ""


def test_explain_says_each_clause_once(capsys: pytest.CaptureFixture[str]) -> None:
    # Before: "chat-xl stays on aws-use1-trn2 (contract): chat-xl stays on aws-use1-trn2: with it moved, ..."
    # and the solver's proof repeated the reason word for word.
    assert main(["explain", SPEC, "chat-xl"]) == 0
    out = capsys.readouterr().out
    assert out.count("stays on aws-use1-trn2") == 1
    assert out.count("no plan keeps contract aws-strategic") == 1
    assert main(["explain", SPEC, "router-small"]) == 0
    out = capsys.readouterr().out
    assert "Why this phase: phase 1:" not in out and "Why this cluster: az-eastus-maia:" not in out


def test_explain_json_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "why.json"
    assert main(["explain", SPEC, "router-small", "--format", "json", "--out", str(out)]) == 0
    assert capsys.readouterr().out == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    assert (document["outcome"], document["phase"], document["move"]["to_cluster"]) == (
        "moves",
        1,
        "az-eastus-maia",
    )
    assert main(["explain", SPEC, "chat-xl", "--format", "json"]) == 0
    stays = json.loads(capsys.readouterr().out)
    assert stays["outcome"] == "stays" and stays["stays"]["rule"] == "contract"


def test_validate_json_and_out(tmp_path: Path) -> None:
    out = tmp_path / "valid.json"
    assert main(["validate", SPEC, "--format", "json", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["valid"] is True


def _many_workloads(tmp_path: Path, count: int) -> Path:
    data = example_data()
    first = data["workloads"][0]
    for index in range(count):
        extra = copy.deepcopy(first)
        extra["name"] = f"extra-{index:05d}"
        extra.pop("depends_on", None)
        data["workloads"].append(extra)
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "argv",
    [["explain", "{spec}", "no-such"], ["shard", "{spec}", "--workload", "no-such"]],
    ids=["explain", "shard"],
)
def test_unknown_names_list_only_some(argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Before: every workload name of the spec in the "name one of" fix (96,000 characters for 12,000).
    spec = _many_workloads(tmp_path, 300)
    assert main([part.format(spec=spec) for part in argv]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "more" in err and "extra-00299" not in err and len(err) < 1_000


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(_subparsers()))
def test_every_help_shows_formats_and_exit_codes(command: str) -> None:
    parser = _subparsers()[command]
    text = " ".join(parser.format_help().split())
    assert " ".join(EXIT_CODES_HELP.split()) in text
    fmt = next((a for a in parser._actions if "--format" in a.option_strings), None)
    if fmt is not None:
        assert fmt.choices is not None
        assert "{" + ",".join(fmt.choices) + "}" in text


def test_an_out_file_is_never_fitted_to_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["shard", SPEC]) == 0
    piped = capsys.readouterr().out
    monkeypatch.setenv("COLUMNS", "80")
    out = tmp_path / "shard.txt"
    assert main(["shard", SPEC, "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == piped
