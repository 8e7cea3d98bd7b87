"""Check a vendor's performance claim against the model: ratio, basis, verdict.

A claim reads ``"<subject> vs <reference> <metric> <op> <threshold>"``, e.g. the seed's
``"maia-100 vs h100-sxm tokens_per_joule >= 1.4"`` (40 % better performance per watt). For every
workload of a spec, both accelerators are sharded (:func:`planner.sharding.shard`, with the spec's
catalog) and the metric's ratio subject / reference is taken; overall, the workloads' totals.

Each side has a *basis*: ``calibrated`` when its efficiencies were fitted to measured runs (the
built-in fits of planner/data/measurements.yaml, or a spec's ``catalog:`` written by ``maiaplan
calibrate``), ``datasheet`` when they are a stand-in (Maia: no public measured LLM throughput). The
verdict allows for the model's error on that basis: a claim *holds* when the ratio meets the threshold
even divided by the uncertainty factor, *does not hold* when it misses even multiplied by it, and
otherwise *cannot be judged*, with the measurement that would settle it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
Basis = Literal["datasheet", "calibrated"]
Verdict = Literal["holds", "does not hold", "cannot be judged"]
DEFAULT_CLAIM = "maia-100 vs h100-sxm tokens_per_joule >= 1.4"
# The factor by which a modelled ratio may be off, by the weaker side's basis: the calibrated model's
# cross-validated error on measured points (docs/benchmarks.md) and, for a stand-in, the spread between
# the fitted chips' efficiencies.
UNCERTAINTY: dict[Basis, float] = {"calibrated": 1.15, "datasheet": 1.5}
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
    verdict: Verdict
    note: str = ""


class ClaimResult(BaseModel):
    """A claim judged over a spec's workloads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str
    basis: Basis = Field(description="The weaker of the two sides' bases.")
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


def _value(metric: Metric, choices: Sequence[ShardingChoice]) -> float:
    tokens = sum(c.tokens_per_s for c in choices)
    if metric == "tokens_per_joule":
        return tokens / sum(c.watts for c in choices)
    if metric == "tokens_per_joule_tdp":
        return tokens / sum(c.tokens_per_s / c.tokens_per_joule_tdp for c in choices)
    if metric == "usd_per_million_tokens":
        return sum(c.usd_per_hour for c in choices) / (tokens * 3600) * 1e6
    return tokens / sum(c.chips for c in choices)


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


def evaluate_claim(spec: MigrationSpec, claim: Claim) -> ClaimResult:
    """Judge ``claim`` on every workload of ``spec`` and overall.

    Complexity: two shardings per workload (cached per model, serving and chip).
    """
    accelerators = spec.accelerators
    subject, reference = accelerators[claim.subject], accelerators[claim.reference]
    subject_basis, reference_basis = basis_of(subject), basis_of(reference)
    basis: Basis = "calibrated" if subject_basis == reference_basis == "calibrated" else "datasheet"
    uncertainty = UNCERTAINTY[basis]
    rows: list[WorkloadRatio] = []
    pairs: list[tuple[ShardingChoice, ShardingChoice]] = []
    for workload in spec.workloads:
        a, b = _choice(workload, subject), _choice(workload, reference)
        if isinstance(a, str) or isinstance(b, str):
            rows.append(
                WorkloadRatio(
                    workload=workload.name,
                    subject_value=None,
                    reference_value=None,
                    ratio=None,
                    verdict="cannot be judged",
                    note=a if isinstance(a, str) else str(b),
                )
            )
            continue
        pairs.append((a, b))
        value_a, value_b = _value(claim.metric, [a]), _value(claim.metric, [b])
        ratio = value_a / value_b
        rows.append(
            WorkloadRatio(
                workload=workload.name,
                subject_value=value_a,
                reference_value=value_b,
                ratio=ratio,
                verdict=_verdict(claim, ratio, uncertainty),
            )
        )
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
        example = next((a for a, _ in pairs), None)
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
            settle += "; record each chip's power draw during the run (BMC or PDU) to replace the watt figures"
    return ClaimResult(
        claim=claim.text,
        basis=basis,
        subject_basis=subject_basis,
        reference_basis=reference_basis,
        watt_basis=(
            f"{subject.name}: {subject.watt_basis} {subject.serving_power_w:g} W; "
            f"{reference.name}: {reference.watt_basis} {reference.serving_power_w:g} W"
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
