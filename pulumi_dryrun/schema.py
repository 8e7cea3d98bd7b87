"""Property shapes of a resource type, as the program's process describes them, and their uses.

Numbers cross the gRPC boundary as doubles, so a provider's answer holds ``3.0`` for ``3``; the
shapes here turn those back into ``int`` exactly where the provider's schema says integer, and
nowhere else (``restore_integers``), and mark as unknown the parts of a preview's outputs that an
input cannot stand for (``conform``). The shapes come from the generated SDK classes the program
itself imports (``pulumi_dryrun.child.describe``), so a project with its own provider version gets
its version's schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_dryrun.resources import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN

_KINDS = frozenset({"int", "number", "scalar", "object", "array", "map", "any"})


@dataclass(frozen=True)
class Shape:
    """What the schema says of a value.

    ``kind`` is ``int``, ``number``, ``scalar`` (string, bool, enum), ``object`` (its fields are
    ``types[type]``), ``array`` or ``map`` (of ``item``), or ``any``.
    """

    kind: str
    type: str = ""
    item: Shape | None = None
    types: Mapping[str, Mapping[str, Shape]] = field(default_factory=dict, compare=False, repr=False)

    def field(self, name: str) -> Shape:
        """The shape of an object's property ``name`` (``any`` when unknown)."""
        if self.kind != "object":
            return ANY
        return self.types.get(self.type, {}).get(name, ANY)

    @property
    def fields(self) -> Mapping[str, Shape]:
        return self.types.get(self.type, {}) if self.kind == "object" else {}


ANY = Shape("any")


@dataclass(frozen=True)
class ResourceSchema:
    """A resource type's schema: the wire names of its inputs and outputs, and its shapes
    (``shape``: inputs merged with outputs; ``output_shape``: outputs alone)."""

    input_names: frozenset[str]
    output_names: frozenset[str]
    shape: Shape
    output_shape: Shape


def parse_schema(document: Any) -> ResourceSchema:
    """A ``describe`` document as a ``ResourceSchema``.

    Raises
    ------
    ValueError
        When the document does not have the form ``describe`` gives it.

    Notes
    -----
    O(size of the document).
    """
    if not isinstance(document, Mapping):
        raise ValueError("a schema description must be an object")
    raw_types = document.get("types", {})
    if not isinstance(raw_types, Mapping):
        raise ValueError("`types` must be an object")
    types: dict[str, dict[str, Shape]] = {}

    def shape(raw: Any) -> Shape:
        if not isinstance(raw, Mapping) or raw.get("kind") not in _KINDS:
            raise ValueError(f"{raw!r} is not a shape")
        kind = raw["kind"]
        if kind == "object":
            key = raw.get("type")
            if not isinstance(key, str) or key not in raw_types:
                raise ValueError(f"object shape names no described type: {key!r}")
            return Shape("object", type=key, types=types)
        if kind in ("array", "map"):
            return Shape(kind, item=shape(raw["item"]) if "item" in raw else ANY)
        return ANY if kind == "any" else Shape(kind)

    for key, fields in raw_types.items():
        if not isinstance(fields, Mapping):
            raise ValueError(f"type {key!r} must map field names to shapes")
        types[str(key)] = {str(name): shape(raw) for name, raw in fields.items()}
    names = {}
    for which in ("inputs", "outputs"):
        listed = document.get(which, [])
        if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
            raise ValueError(f"`{which}` must be a list of names")
        names[which] = frozenset(listed)
    return ResourceSchema(
        names["inputs"], names["outputs"], shape(document.get("shape")), shape(document.get("output_shape"))
    )


def restore_integers(value: Any, shape: Shape) -> Any:
    """``value`` with every integral float that ``shape`` types as integer turned back into int.

    Secrets are looked into (their wrapper kept); unknowns, strings and untyped values are left.
    Complexity: O(size of value).
    """
    if isinstance(value, float):
        if shape.kind == "int" and value.is_integer():
            return int(value)
        return value
    if isinstance(value, list):
        item = shape.item if shape.kind == "array" and shape.item else ANY
        return [restore_integers(element, item) for element in value]
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            if "value" in value:
                return {**value, "value": restore_integers(value["value"], shape)}
            return value
        if SECRET_SIG_KEY in value:
            return value
        if shape.kind == "map":
            item = shape.item or ANY
            return {key: restore_integers(element, item) for key, element in value.items()}
        if shape.kind == "object":
            return {key: restore_integers(element, shape.field(key)) for key, element in value.items()}
        return value
    return value


def conform(value: Any, shape: Shape) -> Any:
    """``value`` with each part whose kind the shape contradicts replaced by ``UNKNOWN``.

    A provider reports outputs in its output types, which can differ from its inputs (azure-native
    takes ``userAssignedIdentities`` as a list of ids and reports a map keyed by id): where an input
    cannot stand for the output, a preview does not know the output yet. Secrets keep their wrapper.
    Complexity: O(size of value).
    """
    if value is None or value == UNKNOWN or shape.kind == "any":
        return value
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG:
        return {**value, "value": conform(value["value"], shape)} if "value" in value else value
    if isinstance(value, dict) and SECRET_SIG_KEY in value:
        return value
    if shape.kind == "object":
        if not isinstance(value, dict):
            return UNKNOWN
        return {key: conform(item, shape.field(key)) for key, item in value.items()}
    if shape.kind == "map":
        if not isinstance(value, dict):
            return UNKNOWN
        return {key: conform(item, shape.item or ANY) for key, item in value.items()}
    if shape.kind == "array":
        if not isinstance(value, list):
            return UNKNOWN
        return [conform(item, shape.item or ANY) for item in value]
    if isinstance(value, dict | list):
        return UNKNOWN
    if shape.kind in ("int", "number") and (isinstance(value, bool) or not isinstance(value, int | float)):
        return UNKNOWN
    return value
