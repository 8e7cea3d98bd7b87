"""Benchmark the phase planner (run on demand: `python3 bench/bench_phases.py`).

1. A synthetic fleet of 1,000 workloads on 20 clusters (16,384 chips): time and peak memory of
   `plan_migration`, with its phases against the lower bound.
2. Generated small instances: the greedy heuristic's gap to the exact search.

Figures go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from synthetic_fleet import synthetic_spec

from planner.errors import InputError
from planner.phases import Problem, schedule_exact, schedule_greedy
from planner.planning import plan_migration
from planner.spec import parse_spec


def bench_fleet(clusters: int = 20, workloads: int = 1000, chips: int = 16_384) -> None:
    data = synthetic_spec(clusters, workloads, chips)
    spec = parse_spec(data, "synthetic")
    started = time.perf_counter()
    plan = plan_migration(spec)
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    moved = sum(len(p.moves) for p in plan.phases)
    print(
        f"fleet {clusters} clusters, {workloads} workloads, {sum(spec.cluster_chips(c) for c in spec.clusters):,} chips: "
        f"{elapsed:.2f} s, peak RSS {peak_mib:.0f} MiB (whole process); {moved} moved in {len(plan.phases)} phases, "
        f"lower bound {plan.lower_bound_phases}, {len(plan.not_migrated)} stay; {plan.optimality}"
    )


def bench_gap(instances: int = 200) -> None:
    from generated_specs import specs
    from hypothesis import HealthCheck, given, settings

    gaps = {"same": 0, "fewer_moved": 0, "more_phases": 0, "later_traffic": 0}
    planned = 0

    @settings(max_examples=instances, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(specs(max_workloads=8))
    def compare(data: dict) -> None:  # type: ignore[type-arg]
        nonlocal planned
        try:
            problem = Problem(parse_spec(data, "generated"))
        except InputError:
            return
        greedy = schedule_greedy(problem)
        exact = schedule_exact(problem, {})
        if not exact.complete:
            return
        planned += 1
        phases = lambda a: max((p for p, _ in a.values()), default=0)  # noqa: E731
        weight = lambda a: sum(p * c.chips for p, c in a.values())  # noqa: E731
        if len(greedy) < len(exact.assignment):
            gaps["fewer_moved"] += 1
        elif phases(greedy) > phases(exact.assignment):
            gaps["more_phases"] += 1
        elif weight(greedy) > weight(exact.assignment):
            gaps["later_traffic"] += 1
        else:
            gaps["same"] += 1

    compare()
    print(f"greedy vs exact on {planned} generated instances (up to 8 workloads): {gaps}")


if __name__ == "__main__":
    bench_fleet()
    bench_gap()
