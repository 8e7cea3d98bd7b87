"""maiaplan-tags: every taggable resource carries ``tenant`` and ``managed-by`` (labels on GCP)."""

from __future__ import annotations

from ..config import GuardConfig
from ..findings import Finding
from ..resources import TAGGABLE_TYPES, ResourceView


def check_tags(resource: ResourceView, config: GuardConfig) -> list[Finding]:
    """Findings for each required tag that ``resource`` lacks, has unknown, or has the wrong value.

    Applies to :data:`~maiaplan_guard.resources.TAGGABLE_TYPES` and to any other cloud resource
    that declares a tag property. Complexity: O(required tags).
    """
    tags = resource.tags
    if resource.family is None or (resource.type not in TAGGABLE_TYPES and not tags.present):
        return []
    prop = "labels" if resource.family == "gcp" else "tags"
    noun = "label" if resource.family == "gcp" else "tag"

    def finding(rule: str, problem: str, value: str, fix: str) -> Finding:
        return Finding(resource.urn, resource.label, rule, problem, value, fix, tags.values)

    if tags.unknown:
        return [
            finding(
                "tags-known-at-preview",
                f"its {prop} are computed from values unknown at preview, so it cannot be attributed",
                "unknown until the update runs",
                f"set {prop} from literal values (the spec's tenant name and 'maiaplan').",
            )
        ]
    findings: list[Finding] = []
    for key, required in config.required_tags.items():
        value = tags.get(key)
        if key in tags.unknown_keys:
            findings.append(
                finding(
                    f"tag-{key}",
                    f"{prop}['{key}'] is unknown at preview, so it cannot be checked",
                    "unknown until the update runs",
                    f"set {prop}['{key}'] to a literal value.",
                )
            )
        elif not value:
            expected = f"'{required}'" if required else "the owning tenant's name"
            findings.append(
                finding(
                    f"tag-{key}",
                    f"it carries no '{key}' {noun}",
                    f"{prop} keys {sorted(tags.values)}",
                    f"add {prop}['{key}'] = {expected}.",
                )
            )
        elif required is not None and value.lower() != required.lower():
            findings.append(
                finding(
                    f"tag-{key}",
                    f"{prop}['{key}'] must be '{required}'",
                    repr(value),
                    f"set {prop}['{key}'] = '{required}'.",
                )
            )
    return findings
