"""The resource record that the dry-run engine produces and the policy-pack client consumes.

Property values are plain JSON-like Python values in the provider's own (camelCase) names. A value
unknown at preview time is ``UNKNOWN`` (the engine's own sentinel string, which is also what the
analyzer protocol carries); a secret is ``{SECRET_SIG_KEY: SECRET_SIG, "value": ...}`` as on the wire.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The engine's sentinel for a value unknown during a preview (pulumi.runtime.rpc.UNKNOWN).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
# The special-signature key and the value marking a secret (pulumi.runtime.rpc._special_sig_key, …).
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"


@dataclass(frozen=True)
class ResourceRecord:
    """One resource as the engine would register it in a preview.

    ``urn`` has the engine's form (see ../shared/reference/pulumi-engine.md); ``parent``,
    ``dependencies`` and ``property_dependencies`` are URNs; ``provider`` is a provider
    reference ``<provider urn>::<provider id>`` or None for components.

    The fields after ``protect`` carry the rest of the registration (resource options as the
    analyzer protocol's ``AnalyzerResourceOptions`` and the state file name them) and default to
    "not set", so a record can be built from the first fields alone:

    - ``id``: the provider-assigned id; ``UNKNOWN`` for a resource a preview would create, None for
      components.
    - ``external``: read with ``.get``/``ReadResource`` rather than managed by this stack.
    - ``ignore_changes``, ``replace_on_changes``: property paths as the program gave them.
    - ``delete_before_replace``: None when the program left it unset.
    - ``custom_timeouts``: ``create``/``update``/``delete`` durations such as ``"20m"``.
    - ``source_position``: ``path:line`` relative to the project, where the program declared it.
    """

    urn: str
    type: str
    name: str
    custom: bool
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any] = field(default_factory=dict)
    parent: str | None = None
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    provider: str | None = None
    protect: bool = False
    id: str | None = None
    external: bool = False
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    delete_before_replace: bool | None = None
    retain_on_delete: bool = False
    additional_secret_outputs: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    custom_timeouts: Mapping[str, str] = field(default_factory=dict)
    source_position: str | None = None
