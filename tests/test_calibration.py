"""Calibration: the fit to the shipped public measurements, recovery of known efficiencies, the readers
of vLLM / MLPerf / CSV results, and ``maiaplan calibrate`` end to end (bad files exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers_spec import example_spec

from maiaplan.cli import main
from planner import performance as perf
from planner.calibration import (
    FITTED,
    Measurement,
    builtin_measurements,
    calibrated_chips,
    cross_validated,
    default_prior,
    fit,
    log_ratios,
    modelled,
    stand_in_predictions,
    statistics,
    with_values,
)
from planner.calibration_io import RunDefaults, read_results
from planner.catalog import builtin_catalog
from planner.errors import InputError

EXAMPLE = "examples/maia-pilot.yaml"
DEFAULTS = {
    "hbm_efficiency": perf.DEFAULT_HBM_EFFICIENCY,
    "compute_efficiency": perf.DEFAULT_COMPUTE_EFFICIENCY,
    "step_overhead_ms": perf.DEFAULT_STEP_OVERHEAD_MS,
    "sequence_overhead_us": perf.DEFAULT_SEQUENCE_OVERHEAD_US,
}
MEASURED = ("h100-sxm", "h200", "inf2", "tpu-v5e")


# --- the shipped fit -----------------------------------------------------------------------------


def test_every_measurement_has_a_source_url() -> None:
    for m in builtin_measurements():
        assert "https://" in m.source and "(read 2026-" in m.source, m.id


def test_the_calibrated_chips_are_those_with_enough_runs() -> None:
    assert calibrated_chips(builtin_measurements()) == sorted(MEASURED)
    catalog = builtin_catalog()
    for name in MEASURED:
        assert not catalog[name].provenance["hbm_efficiency"].estimate, name
    for name in ("maia-100", "trn2", "tpu-v5p", "tpu-v6e"):
        assert catalog[name].provenance["hbm_efficiency"].estimate, name
        assert catalog[name].hbm_efficiency == catalog["h100-sxm"].hbm_efficiency  # the stand-in


def test_the_catalog_holds_the_fit_of_the_shipped_measurements() -> None:
    catalog = builtin_catalog()
    for name in MEASURED:
        result = fit(builtin_measurements(), default_prior(catalog[name]))
        for figure in FITTED:
            assert getattr(catalog[name], figure) == pytest.approx(result.values[figure], rel=1e-3), (name, figure)


def test_fit_residuals_on_our_own_set() -> None:
    # Every shipped run against the catalog as shipped (Trn2 on the H100 stand-in).
    catalog = builtin_catalog()
    stats = statistics([r for m in builtin_measurements() for r in log_ratios([m], catalog[m.accelerator])])
    print(f"\nown set, as shipped: {stats}")
    assert stats.points == 69
    assert stats.within_1_5x >= 0.95
    assert 0.9 <= stats.geometric_mean_ratio <= 1.1


def test_cross_validated_residuals_meet_the_hold_out_target() -> None:
    catalog = builtin_catalog()
    for group in ("model", "id"):
        stats = statistics(cross_validated(builtin_measurements(), catalog, group))
        print(f"\nleave-one-{group}-out: {stats}")
        assert stats.within_1_5x >= 0.8
        assert 0.8 <= stats.geometric_mean_ratio <= 1.25


def test_unmeasured_chips_predicted_with_the_h100_stand_in() -> None:
    # Every other chip's runs predicted from the H100 fit alone: how well Maia, v5p, v6e are modelled.
    stats = statistics(stand_in_predictions(builtin_measurements(), builtin_catalog()))
    print(f"\nstand-in (H100 fit) on the other chips: {stats}")
    assert stats.within_2x >= 0.8
    neuron = [m for m in builtin_measurements() if m.accelerator in ("trn2", "inf2")]
    trn2 = statistics(stand_in_predictions(neuron, builtin_catalog()))
    print(f"stand-in on Trn2 and Inf2 (AWS Neuron runs): {trn2}")
    assert trn2.within_1_5x >= 0.8


def test_the_uncalibrated_prior_is_already_close() -> None:
    # With the default efficiencies (no fit at all) the physical model is within 2x on most points.
    catalog = builtin_catalog()
    ratios = [
        r
        for name in MEASURED
        for r in log_ratios(
            [m for m in builtin_measurements() if m.accelerator == name], with_values(catalog[name], DEFAULTS)
        )
    ]
    assert statistics(ratios).within_2x >= 0.85


# --- recovery from synthetic measurements ----------------------------------------------------------


def _synthetic(accelerator: str, truth: dict[str, float]) -> list[Measurement]:
    """Runs of several shapes, 'measured' with the model itself at known efficiencies."""
    base = builtin_catalog()[accelerator]
    chip = with_values(base, truth)
    model = example_spec().workload_by_name["safety-filter"].model
    runs = []
    for i, (batch, input_tokens, output_tokens) in enumerate(
        [(1, 128, 128), (8, 512, 256), (32, 1000, 1000), (128, 2000, 200), (None, 128, 2048), (None, 5000, 500)]
    ):
        draft = Measurement(
            id=f"synthetic-{i}",
            accelerator=accelerator,
            model=model,
            tensor_parallel=1,
            chips=1,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            batch=batch,
            output_tokens_per_s=1.0,
            step_ms=1.0 if batch else None,
            source="synthetic",
        )
        values = modelled(draft, chip)
        runs.append(
            draft.model_copy(
                update={
                    "output_tokens_per_s": values["output_tokens_per_s_per_chip"],
                    "step_ms": values.get("step_ms"),
                }
            )
        )
    return runs


def test_calibration_recovers_known_efficiencies() -> None:
    truth = {"hbm_efficiency": 0.62, "compute_efficiency": 0.41, "step_overhead_ms": 3.0, "sequence_overhead_us": 8.0}
    runs = _synthetic("h100-sxm", truth)
    start = with_values(builtin_catalog()["h100-sxm"], DEFAULTS)
    exact = fit(runs, start, prior_weight=0.0)
    assert max(abs(r) for r in exact.after) < 0.01  # the fitted model reproduces the runs within 1 %
    for figure, value in truth.items():
        assert exact.values[figure] == pytest.approx(value, rel=0.05), figure
    # with the default pull towards the prior, the fit still lands near the truth
    pulled = fit(runs, start)
    assert statistics(pulled.after).within_1_5x == 1.0
    assert pulled.values["hbm_efficiency"] == pytest.approx(0.62, rel=0.1)
    assert pulled.values["compute_efficiency"] == pytest.approx(0.41, rel=0.15)


# --- readers ---------------------------------------------------------------------------------------

VLLM_RESULT: dict[str, Any] = {
    "date": "20261201-101500",
    "backend": "vllm",
    "model_id": "meta-llama/Llama-3.1-8B-Instruct",
    "tokenizer_id": "meta-llama/Llama-3.1-8B-Instruct",
    "num_prompts": 1000,
    "request_rate": "inf",
    "burstiness": 1.0,
    "max_concurrency": 64,
    "duration": 100.0,
    "completed": 1000,
    "total_input_tokens": 1024000,
    "total_output_tokens": 256000,
    "request_throughput": 10.0,
    "request_goodput": None,
    "output_throughput": 2560.0,
    "total_token_throughput": 12800.0,
    "mean_ttft_ms": 180.5,
    "median_ttft_ms": 170.0,
    "std_ttft_ms": 20.0,
    "p99_ttft_ms": 400.0,
    "mean_tpot_ms": 22.0,
    "median_tpot_ms": 21.5,
    "std_tpot_ms": 2.0,
    "p99_tpot_ms": 30.0,
    "mean_itl_ms": 22.0,
    "median_itl_ms": 20.0,
    "std_itl_ms": 5.0,
    "p99_itl_ms": 60.0,
    # benchmark_serving.py --metadata accelerator=maia-100 tensor_parallel_size=4 workload=safety-filter
    "accelerator": "maia-100",
    "tensor_parallel_size": 4,
    "workload": "safety-filter",
}

MLPERF_SUMMARY = """================================================
MLPerf Results Summary
================================================
SUT name : PySUT
Scenario : Server
Mode     : PerformanceOnly
Completed samples per second    : 71.26
Completed tokens per second: 20810.47
Result is : VALID
  Performance constraints satisfied : Yes
  Min duration satisfied : Yes
  Min queries satisfied : Yes
  Early stopping satisfied: Yes
TTFT Early Stopping Result:
 * Run successful.

================================================
Additional Stats
================================================
Scheduled samples per second : 71.38
Min latency (ns)                : 1197389451
Mean First Token latency (ns)   : 500372511
99.00 percentile first token latency (ns)   : 1234567890
Mean Time to Output Token (ns)  : 105209893
99.00 percentile time to output token (ns)  : 160000000

================================================
Test Parameters Used
================================================
samples_per_query : 1
target_qps : 71.5
ttft_latency (ns): 2000000000
tpot_latency (ns): 200000000
max_async_queries : 0
min_duration (ms): 1200000
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_vllm_result_parses(tmp_path: Path) -> None:
    path = _write(tmp_path, "vllm.json", json.dumps(VLLM_RESULT))
    (m,) = read_results(path, example_spec(), RunDefaults())
    assert (m.accelerator, m.tensor_parallel, m.chips, m.batch) == ("maia-100", 4, 4, 64)
    assert (m.input_tokens, m.output_tokens) == (1024, 256)
    assert m.observed() == {"output_tokens_per_s_per_chip": 640.0, "step_ms": 22.0}
    assert m.model == example_spec().workload_by_name["safety-filter"].model


def test_vllm_result_without_a_concurrency_cap_infers_the_batch(tmp_path: Path) -> None:
    # request_rate-driven run: concurrent decoding sequences = 2,560 tokens/s × 0.022 s = 56 on 1 replica
    path = _write(tmp_path, "rate.json", json.dumps({**VLLM_RESULT, "max_concurrency": None, "request_rate": 10.0}))
    (m,) = read_results(path, example_spec(), RunDefaults())
    assert m.batch == 56


def test_mlperf_summary_parses(tmp_path: Path) -> None:
    path = _write(tmp_path, "mlperf_log_summary.txt", MLPERF_SUMMARY)
    defaults = RunDefaults(
        workload="code-assist", accelerator="h100-sxm", tensor_parallel=2, chips=8, input_tokens=1000, output_tokens=300
    )
    (m,) = read_results(path, example_spec(), defaults)
    assert (m.accelerator, m.chips, m.output_tokens_per_s) == ("h100-sxm", 8, 20810.47)
    assert (m.p99_ms_per_token, m.p99_ms_to_first_token) == (200.0, 2000.0)  # the scenario's latency bounds


def test_csv_parses(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "runs.csv",
        "accelerator,workload,tensor_parallel,chips,batch,input_tokens,output_tokens,output_tokens_per_s,step_ms\n"
        "h100-sxm,safety-filter,1,1,32,1000,200,1500,21\n"
        "h100-sxm,safety-filter,1,8,,2000,200,9000,\n",
    )
    first, second = read_results(path, example_spec(), RunDefaults())
    assert first.observed() == {"output_tokens_per_s_per_chip": 1500, "step_ms": 21}
    assert (second.batch, second.chips) == (None, 8)


@pytest.mark.parametrize(
    ("name", "text", "field"),
    [
        (
            "nothing.json",
            json.dumps({k: v for k, v in VLLM_RESULT.items() if k != "output_throughput"}),
            "output_throughput",
        ),
        ("inconsistent.json", json.dumps({**VLLM_RESULT, "output_throughput": 9999.0}), "output_throughput"),
        ("broken.json", '{"completed": ', "line 1"),
        ("noworkload.json", json.dumps({**VLLM_RESULT, "workload": "nope"}), "workload"),
        ("invalid.txt", MLPERF_SUMMARY.replace("Result is : VALID", "Result is : INVALID"), "Result is"),
        ("bad.csv", "accelerator,flavour\nh100-sxm,x\n", "column flavour"),
        (
            "bad-row.csv",
            "workload,tensor_parallel,chips,input_tokens,output_tokens,output_tokens_per_s\n"
            "safety-filter,1,1,100,abc,5\n",
            "row 2.output_tokens",
        ),
        ("what.txt", "hello", "file"),
    ],
)
def test_bad_result_files_name_the_file_and_field(tmp_path: Path, name: str, text: str, field: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(InputError) as caught:
        read_results(path, example_spec(), RunDefaults(tensor_parallel=1))
    assert caught.value.file == str(path)
    assert caught.value.path == field


def test_calibrate_command_writes_an_override_the_spec_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = _write(tmp_path, "vllm.json", json.dumps(VLLM_RESULT))
    out = tmp_path / "override.yaml"
    assert main(["calibrate", EXAMPLE, "--results", str(results), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "MODEL BEFORE" in printed and "MODEL AFTER" in printed
    override = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert set(override) == {"maia-100"}
    data = yaml.safe_load(Path(EXAMPLE).read_text(encoding="utf-8"))
    data["catalog"]["maia-100"].update(override["maia-100"])
    spec_file = _write(tmp_path, "calibrated.yaml", yaml.safe_dump(data))
    assert main(["shard", str(spec_file), "--workload", "safety-filter"]) == 0


def test_calibrate_bad_file_exits_2_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = _write(tmp_path, "bad.json", json.dumps({**VLLM_RESULT, "completed": -3}))
    out = tmp_path / "override.yaml"
    assert main(["calibrate", EXAMPLE, "--results", str(results), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(results) in err and "completed" in err
    assert not out.exists()
