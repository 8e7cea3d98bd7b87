"""The migration's numeric rules, in exact integer arithmetic: one home for capacity and contracts.

Every part of the planner that compares chips with a limit imports it from here: the CP-SAT model
(:mod:`planner.scheduling.cpsat`), the greedy's ledgers (:mod:`planner.scheduling.problem`), the
explanations and the plan document's contract checks. There is no floating-point tolerance: a
``min_share`` is read as the exact decimal the spec wrote (``0.3`` is 3/10), and "chips on the
provider / all the tenant's chips ≥ min_share" is the integer inequality
``denominator · chips − numerator · total ≥ 0``, which is also linear for the solver.

:mod:`planner.verify` keeps its own copy on purpose (the independent re-check); the tests check that
the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from planner.spec import Contract

ContractLimit = Literal["min_share", "min_chips", "max_chips", "regions"]


def share_fraction(min_share: float) -> Fraction:
    """The exact decimal a spec's ``min_share`` stands for (``0.3`` → 3/10, not the nearest binary float).

    Complexity: O(digits).
    """
    return Fraction(repr(min_share))


def share_terms(min_share: float) -> tuple[int, int]:
    """``(numerator, denominator)`` of :func:`share_fraction`: the share holds when
    ``denominator · chips ≥ numerator · total``."""
    share = share_fraction(min_share)
    return share.numerator, share.denominator


def share_holds(chips: int, total: int, min_share: float) -> bool:
    """Whether ``chips / total ≥ min_share``, exactly (a tenant with no chips holds any share).

    Complexity: O(1).
    """
    numerator, denominator = share_terms(min_share)
    return denominator * chips - numerator * total >= 0


def later_capacity(capacity_by_phase: Sequence[int], phase: int) -> int | None:
    """The least capacity of the phases after ``phase`` (1-based): what the cluster may end ``phase``
    holding. None after the last phase.

    Complexity: O(phases).
    """
    later = capacity_by_phase[phase:]
    return min(later) if later else None


@dataclass(frozen=True)
class Breach:
    """One limit of one contract a fleet breaks: which limit, the value it reached, the limit."""

    contract: str
    limit: ContractLimit
    sentence: str


def contract_breaches(contract: Contract, chips: int, total: int, outside_regions: Sequence[str]) -> list[Breach]:
    """Every limit of ``contract`` that a tenant fleet breaks.

    Parameters
    ----------
    contract
        The contract.
    chips
        The tenant's chips on the contract's provider.
    total
        All the tenant's serving chips.
    outside_regions
        Regions outside ``contract.regions`` where the tenant holds chips on the provider.

    Returns
    -------
    list of Breach
        In the order min_share, min_chips, max_chips, regions; empty when the contract holds.

    Complexity: O(len(outside_regions)).
    """
    name, provider = contract.name, contract.provider
    found: list[Breach] = []
    if contract.min_share is not None and not share_holds(chips, total, contract.min_share):
        found.append(
            Breach(
                name,
                "min_share",
                f"drops {name}'s {provider} share to {chips}/{total} = {chips / total:.4f} < {contract.min_share:g}",
            )
        )
    if contract.min_chips is not None and chips < contract.min_chips:
        found.append(Breach(name, "min_chips", f"drops {name}'s {provider} chips to {chips} < {contract.min_chips}"))
    if contract.max_chips is not None and chips > contract.max_chips:
        found.append(Breach(name, "max_chips", f"raises {name}'s {provider} chips to {chips} > {contract.max_chips}"))
    if contract.regions is not None and outside_regions:
        found.append(
            Breach(
                name,
                "regions",
                f"puts {provider} chips in {', '.join(sorted(outside_regions))}, outside {name}'s regions",
            )
        )
    return found
