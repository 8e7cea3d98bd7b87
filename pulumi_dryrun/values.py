"""Property values in their wire form, as the engine, the state file and the analyzer carry them.

A secret is ``{SECRET_SIG_KEY: SECRET_SIG, "value": ...}`` (in a state file, ``"ciphertext"`` or
``"plaintext"`` instead of ``"value"``); an unknown is the ``UNKNOWN`` string; resource references,
assets and archives are other signature objects, passed through untouched.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from google.protobuf import struct_pb2

from pulumi_dryrun.resources import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN

REDACTED = "[secret]"
# Secrets shorter than this are not scrubbed from free text: "1" or "true" would maul every line.
MIN_SCRUBBED_SECRET_CHARS = 4


def from_struct(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A protobuf Struct as plain Python values, keys sorted (so equal values print equally)."""
    return {key: from_value(struct.fields[key]) for key in sorted(struct.fields)}


def from_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        return from_struct(value.struct_value)
    if kind == "list_value":
        return [from_value(item) for item in value.list_value.values]
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return value.number_value
    if kind == "bool_value":
        return value.bool_value
    return None


def to_struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    """Plain Python values (wire form) as a protobuf Struct, sealed secrets given as unknown secrets."""
    struct = struct_pb2.Struct()
    struct.update(unsealed(dict(values)))
    return struct


def unsealed(value: Any) -> Any:
    """``value`` as a program may be given it: a sealed secret (a state file's ciphertext, which only
    the stack's secrets provider could open) becomes a secret whose value is unknown, as a preview
    that cannot read it would show it; everything else is unchanged. Complexity: O(size of value)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG and "value" not in value:
            return {SECRET_SIG_KEY: SECRET_SIG, "value": UNKNOWN}
        return {key: unsealed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unsealed(item) for item in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value == UNKNOWN


def make_secret(value: Any) -> dict[str, Any]:
    return {SECRET_SIG_KEY: SECRET_SIG, "value": value}


def secret_value(value: dict[str, Any]) -> tuple[bool, Any]:
    """Whether a secret's plaintext is readable, and the plaintext (None when it is not)."""
    if "value" in value:
        return True, value["value"]
    return False, None


def contains_unknown(value: Any) -> bool:
    """Whether ``value`` is or holds an unknown."""
    if is_unknown(value):
        return True
    if isinstance(value, dict):
        return any(contains_unknown(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_unknown(item) for item in value)
    return False


def redact(value: Any) -> Any:
    """``value`` with every secret replaced by ``"[secret]"``; nothing else changes."""
    if is_secret(value):
        return REDACTED
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def plain_numbers(value: Any) -> Any:
    """Integral floats as ints, the way the engine (Go) prints numbers: ``3`` for ``3.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: plain_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_numbers(item) for item in value]
    return value


def secret_plaintexts(values: Iterable[Any]) -> set[str]:
    """Every string inside a secret anywhere in ``values`` (what free text must not repeat)."""
    found: set[str] = set()

    def walk(value: Any, inside: bool) -> None:
        if is_secret(value):
            readable, plain = secret_value(value)
            if readable:
                walk(plain, True)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item, inside)
        elif isinstance(value, list):
            for item in value:
                walk(item, inside)
        elif inside and isinstance(value, str | int | float) and not isinstance(value, bool):
            found.add(str(value))

    for value in values:
        walk(value, False)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret plaintext replaced by ``"[secret]"``.

    Longest first, so a secret that contains another is replaced whole. Plaintexts shorter than
    ``MIN_SCRUBBED_SECRET_CHARS`` are left: they cannot be told apart from ordinary words.
    """
    return scrubber(secrets)(text)


def scrubber(secrets: Iterable[str]) -> Callable[[str], str]:
    """``scrub`` with its pattern compiled once, for many strings."""
    candidates = sorted(
        {secret for secret in secrets if len(secret) >= MIN_SCRUBBED_SECRET_CHARS and secret != REDACTED},
        key=len,
        reverse=True,
    )
    if not candidates:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(secret) for secret in candidates))
    return lambda text: pattern.sub(REDACTED, text) if text else text


def scrub_model(value: Any, clean: Callable[[str], str]) -> Any:
    """``value`` with ``clean`` applied to every string inside it, before any format escapes it.

    Walks frozen dataclasses (rebuilt with ``dataclasses.replace``), mappings (keys and values),
    lists and tuples; strings of a ``str`` subclass (enumerations) and other objects are left as
    they are. Complexity: O(size of value), each string scanned once.
    """
    if type(value) is str:
        return clean(value)
    if isinstance(value, dict):
        return {scrub_model(key, clean): scrub_model(item, clean) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_model(item, clean) for item in value]
    if isinstance(value, tuple):
        return tuple(scrub_model(item, clean) for item in value)
    if isinstance(value, Mapping):
        return {scrub_model(key, clean): scrub_model(item, clean) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            each.name: scrub_model(getattr(value, each.name), clean) for each in dataclasses.fields(value) if each.init
        }
        return dataclasses.replace(value, **changes)
    return value
