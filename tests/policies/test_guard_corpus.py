"""The seeded-violation corpus through the real analyzer protocol: each seed is caught by exactly
the policy it targets, on the resources it names, and the clean stack is flagged by no policy."""

from __future__ import annotations

from typing import Any

import pytest
from guard_corpus import GUARD_CONFIG, ROOT, SEEDS, Corpus, Seed, clean_corpus

from pulumi_dryrun.analyzer import PolicyPackSession, Violation

pytestmark = pytest.mark.slow

POLICIES = {
    "maiaplan-tags",
    "dedicated-hardware",
    "no-public-ingress",
    "encryption-at-host",
    "tenant-network-boundary",
    "contract-limits",
}


@pytest.fixture(scope="module")
def guard(session_factory: Any) -> PolicyPackSession:
    session: PolicyPackSession = session_factory(GUARD_CONFIG)
    return session


def evaluate(session: PolicyPackSession, corpus: Corpus) -> list[Violation]:
    records = corpus.list()
    return session.analyze(records) + session.analyze_stack(records)


def show(violations: list[Violation]) -> str:
    return "\n".join(f"{v.policy_name} [{v.enforcement_level}] {v.urn}\n    {v.message}" for v in violations)


def test_the_corpus_seeds_every_policy_on_every_cloud() -> None:
    assert len(SEEDS) >= 30
    assert len({seed.name for seed in SEEDS}) == len(SEEDS)
    assert {seed.policy for seed in SEEDS} == POLICIES
    clouds_by_policy = {policy: {s.cloud for s in SEEDS if s.policy == policy} for policy in POLICIES}
    # encryption-at-host covers Azure and AWS compute (GCP encrypts every disk at rest by default).
    in_scope = {
        policy: {"azure", "aws"} if policy == "encryption-at-host" else {"azure", "aws", "gcp"} for policy in POLICIES
    }
    assert clouds_by_policy == in_scope


def test_the_clean_stack_passes_every_policy(guard: PolicyPackSession) -> None:
    violations = evaluate(guard, clean_corpus())
    assert violations == [], show(violations)


@pytest.mark.parametrize("seed", SEEDS, ids=lambda seed: seed.name)
def test_each_seeded_violation_is_caught_by_its_policy_only(guard: PolicyPackSession, seed: Seed) -> None:
    corpus = seed.mutate(clean_corpus())
    violations = evaluate(guard, corpus)
    assert violations, f"{seed.name}: no policy caught it"
    assert {v.policy_name for v in violations} == {seed.policy}, show(violations)
    expected = {ROOT if subject == "stack" else corpus.urn(subject) for subject in seed.subjects}
    assert {v.urn for v in violations} == expected, show(violations)
    assert len({(v.urn, v.message) for v in violations}) == len(violations), "a finding reported twice"
    for violation in violations:
        assert not violation.waived
        level = "advisory" if seed.policy == "maiaplan-tags" else "mandatory"
        assert violation.enforcement_level == level
        # The message names the resource (or contract), the rule, the offending value and the fix.
        assert " breaks rule '" in violation.message and "(found: " in violation.message
        assert "Fix: " in violation.message
        if violation.urn != ROOT:
            named = corpus.records[next(n for n, r in corpus.records.items() if r.urn == violation.urn)].name
            assert f"'{named}'" in violation.message, violation.message
