"""Calibrate the performance model to measured runs: the data, the modelled value, the fit.

A :class:`Measurement` is one measured run (an accelerator, a model shape, a deployment, a request
shape, engine limits) with what was measured: output tokens/s of the deployment and/or the mean
time per output token at a known batch. :func:`modelled` evaluates the same run with
:mod:`planner.sharding`; :func:`fit` chooses each accelerator's ``hbm_efficiency``,
``compute_efficiency``, ``step_overhead_ms`` and ``sequence_overhead_us`` that minimise the squared
log ratios (with a weak pull towards the prior values, so that two or three points cannot swing a
parameter the data does not constrain). The built-in points live in ``data/measurements.yaml``; a chip
with fewer than :data:`MIN_RUNS_TO_CALIBRATE` of them carries the fit of :data:`STAND_IN_REFERENCE`.
:mod:`planner.calibration_io` reads the files users bring (vLLM, MLPerf, CSV).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.optimize import least_squares

from planner import performance as perf
from planner.catalog import Accelerator
from planner.sharding import ShardingInfeasible, batch_limit, shape_of
from planner.spec import Model, Serving

FITTED: tuple[str, ...] = ("hbm_efficiency", "compute_efficiency", "step_overhead_ms", "sequence_overhead_us")
BOUNDS: dict[str, tuple[float, float]] = {
    "hbm_efficiency": (0.2, 0.95),
    "compute_efficiency": (0.1, 0.9),
    "step_overhead_ms": (0.0, 40.0),
    "sequence_overhead_us": (0.0, 50.0),
}
# Solver units: overheads in units of 10 ms and 10 µs keep the parameters' steps comparable.
SCALE = np.array([1.0, 1.0, 10.0, 10.0])
# How hard each parameter is pulled towards its prior (efficiencies are better known than overheads).
PULL = np.array([3.0, 3.0, 1.0, 1.0])
# Weight of the pull towards the prior, in log units per parameter (one point's residual ~ 0.1-0.3).
PRIOR_WEIGHT = 0.15
# A chip is calibrated to the shipped measurements only with at least this many runs: with fewer,
# leave-one-out prediction is worse than the stand-in's (Trn2's two runs: docs/sharding.md).
MIN_RUNS_TO_CALIBRATE = 5
Observable = Literal["output_tokens_per_s_per_chip", "step_ms"]


class Measurement(BaseModel):
    """One measured run and what it measured."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    accelerator: str = Field(min_length=1)
    model: Model
    tensor_parallel: int = Field(ge=1)
    pipeline_parallel: int = Field(default=1, ge=1)
    chips: int = Field(ge=1, description="Chips of the whole measured deployment (replicas × TP × PP).")
    input_tokens: int = Field(ge=1)
    output_tokens: int = Field(ge=1)
    batch: int | None = Field(default=None, ge=1, description="Concurrent sequences per replica, when fixed.")
    max_sequences: int | None = Field(default=None, ge=1)
    max_tokens_per_step: int | None = Field(default=None, ge=1)
    p99_ms_per_token: float | None = Field(default=None, gt=0)
    p99_ms_to_first_token: float | None = Field(default=None, gt=0)
    output_tokens_per_s: float | None = Field(default=None, gt=0)
    step_ms: float | None = Field(default=None, gt=0, description="Mean time per output token (TPOT).")
    watts: float | None = Field(default=None, gt=0, description="Measured power of the whole deployment.")
    workload: str | None = Field(default=None, description="The spec workload the run measured, when known.")
    source: str = Field(min_length=1)
    note: str = ""

    @model_validator(mode="after")
    def _measures_something(self) -> Measurement:
        if self.output_tokens_per_s is None and self.step_ms is None:
            raise ValueError("a measurement needs output_tokens_per_s or step_ms")
        if self.step_ms is not None and self.batch is None:
            raise ValueError("a measured step_ms needs the batch it was measured at")
        if self.chips % (self.tensor_parallel * self.pipeline_parallel):
            raise ValueError("chips must be a whole number of replicas of tensor_parallel × pipeline_parallel")
        return self

    @property
    def serving(self) -> Serving:
        """The run as the model sees it: context = input + half the output, on average."""
        return Serving(
            tokens_per_s=1.0,
            p99_ms_per_token=self.p99_ms_per_token or 1e7,
            context_tokens=self.input_tokens + self.output_tokens // 2,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            p99_ms_to_first_token=self.p99_ms_to_first_token,
            max_sequences_per_replica=self.max_sequences,
            max_tokens_per_step=self.max_tokens_per_step,
        )

    def observed(self) -> dict[Observable, float]:
        """What was measured, per chip where it is a rate."""
        values: dict[Observable, float] = {}
        if self.output_tokens_per_s is not None:
            values["output_tokens_per_s_per_chip"] = self.output_tokens_per_s / self.chips
        if self.step_ms is not None:
            values["step_ms"] = self.step_ms
        return values


def modelled(measurement: Measurement, accelerator: Accelerator) -> dict[Observable, float]:
    """The model's value of each observable of ``measurement`` on ``accelerator``.

    Throughput is one replica's at the run's batch (or at its largest feasible batch, when the run
    filled the engine), per chip. Complexity O(log B).

    Raises
    ------
    ShardingInfeasible
        When the run does not fit the model's memory or limits on this accelerator.
    """
    serving = measurement.serving
    t, p = measurement.tensor_parallel, measurement.pipeline_parallel
    shape = shape_of(measurement.model, serving, accelerator, t, p)
    limit = batch_limit(shape, serving)
    batch = measurement.batch if measurement.batch is not None else limit.batch
    if batch < 1:
        raise ShardingInfeasible(f"{measurement.id}: no batch fits on {accelerator.name} ({limit.binding})")
    iteration = shape.at(batch)
    values: dict[Observable, float] = {}
    if measurement.output_tokens_per_s is not None:
        values["output_tokens_per_s_per_chip"] = iteration.tokens_per_s / (t * p)
    if measurement.step_ms is not None:
        values["step_ms"] = iteration.step_s * 1000
    return values


def log_ratios(measurements: Iterable[Measurement], accelerator: Accelerator) -> list[float]:
    """ln(modelled / measured) of every observable; a run that cannot fit counts as ln 10."""
    out: list[float] = []
    for m in measurements:
        observed = m.observed()
        try:
            model = modelled(m, accelerator)
        except ShardingInfeasible:
            out.extend(math.log(10.0) for _ in observed)
            continue
        for key, value in observed.items():
            ratio = model[key] / value
            # a step is a time: a model that is too slow has a larger step, i.e. a smaller rate
            out.append(math.log(1 / ratio) if key == "step_ms" else math.log(ratio))
    return out


class FitResult(BaseModel):
    """The fitted efficiencies of one accelerator and how well they fit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accelerator: str
    values: dict[str, float]
    points: int = Field(ge=0)
    before: tuple[float, ...] = Field(description="ln(model/measured) of each observable with the prior.")
    after: tuple[float, ...] = Field(description="The same with the fitted values.")


def with_values(accelerator: Accelerator, values: Mapping[str, float]) -> Accelerator:
    """``accelerator`` with efficiency figures replaced (provenance untouched)."""
    return accelerator.model_copy(update=dict(values))


def default_prior(accelerator: Accelerator) -> Accelerator:
    """``accelerator`` with the model's default efficiencies: the starting point of an honest fit."""
    return with_values(
        accelerator,
        {
            "hbm_efficiency": perf.DEFAULT_HBM_EFFICIENCY,
            "compute_efficiency": perf.DEFAULT_COMPUTE_EFFICIENCY,
            "step_overhead_ms": perf.DEFAULT_STEP_OVERHEAD_MS,
            "sequence_overhead_us": perf.DEFAULT_SEQUENCE_OVERHEAD_US,
        },
    )


def fit(measurements: Sequence[Measurement], accelerator: Accelerator, prior_weight: float = PRIOR_WEIGHT) -> FitResult:
    """Fit ``hbm_efficiency``, ``compute_efficiency`` and ``step_overhead_ms`` of ``accelerator``.

    Parameters
    ----------
    measurements
        Runs on this accelerator (others are ignored).
    accelerator
        The prior: its current figures.
    prior_weight
        How hard the fit is pulled towards the prior (0: least squares on the measurements alone).

    Returns
    -------
    FitResult
        The fitted values and the log ratios before and after.

    Complexity: O(i · n · log B) for i solver iterations (tens) over n observables.
    """
    mine = [m for m in measurements if m.accelerator == accelerator.name]
    prior = np.array([getattr(accelerator, name) for name in FITTED], dtype=float)
    before = tuple(log_ratios(mine, accelerator))
    if not mine:
        return FitResult(
            accelerator=accelerator.name,
            values=dict(zip(FITTED, prior.tolist(), strict=True)),
            points=0,
            before=(),
            after=(),
        )
    low = np.array([BOUNDS[name][0] for name in FITTED])
    high = np.array([BOUNDS[name][1] for name in FITTED])
    scale = SCALE

    def residuals(x: np.ndarray) -> np.ndarray:
        values = dict(zip(FITTED, (x * scale).tolist(), strict=True))
        fitted = log_ratios(mine, with_values(accelerator, values))
        pull = prior_weight * (x * scale - prior) / np.maximum(prior, 1.0) * PULL
        return np.concatenate([np.array(fitted), pull])

    start = np.clip(prior, low + 1e-6, high - 1e-6) / scale
    solution = least_squares(residuals, start, bounds=(low / scale, high / scale), diff_step=1e-3)
    values = {name: round(float(v), 4) for name, v in zip(FITTED, solution.x * scale, strict=True)}
    after = tuple(log_ratios(mine, with_values(accelerator, values)))
    return FitResult(accelerator=accelerator.name, values=values, points=len(after), before=before, after=after)


# The chip whose fit stands in for chips without enough runs: the best-measured, vendor-optimised stack
# (TensorRT-LLM on H100), so an unmeasured chip compared with it is compared at equal software efficiency.
STAND_IN_REFERENCE = "h100-sxm"


def calibrated_chips(measurements: Sequence[Measurement]) -> list[str]:
    """The chips with enough runs to be calibrated to them (:data:`MIN_RUNS_TO_CALIBRATE`), sorted."""
    counts: dict[str, int] = {}
    for m in measurements:
        counts[m.accelerator] = counts.get(m.accelerator, 0) + 1
    return sorted(name for name, count in counts.items() if count >= MIN_RUNS_TO_CALIBRATE)


class Statistics(BaseModel):
    """How close a model is to a set of measurements."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    points: int
    within_1_5x: float = Field(description="Share of observables within a factor 1.5 of the measurement.")
    within_2x: float
    geometric_mean_ratio: float = Field(description="Geometric mean of modelled / measured (rates).")
    worst_ratio: float = Field(description="The furthest ratio from 1, as modelled / measured.")


def statistics(ratios: Sequence[float]) -> Statistics:
    """Summary of log ratios ln(model/measured). Complexity O(n)."""
    if not ratios:
        return Statistics(points=0, within_1_5x=0.0, within_2x=0.0, geometric_mean_ratio=1.0, worst_ratio=1.0)
    n = len(ratios)
    worst = max(ratios, key=abs)
    return Statistics(
        points=n,
        within_1_5x=sum(abs(r) <= math.log(1.5) for r in ratios) / n,
        within_2x=sum(abs(r) <= math.log(2.0) for r in ratios) / n,
        geometric_mean_ratio=math.exp(sum(ratios) / n),
        worst_ratio=math.exp(worst),
    )


@cache
def builtin_measurements() -> tuple[Measurement, ...]:
    """The public measured results shipped in ``data/measurements.yaml``."""
    text = resources.files("planner").joinpath("data/measurements.yaml").read_text(encoding="utf-8")
    return parse_measurements(yaml.safe_load(text))


def parse_measurements(data: Mapping[str, Any]) -> tuple[Measurement, ...]:
    """Measurements from the ``measurements.yaml`` layout (sources, models, measurements)."""
    sources: Mapping[str, Mapping[str, str]] = data.get("sources", {})
    models: Mapping[str, Mapping[str, Any]] = data.get("models", {})
    out = []
    for row in data["measurements"]:
        record = dict(row)
        model = record.pop("model")
        record["model"] = models[model] if isinstance(model, str) else model
        source = record["source"]
        if source in sources:
            s = sources[source]
            record["source"] = f"{s['title']}, {s['url']} (read {s['retrieved']})"
        out.append(Measurement.model_validate(record))
    return tuple(out)


def cross_validated(
    measurements: Sequence[Measurement], catalog: Mapping[str, Accelerator], group: str = "model"
) -> list[float]:
    """Leave-one-group-out log ratios: each group of runs (same chip and model, or ``"id"``: each run)
    of a calibrated chip is predicted by a fit, from the default prior, to the other runs of its chip.
    Complexity O(g · fit)."""
    calibrated = set(calibrated_chips(measurements))
    measurements = [m for m in measurements if m.accelerator in calibrated]
    key = (lambda m: m.id) if group == "id" else (lambda m: (m.accelerator, m.model.params_b, m.model.dtype))
    out: list[float] = []
    for value in sorted({key(m) for m in measurements}, key=str):
        held = [m for m in measurements if key(m) == value]
        rest = [m for m in measurements if key(m) != value]
        accelerator = catalog[held[0].accelerator]
        result = fit(rest, default_prior(accelerator))
        out.extend(log_ratios(held, with_values(accelerator, result.values)))
    return out


def stand_in_predictions(measurements: Sequence[Measurement], catalog: Mapping[str, Accelerator]) -> list[float]:
    """Log ratios of ``measurements`` of every chip but the stand-in reference, predicted with the
    reference's fit to the shipped runs alone (from the default prior): how well an unmeasured chip is
    modelled. Complexity O(fit)."""
    reference = fit(builtin_measurements(), default_prior(catalog[STAND_IN_REFERENCE]))
    out: list[float] = []
    for name in sorted({m.accelerator for m in measurements} - {STAND_IN_REFERENCE}):
        mine = [m for m in measurements if m.accelerator == name]
        out.extend(log_ratios(mine, with_values(catalog[name], reference.values)))
    return out


def calibrate_catalog(measurements: Sequence[Measurement], catalog: Mapping[str, Accelerator]) -> dict[str, FitResult]:
    """Fit every accelerator that ``measurements`` name, each from its figures in ``catalog``.

    Raises
    ------
    KeyError
        When a measurement names an accelerator the catalog does not have.
    """
    names = sorted({m.accelerator for m in measurements})
    return {name: fit(measurements, catalog[name]) for name in names}


def catalog_override(results: Mapping[str, FitResult]) -> dict[str, dict[str, float]]:
    """The ``catalog:`` section that applies ``results``: accelerator -> fitted figures."""
    return {name: dict(result.values) for name, result in sorted(results.items()) if result.points}
