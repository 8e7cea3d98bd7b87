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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pulumi_dryrun import urns
from pulumi_dryrun.durations import duration_seconds
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.resources import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, ResourceRecord
from pulumi_dryrun.values import REDACTED, is_secret, plain_numbers

# The versions `pulumi stack export` writes: 3, and 4 once a stack uses a feature that needs it.
DEPLOYMENT_VERSION = 3
SUPPORTED_VERSIONS = (3, 4)
# The features a version-4 deployment may list that this reader understands.
KNOWN_FEATURES = frozenset({"refreshBeforeUpdate", "outputDependencies", "byteString", "views", "hooks", "taint"})
# Go's zero time: a snapshot of a dry run has no deployment time, and the same input gives the same bytes.
SNAPSHOT_TIME = "0001-01-01T00:00:00Z"
# Deeper than this, a state file is refused rather than walked (real exports stay far below).
MAX_DEPTH = 200
# The engine's signature of an output value (a value with its dependencies, v4 ``outputDependencies``).
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_FIX = "pass the output of `pulumi stack export` (or of a --save-state), unedited."


@dataclass(frozen=True)
class Snapshot:
    """The resources of a stack's state, in file order; ``file`` is where they were read from.

    Resources the engine had marked for deletion are left out. ``rebased_from`` names the stack the
    state was taken from when ``rebase`` moved it to another stack; ``warnings`` are what the
    preview should say about the state (pending operations of an interrupted update).
    """

    resources: tuple[ResourceRecord, ...]
    file: Path | None = None
    rebased_from: str | None = None
    warnings: tuple[str, ...] = ()

    def by_urn(self) -> dict[str, ResourceRecord]:
        return {record.urn: record for record in self.resources}


def read_state(path: Path | str) -> Snapshot:
    """Read a ``pulumi stack export`` file (deployment version 3 or 4), a file-backend checkpoint,
    or a ``--save-state`` snapshot.

    Raises:
        DryRunError: an unreadable or non-UTF-8 file, not JSON, nested too deeply, an unsupported
            version, or any field of the wrong type (a malformed URN, a list where an object
            belongs, a duration that is not one, a URN twice): one paragraph with the JSON path.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise DryRunError(
            str(path), "", f"cannot be read: {error.strerror}.", "pass --state with a state file."
        ) from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DryRunError(str(path), f"byte {error.start}", "is not UTF-8 text.", _FIX) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise DryRunError(str(path), f"line {error.lineno}", f"is not JSON: {error.msg}.", _FIX) from None
    except RecursionError:
        raise DryRunError(str(path), "", f"is nested deeper than {MAX_DEPTH} levels.", _FIX) from None
    return _StateReader(path).snapshot(document)


class _StateReader:
    """Reads a parsed state document, checking each field's type and naming its JSON path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str, fix: str = _FIX) -> DryRunError:
        return DryRunError(str(self.path), where, problem, fix)

    def snapshot(self, document: Any) -> Snapshot:
        deep = _too_deep(document, MAX_DEPTH)
        if deep is not None:
            raise self.fail(deep, f"is nested deeper than {MAX_DEPTH} levels.")
        if not isinstance(document, dict):
            raise self.fail("", f"is not a stack export: a JSON {_kind(document)}, not an object.")
        version = document.get("version")
        if "deployment" in document:
            deployment, where = document["deployment"], "deployment"
        elif isinstance(document.get("checkpoint"), dict) and "latest" in document["checkpoint"]:
            deployment, where = document["checkpoint"]["latest"], "checkpoint.latest"
        else:
            raise self.fail("", "is not a stack export: it has no `deployment`.")
        if isinstance(version, bool) or not isinstance(version, int):
            raise self.fail("version", f"must be a deployment version number, not {version!r}.")
        if version not in SUPPORTED_VERSIONS:
            advice = (
                "export the stack again with a current Pulumi CLI."
                if version < SUPPORTED_VERSIONS[0]
                else "this reader knows deployment versions 3 and 4; export with a CLI that writes one of them."
            )
            raise self.fail("version", f"deployment version {version} is not supported (only 3 and 4).", advice)
        warnings = self._features(document.get("features"), version)
        if deployment is None:
            deployment = {}
        if not isinstance(deployment, dict):
            raise self.fail(where, f"must be an object, not a {_kind(deployment)}.")
        raw_resources = deployment.get("resources")
        raw_resources = [] if raw_resources is None else raw_resources
        if not isinstance(raw_resources, list):
            raise self.fail(f"{where}.resources", f"must be a list of resources, not a {_kind(raw_resources)}.")
        pending = deployment.get("pending_operations")
        pending = [] if pending is None else pending
        if not isinstance(pending, list):
            raise self.fail(f"{where}.pending_operations", f"must be a list, not a {_kind(pending)}.")
        if pending:
            kinds = sorted({str(op.get("type", "?")) for op in pending if isinstance(op, dict)})
            warnings.append(
                f"the state has {len(pending)} pending operation(s) ({', '.join(kinds)}) of an interrupted "
                "update: the resources they touched may exist without being in the state "
                "(`pulumi refresh` or `pulumi stack export` after `pulumi cancel` settles them)."
            )
        records = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_resources):
            at = f"{where}.resources[{index}]"
            record = self._record(raw, at)
            if raw.get("delete"):
                continue
            if record.urn in seen:
                raise self.fail(
                    f"{at}.urn",
                    f"resource URN {record.urn!r} appears twice (also at {where}.resources[{seen[record.urn]}]); "
                    "the engine refuses such a state.",
                    "export the stack again, or remove the stale copy with `pulumi state delete`.",
                )
            seen[record.urn] = index
            records.append(record)
        return Snapshot(tuple(records), self.path, warnings=tuple(warnings))

    def _features(self, features: Any, version: int) -> list[str]:
        if features is None:
            return []
        if not isinstance(features, list) or not all(isinstance(feature, str) for feature in features):
            raise self.fail("features", "must be a list of feature names.")
        unknown = sorted(set(features) - KNOWN_FEATURES)
        if unknown:
            return [
                f"the state uses deployment feature(s) {', '.join(unknown)}, which this preview does not know; "
                "their resource fields are ignored."
            ]
        return []

    def _urn(self, value: Any, at: str) -> str:
        if not isinstance(value, str):
            raise self.fail(at, f"must be a URN string, not a {_kind(value)}.")
        try:
            urns.parse_urn(value)
        except ValueError:
            raise self.fail(at, f"{value!r} is not a URN (urn:pulumi:<stack>::<project>::<type>::<name>).") from None
        return value

    def _string(self, raw: Mapping[str, Any], key: str, at: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f"{at}.{key}", f"must be a string, not a {_kind(value)}.")
        return value

    def _flag(self, raw: Mapping[str, Any], key: str, at: str) -> bool:
        value = raw.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.fail(f"{at}.{key}", f"must be true or false, not {value!r}.")
        return value

    def _strings(self, raw: Mapping[str, Any], key: str, at: str, *, urn: bool = False) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise self.fail(f"{at}.{key}", f"must be a list, not a {_kind(value)}.")
        items = []
        for index, item in enumerate(value):
            if urn:
                items.append(self._urn(item, f"{at}.{key}[{index}]"))
            elif not isinstance(item, str):
                raise self.fail(f"{at}.{key}[{index}]", f"must be a string, not a {_kind(item)}.")
            else:
                items.append(item)
        return tuple(items)

    def _properties(self, raw: Mapping[str, Any], key: str, at: str) -> dict[str, Any]:
        value = raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(f"{at}.{key}", f"must be an object of properties, not a {_kind(value)}.")
        converted = _values_from_state(value, f"{at}.{key}", self.fail)
        assert isinstance(converted, dict)
        return converted

    def _record(self, raw: Any, at: str) -> ResourceRecord:
        if not isinstance(raw, dict):
            raise self.fail(at, f"is not a resource (an object with `urn` and `type`), but a {_kind(raw)}.")
        if "urn" not in raw or "type" not in raw:
            raise self.fail(at, "is not a resource (needs `urn` and `type`).")
        urn = self._urn(raw["urn"], f"{at}.urn")
        type_ = self._string(raw, "type", at) or ""
        parent = raw.get("parent")
        provider = self._string(raw, "provider", at)
        if provider:
            self._urn(provider.rpartition("::")[0], f"{at}.provider")
        dependencies_raw = raw.get("propertyDependencies")
        dependencies_raw = {} if dependencies_raw is None else dependencies_raw
        if not isinstance(dependencies_raw, dict):
            raise self.fail(f"{at}.propertyDependencies", f"must be an object, not a {_kind(dependencies_raw)}.")
        property_dependencies = {
            key: self._strings(dependencies_raw, key, f"{at}.propertyDependencies", urn=True)
            for key in dependencies_raw
        }
        source = self._string(raw, "sourcePosition", at)
        return ResourceRecord(
            urn=urn,
            type=type_,
            name=urns.parse_urn(urn).name,
            custom=self._flag(raw, "custom", at),
            inputs=self._properties(raw, "inputs", at),
            outputs=self._properties(raw, "outputs", at),
            parent=self._urn(parent, f"{at}.parent") if parent else None,
            dependencies=self._strings(raw, "dependencies", at, urn=True),
            property_dependencies=property_dependencies,
            provider=provider or None,
            protect=self._flag(raw, "protect", at),
            id=self._string(raw, "id", at) or None,
            external=self._flag(raw, "external", at),
            ignore_changes=self._strings(raw, "ignoreChanges", at),
            replace_on_changes=self._strings(raw, "replaceOnChanges", at),
            retain_on_delete=self._flag(raw, "retainOnDelete", at),
            additional_secret_outputs=self._strings(raw, "additionalSecretOutputs", at),
            aliases=self._strings(raw, "aliases", at, urn=True),
            custom_timeouts=self._timeouts(raw.get("customTimeouts"), f"{at}.customTimeouts"),
            source_position=_source_from_state(source) if source else None,
        )

    def _timeouts(self, raw: Any, at: str) -> dict[str, str]:
        """``customTimeouts``: seconds as numbers (the Go engine's) or Go duration strings (``"20m"``)."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise self.fail(at, f"must be an object of create/update/delete timeouts, not a {_kind(raw)}.")
        timeouts = {}
        for key, value in raw.items():
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise self.fail(f"{at}.{key}", f"must be seconds or a duration such as '20m', not {value!r}.")
            try:
                seconds = duration_seconds(value) if isinstance(value, str) else float(value)
            except ValueError as error:
                raise self.fail(f"{at}.{key}", f"{error}.") from None
            if seconds:
                timeouts[str(key)] = f"{seconds:g}s"
        return timeouts


def _kind(value: Any) -> str:
    """A JSON value's kind, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else type(value).__name__


def _too_deep(document: Any, limit: int) -> str | None:
    """The JSON path of the first value nested deeper than ``limit``, or None. Iterative: O(size)."""
    stack: list[tuple[Any, str, int]] = [(document, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > limit:
            return where or "(top)"
        if isinstance(value, dict):
            stack.extend((item, f"{where}.{key}" if where else str(key), depth + 1) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{index}]", depth + 1) for index, item in enumerate(value))
    return None


def _values_from_state(value: Any, at: str, fail: Callable[[str, str], DryRunError]) -> Any:
    """State values in wire form: a secret's ``plaintext`` becomes its value; a ciphertext (which
    only the stack's secrets provider could open) stays a secret without a value; an output value
    (v4) becomes its value, or unknown."""
    if isinstance(value, dict):
        signature = value.get(SECRET_SIG_KEY)
        if signature == SECRET_SIG:
            if "plaintext" in value:
                if not isinstance(value["plaintext"], str):
                    raise fail(f"{at}.plaintext", "a secret's plaintext must be a JSON string.")
                try:
                    plain = json.loads(value["plaintext"])
                except ValueError:
                    plain = value["plaintext"]
                return {SECRET_SIG_KEY: SECRET_SIG, "value": _values_from_state(plain, at, fail)}
            if not isinstance(value.get("ciphertext"), str):
                raise fail(at, "a secret needs a `ciphertext` or `plaintext` string.")
            return {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": value["ciphertext"]}
        if signature == OUTPUT_VALUE_SIG:
            inner = _values_from_state(value["value"], f"{at}.value", fail) if "value" in value else UNKNOWN
            return {SECRET_SIG_KEY: SECRET_SIG, "value": inner} if value.get("secret") is True else inner
        return {key: _values_from_state(item, f"{at}.{key}", fail) for key, item in value.items()}
    if isinstance(value, list):
        return [_values_from_state(item, f"{at}[{index}]", fail) for index, item in enumerate(value)]
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
        state["customTimeouts"] = {key: duration_seconds(value) for key, value in record.custom_timeouts.items()}
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
    return Snapshot(tuple(moved), snapshot.file, rebased_from=old_stack, warnings=snapshot.warnings)
