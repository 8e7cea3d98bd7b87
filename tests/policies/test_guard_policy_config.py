"""``maiaplan policy-config SPEC``: one spec drives the plan and its guard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from guard_sessions import open_session
from maiaplan_guard import POLICY_NAMES
from maiaplan_guard.catalog import DEFAULT_CHIPS_PER_SKU, DEFAULT_TPU_CORES_PER_CHIP
from maiaplan_guard.config import POLICY_SCHEMAS

from maiaplan import guard_config
from maiaplan.cli import main
from pulumi_dryrun.analyzer import (
    AnalyzerInfo,
    EnforcementLevel,
    PolicyInfo,
    PolicyType,
    parse_policy_pack_config,
    reconcile_policy_config,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "maia-pilot.yaml"


def generate(tmp_path: Path, *args: str) -> dict[str, Any]:
    out = tmp_path / "guard.json"
    assert main(["policy-config", *args, "--out", str(out)]) == 0
    document: dict[str, Any] = json.loads(out.read_text())
    return document


def spec_with(tmp_path: Path, **changes: Any) -> Path:
    spec = yaml.safe_load(EXAMPLE.read_text())
    spec.update(changes)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def pack_info() -> AnalyzerInfo:
    """The pack's policies as GetAnalyzerInfo describes them, from its own schemas (no process)."""
    return AnalyzerInfo(
        name="maiaplan-guard",
        version="0.1.0",
        description="",
        supports_config=True,
        initial_config={},
        policies=tuple(
            PolicyInfo(name, name, EnforcementLevel.MANDATORY, PolicyType.RESOURCE, POLICY_SCHEMAS[name])
            for name in POLICY_NAMES
        ),
    )


def test_the_example_spec_gives_its_tenants_contracts_and_catalog(tmp_path: Path) -> None:
    document = generate(tmp_path, str(EXAMPLE))
    tenants = [{"name": "anthropic", "isolation": "hardware"}, {"name": "copilot", "isolation": "shared"}]
    assert document["dedicated-hardware"] == {"tenants": tenants}
    assert document["tenant-network-boundary"] == {"tenants": tenants}
    limits = document["contract-limits"]
    assert limits["contracts"] == [
        {
            "name": "aws-strategic",
            "tenant": "anthropic",
            "provider": "aws",
            "min_share": 0.35,
            "exclusive_workloads": ["research-eval"],
        },
        {"name": "gcp-commit", "tenant": "anthropic", "provider": "gcp", "min_chips": 64},
        {
            "name": "azure-maia-lease",
            "tenant": "anthropic",
            "provider": "azure",
            "max_chips": 512,
            "regions": ["eastus", "westus3"],
        },
    ]
    assert limits["chips_per_sku"] == DEFAULT_CHIPS_PER_SKU
    assert limits["tpu_cores_per_chip"] == DEFAULT_TPU_CORES_PER_CHIP
    reconciled = reconcile_policy_config(pack_info(), parse_policy_pack_config(document))
    assert reconciled["contract-limits"].properties["contracts"] == limits["contracts"]


def test_the_output_is_the_same_bytes_every_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy-config", str(EXAMPLE)]) == 0
    first = capsys.readouterr().out
    assert main(["policy-config", str(EXAMPLE)]) == 0
    assert capsys.readouterr().out == first == guard_config.render(json.loads(first))


def test_a_catalog_override_reaches_the_chip_table(tmp_path: Path) -> None:
    spec = spec_with(tmp_path, catalog={"maia-100": {"sku": "Standard_NM8_Maia100_v2", "chips_per_sku": 8}})
    chips = generate(tmp_path, str(spec))["contract-limits"]["chips_per_sku"]
    assert chips["Standard_NM8_Maia100_v2"] == 8 and "Standard_NM4_Maia100_v1" not in chips


def test_two_accelerators_selling_one_sku_differently_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_with(tmp_path, catalog={"inf2": {"sku": "trn2.48xlarge"}})
    assert main(["policy-config", str(spec)]) == 2
    message = capsys.readouterr().err
    assert "catalog.inf2.sku" in message and "SKU 'trn2.48xlarge' is also sold by 'trn2'" in message


def waivers_yaml() -> str:
    return (
        "- policy: dedicated-hardware\n"
        "  tags: {cluster: az-westus3-maia}\n"
        "  reason: dedicated hosts arrive in phase 3\n"
        "  expires: 2026-04-30\n"
        "- policy: maiaplan-tags\n"
        "  urn: 'urn:pulumi:pilot::maiaplan::aws:ec2/vpc:Vpc::legacy'\n"
        "  reason: imported VPC, retagged in Q2\n"
        "  expires: '2026-06-30'\n"
    )


def test_waivers_land_in_their_policys_configuration(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(waivers_yaml())
    document = generate(tmp_path, str(EXAMPLE), "--waivers", str(waivers))
    assert document["dedicated-hardware"]["waivers"] == [
        {"tags": {"cluster": "az-westus3-maia"}, "reason": "dedicated hosts arrive in phase 3", "expires": "2026-04-30"}
    ]
    assert document["maiaplan-tags"] == {
        "waivers": [
            {
                "urn": "urn:pulumi:pilot::maiaplan::aws:ec2/vpc:Vpc::legacy",
                "reason": "imported VPC, retagged in Q2",
                "expires": "2026-06-30",
            }
        ]
    }
    assert list(document) == ["maiaplan-tags", "dedicated-hardware", "tenant-network-boundary", "contract-limits"]
    reconcile_policy_config(pack_info(), parse_policy_pack_config(document))  # valid for the pack's schemas


@pytest.mark.parametrize(
    ("waiver", "path", "problem"),
    [
        (
            {"policy": "dedicated-hardwre", "urn": "urn:pulumi:a", "reason": "r", "expires": "2026-01-01"},
            "[0].policy",
            "did you mean 'dedicated-hardware'?",
        ),
        (
            {
                "policy": "maiaplan-tags",
                "urn": "urn:pulumi:a",
                "tags": {"a": "b"},
                "reason": "r",
                "expires": "2026-01-01",
            },
            "[0]",
            "exactly one of 'urn' or 'tags'",
        ),
        (
            {"policy": "maiaplan-tags", "urn": "vm-17", "reason": "r", "expires": "2026-01-01"},
            "[0].urn",
            "is not a Pulumi URN",
        ),
        (
            {"policy": "maiaplan-tags", "urn": "urn:pulumi:a", "reason": " ", "expires": "2026-01-01"},
            "[0].reason",
            "needs a reason",
        ),
        (
            {"policy": "maiaplan-tags", "urn": "urn:pulumi:a", "reason": "r", "expires": "next spring"},
            "[0].expires",
            "is not a date",
        ),
        (
            {"policy": "maiaplan-tags", "urn": "urn:pulumi:a", "reason": "r", "expires": "2026-01-01", "owner": "x"},
            "[0].owner",
            "unknown field 'owner'",
        ),
    ],
)
def test_bad_waivers_are_input_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], waiver: dict[str, Any], path: str, problem: str
) -> None:
    waivers = tmp_path / "waivers.json"
    waivers.write_text(json.dumps([waiver]))
    assert main(["policy-config", str(EXAMPLE), "--waivers", str(waivers)]) == 2
    message = capsys.readouterr().err
    assert f"{waivers}: {path}: " in message and problem in message


@pytest.mark.slow
def test_the_pack_accepts_the_generated_configuration(tmp_path: Path) -> None:
    document = generate(tmp_path, str(EXAMPLE))
    session = open_session(document)
    try:
        assert (
            session.policy_config["contract-limits"].properties["contracts"] == document["contract-limits"]["contracts"]
        )
        assert session.policy_config["dedicated-hardware"].properties["tenants"][0] == {
            "name": "anthropic",
            "isolation": "hardware",
        }
    finally:
        session.close()
