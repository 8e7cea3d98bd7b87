"""maiaplan-guard: a Pulumi policy pack that judges the resources a maiaplan stack would deploy.

It trusts neither the planner nor the Pulumi components: every rule reads the resources' own
properties (the providers' camelCase names, as analyzers see them) and the pack's configuration.
The policy functions live in :mod:`maiaplan_guard.checks` and are plain functions of resource views
and typed configuration, so they can be tested without the analyzer protocol;
:mod:`maiaplan_guard.pack` wraps them into pulumi-policy policies.
"""

PACK_NAME = "maiaplan-guard"

# The public interface: users configure and waive policies by these names.
TAGS = "maiaplan-tags"
DEDICATED_HARDWARE = "dedicated-hardware"
NO_PUBLIC_INGRESS = "no-public-ingress"
ENCRYPTION_AT_HOST = "encryption-at-host"
TENANT_NETWORK_BOUNDARY = "tenant-network-boundary"
CONTRACT_LIMITS = "contract-limits"

POLICY_NAMES: tuple[str, ...] = (
    TAGS,
    DEDICATED_HARDWARE,
    NO_PUBLIC_INGRESS,
    ENCRYPTION_AT_HOST,
    TENANT_NETWORK_BOUNDARY,
    CONTRACT_LIMITS,
)

# A violation whose message starts with this prefix is covered by a waiver: the pack reports it at
# advisory level whatever the policy's own level, so it is shown but never blocks.
WAIVED_PREFIX = "waived:"
