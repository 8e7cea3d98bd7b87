"""The steps a preview shows: each resource created, updated, replaced, deleted, read or the same.

Resources are matched by URN, or by one of their aliases when the URN is new. Inputs are compared
as the engine compares them without the provider's own diff: key by key, nested objects and arrays
down to the leaves; a value unknown in the preview differs from any known value; secrets compare by
plaintext when both sides have one, and are otherwise taken as unchanged unless their secretness
changed. ``replaceOnChanges`` turns an update of a listed property into a replacement.

The summary counts leave out default providers, as the CLI's display does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_dryrun.mocks import PROVIDER_INTERNAL_KEY
from pulumi_dryrun.resources import ResourceRecord
from pulumi_dryrun.urns import provider_package, split_provider_reference
from pulumi_dryrun.values import is_secret, secret_value

OPS = ("create", "update", "replace", "delete", "read", "same")
# The pseudo-property a provider change is reported under.
PROVIDER_KEY = "[provider]"


@dataclass(frozen=True)
class PropertyChange:
    """One changed leaf: ``kind`` is ``add``, ``delete`` or ``update``; ``path`` as the CLI prints it."""

    path: str
    kind: str
    old: Any = None
    new: Any = None

    @property
    def key(self) -> str:
        """The top-level property the change is under (a quoted key keeps its quotes)."""
        if self.path.startswith('["'):
            end = self.path.find('"]', 2)
            return self.path[: end + 2] if end >= 0 else self.path
        if self.path == PROVIDER_KEY:
            return self.path
        for index, character in enumerate(self.path):
            if character in ".[":
                return self.path[:index]
        return self.path


@dataclass(frozen=True)
class Step:
    """What the preview does to one resource; ``old_urn`` is set when it was matched by an alias."""

    op: str
    urn: str
    type: str
    name: str
    parent: str | None
    new: ResourceRecord | None
    old: ResourceRecord | None
    changes: tuple[PropertyChange, ...] = ()
    old_urn: str | None = None

    @property
    def keys(self) -> tuple[str, ...]:
        """The changed top-level input keys (the CLI's ``diffReasons``)."""
        return tuple(dict.fromkeys(change.key for change in self.changes))

    @property
    def is_default_provider(self) -> bool:
        return provider_package(self.type) is not None and self.name.startswith("default")


@dataclass(frozen=True)
class Plan:
    """The steps in tree order (depth first, children by URN), counts, and stack-output changes."""

    steps: tuple[Step, ...]
    counts: Mapping[str, int]
    output_changes: tuple[PropertyChange, ...] = ()
    depth: Mapping[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> int:
        return sum(count for op, count in self.counts.items() if op != "same")

    def shown(self) -> list[Step]:
        """The steps the CLI lists: every change and the ancestors that lead to one."""
        by_urn = {step.urn: step for step in self.steps}
        keep: set[str] = set()
        for step in self.steps:
            if step.op != "same" and not step.is_default_provider:
                urn: str | None = step.urn
                while urn is not None and urn not in keep:
                    keep.add(urn)
                    parent = by_urn.get(urn)
                    urn = parent.parent if parent is not None else None
        return [step for step in self.steps if step.urn in keep]


def diff(new: Sequence[ResourceRecord], old: Mapping[str, ResourceRecord]) -> Plan:
    """The plan that takes the stack from ``old`` (state, by URN) to ``new`` (a preview's records).

    Complexity: O(V log V + size of the inputs compared).
    """
    claimed: set[str] = set()
    steps: list[Step] = []
    new_urns = {record.urn for record in new}
    for record in new:
        previous, matched_urn = _match(record, old, new_urns, claimed)
        if previous is None:
            op = "read" if record.external else "create"
            steps.append(Step(op, record.urn, record.type, record.name, record.parent, record, None))
            continue
        claimed.add(matched_urn)
        changes = input_changes(previous, record)
        if record.external:
            op = "read" if changes else "same"
        elif not changes:
            op = "same"
        elif _replaces(record, changes):
            op = "replace"
        else:
            op = "update"
        steps.append(
            Step(
                op,
                record.urn,
                record.type,
                record.name,
                record.parent,
                record,
                previous,
                changes,
                old_urn=matched_urn if matched_urn != record.urn else None,
            )
        )
    for urn in sorted(set(old) - claimed):
        record = old[urn]
        steps.append(Step("delete", urn, record.type, record.name, record.parent, None, record))
    ordered, depth = _tree_order(steps)
    counts = dict.fromkeys(OPS, 0)
    for step in ordered:
        if not step.is_default_provider:
            counts[step.op] += 1
    stack_changes: tuple[PropertyChange, ...] = ()
    new_stack = next((record for record in new if record.type == "pulumi:pulumi:Stack"), None)
    old_stack = next((record for record in old.values() if record.type == "pulumi:pulumi:Stack"), None)
    if new_stack is not None:
        stack_changes = tuple(property_changes(dict(old_stack.outputs) if old_stack else {}, dict(new_stack.outputs)))
    return Plan(tuple(ordered), counts, stack_changes, depth)


def input_changes(old: ResourceRecord, new: ResourceRecord) -> tuple[PropertyChange, ...]:
    """The changed leaves of the inputs (a provider's internal settings left out), and a provider change."""
    old_inputs = dict(old.inputs)
    new_inputs = dict(new.inputs)
    if provider_package(new.type) is not None:
        old_inputs.pop(PROVIDER_INTERNAL_KEY, None)
        new_inputs.pop(PROVIDER_INTERNAL_KEY, None)
    changes = list(property_changes(old_inputs, new_inputs))
    if old.provider and new.provider:
        old_provider = split_provider_reference(old.provider)[0]
        new_provider = split_provider_reference(new.provider)[0]
        if old_provider != new_provider:
            changes.append(PropertyChange(PROVIDER_KEY, "update", old_provider, new_provider))
    return tuple(changes)


def property_changes(old: Any, new: Any, path: str = "") -> Iterator[PropertyChange]:
    """The leaves where ``new`` differs from ``old``, in key/index order."""
    if is_secret(old) or is_secret(new):
        if not _secrets_equal(old, new):
            yield PropertyChange(path, "update", old, new)
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            child = _child_path(path, key)
            if key not in new:
                yield PropertyChange(child, "delete", old[key], None)
            elif key not in old:
                yield PropertyChange(child, "add", None, new[key])
            else:
                yield from property_changes(old[key], new[key], child)
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            child = f"{path}[{index}]"
            if index >= len(new):
                yield PropertyChange(child, "delete", old[index], None)
            elif index >= len(old):
                yield PropertyChange(child, "add", None, new[index])
            else:
                yield from property_changes(old[index], new[index], child)
        return
    if not _scalars_equal(old, new):
        yield PropertyChange(path, "update", old, new)


def _scalars_equal(old: Any, new: Any) -> bool:
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    return bool(old == new)


def _secrets_equal(old: Any, new: Any) -> bool:
    if not (is_secret(old) and is_secret(new)):
        return False
    old_readable, old_plain = secret_value(old)
    new_readable, new_plain = secret_value(new)
    if old_readable and new_readable:
        return not any(property_changes(old_plain, new_plain))
    return True


def _child_path(path: str, key: str) -> str:
    if key.isidentifier():
        return f"{path}.{key}" if path else key
    escaped = key.replace('"', '\\"')
    return f'{path}["{escaped}"]'


def _match(
    record: ResourceRecord, old: Mapping[str, ResourceRecord], new_urns: set[str], claimed: set[str]
) -> tuple[ResourceRecord | None, str]:
    """The prior resource of ``record``: same URN, else the first alias no other resource has."""
    if record.urn in old:
        return old[record.urn], record.urn
    for alias in record.aliases:
        if alias in old and alias not in new_urns and alias not in claimed:
            return old[alias], alias
    return None, record.urn


def _replaces(record: ResourceRecord, changes: Sequence[PropertyChange]) -> bool:
    """Whether ``replaceOnChanges`` covers a changed property (``*`` covers all)."""
    if not record.replace_on_changes:
        return False
    for pattern in record.replace_on_changes:
        if pattern == "*":
            return True
        for change in changes:
            if change.path == pattern or change.path.startswith((f"{pattern}.", f"{pattern}[")):
                return True
    return False


def _tree_order(steps: list[Step]) -> tuple[list[Step], dict[str, int]]:
    """Depth-first by parent, children sorted by URN; resources whose parent is absent are roots."""
    by_urn = {step.urn: step for step in steps}
    children: dict[str | None, list[Step]] = {}
    for step in steps:
        parent = step.parent if step.parent in by_urn else None
        children.setdefault(parent, []).append(step)
    ordered: list[Step] = []
    depth: dict[str, int] = {}
    stack: list[tuple[Step, int]] = [(step, 0) for step in sorted(children.get(None, []), key=_step_urn, reverse=True)]
    while stack:
        step, level = stack.pop()
        if step.urn in depth:
            continue
        depth[step.urn] = level
        ordered.append(step)
        for child in sorted(children.get(step.urn, []), key=_step_urn, reverse=True):
            stack.append((child, level + 1))
    return ordered, depth


def _step_urn(step: Step) -> str:
    return step.urn
