"""Shared set-up of the policy-pack tests: the pack's package on the path, sessions of the real pack.

Tests that start the pack process are marked ``slow``; each module starts one session (a second or
two) through a module-scoped fixture and reuses it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from maiaplan.analyzer import PolicyPackSession

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
# Waivers expire against this date in every test (the pack reads MAIAPLAN_GUARD_TODAY).
TODAY = "2026-03-01"

if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))  # the pack's own package, maiaplan_guard, for unit tests


def open_session(policy_config: Mapping[str, Any] | None, today: str = TODAY) -> PolicyPackSession:
    """A started session of the real pack, configured like the corpus' stack."""
    session = PolicyPackSession(
        PACK_DIR,
        project="maiaplan",
        stack="dev",
        config={"maiaplan:phase": "2"},
        policy_config=policy_config,
        env={"MAIAPLAN_GUARD_TODAY": today},
    )
    session.start()
    return session


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
