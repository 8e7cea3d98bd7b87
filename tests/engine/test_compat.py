"""The private SDK internals the dry run needs are named in one module and checked at start."""

from __future__ import annotations

import pytest
from pulumi import _types

from pulumi_dryrun.child import compat


def test_the_installed_sdk_has_every_internal_and_is_a_tested_version() -> None:
    assert compat.missing() == []
    assert not compat.untested()


def test_a_missing_internal_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(_types, "_raw_return_hints")
    assert compat.missing() == ["pulumi._types._raw_return_hints"]


def test_versions_outside_the_tested_range(monkeypatch: pytest.MonkeyPatch) -> None:
    for version, outside in (("3.199.0", True), ("3.272.0", False), ("4.0.0", True), ("dev", True)):
        monkeypatch.setattr(compat, "sdk_version", lambda version=version: version)
        assert compat.untested() is outside
