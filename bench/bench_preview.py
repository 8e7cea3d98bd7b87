"""Benchmark the offline dry run (run on demand: ``python3 bench/bench_preview.py``).

1. The example's final stack, policies included: ``maiaplan preview --stack final`` as a user runs
   it (a new process: interpreter start, imports, the program in its own process behind the gRPC
   resource monitor, the maiaplan-guard pack, the report). Target: 5 s or less, warm.
2. A synthetic fleet of about 2,000 resources (bench/synthetic_fleet.py, as bench/bench_program.py
   sizes it): its final phase at step 100 through the same command, first against no state (writing
   a snapshot), then against that snapshot (every resource compared). Target: 20 s or less.
3. Where the time goes, in one process: program (its own process: the CPU figure there is the
   monitor's side only), pack start (overlapped with the program), analysis, diff, rendering.

Wall and CPU time are both printed (CPU includes the policy pack's process): the machine is shared,
and the difference is time spent waiting for a core. Figures go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from synthetic_fleet import synthetic_spec  # noqa: E402 - found through the path above

from maiaplan.formats import render  # noqa: E402
from maiaplan.version import state_manifest_version  # noqa: E402
from planner.plan_builder import plan_migration  # noqa: E402
from planner.spec import parse_spec  # noqa: E402
from pulumi_dryrun.diff import diff  # noqa: E402
from pulumi_dryrun.policy import PolicyPackRequest, PolicyPacks  # noqa: E402
from pulumi_dryrun.preview import PreviewResult  # noqa: E402
from pulumi_dryrun.project import load_project, load_stack_config, with_overrides  # noqa: E402
from pulumi_dryrun.runner import run_loaded  # noqa: E402
from pulumi_dryrun.state import read_state, state_text  # noqa: E402


def run_cli(args: Sequence[str]) -> tuple[int, float, float]:
    """``maiaplan preview ARGS`` in a new process: exit code, wall seconds, CPU seconds (children)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "maiaplan.cli", "preview", *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if completed.returncode >= 2:
        raise SystemExit(f"maiaplan preview {' '.join(args)} failed:\n{completed.stderr}")
    return completed.returncode, wall, cpu


def bench_example(runs: int, out: Path) -> None:
    timings = [run_cli(["--stack", "final", "--format", "json", "--out", str(out)]) for _ in range(runs)]
    walls = [wall for _, wall, _ in timings]
    cpus = [cpu for _, _, cpu in timings]
    print(
        f"example, final stack with maiaplan-guard (exit {timings[0][0]}): median of {runs} "
        f"{statistics.median(walls):.2f} s wall (min {min(walls):.2f}) / {statistics.median(cpus):.2f} s CPU"
    )


def fleet_overrides(directory: Path, clusters: int, workloads: int, chips: int) -> list[str]:
    data = synthetic_spec(clusters, workloads, chips)
    phases = len(plan_migration(parse_spec(data, "synthetic")).phases)
    spec_path = directory / "synthetic.yaml"
    spec_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return [f"maiaplan:spec={spec_path}", f"maiaplan:phase={phases}", "maiaplan:step=100"]


def bench_fleet(directory: Path, clusters: int, workloads: int, chips: int) -> None:
    overrides = [arg for pair in fleet_overrides(directory, clusters, workloads, chips) for arg in ("--config", pair)]
    state = directory / "fleet-state.json"
    report = directory / "fleet.json"
    base = ["--stack", "final", *overrides, "--format", "json", "--out", str(report)]
    code, wall, cpu = run_cli([*base, "--save-state", str(state)])
    resources = len(read_state(state).resources)
    print(
        f"synthetic fleet ({clusters} clusters, {workloads} workloads, {chips:,} chips), {resources:,} resources, "
        f"no prior state (exit {code}): {wall:.1f} s wall / {cpu:.1f} s CPU"
    )
    code, wall, cpu = run_cli([*base, "--state", str(state)])
    print(
        f"  same fleet against its own snapshot (every resource compared, exit {code}): {wall:.1f} s wall / {cpu:.1f} s CPU"
    )


def bench_breakdown(directory: Path, clusters: int, workloads: int, chips: int) -> None:
    """Where the time of one dry run goes, measured in this process."""
    overrides = dict(pair.split("=", 1) for pair in fleet_overrides(directory, clusters, workloads, chips))
    for label, extra in (("example final", {}), ("synthetic fleet", overrides)):
        project = load_project(ROOT)
        config = with_overrides(project, load_stack_config(project, "final"), extra)
        packs = PolicyPacks(
            [PolicyPackRequest(ROOT / "policies")], project=project.name, stack=config.stack, config=config.values
        )
        marks = [("start", time.perf_counter(), time.process_time())]
        with packs:
            run = run_loaded(project, config, prior={})
            marks.append(("program (own process; CPU: the monitor's)", time.perf_counter(), time.process_time()))
            plan = diff(run.resources, {})
            marks.append(("diff", time.perf_counter(), time.process_time()))
            report = packs.analyze(run.resources)
            marks.append(("policies (wait for start, Analyze, AnalyzeStack)", time.perf_counter(), time.process_time()))
        result = PreviewResult(run, plan, report)
        for format_ in ("text", "json", "markdown", "sarif", "junit"):
            render(result, format_, "mandatory")
        marks.append(("five reports", time.perf_counter(), time.process_time()))
        state = directory / "breakdown.json"
        state.write_text(state_text(run.resources, state_manifest_version()), encoding="utf-8")
        diff(run.resources, read_state(state).by_urn())
        marks.append(("snapshot written, read back, diffed", time.perf_counter(), time.process_time()))
        steps = ", ".join(
            f"{name} {wall - marks[index][1]:.2f} s / {cpu - marks[index][2]:.2f} s CPU"
            for index, (name, wall, cpu) in enumerate(marks[1:])
        )
        print(f"{label}, {len(run.resources):,} resources, in one process (second run of its imports): {steps}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of the example's final stack")
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--workloads", type=int, default=420, help="420 on 20 clusters gives about 2,000 resources")
    parser.add_argument("--chips", type=int, default=12_288)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as temporary:
        directory = Path(temporary)
        bench_example(args.runs, directory / "final.json")
        bench_fleet(directory, args.clusters, args.workloads, args.chips)
        bench_breakdown(directory, args.clusters, args.workloads, args.chips)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
