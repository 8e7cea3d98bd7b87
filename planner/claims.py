"""Check a vendor's performance claim against the model: ratio, basis, verdict.

A claim reads ``"<subject> vs <reference> <metric> <op> <threshold>"``, e.g. the seed's
``"maia-100 vs h100-sxm tokens_per_joule >= 1.4"`` (40 % better performance per watt). For every
workload of a spec, both accelerators are sharded (:func:`planner.sharding.shard`, with the spec's
catalog) and the metric's ratio subject / reference is taken; overall, the workloads' totals.

Each side has a *basis*: ``measured`` when runs of that workload on that chip were given (their
throughput, and for tokens per joule their measured power, replace the model), ``calibrated`` when
its efficiencies were fitted to measured runs (the built-in fits of planner/data/measurements.yaml,
or a spec's ``catalog:`` written by ``maiaplan calibrate``), ``datasheet`` when they are a stand-in
(Maia: no public measured LLM throughput). The verdict allows for the error of the weaker basis: a
claim *holds* when the ratio meets the threshold even divided by the uncertainty factor, *does not
hold* when it misses even multiplied by it, and otherwise *cannot be judged*, with the measurement
that would settle it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from planner.calibration import Measurement
from planner.catalog import Accelerator
from planner.sharding import ShardingChoice, ShardingInfeasible, shard
from planner.spec import MigrationSpec, Workload

Metric = Literal["tokens_per_joule", "tokens_per_joule_tdp", "usd_per_million_tokens", "tokens_per_s_per_chip"]
METRICS: tuple[Metric, ...] = (
    "tokens_per_joule",
    "tokens_per_joule_tdp",
    "usd_per_million_tokens",
    "tokens_per_s_per_chip",
)
Operator = Literal[">=", ">", "<=", "<"]
Basis = Literal["datasheet", "calibrated", "measured"]
BASIS_RANK: dict[Basis, int] = {"datasheet": 0, "calibrated": 1, "measured": 2}
Verdict = Literal["holds", "does not hold", "cannot be judged"]
DEFAULT_CLAIM = "maia-100 vs h100-sxm tokens_per_joule >= 1.4"
# The factor by which a modelled ratio may be off, by the weaker side's basis: the calibrated model's
# cross-validated error on measured points (docs/benchmarks.md) and, for a stand-in, the spread between
# the fitted chips' efficiencies.
UNCERTAINTY: dict[Basis, float] = {"measured": 1.05, "calibrated": 1.15, "datasheet": 1.5}
_CLAIM = re.compile(r"^\s*(\S+)\s+vs\s+(\S+)\s+(\w+)\s*(>=|<=|>|<)\s*([0-9]*\.?[0-9]+)\s*$")


class Claim(BaseModel):
    """One claim: subject's metric over reference's metric compared with a threshold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str
    reference: str
    metric: Metric
    operator: Operator
    threshold: float = Field(gt=0)

    @property
    def text(self) -> str:
        return f"{self.subject} vs {self.reference} {self.metric} {self.operator} {self.threshold:g}"


def parse_claim(text: str, accelerators: Mapping[str, Accelerator]) -> Claim:
    """A claim from its text.

    Raises
    ------
    ValueError
        When the text does not read ``A vs B metric op number``, or names an unknown accelerator or metric.
    """
    found = _CLAIM.match(text)
    if not found:
        raise ValueError(f"'{text}' does not read '<accelerator> vs <accelerator> <metric> <op> <number>'")
    subject, reference, metric, operator, threshold = found.groups()
    for name in (subject, reference):
        if name not in accelerators:
            raise ValueError(f"'{name}' is not in the catalog ({', '.join(accelerators)})")
    if metric not in METRICS:
        raise ValueError(f"'{metric}' is not a metric ({', '.join(METRICS)})")
    return Claim.model_validate(
        {"subject": subject, "reference": reference, "metric": metric, "operator": operator, "threshold": threshold}
    )


class WorkloadRatio(BaseModel):
    """The claim's ratio for one workload, or why it has none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: str
    subject_value: float | None
    reference_value: float | None
    ratio: float | None
    basis: Basis
    verdict: Verdict
    note: str = ""


class ClaimResult(BaseModel):
    """A claim judged over a spec's workloads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str
    basis: Basis = Field(description="The weakest basis among the workloads' two sides.")
    subject_basis: Basis
    reference_basis: Basis
    watt_basis: str = Field(description="Which watt figure each side's tokens/J uses.")
    uncertainty: float
    ratio: float | None = Field(description="Overall: the workloads' totals, subject over reference.")
    verdict: Verdict
    settle: str = Field(description="What measurement would settle a claim that cannot be judged.")
    workloads: tuple[WorkloadRatio, ...]


def basis_of(accelerator: Accelerator) -> Basis:
    """``calibrated`` when the chip's efficiencies come from a fit to measurements, else ``datasheet``."""
    return "datasheet" if accelerator.provenance["hbm_efficiency"].estimate else "calibrated"


@dataclass(frozen=True)
class _Side:
    """One accelerator's totals for one workload: tokens/s, watts on its basis and on TDP, chips, $/h."""

    tokens_per_s: float
    watts: float
    watts_tdp: float
    chips: float
    usd_per_hour: float
    basis: Basis

    @staticmethod
    def modelled(choice: ShardingChoice, basis: Basis) -> _Side:
        return _Side(
            tokens_per_s=choice.tokens_per_s,
            watts=choice.watts,
            watts_tdp=choice.tokens_per_s / choice.tokens_per_joule_tdp,
            chips=choice.chips,
            usd_per_hour=choice.usd_per_hour,
            basis=basis,
        )


def _value(metric: Metric, sides: Sequence[_Side]) -> float:
    tokens = sum(s.tokens_per_s for s in sides)
    if metric == "tokens_per_joule":
        return tokens / sum(s.watts for s in sides)
    if metric == "tokens_per_joule_tdp":
        return tokens / sum(s.watts_tdp for s in sides)
    if metric == "usd_per_million_tokens":
        return sum(s.usd_per_hour for s in sides) / (tokens * 3600) * 1e6
    return tokens / sum(s.chips for s in sides)


def _measured(metric: Metric, runs: Sequence[Measurement], accelerator: Accelerator) -> _Side | None:
    """The runs' totals as a side, when they measure what ``metric`` needs (power for tokens/J)."""
    rated = [m for m in runs if m.output_tokens_per_s is not None]
    if not rated or metric == "tokens_per_joule_tdp":
        return None
    if metric == "tokens_per_joule" and any(m.watts is None for m in rated):
        return None
    chips = sum(m.chips for m in rated)
    return _Side(
        tokens_per_s=sum(m.output_tokens_per_s or 0.0 for m in rated),
        watts=sum(m.watts or 0.0 for m in rated),
        watts_tdp=chips * accelerator.tdp_w,
        chips=chips,
        usd_per_hour=chips * accelerator.price_per_chip_hour_usd,
        basis="measured",
    )


def _weakest(bases: Sequence[Basis]) -> Basis:
    return min(bases, key=lambda b: BASIS_RANK[b])


def _verdict(claim: Claim, ratio: float, uncertainty: float) -> Verdict:
    def meets(value: float) -> bool:
        op = claim.operator
        t = claim.threshold
        return value >= t if op == ">=" else value > t if op == ">" else value <= t if op == "<=" else value < t

    pessimistic, optimistic = (ratio / uncertainty, ratio * uncertainty)
    if claim.operator in ("<=", "<"):
        pessimistic, optimistic = optimistic, pessimistic
    if meets(pessimistic):
        return "holds"
    if not meets(optimistic):
        return "does not hold"
    return "cannot be judged"


def _choice(workload: Workload, accelerator: Accelerator) -> ShardingChoice | str:
    try:
        return shard(workload, accelerator)
    except ShardingInfeasible as error:
        return f"{workload.name} {error}"


def evaluate_claim(spec: MigrationSpec, claim: Claim, measurements: Sequence[Measurement] = ()) -> ClaimResult:
    """Judge ``claim`` on every workload of ``spec`` and overall.

    Parameters
    ----------
    spec
        The spec: its workloads and catalog.
    claim
        The claim.
    measurements
        Measured runs (``maiaplan calibrate``'s readers); a workload measured on a side takes that
        side's throughput (and power) from them instead of from the model.

    Complexity: two shardings per workload (cached per model, serving and chip) plus O(runs).
    """
    accelerators = spec.accelerators
    subject, reference = accelerators[claim.subject], accelerators[claim.reference]
    subject_basis, reference_basis = basis_of(subject), basis_of(reference)
    rows: list[WorkloadRatio] = []
    pairs: list[tuple[_Side, _Side]] = []
    examples: list[ShardingChoice] = []
    for workload in spec.workloads:
        sides: list[_Side | str] = []
        for accelerator, basis in ((subject, subject_basis), (reference, reference_basis)):
            runs = [m for m in measurements if m.workload == workload.name and m.accelerator == accelerator.name]
            measured = _measured(claim.metric, runs, accelerator)
            if measured is not None:
                sides.append(measured)
                continue
            choice = _choice(workload, accelerator)
            if isinstance(choice, ShardingChoice) and accelerator is subject:
                examples.append(choice)
            sides.append(choice if isinstance(choice, str) else _Side.modelled(choice, basis))
        a, b = sides
        if isinstance(a, str) or isinstance(b, str):
            note = a if isinstance(a, str) else str(b)
            rows.append(
                WorkloadRatio(
                    workload=workload.name,
                    subject_value=None,
                    reference_value=None,
                    ratio=None,
                    basis=_weakest([subject_basis, reference_basis]),
                    verdict="cannot be judged",
                    note=note,
                )
            )
            continue
        pairs.append((a, b))
        basis = _weakest([a.basis, b.basis])
        value_a, value_b = _value(claim.metric, [a]), _value(claim.metric, [b])
        ratio = value_a / value_b
        rows.append(
            WorkloadRatio(
                workload=workload.name,
                subject_value=value_a,
                reference_value=value_b,
                ratio=ratio,
                basis=basis,
                verdict=_verdict(claim, ratio, UNCERTAINTY[basis]),
            )
        )
    overall_basis = _weakest([r.basis for r in rows] or [_weakest([subject_basis, reference_basis])])
    uncertainty = UNCERTAINTY[overall_basis]
    overall = None
    verdict: Verdict = "cannot be judged"
    if pairs:
        overall = _value(claim.metric, [a for a, _ in pairs]) / _value(claim.metric, [b for _, b in pairs])
        verdict = _verdict(claim, overall, uncertainty)
    settle = ""
    if verdict == "cannot be judged":
        unmeasured = [
            name
            for name, side in ((claim.subject, subject_basis), (claim.reference, reference_basis))
            if side == "datasheet"
        ]
        who = " and ".join(unmeasured) or f"{claim.subject} and {claim.reference}"
        example = examples[0] if examples else None
        how = (
            f" (e.g. {example.workload} at TP {example.tensor_parallel}, concurrency {example.batch_per_replica})"
            if example is not None
            else ""
        )
        settle = (
            f"run vLLM benchmark_serving.py --save-result on {who}{how} for the spec's workloads, "
            "then maiaplan calibrate SPEC --results FILE --out FILE and put the result under the spec's catalog:"
        )
        if claim.metric.startswith("tokens_per_joule"):
            settle += (
                "; record each deployment's power during the run (BMC or PDU; --metadata watts=...) and pass the "
                "files to maiaplan claims --results to judge on measured tokens per joule"
            )
    return ClaimResult(
        claim=claim.text,
        basis=overall_basis,
        subject_basis=subject_basis,
        reference_basis=reference_basis,
        watt_basis=(
            f"{subject.name}: {subject.watt_basis} {subject.serving_power_w:g} W; "
            f"{reference.name}: {reference.watt_basis} {reference.serving_power_w:g} W"
            + ("; measured watts where runs give them" if measurements else "")
            if claim.metric == "tokens_per_joule"
            else f"both on TDP ({subject.tdp_w:g} W, {reference.tdp_w:g} W)"
            if claim.metric == "tokens_per_joule_tdp"
            else "not a power metric"
        ),
        uncertainty=uncertainty,
        ratio=overall,
        verdict=verdict,
        settle=settle,
        workloads=tuple(rows),
    )


def evaluate_default_claim(spec: MigrationSpec) -> ClaimResult:
    """Judge the seed's claim (:data:`DEFAULT_CLAIM`: Maia's 40 % better perf/W over H100) on ``spec``.

    The plan's review document and the HTML report both show this verdict.
    """
    return evaluate_claim(spec, parse_claim(DEFAULT_CLAIM, spec.accelerators))
