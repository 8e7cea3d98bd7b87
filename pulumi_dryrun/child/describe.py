"""The property shapes of a resource type, read from its generated Python SDK class, as data.

This module runs inside the program's process (the bootstrap loads it by path, so it needs nothing
but the Pulumi SDK the program itself uses): the classes are those of the provider version the
program imports. ``describe`` turns a resource class into a JSON-ready description that the engine
side reads with ``pulumi_dryrun.schema.parse_schema``.

The provider SDKs are generated from the providers' schemas: an ``integer`` property is annotated
``int``, a ``number`` ``float``, an object property with an ``@input_type``/``@output_type`` class.
The wire (camelCase) names and the annotations come from the SDK's own resolver (through
``compat``: the getter's ``@pulumi.getter(name=...)`` and its resolved return hint), so forward
references and nested types resolve as the SDK resolves them.
"""

from __future__ import annotations

import collections.abc
import functools
import sys
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pulumi.output import Output

from . import compat

_SEQUENCE_ORIGINS = (list, tuple, collections.abc.Sequence, collections.abc.MutableSequence)
_MAPPING_ORIGINS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


@dataclass(frozen=True)
class Shape:
    """What the schema says of a value.

    ``kind`` is ``int``, ``number``, ``scalar`` (string, bool, enum), ``object`` (fields from
    ``classes``), ``array`` or ``map`` (of ``item``), or ``any``.
    """

    kind: str
    classes: tuple[type, ...] = ()
    item: Shape | None = None

    def field(self, name: str) -> Shape:
        """The shape of an object's property ``name`` (``any`` when unknown)."""
        if self.kind != "object":
            return ANY
        return _object_fields(self.classes).get(name, ANY)

    @property
    def fields(self) -> dict[str, Shape]:
        return _object_fields(self.classes) if self.kind == "object" else {}


ANY = Shape("any")
INT = Shape("int")
NUMBER = Shape("number")
SCALAR = Shape("scalar")


@dataclass
class _Members:
    """The alternatives of a (possibly nested) Union, with Output/Awaitable/Optional peeled off."""

    classes: list[type] = field(default_factory=list)
    sequences: list[Any] = field(default_factory=list)
    mappings: list[Any] = field(default_factory=list)
    scalars: set[type] = field(default_factory=set)
    anything: bool = False


def shape_of(annotation: Any) -> Shape:
    """The shape of a type annotation from a generated SDK (inputs or outputs)."""
    members = _Members()
    _collect(annotation, members)
    if members.classes:
        return Shape("object", classes=tuple(dict.fromkeys(members.classes)))
    if members.sequences:
        return Shape("array", item=_merge([shape_of(item) for item in members.sequences]))
    if members.mappings:
        return Shape("map", item=_merge([shape_of(item) for item in members.mappings]))
    if members.anything:
        return ANY
    if int in members.scalars and float not in members.scalars:
        return INT
    if float in members.scalars:
        return NUMBER
    return SCALAR if members.scalars else ANY


def _collect(annotation: Any, members: _Members) -> None:
    if annotation is None or annotation is type(None):
        return
    if annotation is Any or isinstance(annotation, typing.TypeVar | typing.ForwardRef | str):
        members.anything = True
        return
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if (
        origin is typing.Union
        or origin is types.UnionType
        or origin is Output
        or origin in (collections.abc.Awaitable, typing.Awaitable)
    ):
        for argument in arguments:
            _collect(argument, members)
    elif origin in _SEQUENCE_ORIGINS:
        members.sequences.append(arguments[0] if arguments else Any)
    elif origin in _MAPPING_ORIGINS:
        members.mappings.append(arguments[1] if len(arguments) == 2 else Any)
    elif origin is not None:
        members.anything = True
    elif isinstance(annotation, type):
        if compat.is_input_type(annotation) or compat.is_output_type(annotation):
            members.classes.append(annotation)
        elif typing.is_typeddict(annotation) or annotation is Output:
            # The *ArgsDict twin of an input class is keyed by Python names; the class beside it in
            # the same Union carries the wire names. A bare Output carries no type.
            return
        elif issubclass(annotation, bool | str | bytes):
            members.scalars.add(str)
        elif issubclass(annotation, int):
            members.scalars.add(int)
        elif issubclass(annotation, float):
            members.scalars.add(float)
        else:
            members.anything = True
    else:
        members.anything = True


def _merge(shapes: list[Shape]) -> Shape:
    """One shape for several alternatives: objects merge their classes; int only if all agree."""
    if not shapes:
        return ANY
    kinds = {shape.kind for shape in shapes}
    if kinds == {"object"}:
        return Shape("object", classes=tuple(dict.fromkeys(c for shape in shapes for c in shape.classes)))
    if len(kinds) == 1 and kinds <= {"array", "map"}:
        return Shape(shapes[0].kind, item=_merge([shape.item or ANY for shape in shapes]))
    concrete = [shape for shape in shapes if shape.kind != "any"]
    if concrete and len(concrete) < len(shapes):
        # A candidate that says nothing does not veto one that does.
        return _merge(concrete)
    return shapes[0] if len(kinds) == 1 else ANY


@functools.cache
def _object_fields(classes: tuple[type, ...]) -> dict[str, Shape]:
    candidates: dict[str, list[Shape]] = {}
    for cls in classes:
        for name, hint in _wire_hints(cls).items():
            candidates.setdefault(name, []).append(shape_of(hint))
    return {name: _merge(shapes) for name, shapes in candidates.items()}


def _wire_hints(cls: type) -> dict[str, Any]:
    """Wire name → annotation of a generated class's properties; empty when hints do not resolve."""
    try:
        return dict(compat.raw_return_hints(cls))
    except Exception:
        return {}


@functools.cache
def args_class(resource_class: type) -> type | None:
    """The ``@input_type`` class of a resource's inputs, as its generated constructor declares it.

    Generated SDKs overload ``__init__`` with ``(resource_name, args: <Name>Args, opts)``; when a nested
    type already has that name the args class is ``<Name>InitArgs`` (and the package namespace may
    shadow either), so the overload's annotation is read first and the two names are the fallback.
    """
    module = sys.modules.get(resource_class.__module__)
    candidates: list[Any] = []
    for overload in typing.get_overloads(vars(resource_class).get("__init__", object)):
        annotation = getattr(overload, "__annotations__", {}).get("args")
        candidates.extend(typing.get_args(annotation) or (annotation,))
    if module is not None:
        candidates += [getattr(module, f"{resource_class.__name__}{suffix}", None) for suffix in ("InitArgs", "Args")]
    for candidate in candidates:
        if isinstance(candidate, type) and compat.is_input_type(candidate):
            return candidate
    return None


@functools.cache
def resource_shape(resource_class: type) -> Shape:
    """The shape of a resource's properties: its args class's inputs merged with its outputs."""
    inputs = args_class(resource_class)
    return Shape("object", classes=(inputs, resource_class) if inputs is not None else (resource_class,))


@functools.cache
def output_shape(resource_class: type) -> Shape:
    """The shape of a resource's outputs alone (its getters' ``Output[...]`` types)."""
    return Shape("object", classes=(resource_class,))


def input_names(resource_class: type) -> frozenset[str]:
    """Wire names of the properties a resource takes as inputs (from its args class)."""
    inputs = args_class(resource_class)
    return frozenset(_wire_hints(inputs)) if inputs is not None else frozenset()


def output_names(resource_class: type) -> frozenset[str]:
    """Wire names of the properties a resource exposes as outputs."""
    return frozenset(_wire_hints(resource_class))


def describe(resource_class: type) -> dict[str, Any]:
    """A resource class's schema as JSON-ready data: input and output names, and shapes.

    Object shapes name an entry of ``types`` (a key per distinct set of generated classes), so a
    recursive type is described once. Complexity: O(fields of every type reachable from the class).
    """
    table: dict[str, dict[str, Any]] = {}

    def encode(shape: Shape) -> dict[str, Any]:
        if shape.kind == "object":
            key = "|".join(f"{cls.__module__}.{cls.__qualname__}" for cls in shape.classes)
            if key not in table:
                table[key] = {}
                table[key].update({name: encode(child) for name, child in sorted(shape.fields.items())})
            return {"kind": "object", "type": key}
        if shape.item is not None:
            return {"kind": shape.kind, "item": encode(shape.item)}
        return {"kind": shape.kind}

    return {
        "inputs": sorted(input_names(resource_class)),
        "outputs": sorted(output_names(resource_class)),
        "shape": encode(resource_shape(resource_class)),
        "output_shape": encode(output_shape(resource_class)),
        "types": table,
    }
