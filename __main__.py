"""The maiaplan Pulumi program: a migration plan, realised at one moment (a phase and a traffic step).

Stack config (``stacks/Pulumi.<stack>.yaml``):

- ``maiaplan:spec``: the migration spec, relative to this project.
- ``maiaplan:phase``: the phase to realise, 0 (nothing moved yet) to the plan's last phase.
- ``maiaplan:step``: the phase's traffic step, a percent from the spec's ``migration.traffic_steps``;
  100 means the phase is complete and its sources are released.
- ``maiaplan:sshPublicKey``: the key operators log in with on Azure nodes (required with Azure clusters).
- ``maiaplan:servingDomain``: the DNS domain under which every home of a workload serves it, as
  ``<workload>.<cluster>.<domain>``; the traffic shifts route between those names (required once a
  workload moves).

The program plans the spec, then declares every cluster with the pools it holds at that moment
(the workloads that never moved sit under their cluster), one :class:`MigrationPhase` per phase up
to ``phase`` (the pools its moves added and their traffic shifts), each depending on the one
before, and exports a summary: phase, step, moves, chips per provider.

Every decision (sizes, address ranges, what each provider's cluster is made of, the routing of a
move) lives in the importable, tested package :mod:`deployment`; this file reads the config and declares.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi

from components.phase import MigrationPhase, MigrationPhaseArgs
from deployment.adapters import ADAPTERS, ClusterComponent, ClusterPlan
from deployment.moment import Moment, summary
from deployment.settings import StackSettings, check_moment, read_settings
from deployment.traffic import traffic_shift_args
from planner.plan_builder import plan_migration
from planner.spec import load_spec

PROJECT_DIR = Path(__file__).resolve().parent


def declare(moment: Moment, settings: StackSettings) -> dict[str, Any]:
    """Declare every cluster, and the phases up to the moment's; return the stack's summary."""
    plan = moment.plan
    clusters = {c.name: c for c in plan.clusters}
    components: dict[str, ClusterComponent] = {
        c.name: ADAPTERS[c.provider].declare_cluster(ClusterPlan.of(index, c, moment), moment, settings)
        for index, c in enumerate(plan.clusters)
    }

    previous: MigrationPhase | None = None
    for planned in plan.phases[: moment.phase]:
        arriving = [a for a in moment.allocations if moment.arrival_phase(a) == planned.phase]
        previous = MigrationPhase(
            f"phase-{planned.phase}",
            MigrationPhaseArgs(
                phase=planned.phase,
                pools=[
                    ADAPTERS[clusters[a.cluster].provider].arriving_pool(
                        components[a.cluster], clusters[a.cluster], a, moment, planned.phase
                    )
                    for a in arriving
                ],
                traffic_shifts=[traffic_shift_args(moment, planned.phase, m, settings) for m in planned.moves],
            ),
            pulumi.ResourceOptions(depends_on=[previous] if previous is not None else None),
        )
    return summary(moment)


def main() -> dict[str, Any]:
    """Run the program: read the config, plan, declare, export the summary."""
    settings = read_settings(pulumi.Config("maiaplan"), PROJECT_DIR)
    spec = load_spec(settings.spec_path)
    plan = plan_migration(spec)
    check_moment(settings, spec, plan)
    exports = declare(Moment.of(spec, plan, settings.phase, settings.step), settings)
    for name, value in exports.items():
        pulumi.export(name, value)
    return exports


if __name__ == "__main__":
    main()
