"""The sizes maiaplan refuses up front, so that a spec too big for the machine fails in a second, clearly,
instead of in a MemoryError after minutes.

Each limit sits well above the sizes the planner is built and benchmarked for (docs/benchmarks.md:
10,000 workloads on 1,000 clusters of 1,000,000 chips planned in a minute) and below the sizes that
exhaust a 4 GB machine. They are checked on the parsed data, before the models are built, in O(size
of the top-level lists).

- :data:`MAX_PLAN_WORKLOADS` workloads: the spec loader refuses more, so every command does
  (``validate`` says "valid" only for what will plan).
- :data:`MAX_PLACE_CLUSTER_CHIPS` chips in one cluster: ``place`` builds a cluster's chip graph
  (about 1.5 kB of memory per chip), so it refuses a bigger cluster; the other commands count chips
  and accept any size.
"""

from __future__ import annotations

MAX_PLAN_WORKLOADS = 20_000
"""Workloads of one spec the planning commands accept (twice the planner's 10,000-workload target)."""

MAX_PLACE_CLUSTER_CHIPS = 1_048_576
"""Chips of one cluster ``place`` accepts: 2**20, a graph of about 1.5 GB."""


def workloads_over_limit(count: int) -> tuple[str, str] | None:
    """(problem, fix) when ``count`` workloads are more than the planning commands accept, else None."""
    if count <= MAX_PLAN_WORKLOADS:
        return None
    return (
        f"has {count:,} workloads, more than the {MAX_PLAN_WORKLOADS:,} maiaplan plans in one spec "
        "(a bigger fleet would exhaust memory before it finished)",
        f"split the spec into specs of at most {MAX_PLAN_WORKLOADS:,} workloads (by tenant or by region)",
    )


def cluster_chips_over_limit(chips: int) -> tuple[str, str] | None:
    """(problem, fix) when a cluster of ``chips`` chips is more than ``place`` lays out, else None."""
    if chips <= MAX_PLACE_CLUSTER_CHIPS:
        return None
    return (
        f"has {chips:,} chips, more than the {MAX_PLACE_CLUSTER_CHIPS:,} `maiaplan place` lays out in one cluster "
        "(its chip graph would not fit in memory)",
        "model the cluster as several clusters of at most "
        f"{MAX_PLACE_CLUSTER_CHIPS:,} chips, or use `maiaplan plan`, which counts chips without laying them out",
    )
