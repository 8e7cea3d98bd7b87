"""The moments of a migration, (phase, step), and the one before and after each: never a step skipped.

The moments of a plan with n phases and traffic steps s1 < … < 100 are (0, 100) (nothing moved),
then (1, s1) … (1, 100), …, (n, s1) … (n, 100). Advancing from a phase's 100 goes to step s1 of
the next phase; rolling back from a phase's first step goes to the previous phase's 100.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class StackMoment:
    """Where a stack stands: a phase (0: nothing moved) and a traffic step (a percent)."""

    phase: int
    step: int

    def __str__(self) -> str:
        return f"phase {self.phase} at {self.step} %"

    def as_dict(self) -> dict[str, int]:
        return {"phase": self.phase, "step": self.step}


def moments(phases: int, steps: tuple[int, ...]) -> list[StackMoment]:
    """Every moment of a plan of ``phases`` phases with traffic steps ``steps``, in order.

    Complexity: O(phases × len(steps)).
    """
    return [StackMoment(0, 100)] + [StackMoment(p, s) for p in range(1, phases + 1) for s in steps]


def _index(moment: StackMoment, phases: int, steps: tuple[int, ...]) -> int:
    walk = moments(phases, steps)
    if moment.phase == 0:  # before the migration any step means the same: nothing has moved
        return 0
    try:
        return walk.index(moment)
    except ValueError:
        raise ValueError(f"{moment} is not a moment of a plan of {phases} phases with steps {list(steps)}") from None


def next_moment(moment: StackMoment, phases: int, steps: tuple[int, ...]) -> StackMoment | None:
    """The moment after ``moment``, or None at the end of the plan.

    Raises
    ------
    ValueError
        When ``moment`` is not a moment of the plan.
    """
    walk = moments(phases, steps)
    index = _index(moment, phases, steps)
    return walk[index + 1] if index + 1 < len(walk) else None


def previous_moment(moment: StackMoment, phases: int, steps: tuple[int, ...]) -> StackMoment | None:
    """The moment before ``moment``, or None before the migration (phase 0).

    Raises
    ------
    ValueError
        When ``moment`` is not a moment of the plan.
    """
    index = _index(moment, phases, steps)
    return moments(phases, steps)[index - 1] if index > 0 else None
