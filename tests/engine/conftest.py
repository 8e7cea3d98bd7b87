"""Previews of the demo program shared by the format and CLI tests (each starts the demo pack once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from maiaplan.version import state_manifest_version
from pulumi_dryrun.policy import PolicyPackRequest
from pulumi_dryrun.preview import PreviewResult, run_preview
from pulumi_dryrun.runner import run_program
from pulumi_dryrun.state import state_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEMO = FIXTURES / "demo_project"
DEMO_PACK = FIXTURES / "demo_pack"


@pytest.fixture(scope="session")
def api_token() -> str:
    """A plaintext the demo program's config holds and the program turns into a secret."""
    return "tok-4f9a1c77e2d0"


@pytest.fixture(scope="session")
def dev_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dev stack's snapshot, as `maiaplan preview --stack dev --save-state` writes it."""
    path = tmp_path_factory.mktemp("state") / "dev.json"
    path.write_text(state_text(run_program(DEMO, "dev").resources, state_manifest_version()), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def oversized(dev_snapshot: Path) -> PreviewResult:
    """Updates from dev, and two mandatory violations (group too large, volume unencrypted)."""
    return run_preview(DEMO, "oversized", state=dev_snapshot, policy_packs=[PolicyPackRequest(DEMO_PACK)])


@pytest.fixture(scope="session")
def untagged() -> PreviewResult:
    """Creates only, two advisory violations and a waived one."""
    return run_preview(DEMO, "untagged", policy_packs=[PolicyPackRequest(DEMO_PACK)])
