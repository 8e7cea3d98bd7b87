"""One home for the rules: planner.rules' exact arithmetic, and the verifier's own copy agreeing with it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner import verify
from planner.plan_builder import plan_migration
from planner.plan_document import MigrationPlan
from planner.rules import contract_breaches, share_fraction, share_holds, share_terms
from planner.spec import Contract, load_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "maia-pilot.yaml"


@pytest.fixture(scope="module")
def example_plan() -> MigrationPlan:
    return plan_migration(load_spec(EXAMPLE))


def test_a_share_is_the_decimal_the_spec_wrote() -> None:
    assert share_fraction(0.3) == Fraction(3, 10) and share_terms(0.3) == (3, 10)
    assert share_holds(3, 10, 0.3)  # 3/10 ≥ 0.3 exactly, where 3 / 10 < 0.3 - 1e-18 could go either way
    assert not share_holds(2_999_999, 10_000_000, 0.3)  # inside a 1e-9 tolerance, still below the floor
    assert share_holds(0, 0, 0.5)  # a tenant with no chips keeps any share


def test_breaches_name_every_limit() -> None:
    contract = Contract(name="k", tenant="t", provider="gcp", min_share=0.5, min_chips=10, max_chips=20, regions=("a",))
    assert [b.limit for b in contract_breaches(contract, 4, 10, ["b"])] == ["min_share", "min_chips", "regions"]
    assert [b.limit for b in contract_breaches(contract, 25, 30, [])] == ["max_chips"]
    assert contract_breaches(contract, 10, 20, []) == []


@given(
    chips=st.integers(0, 2_000_000),
    others=st.integers(0, 2_000_000),
    basis_points=st.integers(0, 10_000),
)
def test_the_verifier_agrees_with_the_rules_module(
    example_plan: MigrationPlan, chips: int, others: int, basis_points: int
) -> None:
    min_share = basis_points / 10_000
    tenant = example_plan.contracts[0].tenant
    aws = next(c.name for c in example_plan.clusters if c.provider == "aws" and c.tenant == tenant)
    gcp = next(c.name for c in example_plan.clusters if c.provider == "gcp" and c.tenant == tenant)
    names = [w.name for w in example_plan.workloads if w.tenant == tenant][:2]
    contract = Contract(name="floor", tenant=tenant, provider="aws", min_share=min_share)
    plan = example_plan.model_copy(update={"contracts": (contract,)})
    holdings = [(names[0], aws, chips), (names[1], gcp, others)]
    broken = bool(verify._contracts(plan, 1, holdings, "at the end of"))
    assert broken == (not share_holds(chips, chips + others, min_share))
