"""Each cluster's address ranges: the n-th cluster of a spec gets 10.n.0.0/16 and its first /20."""

from __future__ import annotations

from dataclasses import dataclass

from planner.errors import InputError

MAX_CLUSTERS = 256


@dataclass(frozen=True)
class ClusterNetwork:
    address_space: str
    subnet: str


def cluster_network(index: int, cluster: str, spec_file: str) -> ClusterNetwork:
    """The network of the plan's ``index``-th cluster (0-based), named ``cluster``, of the spec ``spec_file``.

    Clusters' networks never overlap, so that no route or peering added later can join two tenants'
    address ranges by accident.

    Raises
    ------
    InputError
        When the spec holds more clusters than there are /16 networks in 10.0.0.0/8.

    Complexity: O(1).
    """
    if not 0 <= index < MAX_CLUSTERS:
        raise InputError(
            spec_file,
            f"clusters[{index}]",
            f"maiaplan gives each cluster a 10.<n>.0.0/16 network, so a spec holds at most {MAX_CLUSTERS} "
            f"clusters; {cluster} is cluster {index + 1}",
            "split the fleet into several specs and stacks",
        )
    return ClusterNetwork(address_space=f"10.{index}.0.0/16", subnet=f"10.{index}.0.0/20")
