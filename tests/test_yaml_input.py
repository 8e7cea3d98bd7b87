"""planner/yaml_input.py: what ``yaml.safe_load`` gives, built from libyaml's events, strict and date-free."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from helpers_spec import EXAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.errors import InputError
from planner.yaml_input import load_yaml

_scalars = (
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False) | st.text(max_size=12)
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(document=_documents, flow=st.booleans())
def test_any_dumped_document_loads_as_safe_load_reads_it(document: Any, flow: bool) -> None:
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True)
    assert load_yaml(text, "f.yaml") == yaml.safe_load(text)


def test_the_example_loads_as_safe_load_reads_it() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert load_yaml(text, str(EXAMPLE)) == yaml.safe_load(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: 2024-13-01\nb: 2024-01-01\nc: !!timestamp 2099-02-30\nd: 2024-01-01 10:00:00\n",
            {"a": "2024-13-01", "b": "2024-01-01", "c": "2099-02-30", "d": "2024-01-01 10:00:00"},
        ),
        ("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n", {"base": {"x": 1, "y": 2}, "use": {"x": 1, "y": 3}}),
        (
            "a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b], w: 0}\n",
            {"a": {"x": 1}, "b": {"x": 2, "z": 2}, "c": {"x": 1, "z": 2, "w": 0}},
        ),
        ("l: &l [1, 2]\nm: *l\n", {"l": [1, 2], "m": [1, 2]}),
        (
            "s: !!str 12\ni: !!int '7'\nf: 1.5e+3\nn: ~\nt: yes\nq: 'yes'\n",
            {"s": "12", "i": 7, "f": 1500.0, "n": None, "t": True, "q": "yes"},
        ),
        ("", None),
        ("--- [1]\n", [1]),
    ],
)
def test_what_a_spec_may_hold(text: str, expected: Any) -> None:
    assert load_yaml(text, "f.yaml") == expected


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("a: 1\nb: 2\na: 3\n", "line 3, column 1", "duplicate key 'a'"),
        ("a:\n  b: 1\n  b: 2\n", "line 3, column 3", "duplicate key 'b'"),
        ("? [a, b]\n: 1\n", "line 1, column 3", "found unhashable key"),
        ("a: *nowhere\n", "line 1, column 4", "found undefined alias 'nowhere'"),
        ("a: !python/object:os.system x\n", "line 1, column 4", "unsupported tag"),
        ("a: !!set {x, y}\n", "line 1, column 4", "unsupported tag"),
        ("--- 1\n--- 2\n", "line 2, column 1", "expected a single document"),
        ("a: [1\n", "line 2, column 1", "is not valid YAML"),
        ("a: {<<: 1}\n", "line 1, column 4", "a merge key (<<) takes a mapping"),
    ],
)
def test_what_is_refused_at_its_line(text: str, where: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        load_yaml(text, "f.yaml")
    assert caught.value.path == where
    assert problem in str(caught.value)


def test_a_bad_tagged_number_is_an_input_error() -> None:
    with pytest.raises(InputError, match="is not valid YAML"):
        load_yaml("a: !!int twelve\n", "f.yaml")
