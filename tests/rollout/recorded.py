"""Recorded vLLM metrics for the gate tests: OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.

Each series is what a vLLM server's /metrics would have exported every ``SCRAPE_S`` seconds:
the histograms ``vllm:time_per_output_token_seconds`` and ``vllm:time_to_first_token_seconds``
(vLLM's bucket bounds) and the counter ``vllm:request_success_total`` by ``finished_reason``,
labelled as the deployment adapters say a workload's series on a cluster are labelled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

SCRAPE_S = 15
TPOT_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


@dataclass(frozen=True)
class Traffic:
    """What one scrape interval of a workload on a cluster saw."""

    requests: int
    """Requests finished (each also one time-per-output-token and one first-token observation here)."""
    slow_share: float = 0.0
    """Share of observations at 0.09 s per token (in the 0.1 bucket): a latency breach when above 1 %."""
    aborted_share: float = 0.0


Profile = Callable[[str, int], Traffic | None]
"""(workload, unix time) -> that interval's traffic, or None when the server exported nothing."""


def _labels(labels: Mapping[str, str], **extra: str) -> str:
    pairs = {**labels, **extra}
    return "{" + ",".join(f'{key}="{value}"' for key, value in pairs.items()) + "}"


def openmetrics(series: Mapping[str, Mapping[str, str]], start: int, end: int, profile: Profile) -> str:
    """The OpenMetrics text of every workload's series from ``start`` to ``end`` (unix seconds).

    ``series`` maps each workload to the labels of its series.
    """
    times = range(start, end, SCRAPE_S)
    families: list[str] = []
    for family, buckets, slow_value in (
        ("vllm:time_per_output_token_seconds", TPOT_BUCKETS, 0.09),
        ("vllm:time_to_first_token_seconds", TTFT_BUCKETS, 0.09),
    ):
        lines = [f"# TYPE {family} histogram"]
        for workload, labels in series.items():
            counts = [0.0] * (len(buckets) + 1)
            total_sum = 0.0
            for t in times:
                traffic = profile(workload, t)
                if traffic is None:
                    continue
                slow = round(traffic.requests * traffic.slow_share)
                fast = traffic.requests - slow
                for index, bound in enumerate((*buckets, float("inf"))):
                    counts[index] += fast * (bound >= buckets[0]) + slow * (bound >= slow_value)
                total_sum += fast * buckets[0] * 0.8 + slow * slow_value
                for index, bound in enumerate(buckets):
                    lines.append(f"{family}_bucket{_labels(labels, le=f'{bound:g}')} {counts[index]:g} {t}")
                lines.append(f"{family}_bucket{_labels(labels, le='+Inf')} {counts[-1]:g} {t}")
                lines.append(f"{family}_count{_labels(labels)} {counts[-1]:g} {t}")
                lines.append(f"{family}_sum{_labels(labels)} {total_sum:.6f} {t}")
        families += lines
    lines = ["# TYPE vllm:request_success counter"]
    for workload, labels in series.items():
        for reason in ("stop", "abort"):
            total = 0
            for t in times:
                traffic = profile(workload, t)
                if traffic is None:
                    continue
                aborted = round(traffic.requests * traffic.aborted_share)
                total += aborted if reason == "abort" else traffic.requests - aborted
                lines.append(f"vllm:request_success_total{_labels(labels, finished_reason=reason)} {total} {t}")
    families += lines
    return "\n".join([*families, "# EOF", ""])


def workload_series(pairs: Sequence[tuple[str, Mapping[str, str]]]) -> dict[str, Mapping[str, str]]:
    return dict(pairs)
