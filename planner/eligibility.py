"""Where a workload may run: the eligibility rules of the migration, each with its reason.

A workload may move only to a cluster of its own tenant whose provider or name is in its
``target``, in a region its tenant's contracts allow for that provider; a workload named in a
contract's ``exclusive_workloads`` stays on that contract's provider; no ``target``: it stays.

``target`` is read in order of preference: a workload whose current cluster already matches an
entry moves only to a cluster matching an earlier one (``target: [azure, gcp]`` on GCP may move
to Azure; ``target: aws`` on AWS stays).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from planner.spec import Cluster, MigrationSpec, Workload

Rule = Literal["eligible", "current", "no-target", "tenant", "exclusive", "region", "target", "preferred"]


class ClusterVerdict(BaseModel):
    """Whether ``workload`` may move to ``cluster``, and if not, the rule that says no."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cluster: str
    eligible: bool
    rule: Rule
    reason: str


def target_rank(workload: Workload, cluster: Cluster) -> int | None:
    """Index of the first ``target`` entry ``cluster`` matches (by provider or name), or None."""
    for rank, entry in enumerate(workload.target):
        if entry in (cluster.provider, cluster.name):
            return rank
    return None


def judge_cluster(spec: MigrationSpec, workload: Workload, cluster: Cluster) -> ClusterVerdict:
    """Apply every eligibility rule to one (workload, destination cluster) pair.

    Complexity: O(contracts).
    """

    def no(rule: Rule, reason: str) -> ClusterVerdict:
        return ClusterVerdict(cluster=cluster.name, eligible=False, rule=rule, reason=reason)

    if cluster.name == workload.current:
        return no("current", f"{workload.name} already runs on {cluster.name}")
    if not workload.target:
        return no("no-target", f"{workload.name} has no target: it stays on {workload.current}")
    if cluster.tenant != workload.tenant:
        return no("tenant", f"{cluster.name} belongs to tenant {cluster.tenant}, not {workload.tenant}")
    for contract in spec.contracts:
        if contract.tenant != workload.tenant:
            continue
        if workload.name in contract.exclusive_workloads and cluster.provider != contract.provider:
            return no(
                "exclusive",
                f"contract {contract.name} keeps {workload.name} on {contract.provider} hardware "
                f"(exclusive_workloads), and {cluster.name} is on {cluster.provider}",
            )
        if (
            contract.regions is not None
            and contract.provider == cluster.provider
            and (cluster.region not in contract.regions)
        ):
            return no(
                "region",
                f"contract {contract.name} allows {contract.provider} only in {list(contract.regions)}, "
                f"and {cluster.name} is in {cluster.region}",
            )
    rank = target_rank(workload, cluster)
    if rank is None:
        return no(
            "target", f"{cluster.name} ({cluster.provider}) is not in {workload.name}'s target {list(workload.target)}"
        )
    current_rank = target_rank(workload, spec.cluster_by_name[workload.current])
    if current_rank is not None and rank >= current_rank:
        return no(
            "preferred",
            f"{workload.name} already runs on a target it prefers at least as much: {workload.current} matches "
            f"'{workload.target[current_rank]}'",
        )
    return ClusterVerdict(cluster=cluster.name, eligible=True, rule="eligible", reason="eligible")


def destinations(spec: MigrationSpec, workload: Workload) -> list[Cluster]:
    """The clusters ``workload`` may move to, in spec order.

    A cluster's verdict reads its name only where the name is the workload's current cluster or a
    ``target`` entry; otherwise it depends on (tenant, provider, region) alone, so each such class
    of clusters is judged once.

    Complexity: O(clusters + classes · contracts).
    """
    if not workload.target:
        return []
    by_class: dict[tuple[str, str, str], bool] = {}
    named = {workload.current, *workload.target}
    eligible = []
    for cluster in spec.clusters:
        if cluster.name in named:
            ok = judge_cluster(spec, workload, cluster).eligible
        else:
            key = (cluster.tenant, cluster.provider, cluster.region)
            found = by_class.get(key)
            ok = (
                found
                if found is not None
                else by_class.setdefault(key, judge_cluster(spec, workload, cluster).eligible)
            )
        if ok:
            eligible.append(cluster)
    return eligible


def verdicts(spec: MigrationSpec, workload: Workload) -> list[ClusterVerdict]:
    """Every other cluster of the spec, judged for ``workload``, in spec order."""
    return [judge_cluster(spec, workload, cluster) for cluster in spec.clusters if cluster.name != workload.current]
