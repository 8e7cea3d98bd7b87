"""One Go-duration parser for state files and the analyzer wire format (they disagreed on µs and ns)."""

from __future__ import annotations

import pytest

from pulumi_dryrun.durations import duration_seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("20m", 1200.0),
        ("1h30m", 5400.0),
        ("1.5s", 1.5),
        ("500ms", 0.5),
        ("10us", 1e-5),
        ("10µs", 1e-5),
        ("10μs", 1e-5),
        ("5ns", 5e-9),
        ("0", 0.0),
        ("-1m", -60.0),
        ("2h0m0.5s", 7200.5),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert duration_seconds(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "20", "m", "20x", "1h 30m", "soon", "1.2.3s"])
def test_what_go_refuses_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration"):
        duration_seconds(text)
