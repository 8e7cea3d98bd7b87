"""Gates: the machine-readable checks a traffic step must pass before the next step.

A gate is judged the way Argo Rollouts' analysis and Flagger's canary checks judge a canary: a
PromQL query evaluated at every ``interval_s`` over the last ``window_s`` seconds, each value
compared with a threshold; more than ``failure_limit`` failing values fail the gate; fewer than
``min_samples`` observations behind the values, or a window the metrics do not cover yet, leave it
inconclusive. This module only says *what* to check (pure data, in the plan); the app layer
(:mod:`maiaplan.rollout`) asks Prometheus and decides.

Defaults come from the workload's SLOs over the metrics vLLM's OpenAI-compatible server exports at
``/metrics`` (histograms ``vllm:time_per_output_token_seconds`` and
``vllm:time_to_first_token_seconds``, the counter ``vllm:request_success_total`` by
``finished_reason``); ``migration.gates`` in the spec overrides a default by its name or adds a
check of its own (a gateway's error rate, say).

A query is a template (:class:`string.Template`): the planner fills ``${workload}``, ``${cluster}``
(the destination), ``${source}``, ``${phase}``, ``${step}``, ``${window}`` and ``${interval}``
(PromQL durations); ``${selector}``, the label matchers of the workload's series on the destination,
is left for the deployment layer, whose provider adapter knows how a cluster's series are labelled.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from planner.spec import Migration, Workload

Comparator = Literal["<=", "<", ">=", ">"]

P99_TIME_PER_OUTPUT_TOKEN = "p99-time-per-output-token"
P99_TIME_TO_FIRST_TOKEN = "p99-time-to-first-token"
ERROR_RATE = "error-rate"
DEFAULT_CHECK_NAMES = (P99_TIME_PER_OUTPUT_TOKEN, P99_TIME_TO_FIRST_TOKEN, ERROR_RATE)

PLACEHOLDERS = ("workload", "cluster", "source", "phase", "step", "window", "interval", "selector")
"""Every name a query template may use; ``selector`` is filled by the deployment layer."""
SELECTOR = "selector"

DEFAULT_WINDOW_S = 600
DEFAULT_INTERVAL_S = 60
DEFAULT_FAILURE_LIMIT = 1
MAX_VALUES_PER_WINDOW = 11_000
"""Prometheus refuses range queries of more points per series than this."""
DEFAULT_MIN_SAMPLES = 500
"""Observations behind a window's values: a p99 over 500 rests on five tail observations."""

# vLLM's finished_reason values that are not a served answer (v0: abort; v1 adds error).
_FAILED_REASONS = "abort|error"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def passes(value: float, comparator: Comparator, threshold: float) -> bool:
    """Whether one measured ``value`` satisfies ``value <comparator> threshold``.

    Complexity: O(1).
    """
    if comparator == "<=":
        return value <= threshold
    if comparator == "<":
        return value < threshold
    if comparator == ">=":
        return value >= threshold
    return value > threshold


def template_names(template: str) -> list[str]:
    """The placeholder names a query template uses.

    Raises
    ------
    ValueError
        When it uses a name outside :data:`PLACEHOLDERS` or a malformed ``$``.
    """
    parsed = string.Template(template)
    if not parsed.is_valid():
        raise ValueError(f"has a malformed placeholder in {template!r}: write ${{name}}, and $$ for a literal $")
    names = parsed.get_identifiers()
    unknown = sorted(set(names) - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(
            f"uses unknown placeholder(s) {', '.join('${' + n + '}' for n in unknown)}; "
            f"known: {', '.join('${' + n + '}' for n in PLACEHOLDERS)}"
        )
    return names


def fill(template: str, values: dict[str, str]) -> str:
    """``template`` with the placeholders of ``values`` filled, the others left as they are."""
    return string.Template(template).safe_substitute(values)


class GateRule(_Model):
    """One entry of ``migration.gates``: overrides the default check of the same name, or adds one.

    A new check (a name that is not one of :data:`DEFAULT_CHECK_NAMES`) needs ``query``,
    ``comparator`` and ``threshold``; an override sets only what it changes.
    """

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    metric: str | None = Field(default=None, min_length=1, description="What the query measures (for reports).")
    query: str | None = Field(default=None, min_length=1, description="PromQL template, one value per evaluation.")
    samples_query: str | None = Field(
        default=None, min_length=1, description="PromQL template: observations behind the window's values."
    )
    comparator: Comparator | None = None
    threshold: float | None = None
    window_s: int | None = Field(default=None, ge=1, le=7 * 86400)
    interval_s: int | None = Field(default=None, ge=1, le=86400)
    min_samples: int | None = Field(default=None, ge=0)
    failure_limit: int | None = Field(default=None, ge=0)

    @field_validator("query", "samples_query")
    @classmethod
    def _known_placeholders(cls, template: str | None) -> str | None:
        if template is not None:
            template_names(template)
        return template

    @model_validator(mode="after")
    def _new_checks_are_complete(self) -> GateRule:
        if self.name not in DEFAULT_CHECK_NAMES:
            missing = [key for key in ("query", "comparator", "threshold") if getattr(self, key) is None]
            if missing:
                raise ValueError(
                    f"gate '{self.name}' is not a default check ({', '.join(DEFAULT_CHECK_NAMES)}), so it needs "
                    f"{', '.join(missing)}"
                )
        window_s, interval_s = self.window_s or DEFAULT_WINDOW_S, self.interval_s or DEFAULT_INTERVAL_S
        if interval_s > window_s:
            raise ValueError(f"interval_s {interval_s} is longer than window_s {window_s}")
        if window_s // interval_s > MAX_VALUES_PER_WINDOW:
            raise ValueError(
                f"window_s {window_s} / interval_s {interval_s} asks for more than the {MAX_VALUES_PER_WINDOW} "
                "values Prometheus returns per series in one range query; lengthen interval_s"
            )
        return self


class GateCheck(_Model):
    """One check of one traffic step of one move, as the plan carries it."""

    name: str
    metric: str
    workload: str
    cluster: str = Field(description="The move's destination, whose series the check reads.")
    query: str = Field(description="PromQL, filled but for ${selector} (the destination's label matchers).")
    samples_query: str | None = Field(description="PromQL: observations behind the window (None: count values).")
    comparator: Comparator
    threshold: float
    window_s: int = Field(ge=1)
    interval_s: int = Field(ge=1)
    min_samples: int = Field(ge=0)
    failure_limit: int = Field(ge=0)

    def sentence(self) -> str:
        """The check in words, e.g. for ``explain``."""
        return (
            f"{self.name}: {self.metric} {self.comparator} {self.threshold:g} every {self.interval_s}s over "
            f"{self.window_s}s, at most {self.failure_limit} failing, at least {self.min_samples} samples"
        )


def _histogram_p99(metric: str) -> str:
    return f"histogram_quantile(0.99, sum by (le) (rate({metric}_bucket{{${{selector}}}}[${{interval}}])))"


def _histogram_count(metric: str) -> str:
    return f"sum(increase({metric}_count{{${{selector}}}}[${{window}}]))"


def default_rules(workload: Workload, migration: Migration) -> list[GateRule]:
    """The default checks of ``workload``'s traffic steps, before ``migration.gates`` applies.

    The first-token check has no threshold when the workload gives no ``p99_ms_to_first_token``.

    Complexity: O(1).
    """
    rules = [
        GateRule(
            name=P99_TIME_PER_OUTPUT_TOKEN,
            metric="vllm:time_per_output_token_seconds",
            query=_histogram_p99("vllm:time_per_output_token_seconds"),
            samples_query=_histogram_count("vllm:time_per_output_token_seconds"),
            comparator="<=",
            threshold=workload.serving.p99_ms_per_token / 1000,
        )
    ]
    first_token_ms = workload.serving.p99_ms_to_first_token
    rules.append(
        GateRule(
            name=P99_TIME_TO_FIRST_TOKEN,
            metric="vllm:time_to_first_token_seconds",
            query=_histogram_p99("vllm:time_to_first_token_seconds"),
            samples_query=_histogram_count("vllm:time_to_first_token_seconds"),
            comparator="<=",
            # No first-token SLO: no check, unless migration.gates gives this check a threshold.
            threshold=first_token_ms / 1000 if first_token_ms is not None else None,
        )
    )
    rules.append(
        GateRule(
            name=ERROR_RATE,
            metric="vllm:request_success_total",
            # `or vector(0)`: a server that never failed a request may export no failed-reason series.
            query=(
                f'(sum(rate(vllm:request_success_total{{${{selector}},finished_reason=~"{_FAILED_REASONS}"}}'
                "[${interval}])) or vector(0)) / sum(rate(vllm:request_success_total{${selector}}[${interval}]))"
            ),
            samples_query="sum(increase(vllm:request_success_total{${selector}}[${window}]))",
            comparator="<=",
            threshold=migration.gate_max_error_rate,
        )
    )
    return rules


def _merge(base: GateRule, override: GateRule) -> GateRule:
    given = override.model_dump(exclude_none=True)
    return base.model_copy(update=given)


def step_checks(
    workload: Workload, migration: Migration, source: str, destination: str, phase: int, percent: int
) -> tuple[GateCheck, ...]:
    """The checks of one traffic step: the defaults from the SLOs, then ``migration.gates``.

    Parameters
    ----------
    workload
        The moving workload (its SLOs give the default thresholds).
    migration
        The spec's ``migration`` (error-rate bound, extra or overriding gates).
    source, destination
        The move's clusters; the checks read the destination's series.
    phase, percent
        The move's phase and the traffic step the checks gate.

    Returns
    -------
    tuple of GateCheck
        Defaults first, in :data:`DEFAULT_CHECK_NAMES` order, then added checks in spec order.

    Complexity: O(d + g) for d default checks and g gates in the spec.
    """
    rules = {rule.name: rule for rule in default_rules(workload, migration)}
    for rule in migration.gates:
        rules[rule.name] = _merge(rules[rule.name], rule) if rule.name in rules else rule
    checks = []
    for rule in rules.values():
        if rule.query is None or rule.comparator is None or rule.threshold is None:
            continue  # the first-token check of a workload without that SLO
        window_s = rule.window_s or DEFAULT_WINDOW_S
        interval_s = min(rule.interval_s or DEFAULT_INTERVAL_S, window_s)
        values = {
            "workload": workload.name,
            "cluster": destination,
            "source": source,
            "phase": str(phase),
            "step": str(percent),
            "window": f"{window_s}s",
            "interval": f"{interval_s}s",
        }
        checks.append(
            GateCheck(
                name=rule.name,
                metric=rule.metric or rule.name,
                workload=workload.name,
                cluster=destination,
                query=fill(rule.query, values),
                samples_query=fill(rule.samples_query, values) if rule.samples_query else None,
                comparator=rule.comparator,
                threshold=rule.threshold,
                window_s=window_s,
                interval_s=interval_s,
                min_samples=DEFAULT_MIN_SAMPLES if rule.min_samples is None else rule.min_samples,
                failure_limit=DEFAULT_FAILURE_LIMIT if rule.failure_limit is None else rule.failure_limit,
            )
        )
    return tuple(checks)
