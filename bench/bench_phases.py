"""Benchmark the phase planner (run on demand: `python3 bench/bench_phases.py [fleet|growth|gap] ...`).

1. ``fleet``: a synthetic fleet of 1,000 workloads on 20 clusters (16,384 chips): wall time, peak
   memory, the method (CP-SAT or the greedy fallback) and, per objective level, value, bound, gap.
2. ``growth CHIPS:WORKLOADS:CLUSTERS ...``: the same, one fleet per argument, each in its own
   process (peak memory per size), from 16k to 1M chips (10,000 workloads on 1,000 clusters) by
   default; run it under ``/usr/bin/time -v`` for the whole run's wall time.
3. ``hard [WORKLOADS]``: a generated fleet of tests/schedule_specs.py (binding contracts, small ramps,
   dependency chains) of 1,000 workloads, where the greedy is not optimal: the CP-SAT path at scale.
4. ``gap``: generated instances of 20–40 workloads (tests/schedule_specs.py): the greedy against
   the CP-SAT optimum.

Figures go to docs/benchmarks.md by hand, with the date and the machine's load.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from synthetic_fleet import synthetic_spec

from planner.plan_builder import plan_migration
from planner.plan_document import MigrationPlan
from planner.scheduling.cpsat import SolverSettings, score, solve
from planner.scheduling.greedy import schedule_greedy
from planner.scheduling.problem import Problem
from planner.spec import MigrationSpec, parse_spec


def timed_plan(spec: MigrationSpec) -> tuple[MigrationPlan, float, float, str]:
    """Plan ``spec`` with the default settings: the plan, its wall time, the process's peak RSS in
    MiB, and each objective level as "name value (bound, gap, status)"."""
    started = time.perf_counter()
    plan = plan_migration(spec, SolverSettings())
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    levels = "; ".join(
        f"{lv.name} {lv.value} (bound {lv.bound}, gap {lv.gap}, {lv.status})" for lv in plan.solver.levels
    )
    return plan, elapsed, peak_mib, levels


def bench_fleet(clusters: int = 20, workloads: int = 1000, chips: int = 16_384) -> None:
    started = time.perf_counter()
    spec = parse_spec(synthetic_spec(clusters, workloads, chips), "synthetic")
    built = time.perf_counter() - started
    plan, elapsed, peak_mib, levels = timed_plan(spec)
    total_chips = sum(spec.cluster_chips(c) for c in spec.clusters)
    print(
        f"{clusters} clusters, {workloads} workloads, {total_chips:,} chips: plan {elapsed:.2f} s wall "
        f"(spec generation {built:.2f} s), peak RSS {peak_mib:.0f} MiB; {plan.solver.method}, "
        f"{plan.solver.deterministic_time_s:.2f} deterministic s; {levels}; {len(plan.not_migrated)} stay",
        flush=True,
    )


def bench_growth(sizes: list[str]) -> None:
    for size in sizes:
        chips, workloads, clusters = (int(x) for x in size.split(":"))
        subprocess.run(
            [sys.executable, __file__, "fleet", str(clusters), str(workloads), str(chips)],
            check=False,
        )


def bench_hard(workloads: int = 1000, seed: int = 3) -> None:
    from schedule_specs import seeded_spec

    spec = parse_spec(seeded_spec(seed, workloads), "generated")
    problem = Problem(spec)
    greedy = score(schedule_greedy(problem))
    plan, elapsed, peak_mib, levels = timed_plan(spec)
    print(
        f"generated fleet, {workloads} workloads, {len(spec.clusters)} clusters: plan {elapsed:.2f} s wall, peak RSS "
        f"{peak_mib:.0f} MiB; {plan.solver.method}, {plan.solver.deterministic_time_s:.2f} deterministic s; {levels}; "
        f"greedy alone {greedy}",
        flush=True,
    )


def bench_gap(seeds: range = range(40)) -> None:
    from schedule_specs import seeded_spec

    fewer = more_phases = later = same = 0
    proven = 0
    slowest = 0.0
    for seed in seeds:
        problem = Problem(parse_spec(seeded_spec(seed, 20 + seed % 21), "generated"))
        greedy = schedule_greedy(problem)
        started = time.perf_counter()
        solution = solve(problem, greedy, SolverSettings())
        slowest = max(slowest, time.perf_counter() - started)
        proven += solution.optimal
        (g_moved, g_phases, g_weighted), (moved, phases, weighted) = score(greedy), score(solution.assignment)
        if g_moved < moved:
            fewer += 1
        elif g_phases > phases:
            more_phases += 1
        elif g_weighted > weighted:
            later += 1
        else:
            same += 1
    print(
        f"{len(seeds)} generated fleets of 20–40 workloads: CP-SAT proved {proven} optimal on all three levels "
        f"(slowest solve {slowest:.2f} s wall); the greedy moved fewer in {fewer}, used more phases in "
        f"{more_phases}, moved traffic later in {later}, matched in {same}"
    )


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "fleet"
    if command == "fleet":
        bench_fleet(*(int(x) for x in sys.argv[2:5])) if len(sys.argv) > 2 else bench_fleet()
    elif command == "growth":
        bench_growth(
            sys.argv[2:]
            or ["16384:1000:20", "65536:2000:64", "131072:8000:128", "262144:4000:250", "1048576:10000:1000"]
        )
    elif command == "hard":
        bench_hard(*(int(x) for x in sys.argv[2:3]))
    elif command == "gap":
        bench_gap()
    else:
        raise SystemExit(f"unknown benchmark {command!r}: fleet, growth, hard or gap")
