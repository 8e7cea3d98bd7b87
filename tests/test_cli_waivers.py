"""``maiaplan policy-config --waivers``: a waivers file YAML cannot hold is one paragraph and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_spec import EXAMPLE

from maiaplan.cli import EXIT_BAD_INPUT, main

ENTRY = "- policy: dedicated-hardware\n  urn: urn:pulumi:dev::maiaplan::x::y\n  reason: vendor review\n"


@pytest.mark.parametrize(
    ("expires", "fragment"),
    [
        ("2099-02-30", "[0].expires: '2099-02-30' is not a date"),
        ("2099-13-01", "[0].expires: '2099-13-01' is not a date"),
        ("!!timestamp 2099-02-30", "[0].expires: '2099-02-30' is not a date"),
    ],
)
def test_an_impossible_expiry_date_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expires: str, fragment: str
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(f"{ENTRY}  expires: {expires}\n")
    assert main(["policy-config", str(EXAMPLE), "--waivers", str(waivers)]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert f"maiaplan: {waivers}: {fragment}" in captured.err and "Fix: " in captured.err


def test_an_unquoted_real_date_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(f"{ENTRY}  expires: 2099-02-28\n")
    assert main(["policy-config", str(EXAMPLE), "--waivers", str(waivers)]) == 0
    assert '"expires": "2099-02-28"' in capsys.readouterr().out


def test_a_duplicate_key_in_a_waiver_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(f"{ENTRY}  expires: 2099-02-28\n  reason: again\n")
    assert main(["policy-config", str(EXAMPLE), "--waivers", str(waivers)]) == EXIT_BAD_INPUT
    assert "duplicate key 'reason'" in capsys.readouterr().err
