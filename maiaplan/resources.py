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
