"""Stack state in the format of ``pulumi stack export`` (deployment version 3), read and written.

``maiaplan preview --save-state`` writes this same format, so one reader serves a real stack's
export and the snapshot of an earlier dry run. The snapshot never holds a secret: each one is
written as an encrypted-secret object whose ciphertext is ``"[secret]"``; such a secret (like any
ciphertext from a real export) cannot be compared, so only a change of secretness shows in a diff.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.resources import SECRET_SIG, SECRET_SIG_KEY, ResourceRecord
from pulumi_dryrun.values import REDACTED, is_secret, plain_numbers

DEPLOYMENT_VERSION = 3
# Go's zero time: a snapshot of a dry run has no deployment time, and the same input gives the same bytes.
SNAPSHOT_TIME = "0001-01-01T00:00:00Z"
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_DURATION_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


@dataclass(frozen=True)
class Snapshot:
    """The resources of a stack's state, in file order; ``file`` is where they were read from.

    Resources the engine had marked for deletion are left out. ``rebased_from`` names the stack the
    state was taken from when ``rebase`` moved it to another stack.
    """

    resources: tuple[ResourceRecord, ...]
    file: Path | None = None
    rebased_from: str | None = None

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {record.urn: record for record in self.resources}


def read_state(path: Path | str) -> Snapshot:
    """Read a ``pulumi stack export`` file or a ``--save-state`` snapshot.

    Raises:
        DryRunError: unreadable file, not JSON, not a version-3 deployment, or a malformed resource.
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise DryRunError(str(path), "", f"cannot be read: {error.strerror}.", "pass --state with a state file.") from error
    except json.JSONDecodeError as error:
        raise DryRunError(
            str(path),
            f"line {error.lineno}",
            f"is not JSON: {error.msg}.",
            "pass the output of `pulumi stack export` or of `maiaplan preview --save-state`.",
        ) from error
    if not isinstance(document, dict) or "deployment" not in document:
        raise DryRunError(
            str(path),
            "",
            "is not a stack export: it has no `deployment`.",
            "pass the output of `pulumi stack export` or of `maiaplan preview --save-state`.",
        )
    version = document.get("version")
    if version != DEPLOYMENT_VERSION:
        raise DryRunError(
            str(path),
            "version",
            f"deployment version {version!r} is not supported (only {DEPLOYMENT_VERSION}).",
            "export the stack again with a current Pulumi CLI.",
        )
    deployment = document["deployment"]
    raw_resources = deployment.get("resources") or [] if isinstance(deployment, dict) else None
    if not isinstance(raw_resources, list):
        raise DryRunError(str(path), "deployment.resources", "must be a list of resources.", "")
    records = []
    for index, raw in enumerate(raw_resources):
        if not isinstance(raw, dict) or not isinstance(raw.get("urn"), str) or not isinstance(raw.get("type"), str):
            raise DryRunError(
                str(path), f"deployment.resources[{index}]", "is not a resource (needs `urn` and `type`).", ""
            )
        if raw.get("delete"):
            continue
        records.append(_record_from_state(raw))
    return Snapshot(tuple(records), path)


def _record_from_state(raw: Mapping[str, Any]) -> ResourceRecord:
    urn = raw["urn"]
    source = raw.get("sourcePosition")
    timeouts = raw.get("customTimeouts") or {}
    return ResourceRecord(
        urn=urn,
        type=raw["type"],
        name=urn.rsplit("::", 1)[-1],
        custom=bool(raw.get("custom", False)),
        inputs=_secrets_from_state(raw.get("inputs") or {}),
        outputs=_secrets_from_state(raw.get("outputs") or {}),
        parent=raw.get("parent") or None,
        dependencies=tuple(raw.get("dependencies") or ()),
        property_dependencies={key: tuple(value or ()) for key, value in (raw.get("propertyDependencies") or {}).items()},
        provider=raw.get("provider") or None,
        protect=bool(raw.get("protect", False)),
        id=raw.get("id") or None,
        external=bool(raw.get("external", False)),
        ignore_changes=tuple(raw.get("ignoreChanges") or ()),
        replace_on_changes=tuple(raw.get("replaceOnChanges") or ()),
        retain_on_delete=bool(raw.get("retainOnDelete", False)),
        additional_secret_outputs=tuple(raw.get("additionalSecretOutputs") or ()),
        aliases=tuple(raw.get("aliases") or ()),
        custom_timeouts={key: f"{float(value):g}s" for key, value in timeouts.items() if value},
        source_position=_source_from_state(source) if isinstance(source, str) else None,
    )


def _secrets_from_state(value: Any) -> Any:
    """State secrets in wire form: a ``plaintext`` becomes the secret's value; a ciphertext is kept."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            if "plaintext" in value:
                try:
                    plain = json.loads(value["plaintext"])
                except (TypeError, ValueError):
                    plain = value["plaintext"]
                return {SECRET_SIG_KEY: SECRET_SIG, "value": _secrets_from_state(plain)}
            return {key: item for key, item in value.items() if key != "value"}
        return {key: _secrets_from_state(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_secrets_from_state(item) for item in value]
    return value


def _source_from_state(source: str) -> str | None:
    """``project:///path#line,column`` (the path from the project's root) as ``path:line``."""
    if not source.startswith("project://"):
        return None
    path, _, position = source[len("project://") :].lstrip("/").partition("#")
    line = position.split(",", 1)[0]
    return f"{path}:{line}" if line.isdigit() else path


def state_document(resources: Iterable[ResourceRecord], manifest_version: str) -> dict[str, Any]:
    """A deployment-v3 document of ``resources``, in dependency order, with no secret in it.

    ``manifest_version`` names the tool that wrote it (the CLI writes its own version there).
    """
    ordered = dependency_order(list(resources))
    return {
        "version": DEPLOYMENT_VERSION,
        "deployment": {
            "manifest": {
                "time": SNAPSHOT_TIME,
                "magic": hashlib.sha256(manifest_version.encode("utf-8")).hexdigest(),
                "version": manifest_version,
            },
            "resources": [_record_to_state(record) for record in ordered],
        },
    }


def state_text(resources: Iterable[ResourceRecord], manifest_version: str) -> str:
    """The snapshot as the text of a state file (same resources, same bytes)."""
    document = state_document(resources, manifest_version)
    return json.dumps(document, indent=4, sort_keys=False, ensure_ascii=False) + "\n"


def _record_to_state(record: ResourceRecord) -> dict[str, Any]:
    state: dict[str, Any] = {"urn": record.urn, "custom": record.custom}
    if record.id:
        state["id"] = record.id
    state["type"] = record.type
    if record.inputs:
        state["inputs"] = _secrets_to_state(plain_numbers(dict(record.inputs)))
    if record.outputs:
        state["outputs"] = _secrets_to_state(plain_numbers(dict(record.outputs)))
    if record.parent:
        state["parent"] = record.parent
    if record.protect:
        state["protect"] = True
    if record.external:
        state["external"] = True
    if record.dependencies:
        state["dependencies"] = list(record.dependencies)
    if record.provider:
        state["provider"] = record.provider
    if record.property_dependencies:
        state["propertyDependencies"] = {key: list(value) for key, value in record.property_dependencies.items()}
    if record.additional_secret_outputs:
        state["additionalSecretOutputs"] = list(record.additional_secret_outputs)
    if record.aliases:
        state["aliases"] = list(record.aliases)
    if record.custom_timeouts:
        state["customTimeouts"] = {key: _seconds(value) for key, value in record.custom_timeouts.items()}
    if record.retain_on_delete:
        state["retainOnDelete"] = True
    if record.ignore_changes:
        state["ignoreChanges"] = list(record.ignore_changes)
    if record.replace_on_changes:
        state["replaceOnChanges"] = list(record.replace_on_changes)
    if record.source_position:
        path, _, line = record.source_position.rpartition(":")
        state["sourcePosition"] = f"project:///{path}#{line},1" if path else f"project:///{line}"
    return state


def _secrets_to_state(value: Any) -> Any:
    if is_secret(value):
        return {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": REDACTED}
    if isinstance(value, dict):
        return {key: _secrets_to_state(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_secrets_to_state(item) for item in value]
    return value


def _seconds(duration: str) -> float:
    """A Go duration such as ``1h30m`` or ``20m`` in seconds (0 when unparseable)."""
    return sum(float(amount) * _DURATION_SECONDS[unit] for amount, unit in _DURATION_PART.findall(duration))


def dependency_order(records: Sequence[ResourceRecord]) -> list[ResourceRecord]:
    """Resources ordered so that each comes after its parent, provider and dependencies.

    The state format requires it (``pulumi stack import`` checks it). Among resources free to come
    next, the smallest URN goes first, so the order is stable. Kahn's algorithm with a heap:
    O((V + E) log V); references to resources outside ``records`` are ignored, and a cycle (which a
    valid program cannot produce) leaves its members in URN order at the end.
    """
    by_urn = {record.urn: record for record in records}
    dependents: dict[str, list[str]] = {urn: [] for urn in by_urn}
    waiting: dict[str, int] = dict.fromkeys(by_urn, 0)
    for record in records:
        needs = set(record.dependencies)
        if record.parent:
            needs.add(record.parent)
        if record.provider:
            needs.add(record.provider.rsplit("::", 1)[0])
        for need in needs:
            if need in by_urn and need != record.urn:
                dependents[need].append(record.urn)
                waiting[record.urn] += 1
    ready = [urn for urn, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered: list[ResourceRecord] = []
    while ready:
        urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for dependent in dependents[urn]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    placed = {record.urn for record in ordered}
    ordered.extend(by_urn[urn] for urn in sorted(by_urn) if urn not in placed)
    return ordered


def rebase(snapshot: Snapshot, stack: str, project: str) -> Snapshot:
    """The snapshot of another stack of ``project`` taken as this stack's prior state.

    Every URN (and the root stack's name) moves to ``stack``, so that the diff compares resource by
    resource, as if the stack had been updated from that state.

    Raises:
        DryRunError: the state belongs to another project, or mixes stacks.
    """
    stacks = {record.urn.split("::", 1)[0] for record in snapshot.resources}
    projects = {record.urn.split("::", 2)[1] for record in snapshot.resources}
    where = str(snapshot.file) if snapshot.file else "<state>"
    if projects and projects != {project}:
        raise DryRunError(
            where,
            "deployment.resources",
            f"the state is of project {', '.join(sorted(projects))}, not {project!r}.",
            "pass the state of a stack of this project.",
        )
    if len(stacks) != 1:
        return snapshot
    (old_prefix,) = stacks
    old_stack = old_prefix[len("urn:pulumi:") :]
    if old_stack == stack:
        return snapshot
    new_prefix = f"urn:pulumi:{stack}"
    old_root = f"::pulumi:pulumi:Stack::{project}-{old_stack}"
    new_root = f"::pulumi:pulumi:Stack::{project}-{stack}"

    def move(urn: str) -> str:
        if urn.startswith(f"{old_prefix}::"):
            urn = new_prefix + urn[len(old_prefix) :]
            if urn.endswith(old_root):
                urn = urn[: -len(old_root)] + new_root
        return urn

    def move_reference(reference: str | None) -> str | None:
        if reference is None:
            return None
        urn, _, id_ = reference.rpartition("::")
        return f"{move(urn)}::{id_}"

    moved = []
    for record in snapshot.resources:
        moved.append(
            replace(
                record,
                urn=move(record.urn),
                name=f"{project}-{stack}" if record.urn.endswith(old_root) else record.name,
                parent=move(record.parent) if record.parent else None,
                dependencies=tuple(move(urn) for urn in record.dependencies),
                property_dependencies={
                    key: tuple(move(urn) for urn in urns) for key, urns in record.property_dependencies.items()
                },
                provider=move_reference(record.provider),
                aliases=tuple(move(urn) for urn in record.aliases),
            )
        )
    return Snapshot(tuple(moved), snapshot.file, rebased_from=old_stack)
