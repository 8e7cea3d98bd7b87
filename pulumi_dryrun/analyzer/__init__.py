"""A client of the Pulumi analyzer protocol: runs a Python policy pack the way the Pulumi CLI does.

- ``model``: what a pack reports (levels, policies, violations);
- ``config``: the ``--policy-pack-config`` file, reconciled with the pack's policies as the CLI does;
- ``wire``: resource records as the engine sends them to a pack;
- ``session``: the pack's process and the calls the CLI makes to it.
"""

from __future__ import annotations

from pulumi_dryrun.analyzer.config import load_policy_pack_config, parse_policy_pack_config, reconcile_policy_config
from pulumi_dryrun.analyzer.model import (
    WAIVED_PREFIX,
    AnalyzerInfo,
    EnforcementLevel,
    PolicyConfig,
    PolicyInfo,
    PolicyPackError,
    PolicyType,
    Violation,
)
from pulumi_dryrun.analyzer.session import PolicyPackSession
from pulumi_dryrun.analyzer.wire import analyze_request, stack_resource

__all__ = [
    "WAIVED_PREFIX",
    "AnalyzerInfo",
    "EnforcementLevel",
    "PolicyConfig",
    "PolicyInfo",
    "PolicyPackError",
    "PolicyPackSession",
    "PolicyType",
    "Violation",
    "analyze_request",
    "load_policy_pack_config",
    "parse_policy_pack_config",
    "reconcile_policy_config",
    "stack_resource",
]
