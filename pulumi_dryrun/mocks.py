"""What the providers answer during a preview, imitated offline.

In a real preview the engine asks each resource's provider to ``Check`` its inputs (filling
auto-names) and to preview the create or update; the program gets back the inputs it gave plus the
provider-computed outputs, unknown until the resource exists. A resource already in the prior state
keeps its id and the outputs recorded there. Provider resources are created with the unknown id,
as the engine's provider registry does in a preview.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_dryrun import providers
from pulumi_dryrun.project import StackConfig
from pulumi_dryrun.resources import UNKNOWN, ResourceRecord
from pulumi_dryrun.schema import ResourceSchema, conform
from pulumi_dryrun.values import is_secret, make_secret

# The key the engine keeps provider-internal settings under in a provider's inputs.
PROVIDER_INTERNAL_KEY = "__internal"
_PATH_TOKEN = re.compile(r'\.?([A-Za-z0-9_$-]+)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]')


class PreviewProviders:
    """The provider side of a preview: checked inputs, ids and outputs for each registration.

    ``prior`` holds the resources of the prior state by URN.
    """

    def __init__(self, prior: Mapping[str, ResourceRecord], config: StackConfig) -> None:
        self._prior = prior
        self._config = config

    def prior(self, urn: str) -> ResourceRecord | None:
        return self._prior.get(urn)

    def prior_resources(self) -> list[ResourceRecord]:
        return list(self._prior.values())

    def custom_resource(
        self,
        urn: str,
        type_: str,
        name: str,
        inputs: dict[str, Any],
        schema: ResourceSchema | None,
        ignore_changes: tuple[str, ...],
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """The id (``UNKNOWN`` for a create), checked inputs and preview outputs of a resource."""
        prior = self._prior.get(urn)
        if prior is not None and prior.external:
            prior = None
        checked = dict(inputs)
        if schema is not None:
            profile = providers.profile_for(type_)
            named = providers.autoname_property(profile, type_, checked, schema.input_names)
            if named is not None:
                kept = prior.inputs.get(named) if prior is not None else None
                checked[named] = kept if kept is not None else providers.generated_name(profile, name, urn)
        if prior is not None:
            for path in ignore_changes:
                _copy_path(prior.inputs, checked, path)
            if checked == dict(prior.inputs):
                return prior.id or UNKNOWN, checked, dict(prior.outputs)
            outputs = {key: value for key, value in prior.outputs.items() if key not in prior.inputs}
            outputs.update(conform(checked, schema.output_shape) if schema is not None else checked)
            return prior.id or UNKNOWN, checked, outputs
        outputs = dict(checked)
        if schema is not None:
            outputs = conform(outputs, schema.output_shape)
            for computed in sorted(schema.output_names - schema.input_names):
                outputs.setdefault(computed, UNKNOWN)
        return UNKNOWN, checked, outputs

    def provider_resource(
        self, urn: str, inputs: dict[str, Any], version: str
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """The id, inputs and outputs of a provider resource; its inputs carry the plugin version.

        The engine records the version in the inputs (with an ``__internal`` block) and configures
        the provider with the rest; a provider whose inputs did not change keeps its id.
        """
        checked = dict(inputs)
        if version:
            checked["version"] = version
        checked.setdefault(PROVIDER_INTERNAL_KEY, {})
        outputs = {key: value for key, value in checked.items() if key != PROVIDER_INTERNAL_KEY}
        prior = self._prior.get(urn)
        if prior is not None and prior.id:
            return prior.id, checked, outputs
        return UNKNOWN, checked, outputs

    def default_provider_inputs(self, package: str) -> dict[str, Any]:
        """A default provider's inputs: the stack config under the package's namespace.

        Objects and arrays are passed structured, everything else as the string the config holds;
        secret keys stay secret.
        """
        inputs: dict[str, Any] = {}
        for key, value in self._config.namespace(package).items():
            full_key = f"{package}:{key}"
            plain: Any = self._config.structured.get(full_key, value)
            inputs[key] = make_secret(plain) if full_key in self._config.secret_keys else plain
        return inputs

    def read(self, urn: str, type_: str, id_: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """The outputs of a resource read by id: the prior state's if it was read before."""
        prior = self._prior.get(urn)
        if prior is not None and prior.id == id_:
            return dict(prior.outputs)
        outputs = providers.read_answer(type_, inputs)
        outputs.setdefault("id", id_)
        return outputs

    def invoke(self, token: str, args: dict[str, Any]) -> dict[str, Any]:
        """A data source's answer (secret arguments are looked through)."""
        plain = {key: (value.get("value") if is_secret(value) else value) for key, value in args.items()}
        return providers.invoke_answer(token, plain, self._config.values)


def _path_segments(path: str) -> list[str | int]:
    """``tags.env``, ``rules[0].port``, ``tags["a.b"]`` as keys and indexes; [] if malformed."""
    segments: list[str | int] = []
    position = 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None or match.end() == position:
            return []
        name, index, quoted = match.groups()
        if name is not None:
            segments.append(name)
        elif index is not None:
            segments.append(int(index))
        else:
            segments.append(quoted.replace('\\"', '"'))
        position = match.end()
    return segments


def _copy_path(source: Mapping[str, Any], target: dict[str, Any], path: str) -> None:
    """Set ``path`` in ``target`` to its value in ``source`` (or remove it): ``ignoreChanges``."""
    segments = _path_segments(path)
    if not segments or not isinstance(segments[0], str):
        return
    old: Any = source
    for segment in segments:
        old = _child(old, segment)
        if old is _ABSENT:
            break
    container: Any = target
    for segment in segments[:-1]:
        child = _child(container, segment)
        if not isinstance(child, dict | list):
            return
        container[segment] = _shallow_copy(child)
        container = container[segment]
    last = segments[-1]
    if isinstance(last, str) and isinstance(container, dict):
        if old is _ABSENT:
            container.pop(last, None)
        else:
            container[last] = old
    elif isinstance(last, int) and isinstance(container, list) and last < len(container) and old is not _ABSENT:
        container[last] = old


def _child(value: Any, segment: str | int) -> Any:
    """``value[segment]`` when it exists, else ``_ABSENT``."""
    if isinstance(segment, str) and isinstance(value, Mapping) and segment in value:
        return value[segment]
    if isinstance(segment, int) and isinstance(value, list) and segment < len(value):
        return value[segment]
    return _ABSENT


def _shallow_copy(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else list(value) if isinstance(value, list) else value


_ABSENT = object()
