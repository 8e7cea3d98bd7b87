"""A calibration (planner/calibration.py) for people: each run against the model before and after
the fit, then each accelerator's fit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from maiaplan.render.tables import prose, table
from planner.calibration import FitResult, Measurement, statistics


def _row(m: Measurement, before: Mapping[str, float], after: Mapping[str, float]) -> list[list[object]]:
    rows: list[list[object]] = []
    for key, value in m.observed().items():
        b, a = before.get(key), after.get(key)
        rows.append(
            [
                m.id,
                m.accelerator,
                key,
                f"{value:,.2f}",
                "-" if b is None else f"{b:,.2f}",
                "-" if a is None else f"{a:,.2f}",
                "-" if a is None else f"{a / value:.2f}",
            ]
        )
    return rows


def calibration_text(
    runs: Sequence[tuple[Measurement, Mapping[str, float], Mapping[str, float]]],
    results: Mapping[str, FitResult],
) -> str:
    """The table of runs (each with the model's figures before and after the fit, empty where the
    model cannot serve the run), then one line per accelerator fitted.

    Complexity: O(runs · observables + accelerators).
    """
    rows = [row for m, before, after in runs for row in _row(m, before, after)]
    lines = [
        table(
            ["RUN", "ACCELERATOR", "MEASURED", "VALUE", "MODEL BEFORE", "MODEL AFTER", "AFTER/MEASURED"],
            rows,
            right=range(3, 7),
        ),
        "",
    ]
    for name, result in sorted(results.items()):
        before, after = statistics(result.before), statistics(result.after)
        values = ", ".join(f"{k} {v:g}" for k, v in result.values.items())
        lines.append(
            prose(
                f"{name}: {result.points} observable(s); geometric-mean model/measured "
                f"{before.geometric_mean_ratio:.2f} before, {after.geometric_mean_ratio:.2f} after; within 1.5x "
                f"{before.within_1_5x:.0%} -> {after.within_1_5x:.0%}; fitted {values}"
            )
        )
        if result.points < 3:
            lines.append(
                f"  note: {result.points} observable(s) cannot separate {name}'s parameters; add runs at other "
                "batches and request lengths"
            )
    return "\n".join(lines)
