"""maiaplan-guard and the analyzer client over the real protocol: start-up, configuration as the CLI
reconciles it, levels, waivers, unknowns, the CLI's environment, and failures to start."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from guard_corpus import GUARD_CONFIG, H100, LT, MAIA_VMSS, ROOT, clean_corpus
from guard_sessions import PACK_DIR, open_session

from pulumi_dryrun.analyzer import EnforcementLevel, PolicyPackError, PolicyPackSession, PolicyType, Violation
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.resources import UNKNOWN, ResourceRecord

pytestmark = pytest.mark.slow

POLICY_NAMES = [
    "contract-limits",
    "dedicated-hardware",
    "encryption-at-host",
    "maiaplan-tags",
    "no-public-ingress",
    "tenant-network-boundary",
]


def evaluate(session: PolicyPackSession, records: list[ResourceRecord]) -> list[Violation]:
    return session.analyze(records) + session.analyze_stack(records)


@pytest.fixture(scope="module")
def guard(session_factory: Any) -> PolicyPackSession:
    session: PolicyPackSession = session_factory(GUARD_CONFIG)
    return session


def test_the_pack_describes_itself_as_the_cli_sees_it(guard: PolicyPackSession) -> None:
    info = guard.info
    assert (info.name, info.version, info.supports_config) == ("maiaplan-guard", "0.1.0", True)
    assert [p.name for p in info.policies] == POLICY_NAMES
    assert {p.name: (p.policy_type, p.enforcement_level) for p in info.policies} == {
        "contract-limits": (PolicyType.STACK, EnforcementLevel.MANDATORY),
        "dedicated-hardware": (PolicyType.RESOURCE, EnforcementLevel.MANDATORY),
        "encryption-at-host": (PolicyType.RESOURCE, EnforcementLevel.MANDATORY),
        "maiaplan-tags": (PolicyType.RESOURCE, EnforcementLevel.ADVISORY),
        "no-public-ingress": (PolicyType.RESOURCE, EnforcementLevel.MANDATORY),
        "tenant-network-boundary": (PolicyType.STACK, EnforcementLevel.MANDATORY),
    }
    assert all("waivers" in (p.config_schema or {}) for p in info.policies)


def test_configure_gets_schema_defaults_under_the_files_values(guard: PolicyPackSession) -> None:
    config = guard.policy_config
    assert config["maiaplan-tags"].properties == {
        "required_tags": {"tenant": None, "managed-by": "maiaplan"},
        "waivers": [],
    }
    assert config["contract-limits"].properties["chips_per_sku"]["a3-highgpu-8g"] == 8
    assert config["contract-limits"].properties["tpu_cores_per_chip"] == {"v5litepod": 1, "v5p": 2, "v6e": 1}
    assert config["dedicated-hardware"].enforcement_level == EnforcementLevel.MANDATORY


def test_unknowns_fail_closed_at_the_policys_level(guard: PolicyPackSession) -> None:
    corpus = clean_corpus().set(LT, "placement.tenancy", UNKNOWN).set(H100, "tenancy", UNKNOWN)
    violations = evaluate(guard, corpus.list())
    assert {(v.policy_name, v.urn, v.enforcement_level) for v in violations} == {
        ("dedicated-hardware", corpus.urn(LT), EnforcementLevel.MANDATORY),
        ("dedicated-hardware", corpus.urn(H100), EnforcementLevel.MANDATORY),
    }
    assert not any("can't run policy" in v.message for v in violations)


def test_levels_from_the_config_file_apply(session_factory: Any) -> None:
    corpus = clean_corpus().delete(MAIA_VMSS, "hostGroup").refer(MAIA_VMSS, "hostGroup", [])
    relaxed = session_factory({**GUARD_CONFIG, "all": "advisory"})
    [violation] = evaluate(relaxed, corpus.list())
    assert (violation.policy_name, violation.enforcement_level, violation.blocking) == (
        "dedicated-hardware",
        EnforcementLevel.ADVISORY,
        False,
    )
    off = session_factory(
        {
            **GUARD_CONFIG,
            "dedicated-hardware": {
                "enforcementLevel": "disabled",
                "tenants": GUARD_CONFIG["dedicated-hardware"]["tenants"],
            },
        }
    )
    assert evaluate(off, corpus.list()) == []


def test_waivers_over_the_protocol(session_factory: Any) -> None:
    corpus = (
        clean_corpus()
        .delete(MAIA_VMSS, "hostGroup")
        .refer(MAIA_VMSS, "hostGroup", [])
        .set("aws-use1-trn2-research-eval-asg", "desiredCapacity", 1)
    )
    waivers = {
        "dedicated-hardware": {
            **GUARD_CONFIG["dedicated-hardware"],
            "waivers": [
                {
                    "tags": {"cluster": "az-eastus-maia", "workload": "router-small"},
                    "reason": "dedicated Maia hosts arrive in phase 2",
                    "expires": "2026-04-30",
                }
            ],
        },
        "contract-limits": {
            **GUARD_CONFIG["contract-limits"],
            "waivers": [
                {
                    "urn": ROOT,
                    "reason": "AWS share dips during the trn2 drain, agreed with AWS",
                    "expires": "2026-03-01",
                }
            ],
        },
    }
    config = {**GUARD_CONFIG, **waivers}
    during = evaluate(session_factory(config, today="2026-03-01"), corpus.list())
    assert {(v.policy_name, v.urn, v.enforcement_level, v.waived) for v in during} == {
        ("dedicated-hardware", corpus.urn(MAIA_VMSS), EnforcementLevel.ADVISORY, True),
        ("contract-limits", ROOT, EnforcementLevel.ADVISORY, True),
    }
    assert all(v.message.startswith("waived: ") and not v.blocking for v in during)
    after = evaluate(session_factory(config, today="2026-03-02"), corpus.list())
    assert {(v.policy_name, v.enforcement_level, v.waived) for v in after} == {
        ("dedicated-hardware", EnforcementLevel.ADVISORY, True),
        ("contract-limits", EnforcementLevel.MANDATORY, False),
    }
    [expired] = [v for v in after if v.policy_name == "contract-limits"]
    assert "A waiver expired on 2026-03-01: AWS share dips during the trn2 drain" in expired.message


def test_an_invalid_config_is_an_input_error_and_leaves_no_process() -> None:
    bad = {
        **GUARD_CONFIG,
        "dedicated-hardware": {"waivers": [{"urn": "urn:x", "reason": "r", "expires": "2026-02-30"}]},
    }
    session = PolicyPackSession(PACK_DIR, project="maiaplan", stack="dev", policy_config=bad)
    with pytest.raises(DryRunError) as error:
        session.start()
    assert error.value.path == "dedicated-hardware.waivers.0.expires"
    assert "'2026-02-30' is not a 'date'" in error.value.problem
    assert session.pid is None


def test_close_stops_the_pack_process() -> None:
    session = open_session(None)
    pid = session.pid
    assert pid is not None
    session.close()
    session.close()  # idempotent
    assert session.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# --- the CLI's environment and start-up failures, with small packs written for the test -------------

ECHO_PACK = """
import os
import pulumi
from pulumi_policy import PolicyPack, ResourceValidationPolicy

def echo(args, report_violation):
    env = {k: os.environ.get(k) for k in ("PULUMI_PROJECT", "PULUMI_STACK", "PULUMI_ORGANIZATION",
                                           "PULUMI_DRY_RUN", "PACK_PYTHON")}
    report_violation(repr((env, pulumi.Config("maiaplan").get("phase"), dict(args.stack_tags),
                           args.provider.props["region"] if args.provider else None)))

PolicyPack("echo", [ResourceValidationPolicy(name="echo", description="Echo the environment.", validate=echo)])
"""


def write_pack(directory: Path, main: str, project: str = "runtime: python\nversion: 2.0.0\n") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "PulumiPolicy.yaml").write_text(project)
    (directory / "__main__.py").write_text(textwrap.dedent(main))
    return directory


def test_the_pack_runs_with_the_clis_environment_and_its_own_virtualenv(tmp_path: Path) -> None:
    pack = write_pack(
        tmp_path / "echo", ECHO_PACK, "runtime:\n  name: python\n  options:\n    virtualenv: venv\nversion: 2.0.0\n"
    )
    python = pack / "venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nPACK_PYTHON=venv exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    provider = ResourceRecord(
        "urn:pulumi:prod::maiaplan::pulumi:providers:aws::default",
        "pulumi:providers:aws",
        "default",
        True,
        {"region": "us-east-1"},
    )
    record = ResourceRecord(
        "urn:pulumi:prod::maiaplan::aws:ec2/vpc:Vpc::v",
        "aws:ec2/vpc:Vpc",
        "v",
        True,
        {},
        provider=f"{provider.urn}::{UNKNOWN}",
    )
    with PolicyPackSession(
        pack,
        project="maiaplan",
        stack="prod",
        organization="lab",
        config={"maiaplan:phase": 3},
        stack_tags={"team": "serving"},
    ) as session:
        [violation] = session.analyze([provider, record])[1:]
    assert session.info.version == "2.0.0" and violation.policy_pack_version == "2.0.0"
    env = {
        "PULUMI_PROJECT": "maiaplan",
        "PULUMI_STACK": "prod",
        "PULUMI_ORGANIZATION": "lab",
        "PULUMI_DRY_RUN": "true",
        "PACK_PYTHON": "venv",
    }
    assert violation.message == repr((env, "3", {"team": "serving"}, "us-east-1"))


def test_a_directory_that_is_not_a_python_pack_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(DryRunError, match=r"has no readable PulumiPolicy\.yaml"):
        PolicyPackSession(tmp_path, project="p", stack="s").start()
    node = write_pack(tmp_path / "node", "", "runtime: nodejs\n")
    with pytest.raises(DryRunError, match="runtime 'nodejs' is not supported"):
        PolicyPackSession(node, project="p", stack="s").start()


@pytest.mark.parametrize(
    ("main", "message"),
    [
        ("import json\njson.loads('{')\n", r"exited with code 1 before printing its port(.|\n)*JSONDecodeError"),
        ("print('starting up')\nimport time\ntime.sleep(30)\n", "printed 'starting up' instead of its port"),
        ("import time\ntime.sleep(30)\n", "did not print its port within 2 s"),
    ],
)
def test_a_pack_that_fails_to_start_is_a_clear_error(tmp_path: Path, main: str, message: str) -> None:
    pack = write_pack(tmp_path / "broken", main)
    session = PolicyPackSession(pack, project="p", stack="s", start_timeout_s=2)
    with pytest.raises(PolicyPackError, match=message):
        session.start()
    assert session.pid is None
