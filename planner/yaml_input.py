"""Reading user YAML (specs, waivers): safe, strict about duplicate keys, dates kept as text, and fast.

PyYAML's loaders build a node tree of the whole document, then construct Python objects from it,
resolving the type of every plain scalar with regular expressions: a 35 MB spec took minutes and
gigabytes. Here libyaml's C parser (PyYAML's ``CParser``, when PyYAML was built with it) streams
parse events and :func:`load_yaml` builds the Python objects straight from them, with no node tree,
resolving each distinct plain scalar once (a spec repeats a few hundred values many thousand times).
The result is the one ``yaml.safe_load`` gives, with three differences a spec wants:

- a duplicate mapping key is an error at its line, not a silent overwrite;
- date-like scalars (``2024-13-01``, ``2099-02-30``, even tagged ``!!timestamp``) stay strings: no
  spec field is a date, and an impossible date would otherwise be a traceback;
- tags other than YAML's core ones (``!!str``, ``!!int``, ``!!float``, ``!!bool``, ``!!null``,
  ``!!binary``, ``!!map``, ``!!seq``) are errors rather than objects.

Merge keys (``<<: *defaults``) and anchors work as in PyYAML.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import yaml
from yaml import events

from planner.errors import InputError

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = {
    events.MappingStartEvent: "tag:yaml.org,2002:map",
    events.SequenceStartEvent: "tag:yaml.org,2002:seq",
}
_SCALAR_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "binary", "timestamp")
)
_MERGE_KEY = object()  # a pending `<<` key: no YAML key can be this object
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C parser when built


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """PyYAML's safe loader (on libyaml when available), minus the timestamp type."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_Loader.add_constructor(_TIMESTAMP_TAG, _timestamp_as_text)


def uses_libyaml() -> bool:
    """Whether :func:`load_yaml` parses with libyaml's C parser."""
    return issubclass(_Loader, getattr(yaml, "CSafeLoader", ()))


class _Collection:
    """A mapping or sequence being built: its object, and for a mapping the pending key and merges."""

    __slots__ = ("key", "mark", "merges", "value")

    def __init__(self, value: dict[Any, Any] | list[Any], mark: yaml.Mark) -> None:
        self.value = value
        self.mark = mark  # where it starts, for errors about it
        self.key: tuple[Any, yaml.Mark] | None = None  # a mapping's key waiting for its value
        self.merges: list[Any] = []  # values of `<<` keys, applied when the mapping ends

    def add(self, item: Any, mark: yaml.Mark, is_merge_key: bool = False) -> None:
        if isinstance(self.value, list):
            self.value.append(item)
        elif self.key is None:
            self.key = (_MERGE_KEY if is_merge_key else item, mark)
        else:
            key, key_mark = self.key
            self.key = None
            if key is _MERGE_KEY:
                self.merges.append(item)
                return
            try:
                duplicate = key in self.value
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, "found unhashable key", key_mark) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_mark)
            self.value[key] = item

    def finish(self, mark: yaml.Mark) -> Any:
        """The built object, merge keys applied (the mapping's own keys win, the first merge next)."""
        if isinstance(self.value, dict) and self.merges:
            merged: dict[Any, Any] = {}
            for merge in self.merges:
                for part in merge if isinstance(merge, list) else [merge]:
                    if not isinstance(part, dict):
                        raise yaml.constructor.ConstructorError(
                            None, None, "a merge key (<<) takes a mapping or a list of mappings", mark
                        )
                    for key, item in part.items():
                        merged.setdefault(key, item)
            own = dict(self.value)
            self.value.clear()
            self.value.update({**merged, **own})
        return self.value


def _build(loader: yaml.SafeLoader) -> Any:
    """The one document of ``loader``'s stream, built from its parse events.

    Complexity: O(events) time; memory O(the result + nesting depth), no node tree.
    """
    resolved: dict[str, str] = {}  # plain scalar -> its tag
    anchors: dict[str, Any] = {}
    stack: list[_Collection] = []
    documents = 0
    result: Any = None

    def place(item: Any, mark: yaml.Mark, is_merge_key: bool = False) -> None:
        nonlocal result
        if stack:
            stack[-1].add(item, mark, is_merge_key)
        else:
            result = item

    while True:
        event = loader.get_event()  # type: ignore[no-untyped-call]
        kind = type(event)
        if kind is events.ScalarEvent:
            tag = event.tag
            if tag is None or tag == "!":
                if event.implicit[0]:
                    tag = resolved.get(event.value)
                    if tag is None:
                        tag = resolved[event.value] = loader.resolve(  # type: ignore[no-untyped-call]
                            yaml.ScalarNode, event.value, (True, False)
                        )
                else:
                    tag = _STR_TAG
            if tag == _STR_TAG:
                item: Any = event.value
            elif tag == _MERGE_TAG:
                item = None
            elif tag in _SCALAR_TAGS:
                node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
                item = loader.yaml_constructors[tag](loader, node)
            else:
                raise yaml.constructor.ConstructorError(None, None, f"unsupported tag {tag}", event.start_mark)
            if event.anchor:
                anchors[event.anchor] = item
            place(item, event.start_mark, tag == _MERGE_TAG)
        elif kind in _COLLECTION_TAGS:
            if event.tag not in (None, "!", _COLLECTION_TAGS[kind]):
                raise yaml.constructor.ConstructorError(None, None, f"unsupported tag {event.tag}", event.start_mark)
            collection = _Collection({} if kind is events.MappingStartEvent else [], event.start_mark)
            if event.anchor:
                anchors[event.anchor] = collection.value
            stack.append(collection)
        elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
            done = stack.pop()
            place(done.finish(done.mark), done.mark)
        elif kind is events.AliasEvent:
            if event.anchor not in anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias '{event.anchor}'", event.start_mark
                )
            place(anchors[event.anchor], event.start_mark)
        elif kind is events.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise yaml.composer.ComposerError(
                    None, None, "expected a single document, but found another", event.start_mark
                )
        elif kind is events.StreamEndEvent:
            return result


def load_yaml(text: str, file: str) -> Any:
    """Parse the YAML ``text`` of ``file`` (see the module docstring): safe and strict.

    Parameters
    ----------
    text
        The document.
    file
        Its name, for error messages.

    Returns
    -------
    Any
        Plain dicts, lists, strings, numbers, booleans and None (bytes for ``!!binary``).

    Raises
    ------
    InputError
        At the line and column of a syntax error, a duplicate key or an unsupported tag.

    Complexity: O(len(text)), parsing in libyaml's C parser when PyYAML was built with it.
    """
    loader = _Loader(text)
    try:
        return _build(loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise InputError(file, where, f"is not valid YAML: {problem}", "correct the YAML syntax there") from None
    except (ValueError, TypeError, OverflowError) as error:  # a tagged scalar (!!int, !!float) that is no such thing
        raise InputError(file, "", f"is not valid YAML: {error}", "correct or quote the value") from None
    finally:
        loader.dispose()
