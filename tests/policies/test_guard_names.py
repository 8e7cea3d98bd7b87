"""maiaplan's copies of the pack's public names agree with the pack (the pack imports nothing of maiaplan)."""

from __future__ import annotations

import maiaplan_guard

from maiaplan import guard_config
from pulumi_dryrun import analyzer


def test_policy_names_and_the_waived_prefix_agree_with_the_pack() -> None:
    assert guard_config.POLICIES == maiaplan_guard.POLICY_NAMES
    assert analyzer.WAIVED_PREFIX == maiaplan_guard.WAIVED_PREFIX
