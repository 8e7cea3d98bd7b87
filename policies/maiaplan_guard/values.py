"""Property values as the analyzer protocol delivers them: plain data, unknowns, nested paths."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.proxy import _DictProxy, _ListProxy

# The engine's sentinels for values unknown during a preview (pulumi_policy.proxy lists the same
# seven; the engine itself sends the string one for every kind).
UNKNOWN_SENTINELS: Final[frozenset[str]] = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


class _Missing:
    """The value of a property path that leads nowhere (absent key, index out of range)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


def is_unknown(value: Any) -> bool:
    """True when ``value`` is one of the engine's unknown-at-preview sentinels."""
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def _unwrap(value: Any) -> Any:
    kind = type(value)
    if kind is _DictProxy:
        return {key: _unwrap(item) for key, item in value["__target"].items()}
    if kind is _ListProxy or kind is list:
        return [_unwrap(item) for item in (value["__target"] if kind is _ListProxy else value)]
    if kind is dict:
        return {key: _unwrap(item) for key, item in value.items()}
    if kind in (str, bool, int, float) or value is None:
        return value
    # Anything else (an asset, an archive, a proxy type this code does not know): the SDK's own,
    # slower conversion, which also unwraps proxies.
    return serialize_properties({"value": value})["value"]


def plain(props: Mapping[str, Any]) -> dict[str, Any]:
    """The resource properties as plain dicts and lists, unknowns kept as their sentinel strings.

    pulumi-policy hands policies a proxy that raises on reading an unknown value and then reports
    only an advisory "can't run policy during preview"; unwrapping it lets each rule see unknowns
    and fail closed at its own enforcement level. (The SDK's ``serialize_properties`` does the same
    but is several times slower; its proxy classes are unwrapped directly here.)
    """
    unwrapped = _unwrap(props)
    if not isinstance(unwrapped, dict):
        raise TypeError(f"resource properties must be a mapping, not {type(props).__name__}")
    return unwrapped


def get_path(value: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``"placement.tenancy"``) or :data:`MISSING`.

    An unknown sentinel met on the way is returned as is: the rest of the path is unknown too.
    """
    current = value
    for key in path.split("."):
        if is_unknown(current):
            return current
        if isinstance(current, Mapping) and key in current:
            current = current[key]
        else:
            return MISSING
    return current


def items_of(value: Any) -> list[Any]:
    """The elements of a list property; ``[]`` when absent or null."""
    if value is MISSING or value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def string_leaves(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` with its dotted path (list indexes as numbers)."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from string_leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from string_leaves(item, f"{path}.{index}" if path else str(index))


def describe(value: Any) -> str:
    """A value as a violation message shows it."""
    if value is MISSING:
        return "not set"
    if is_unknown(value):
        return "unknown until the update runs"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def truthy_flag(value: Any) -> bool:
    """A boolean provider flag: ``True`` or the string ``"true"`` (some AWS flags are strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
