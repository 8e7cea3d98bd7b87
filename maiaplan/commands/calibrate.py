"""``maiaplan calibrate SPEC --results FILE...``: fit the model's efficiencies to measured runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from maiaplan.output import emit
from maiaplan.render.calibration import calibration_text
from maiaplan.render.progress import progress
from planner.calibration import (
    Measurement,
    calibrate_catalog,
    catalog_override,
    modelled,
    with_values,
)
from planner.calibration_io import RunDefaults, read_results
from planner.catalog import Accelerator
from planner.errors import InputError, some_names
from planner.sharding import ShardingInfeasible
from planner.spec import MigrationSpec, load_spec


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "calibrate", help="fit each accelerator's efficiencies to measured runs and write a catalog override"
    )
    parser.add_argument("spec", type=Path, help="the migration spec (YAML or JSON)")
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        required=True,
        help="vLLM benchmark_serving --save-result JSON, MLPerf mlperf_log_summary.txt, or CSV files",
    )
    parser.add_argument("--out", type=Path, help="write the catalog override (YAML) here, atomically")
    add_run_flags(parser)
    parser.set_defaults(handler=run)


def add_run_flags(parser: argparse.ArgumentParser) -> None:
    """The flags that describe measured runs whose files do not (shared with ``maiaplan claims``)."""
    parser.add_argument("--workload", help="the spec workload the runs measured (when a file does not say)")
    parser.add_argument("--accelerator", help="the accelerator the runs used (default: the workload's current one)")
    parser.add_argument("--tensor-parallel", type=int, help="TP of the measured deployment")
    parser.add_argument("--pipeline-parallel", type=int, help="PP of the measured deployment")
    parser.add_argument("--chips", type=int, help="chips of the whole measured deployment")
    parser.add_argument("--input-tokens", type=int, help="mean prompt tokens (MLPerf summaries do not record it)")
    parser.add_argument("--output-tokens", type=int, help="mean output tokens (MLPerf summaries do not record it)")


def read_runs(args: argparse.Namespace, spec: MigrationSpec) -> list[Measurement]:
    """Every measurement in ``args.results``, with the run flags filling what the files do not say.

    Raises
    ------
    InputError
        When a flag names an unknown workload, or a file is bad (file and field named).
    """
    if args.workload is not None and args.workload not in spec.workload_by_name:
        raise InputError(
            str(args.spec),
            "--workload",
            f"unknown workload '{args.workload}'",
            f"name one of: {some_names(spec.workload_by_name)}",
        )
    defaults = RunDefaults(
        workload=args.workload,
        accelerator=args.accelerator,
        tensor_parallel=args.tensor_parallel,
        pipeline_parallel=args.pipeline_parallel,
        chips=args.chips,
        input_tokens=args.input_tokens,
        output_tokens=args.output_tokens,
    )
    return [m for path in args.results or () for m in read_results(path, spec, defaults)]


def _safe(m: Measurement, accelerator: Accelerator) -> dict[str, float]:
    try:
        return {str(key): value for key, value in modelled(m, accelerator).items()}
    except ShardingInfeasible:
        return {}


def run(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    measurements = read_runs(args, spec)
    catalog = spec.accelerators
    with progress(f"fitting {len(measurements)} run(s)") as status:
        results = calibrate_catalog(measurements, catalog)
        status.update("comparing the model before and after the fit")
        runs = [
            (m, _safe(m, prior), _safe(m, with_values(prior, results[m.accelerator].values)))
            for m in measurements
            for prior in (catalog[m.accelerator],)
        ]
    lines = [calibration_text(runs, results)]
    override = catalog_override(results)
    text = yaml.safe_dump(override, sort_keys=True)
    header = (
        f"# maiaplan calibrate {args.spec}: fitted to {len(measurements)} run(s) "
        f"({', '.join(str(p) for p in args.results)}).\n# Put these entries under the spec's catalog:.\n"
    )
    if args.out is not None:
        emit(header + text, args.out)
        lines.append(f"\nwrote the catalog override to {args.out}")
    else:
        lines += ["", header + text.rstrip()]
    emit("\n".join(lines), None)
    return 0
