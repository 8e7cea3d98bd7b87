"""Claims: parsing, a claim that holds, one that does not, one that cannot be judged, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers_spec import example_spec

from maiaplan.cli import main
from maiaplan.render.markdown import escape_cell
from planner.claims import DEFAULT_CLAIM, basis_of, evaluate_claim, parse_claim
from planner.spec import load_spec

EXAMPLE = "examples/maia-pilot.yaml"


def test_claim_text_round_trips() -> None:
    claim = parse_claim(DEFAULT_CLAIM, example_spec().accelerators)
    assert (claim.subject, claim.reference, claim.metric, claim.operator, claim.threshold) == (
        "maia-100",
        "h100-sxm",
        "tokens_per_joule",
        ">=",
        1.4,
    )
    assert claim.text == DEFAULT_CLAIM


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("maia-100 beats h100", "does not read"),
        ("maia-200 vs h100-sxm tokens_per_joule >= 1.4", "'maia-200' is not in the catalog"),
        ("maia-100 vs h100-sxm happiness >= 1.4", "'happiness' is not a metric"),
    ],
)
def test_bad_claims_say_why(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_claim(text, example_spec().accelerators)


def test_a_claim_that_holds() -> None:
    # H200 has 1.43x H100's HBM bandwidth and 1.76x its memory: both calibrated, per chip it is far ahead.
    spec = example_spec()
    result = evaluate_claim(spec, parse_claim("h200 vs h100-sxm tokens_per_s_per_chip >= 1.1", spec.accelerators))
    assert (result.basis, result.verdict) == ("calibrated", "holds")
    assert result.ratio is not None and result.ratio / result.uncertainty >= 1.1
    assert result.settle == ""


def test_a_claim_that_does_not_hold() -> None:
    # On the same (TDP) watt basis, Maia's 1.8 TB/s cannot give 1.4x the tokens per joule of H100's 3.35 TB/s.
    spec = example_spec()
    result = evaluate_claim(spec, parse_claim("maia-100 vs h100-sxm tokens_per_joule_tdp >= 1.4", spec.accelerators))
    assert result.verdict == "does not hold"
    assert result.ratio is not None and result.ratio * result.uncertainty < 1.4
    assert result.watt_basis == "both on TDP (700 W, 700 W)"


def test_the_default_claim_on_a_guessed_basis_says_what_would_settle_it() -> None:
    spec = example_spec()
    result = evaluate_claim(spec, parse_claim(DEFAULT_CLAIM, spec.accelerators))
    assert (result.subject_basis, result.reference_basis) == ("datasheet", "calibrated")
    assert "maia-100: provisioned 500 W" in result.watt_basis and "h100-sxm: tdp 700 W" in result.watt_basis
    assert [w.workload for w in result.workloads] == [w.name for w in spec.workloads]
    if result.verdict == "cannot be judged":
        assert "benchmark_serving.py --save-result on maia-100" in result.settle
        assert "maiaplan calibrate" in result.settle


def test_a_calibrated_catalog_changes_the_basis(tmp_path: Path) -> None:
    data = yaml.safe_load(Path(EXAMPLE).read_text(encoding="utf-8"))
    data["catalog"]["maia-100"].update(hbm_efficiency=0.6, compute_efficiency=0.5)
    path = tmp_path / "calibrated.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    spec = load_spec(path)
    assert basis_of(spec.accelerators["maia-100"]) == "calibrated"
    assert evaluate_claim(spec, parse_claim(DEFAULT_CLAIM, spec.accelerators)).basis == "calibrated"


def test_claims_command_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claims", EXAMPLE]) == 0
    out = capsys.readouterr().out
    assert out.startswith(DEFAULT_CLAIM + ": ")
    assert "basis datasheet" in out
    assert (
        main(["claims", EXAMPLE, "--format", "json", "--claim", "h200 vs h100-sxm tokens_per_s_per_chip >= 1.1"]) == 0
    )
    (result,) = json.loads(capsys.readouterr().out)
    assert result["verdict"] == "holds"


def test_claims_command_bad_claim_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claims", EXAMPLE, "--claim", "maia vs h100"]) == 2
    err = capsys.readouterr().err
    assert "--claim" in err and "does not read" in err


def test_plan_markdown_shows_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", EXAMPLE, "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "### Performance claims" in out
    assert escape_cell(DEFAULT_CLAIM) in out  # '>=' as '&gt;=': the one escaper's cell text


def test_measured_runs_give_a_measured_basis(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # safety-filter measured on both chips, with power: its ratio is the measured one, basis measured.
    runs = tmp_path / "runs.csv"
    runs.write_text(
        "accelerator,workload,tensor_parallel,chips,input_tokens,output_tokens,output_tokens_per_s,watts\n"
        "maia-100,safety-filter,4,4,1000,200,3000,1800\n"
        "h100-sxm,safety-filter,1,1,1000,200,2000,650\n",
        encoding="utf-8",
    )
    assert main(["claims", EXAMPLE, "--results", str(runs), "--format", "json"]) == 0
    (result,) = json.loads(capsys.readouterr().out)
    row = next(w for w in result["workloads"] if w["workload"] == "safety-filter")
    assert row["basis"] == "measured"
    assert row["ratio"] == pytest.approx((3000 / 1800) / (2000 / 650))
    assert row["verdict"] == "does not hold"  # 0.54 even at ±5 %
    others = [w for w in result["workloads"] if w["workload"] != "safety-filter"]
    assert all(w["basis"] == "datasheet" for w in others)
    assert result["basis"] == "datasheet"  # the weakest workload's
