"""The planner's shared options at fleet scale: one sizing per (workload, accelerator), the same
destinations, options and preference order as judging and sharding every cluster on its own."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from schedule_specs import seeded_spec

from planner.eligibility import destinations, judge_cluster, target_rank
from planner.options import ClusterOption, cluster_option, compact_options, workload_options
from planner.scheduling.problem import Problem
from planner.spec import MigrationSpec, Workload, load_spec, parse_spec

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from synthetic_fleet import synthetic_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "maia-pilot.yaml"


def _specs() -> list[MigrationSpec]:
    specs = [load_spec(EXAMPLE), parse_spec(synthetic_spec(15, 60, 4096), "synthetic")]
    specs += [parse_spec(seeded_spec(seed, 12 + seed), "generated") for seed in range(6)]
    return specs


@pytest.fixture(scope="module", params=range(8))
def spec(request: pytest.FixtureRequest) -> MigrationSpec:
    return _specs()[request.param]


def test_destinations_by_class_equal_judging_every_cluster(spec: MigrationSpec) -> None:
    for workload in spec.workloads:
        one_by_one = [c.name for c in spec.clusters if judge_cluster(spec, workload, c).eligible]
        assert [c.name for c in destinations(spec, workload)] == one_by_one


def test_a_cluster_named_in_target_is_judged_by_name() -> None:
    data = synthetic_spec(10, 20, 2048)
    data["workloads"][0]["target"] = ["azure-05", "azure"]  # prefers one Maia cluster by name
    spec = parse_spec(data, "synthetic")
    workload = spec.workloads[0]
    one_by_one = [c.name for c in spec.clusters if judge_cluster(spec, workload, c).eligible]
    assert [c.name for c in destinations(spec, workload)] == one_by_one
    problem = Problem(spec)
    assert problem.candidates[workload.name].clusters[0] == "azure-05"


def test_shared_sizings_equal_sharding_each_cluster(spec: MigrationSpec) -> None:
    compact = compact_options(spec)
    for workload in spec.workloads:
        options = compact[workload.name]
        expanded = workload_options(spec, workload)
        assert options.current == expanded.current
        assert [o.cluster for o in expanded.destinations] == list(options.destinations)
        for option in expanded.destinations:
            alone = cluster_option(spec, workload, spec.cluster_by_name[option.cluster], "destination")
            assert option == alone
            assert options.sizing_on(option.cluster).allocated_chips == alone.allocated_chips


def test_one_sizing_per_accelerator_whatever_the_clusters() -> None:
    spec = parse_spec(synthetic_spec(40, 30, 8192), "synthetic")
    compact = compact_options(spec)
    for workload in spec.workloads:
        options = compact[workload.name]
        accelerators = {spec.cluster_by_name[c].accelerator for c in options.destinations}
        assert set(options.by_accelerator) == accelerators
        assert len({id(options.sizing_on(c)) for c in options.destinations}) == len(accelerators)
    # workloads with the same destinations share one tuple of names
    assert len({id(o.destinations) for o in compact.values()}) <= len({o.destinations for o in compact.values()})


def test_candidates_in_preference_then_cost_then_name(spec: MigrationSpec) -> None:
    problem = Problem(spec)
    for name, candidates in problem.candidates.items():
        workload = spec.workload_by_name[name]
        feasible = [o for o in workload_options(spec, workload).destinations if o.feasible]

        def key(option: ClusterOption, workload: Workload = workload) -> tuple[int, float, str]:
            rank = target_rank(workload, spec.cluster_by_name[option.cluster])
            assert option.sharding is not None
            return (rank if rank is not None else 99, option.sharding.usd_per_hour, option.cluster)

        expected = sorted(feasible, key=key)
        assert [c.cluster for c in candidates] == [o.cluster for o in expected]
        assert [c.chips for c in candidates] == [o.allocated_chips for o in expected]
        assert list(candidates.placements()) == [(o.cluster, o.allocated_chips) for o in expected]
        assert candidates[0] == next(iter(candidates)) and len(candidates) == len(expected)
