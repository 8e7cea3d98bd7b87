"""Benchmark the Pulumi program under mocks (run on demand: ``python3 bench/bench_program.py``).

1. The example's final stack (stacks/Pulumi.final.yaml): the time for the program to plan and
   declare every resource, first run in the process (imports included) and then warm.
   Target: under 5 s.
2. A synthetic fleet sized to about 2,000 resources (bench/synthetic_fleet.py): its final phase
   at step 100, with the planning share of the time and the resources by type.

Wall time and CPU time are both printed: the machine is shared, and the difference is time spent
waiting for the CPU. Figures go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import resource
import runpy
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "components"))

from pulumi_mocks import Recording, run_pulumi  # noqa: E402 - found through the paths above
from synthetic_fleet import synthetic_spec  # noqa: E402

from planner.plan_builder import plan_migration  # noqa: E402
from planner.spec import parse_spec  # noqa: E402

PROGRAM = str(ROOT / "__main__.py")


def run_program(config: Mapping[str, str]) -> tuple[Recording, float, float]:
    """One run of the program: its recording, wall seconds and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    recording = run_pulumi(lambda: runpy.run_path(PROGRAM, run_name="__main__"), config=config, stack="bench")
    return recording, time.perf_counter() - wall, time.process_time() - cpu


def bench_example(warm_runs: int) -> None:
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.final.yaml").read_text(encoding="utf-8"))
    config = {key: str(value) for key, value in stack["config"].items()}
    recording, cold_wall, cold_cpu = run_program(config)
    warm = [run_program(config)[1:] for _ in range(warm_runs)]
    print(
        f"example, final stack (phase {config['maiaplan:phase']}, step {config['maiaplan:step']}): "
        f"{len(recording.resources)} resources; first run {cold_wall:.2f} s wall / {cold_cpu:.2f} s CPU; "
        f"warm median of {warm_runs}: {statistics.median(w for w, _ in warm):.2f} s wall / "
        f"{statistics.median(c for _, c in warm):.2f} s CPU"
    )


def bench_fleet(clusters: int, workloads: int, chips: int) -> None:
    data = synthetic_spec(clusters, workloads, chips)
    started = time.perf_counter()
    plan = plan_migration(parse_spec(data, "synthetic"))
    planning = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as directory:
        spec_path = Path(directory) / "synthetic.yaml"
        spec_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        config = {
            "maiaplan:spec": str(spec_path),
            "maiaplan:phase": str(len(plan.phases)),
            "maiaplan:step": "100",
            "maiaplan:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGQS0Po0VTOi7rEDo5ikiJkBf bench",
            "maiaplan:servingDomain": "serving.example.com",
        }
        recording, wall, cpu = run_program(config)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    by_type = Counter(r.type.rsplit(":", 1)[-1] for r in recording)
    print(
        f"synthetic fleet ({clusters} clusters, {workloads} workloads, {chips:,} chips; "
        f"final phase {len(plan.phases)} at 100): {len(recording.resources):,} resources in {wall:.1f} s wall / "
        f"{cpu:.1f} s CPU ({1000 * cpu / len(recording.resources):.1f} ms CPU per resource), of which planning "
        f"{planning:.2f} s; peak RSS {peak_mib:.0f} MiB (whole process)"
    )
    print("  by type: " + ", ".join(f"{name} {count}" for name, count in by_type.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--workloads", type=int, default=420, help="420 on 20 clusters gives about 2,000 resources")
    parser.add_argument("--chips", type=int, default=12_288)
    args = parser.parse_args()
    bench_example(args.warm_runs)
    bench_fleet(args.clusters, args.workloads, args.chips)


if __name__ == "__main__":
    main()
