"""Sessions of the real maiaplan-guard pack for the tests, configured like the corpus' stack."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_dryrun.analyzer import PolicyPackSession

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
# Waivers expire against this date in every test (the pack reads MAIAPLAN_GUARD_TODAY).
TODAY = "2026-03-01"

if str(PACK_DIR) not in sys.path:
    sys.path.insert(0, str(PACK_DIR))  # the pack's own package, maiaplan_guard, for unit tests


def open_session(policy_config: Mapping[str, Any] | None, today: str = TODAY) -> PolicyPackSession:
    """A started session of the real pack (the caller closes it)."""
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
