"""Read measured runs into :class:`~planner.calibration.Measurement`s: vLLM, MLPerf, CSV.

Three formats, each with its own reader, all checked field by field:

- the JSON that vLLM's ``benchmarks/benchmark_serving.py --save-result`` writes (``output_throughput``,
  ``completed``, ``total_input_tokens``, ``total_output_tokens``, ``duration``, ``max_concurrency``
  (the batch; without it, Little's law: output tokens/s × ``mean_tpot_ms``), ``mean_tpot_ms`` (else
  ``mean_itl_ms``), ``model_id``; the deployment from ``--metadata`` keys
  ``accelerator``, ``tensor_parallel_size``, ``pipeline_parallel_size``, ``chips``, ``workload``,
  ``max_num_seqs``, ``watts`` (measured power of the deployment), or from :class:`RunDefaults`);
- MLPerf Inference loadgen's ``mlperf_log_summary.txt`` (``Scenario``, ``Tokens per second`` or
  ``Completed tokens per second``, ``Result is``, ``ttft_latency (ns)``, ``tpot_latency (ns)``);
  loadgen does not record the deployment or the request lengths, so they come from the defaults
  or the workload's ``serving.input_tokens`` / ``output_tokens``;
- a CSV with a header row: ``accelerator, workload, tensor_parallel, pipeline_parallel, chips,
  batch, input_tokens, output_tokens, output_tokens_per_s, step_ms, watts, source``
  (docs/sharding.md).

A bad or inconsistent file raises :class:`~planner.errors.InputError` naming the file and the field.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from planner.calibration import Measurement
from planner.errors import InputError
from planner.spec import MigrationSpec, Workload

CSV_COLUMNS: tuple[str, ...] = (
    "accelerator",
    "workload",
    "tensor_parallel",
    "pipeline_parallel",
    "chips",
    "batch",
    "input_tokens",
    "output_tokens",
    "output_tokens_per_s",
    "step_ms",
    "watts",
    "source",
)
# Throughput and duration must agree this closely with the token counts in a vLLM result.
CONSISTENCY_TOLERANCE = 0.05


@dataclass(frozen=True)
class RunDefaults:
    """What a result file may not say about its run (command-line flags fill it in)."""

    workload: str | None = None
    accelerator: str | None = None
    tensor_parallel: int | None = None
    pipeline_parallel: int | None = None
    chips: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


def read_results(path: Path, spec: MigrationSpec, defaults: RunDefaults) -> list[Measurement]:
    """The measurements in one result file, whatever its format (by content, then suffix).

    Raises
    ------
    InputError
        When the file cannot be read, is of no known format, or a field is missing or inconsistent.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(str(path), "file", f"cannot be read: {error}", "pass a readable result file") from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return [_vllm(path, text, spec, defaults)]
    if "MLPerf Results Summary" in text:
        return [_mlperf(path, text, spec, defaults)]
    if path.suffix.lower() == ".csv":
        return _csv(path, text, spec, defaults)
    raise InputError(
        str(path),
        "file",
        "is neither a vLLM benchmark_serving JSON result, an MLPerf mlperf_log_summary.txt nor a .csv",
        "pass the file benchmark_serving.py --save-result wrote, loadgen's summary, or a CSV with the documented columns",
    )


def _workload(path: Path, field: str, name: str | None, spec: MigrationSpec) -> Workload:
    if name is None:
        if len(spec.workloads) == 1:
            return spec.workloads[0]
        raise InputError(
            str(path), field, "does not say which workload of the spec it measured", "pass --workload NAME"
        )
    if name not in spec.workload_by_name:
        raise InputError(
            str(path),
            field,
            f"names workload '{name}', which the spec does not have",
            f"use one of: {', '.join(spec.workload_by_name)}",
        )
    return spec.workload_by_name[name]


def _accelerator(path: Path, field: str, name: str | None, workload: Workload, spec: MigrationSpec) -> str:
    chosen = name or spec.accelerator_of(spec.cluster_by_name[workload.current]).name
    if chosen not in spec.accelerators:
        raise InputError(
            str(path),
            field,
            f"names accelerator '{chosen}', which the catalog does not have",
            f"use one of: {', '.join(spec.accelerators)}",
        )
    return chosen


def _number(path: Path, field: str, value: Any, *, integer: bool = False, required: bool = True) -> Any:
    if value is None or value == "":
        if required:
            raise InputError(str(path), field, "is missing", f"give {field} in the file or as a flag")
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(str(path), field, f"is {value!r}, not a number", f"give {field} as a number") from None
    if not math.isfinite(number) or number <= 0:
        raise InputError(str(path), field, f"is {value!r}; it must be a positive number", f"correct {field}")
    if integer:
        if number != int(number):
            raise InputError(str(path), field, f"is {value!r}, not a whole number", f"correct {field}")
        return int(number)
    return number


def _measurement(path: Path, record: dict[str, Any]) -> Measurement:
    try:
        return Measurement.model_validate(record)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "file"
        raise InputError(str(path), field, first["msg"], "correct the run's description") from None


def _vllm(path: Path, text: str, spec: MigrationSpec, defaults: RunDefaults) -> Measurement:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(str(path), f"line {error.lineno}", f"is not valid JSON: {error.msg}", "fix the JSON") from None
    if not isinstance(data, dict):
        raise InputError(str(path), "file", "is not a JSON object", "pass benchmark_serving.py's result file")
    workload = _workload(path, "workload", data.get("workload") or defaults.workload, spec)
    accelerator = _accelerator(path, "accelerator", data.get("accelerator") or defaults.accelerator, workload, spec)
    completed = _number(path, "completed", data.get("completed"), integer=True)
    total_input = _number(path, "total_input_tokens", data.get("total_input_tokens"), integer=True)
    total_output = _number(path, "total_output_tokens", data.get("total_output_tokens"), integer=True)
    throughput = _number(path, "output_throughput", data.get("output_throughput"))
    duration = _number(path, "duration", data.get("duration"), required=False)
    if duration is not None and abs(total_output / duration - throughput) > CONSISTENCY_TOLERANCE * throughput:
        raise InputError(
            str(path),
            "output_throughput",
            f"is {throughput:g} tokens/s, but total_output_tokens / duration is {total_output / duration:g}",
            "pass the file as benchmark_serving.py wrote it",
        )
    tp = _number(
        path, "tensor_parallel_size", data.get("tensor_parallel_size") or defaults.tensor_parallel, integer=True
    )
    pp = _number(
        path,
        "pipeline_parallel_size",
        data.get("pipeline_parallel_size") or defaults.pipeline_parallel or 1,
        integer=True,
    )
    chips = _number(path, "chips", data.get("chips") or defaults.chips or tp * pp, integer=True)
    if chips % (tp * pp):
        raise InputError(
            str(path), "chips", f"is {chips}, not a whole number of {tp} TP × {pp} PP replicas", "correct chips"
        )
    replicas = chips // (tp * pp)
    concurrency = _number(path, "max_concurrency", data.get("max_concurrency"), integer=True, required=False)
    tpot_field = "mean_tpot_ms" if data.get("mean_tpot_ms") is not None else "mean_itl_ms"
    tpot = _number(path, tpot_field, data.get(tpot_field), required=False)
    batch = None
    if concurrency is not None:
        batch = max(1, concurrency // replicas)
    elif tpot is not None:
        # Little's law: sequences decoding at once = output tokens/s × seconds per output token.
        batch = max(1, round(throughput * tpot / 1000 / replicas))
    max_seqs = _number(path, "max_num_seqs", data.get("max_num_seqs"), integer=True, required=False)
    watts = _number(path, "watts", data.get("watts"), required=False)
    return _measurement(
        path,
        {
            "id": f"{path.name}:{data.get('model_id', workload.name)}",
            "accelerator": accelerator,
            "model": workload.model,
            "tensor_parallel": tp,
            "pipeline_parallel": pp,
            "chips": chips,
            "input_tokens": max(1, round(total_input / completed)),
            "output_tokens": max(1, round(total_output / completed)),
            "batch": batch,
            "max_sequences": max_seqs,
            "output_tokens_per_s": throughput,
            "step_ms": tpot if batch is not None else None,
            "watts": watts,
            "workload": workload.name,
            "source": f"vLLM benchmark_serving result {path}",
        },
    )


_SUMMARY_LINE = re.compile(r"^\s*([^:=]+?)\s*[:=]\s*(.+?)\s*$")


def _mlperf(path: Path, text: str, spec: MigrationSpec, defaults: RunDefaults) -> Measurement:
    fields: dict[str, str] = {}
    for line in text.splitlines():
        found = _SUMMARY_LINE.match(line)
        if found and not line.lstrip().startswith("="):
            fields.setdefault(found.group(1), found.group(2))
    scenario = fields.get("Scenario")
    if scenario is None:
        raise InputError(str(path), "Scenario", "is missing", "pass loadgen's mlperf_log_summary.txt unchanged")
    if fields.get("Result is", "VALID").upper() != "VALID":
        raise InputError(
            str(path), "Result is", f"is {fields['Result is']}: loadgen rejected this run", "calibrate on VALID runs"
        )
    key = "Tokens per second" if scenario.lower() == "offline" else "Completed tokens per second"
    throughput = _number(path, key, fields.get(key))
    workload = _workload(path, "--workload", defaults.workload, spec)
    accelerator = _accelerator(path, "--accelerator", defaults.accelerator, workload, spec)
    tp = _number(path, "--tensor-parallel", defaults.tensor_parallel, integer=True)
    pp = defaults.pipeline_parallel or 1
    chips = _number(path, "--chips", defaults.chips or tp * pp, integer=True)
    input_tokens = _number(path, "--input-tokens", defaults.input_tokens or workload.serving.input_tokens, integer=True)
    output_tokens = _number(
        path, "--output-tokens", defaults.output_tokens or workload.serving.output_tokens, integer=True
    )
    tpot_ns = _number(path, "tpot_latency (ns)", fields.get("tpot_latency (ns)"), required=False)
    ttft_ns = _number(path, "ttft_latency (ns)", fields.get("ttft_latency (ns)"), required=False)
    return _measurement(
        path,
        {
            "id": f"{path.name}:{scenario}",
            "accelerator": accelerator,
            "model": workload.model,
            "tensor_parallel": tp,
            "pipeline_parallel": pp,
            "chips": chips,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "p99_ms_per_token": None if scenario.lower() == "offline" or tpot_ns is None else tpot_ns / 1e6,
            "p99_ms_to_first_token": None if scenario.lower() == "offline" or ttft_ns is None else ttft_ns / 1e6,
            "output_tokens_per_s": throughput,
            "workload": workload.name,
            "source": f"MLPerf loadgen summary {path} ({scenario})",
        },
    )


def _csv(path: Path, text: str, spec: MigrationSpec, defaults: RunDefaults) -> list[Measurement]:
    reader = csv.DictReader(text.splitlines())
    columns = [c.strip() for c in reader.fieldnames or []]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        raise InputError(
            str(path), f"column {unknown[0]}", "is not a known column", f"use only: {', '.join(CSV_COLUMNS)}"
        )
    out: list[Measurement] = []
    for number, raw in enumerate(reader, start=2):
        row: Mapping[str, str] = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        at = f"row {number}"
        workload = _workload(path, f"{at}.workload", row.get("workload") or defaults.workload, spec)
        accelerator = _accelerator(
            path, f"{at}.accelerator", row.get("accelerator") or defaults.accelerator, workload, spec
        )
        tp = _number(
            path, f"{at}.tensor_parallel", row.get("tensor_parallel") or defaults.tensor_parallel, integer=True
        )
        pp = _number(path, f"{at}.pipeline_parallel", row.get("pipeline_parallel") or 1, integer=True)
        out.append(
            _measurement(
                path,
                {
                    "id": f"{path.name}:{at}",
                    "accelerator": accelerator,
                    "model": workload.model,
                    "tensor_parallel": tp,
                    "pipeline_parallel": pp,
                    "chips": _number(path, f"{at}.chips", row.get("chips") or tp * pp, integer=True),
                    "batch": _number(path, f"{at}.batch", row.get("batch"), integer=True, required=False),
                    "input_tokens": _number(path, f"{at}.input_tokens", row.get("input_tokens"), integer=True),
                    "output_tokens": _number(path, f"{at}.output_tokens", row.get("output_tokens"), integer=True),
                    "output_tokens_per_s": _number(
                        path, f"{at}.output_tokens_per_s", row.get("output_tokens_per_s"), required=False
                    ),
                    "step_ms": _number(path, f"{at}.step_ms", row.get("step_ms"), required=False),
                    "watts": _number(path, f"{at}.watts", row.get("watts"), required=False),
                    "workload": workload.name,
                    "source": row.get("source") or f"CSV {path}, {at}",
                },
            )
        )
    if not out:
        raise InputError(str(path), "file", "has a header but no rows", "add one row per measured run")
    return out
