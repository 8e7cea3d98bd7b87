"""Weighted routing of one moving workload between its old and its new home.

A :class:`TrafficShift` is an Azure Traffic Manager profile (weighted routing) in a resource group
of its own, with one external endpoint per home: the old home weighs ``100 - s`` and the new home
``s``, where ``s`` is the percent of the phase's current traffic step. Once the move is complete
(``s`` = 100) only the new home remains, so the old home's nodes can be released. Rolling back a
step is lowering ``s`` again: the old home still holds its chips until the step reaches 100.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
from pulumi_azure_native import resources, trafficmanager

from components.tags import ResourceTags

EXTERNAL_ENDPOINT = "Microsoft.Network/trafficManagerProfiles/externalEndpoints"


@dataclass(frozen=True)
class TrafficHome:
    """Where a workload is served: its cluster and the DNS name of its serving front end there."""

    cluster: str
    target: str


@dataclass(frozen=True)
class HealthProbe:
    """How Traffic Manager checks that a home serves; an unhealthy home gets no traffic."""

    protocol: str = "HTTPS"
    port: int = 443
    path: str = "/healthz"
    interval_s: int = 30
    timeout_s: int = 10
    tolerated_failures: int = 3


@dataclass(frozen=True)
class TrafficShiftArgs:
    """Arguments of :class:`TrafficShift`.

    ``tags`` name the workload, its new home's cluster and the phase of the move;
    ``percent_on_destination`` is the current traffic step (1 to 100).
    """

    tags: ResourceTags
    location: str
    """Azure region of the profile's resource group (the profile itself is global)."""
    dns_relative_name: str
    source: TrafficHome
    destination: TrafficHome
    percent_on_destination: int
    dns_ttl_s: int = 30
    probe: HealthProbe = field(default_factory=HealthProbe)

    def __post_init__(self) -> None:
        self.tags.require_workload()
        if not 1 <= self.percent_on_destination <= 100:
            raise ValueError(f"percent_on_destination must be 1 to 100 (got {self.percent_on_destination})")
        if self.source.cluster == self.destination.cluster:
            raise ValueError(f"a traffic shift needs two homes (both are '{self.source.cluster}')")

    def weights(self) -> dict[str, int]:
        """Endpoint weight per cluster: the old home keeps the rest until the move completes."""
        step = self.percent_on_destination
        if step == 100:
            return {self.destination.cluster: 100}
        return {self.source.cluster: 100 - step, self.destination.cluster: step}


class TrafficShift(pulumi.ComponentResource):
    """One workload's weighted routing across its homes, for one traffic step."""

    resource_group: resources.ResourceGroup
    profile: trafficmanager.Profile

    def __init__(self, name: str, args: TrafficShiftArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("maiaplan:migration:TrafficShift", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = args.tags.as_dict()
        targets = {args.source.cluster: args.source.target, args.destination.cluster: args.destination.target}
        weights = args.weights()
        probe = args.probe

        self.resource_group = resources.ResourceGroup(f"{name}-rg", location=args.location, tags=tags, opts=child)
        self.profile = trafficmanager.Profile(
            f"{name}-tm",
            resource_group_name=self.resource_group.name,
            location="global",
            profile_status=trafficmanager.ProfileStatus.ENABLED,
            traffic_routing_method=trafficmanager.TrafficRoutingMethod.WEIGHTED,
            dns_config=trafficmanager.DnsConfigArgs(relative_name=args.dns_relative_name, ttl=args.dns_ttl_s),
            monitor_config=trafficmanager.MonitorConfigArgs(
                protocol=probe.protocol,
                port=probe.port,
                path=probe.path,
                interval_in_seconds=probe.interval_s,
                timeout_in_seconds=probe.timeout_s,
                tolerated_number_of_failures=probe.tolerated_failures,
            ),
            endpoints=[
                trafficmanager.EndpointArgs(
                    name=cluster,
                    type=EXTERNAL_ENDPOINT,
                    target=targets[cluster],
                    weight=weight,
                    endpoint_status=trafficmanager.EndpointStatus.ENABLED,
                )
                for cluster, weight in weights.items()
            ],
            tags=tags,
            opts=child,
        )
        self.register_outputs(
            {"fqdn": f"{args.dns_relative_name}.trafficmanager.net", "profileId": self.profile.id, "weights": weights}
        )
