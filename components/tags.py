"""The tags every maiaplan resource carries, in each cloud's own shape.

The policy pack (``maiaplan-tags``, ``contract-limits``, ``tenant-network-boundary``) reads these
tags to tell tenants, clusters, phases and workloads apart, so their keys are fixed here once:
``tenant``, ``cluster``, ``phase``, ``managed-by`` (always ``maiaplan``), and ``workload`` on what
belongs to one workload. GCP labels carry the same keys with lowercase values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from planner.names import NAME_RULE, name_problem

MANAGED_BY = "maiaplan"

# GCP label values: lowercase letters, digits, '_' and '-', at most 63 characters.
_GCP_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")
# The label values that are spec names, held to the spec's one naming rule (planner/names.py).
_NAME_KEYS = ("tenant", "cluster", "workload")


@dataclass(frozen=True)
class ResourceTags:
    """Who a resource belongs to and in which migration phase it first appeared.

    ``phase`` is 0 for what exists before the migration (clusters, pools of workloads that have not
    moved), else the phase whose move created the resource. It never changes afterwards, so moving
    the stack to a later phase does not rewrite the tags of what is already deployed.
    """

    tenant: str
    cluster: str
    phase: int
    workload: str | None = None

    def __post_init__(self) -> None:
        for key in ("tenant", "cluster"):
            if not getattr(self, key):
                raise ValueError(f"tag '{key}' must not be empty")
        if self.workload == "":
            raise ValueError("tag 'workload' must be a name or None, not empty")
        if self.phase < 0:
            raise ValueError(f"tag 'phase' must be 0 or more (got {self.phase})")

    def for_workload(self, workload: str, phase: int) -> ResourceTags:
        """These tags narrowed to one workload's resources, created in ``phase``."""
        return replace(self, workload=workload, phase=phase)

    def require_workload(self) -> str:
        """The workload these tags name.

        Raises
        ------
        ValueError
            When they name none (cluster-level tags).
        """
        if self.workload is None:
            raise ValueError(f"these tags of cluster '{self.cluster}' name no workload")
        return self.workload

    def as_dict(self) -> dict[str, str]:
        """Azure and AWS tags: a string-to-string mapping."""
        tags = {
            "tenant": self.tenant,
            "cluster": self.cluster,
            "phase": str(self.phase),
            "managed-by": MANAGED_BY,
        }
        if self.workload is not None:
            tags["workload"] = self.workload
        return tags

    def gcp_labels(self) -> dict[str, str]:
        """GCP labels: the same keys, values lowercased.

        Raises
        ------
        ValueError
            When a value is not a valid GCP label value even lowercased, or a name (tenant,
            cluster, workload) breaks the spec's naming rule even lowercased.
        """
        labels = {key: value.lower() for key, value in self.as_dict().items()}
        for key, value in labels.items():
            if not _GCP_LABEL_VALUE.fullmatch(value):
                raise ValueError(
                    f"label '{key}' value '{value}' is not a GCP label value "
                    "(lowercase letters, digits, '_' and '-', at most 63 characters)"
                )
            problem = name_problem(value) if key in _NAME_KEYS else None
            if problem is not None:
                raise ValueError(f"label '{key}' value '{value}' {problem}: {NAME_RULE}")
        return labels
