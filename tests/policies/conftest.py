"""Shared set-up of the policy-pack tests: the pack's package on the path, sessions of the real pack.

Tests that start the pack process are marked ``slow``; each module starts its sessions (a second or
so each) through the module-scoped ``session_factory`` and reuses them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from guard_sessions import TODAY, open_session  # also puts the pack's package on sys.path

from pulumi_dryrun.analyzer import PolicyPackSession


@pytest.fixture(scope="module")
def session_factory() -> Iterator[Any]:
    """Start sessions on demand; every one is closed when the module's tests are done."""
    sessions: list[PolicyPackSession] = []

    def start(policy_config: Mapping[str, Any] | None, today: str = TODAY) -> PolicyPackSession:
        session = open_session(policy_config, today)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.close()
