"""The weighted routing of a move between a workload's old and new homes."""

from __future__ import annotations

from components.tags import ResourceTags
from components.traffic import TrafficHome, TrafficShiftArgs
from deployment.moment import Moment
from deployment.settings import StackSettings, require
from planner.errors import InputError
from planner.plan_document import Move


def traffic_shift_args(moment: Moment, phase: int, move: Move, settings: StackSettings) -> TrafficShiftArgs:
    """The weighted routing of one move: Traffic Manager in the new home's Azure region (else the old's,
    else any Azure region of the tenant).

    Raises
    ------
    InputError
        When the tenant has no Azure cluster to hold the profile.
    StackConfigError
        When ``maiaplan:servingDomain`` is not set.
    """
    plan = moment.plan
    clusters = {c.name: c for c in plan.clusters}
    source, destination = clusters[move.from_cluster], clusters[move.to_cluster]
    tenant = next(w.tenant for w in plan.workloads if w.name == move.workload)
    azure_regions = [c.region for c in (destination, source) if c.provider == "azure"] + [
        c.region for c in plan.clusters if c.provider == "azure" and c.tenant == tenant
    ]
    if not azure_regions:
        index = next(i for i, w in enumerate(moment.spec.workloads) if w.name == move.workload)
        raise InputError(
            moment.spec.source_file,
            f"workloads[{index}]",
            f"moving {move.workload} needs an Azure region for its Traffic Manager profile, and tenant {tenant} "
            "has no Azure cluster",
            f"give tenant {tenant} an Azure cluster, or keep {move.workload} where it is",
        )
    domain = require(
        "servingDomain",
        settings.serving_domain,
        f"the move of {move.workload} routes traffic between its homes' serving names",
        "serving.example.com",
    )
    return TrafficShiftArgs(
        tags=ResourceTags(tenant=tenant, cluster=destination.name, phase=phase, workload=move.workload),
        location=azure_regions[0],
        dns_relative_name=f"{plan.spec}-{move.workload}",
        source=TrafficHome(source.name, f"{move.workload}.{source.name}.{domain}"),
        destination=TrafficHome(destination.name, f"{move.workload}.{destination.name}.{domain}"),
        percent_on_destination=moment.percent_on_destination(phase),
    )
