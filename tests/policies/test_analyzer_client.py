"""The analyzer client's CLI-compatible pieces, without a pack process: the policy-pack config file,
its reconciliation with the pack's policies, and the wire form of resource records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from pulumi_dryrun.analyzer import (
    AnalyzerInfo,
    EnforcementLevel,
    PolicyConfig,
    PolicyInfo,
    PolicyPackSession,
    PolicyType,
    analyze_request,
    load_policy_pack_config,
    parse_policy_pack_config,
    reconcile_policy_config,
    stack_resource,
)
from pulumi_dryrun.durations import duration_seconds
from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.resources import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, ResourceRecord

ADVISORY, MANDATORY, DISABLED = EnforcementLevel.ADVISORY, EnforcementLevel.MANDATORY, EnforcementLevel.DISABLED


def info(initial: dict[str, PolicyConfig] | None = None) -> AnalyzerInfo:
    limits = {"limit": {"type": "integer", "minimum": 1, "default": 8}, "regions": {"type": "array"}}
    return AnalyzerInfo(
        name="pack",
        version="1.0.0",
        description="",
        supports_config=True,
        policies=(
            PolicyInfo("a", "A", MANDATORY, PolicyType.RESOURCE, limits),
            PolicyInfo("b", "B", ADVISORY, PolicyType.STACK, {}, required=()),
            PolicyInfo("c", "C", MANDATORY, PolicyType.RESOURCE, {"name": {"type": "string"}}, required=("name",)),
        ),
        initial_config=initial or {},
    )


def test_config_entries_are_levels_or_objects_and_empty_ones_are_dropped() -> None:
    parsed = parse_policy_pack_config({"a": "disabled", "b": {"enforcementLevel": "mandatory", "x": 1}, "c": {}})
    assert parsed == {"a": PolicyConfig(DISABLED, {}), "b": PolicyConfig(MANDATORY, {"x": 1})}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([1], "must be a JSON object"),
        ({"a": "strict"}, "'strict' is not a valid enforcement level"),
        ({"a": {"enforcementLevel": 1}}, "1 is not a valid enforcement level"),
        ({"a": 3}, "3 is not a valid value; must be a string or object"),
    ],
)
def test_bad_config_documents_are_input_errors(document: Any, problem: str) -> None:
    with pytest.raises(DryRunError, match=problem):
        parse_policy_pack_config(document)


def test_config_files_empty_or_broken(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("\n")
    assert load_policy_pack_config(empty) == {}
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": ')
    with pytest.raises(DryRunError) as error:
        load_policy_pack_config(broken)
    assert error.value.file == str(broken) and "not valid JSON" in error.value.problem
    with pytest.raises(DryRunError, match="cannot read"):
        load_policy_pack_config(tmp_path / "missing.json")


def test_reconcile_starts_from_levels_and_schema_defaults() -> None:
    config = reconcile_policy_config(info(), {"c": PolicyConfig(None, {"name": "n"})})
    assert config == {
        "a": PolicyConfig(MANDATORY, {"limit": 8}),
        "b": PolicyConfig(ADVISORY, {}),
        "c": PolicyConfig(MANDATORY, {"name": "n"}),
    }


def test_all_sets_every_level_first_then_each_policy_its_own() -> None:
    given = parse_policy_pack_config({"all": "disabled", "b": "mandatory", "c": {"name": "n"}})
    config = reconcile_policy_config(info(), given)
    assert {name: c.enforcement_level for name, c in config.items()} == {
        "a": DISABLED,
        "b": MANDATORY,
        "c": DISABLED,
        "all": DISABLED,
    }
    assert config["a"].properties == {"limit": 8}  # `all` carries a level only


def test_the_initial_config_applies_before_the_file() -> None:
    initial = {"a": PolicyConfig(ADVISORY, {"limit": 2, "regions": ["x"]})}
    config = reconcile_policy_config(
        info(initial), {"a": PolicyConfig(None, {"limit": 3}), "c": PolicyConfig(None, {"name": "n"})}
    )
    assert config["a"] == PolicyConfig(ADVISORY, {"limit": 3, "regions": ["x"]})


def test_schema_violations_name_the_policy_and_property() -> None:
    with pytest.raises(DryRunError) as error:
        reconcile_policy_config(info(), {"a": PolicyConfig(None, {"limit": 0}), "c": PolicyConfig(None, {"name": "n"})})
    assert (error.value.path, error.value.problem) == ("a.limit", "0 is less than the minimum of 1")
    with pytest.raises(DryRunError) as missing:
        reconcile_policy_config(info(), {})
    assert missing.value.path == "c" and "'name' is a required property" in missing.value.problem


def test_an_unknown_policy_without_a_level_is_rejected_as_the_cli_rejects_it() -> None:
    with pytest.raises(DryRunError) as error:
        reconcile_policy_config(
            info(), {"cc": PolicyConfig(None, {"name": "n"}), "c": PolicyConfig(None, {"name": "n"})}
        )
    assert error.value.path == "cc" and "did you mean 'c'?" in error.value.problem
    # With a level, the CLI passes it along, and so does the client.
    accepted = reconcile_policy_config(
        info(), {"zz": PolicyConfig(ADVISORY, {}), "c": PolicyConfig(None, {"name": "n"})}
    )
    assert accepted["zz"] == PolicyConfig(ADVISORY, {})


def test_records_on_the_wire() -> None:
    provider = ResourceRecord(
        "urn:pulumi:dev::p::pulumi:providers:aws::default",
        "pulumi:providers:aws",
        "default",
        True,
        {"region": "us-east-1"},
    )
    secret = {SECRET_SIG_KEY: SECRET_SIG, "value": "hunter2"}
    record = ResourceRecord(
        "urn:pulumi:dev::p::aws:ec2/instance:Instance::i",
        "aws:ec2/instance:Instance",
        "i",
        True,
        {"instanceType": "p5.48xlarge", "ami": UNKNOWN, "userData": secret, "__defaults": ["ami"], "ports": (1, 2)},
        outputs={"id": "i-1"},
        parent="urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev",
        dependencies=("urn:a", "urn:b"),
        property_dependencies={"subnetId": ("urn:a",), "tags": ()},
        provider=f"{provider.urn}::{UNKNOWN}",
        delete_before_replace=False,
        custom_timeouts={"create": "1h30m"},
    )
    by_urn = {provider.urn: provider, record.urn: record}
    request = analyze_request(record, by_urn)
    assert json_format.MessageToDict(request.properties) == {
        "instanceType": "p5.48xlarge",
        "ami": UNKNOWN,
        "userData": secret,
        "ports": [1.0, 2.0],
    }
    assert request.provider.urn == provider.urn and request.provider.properties["region"] == "us-east-1"
    assert request.options.parent == record.parent and request.options.deleteBeforeReplaceDefined
    assert request.options.customTimeouts.create == 5400.0
    stacked = stack_resource(record, by_urn)
    assert json_format.MessageToDict(stacked.properties) == {"id": "i-1"}  # outputs, when the record has them
    assert list(stacked.dependencies) == ["urn:a", "urn:b"]
    assert {k: list(v.urns) for k, v in stacked.propertyDependencies.items()} == {"subnetId": ["urn:a"]}
    assert json.loads(json_format.MessageToJson(stack_resource(provider, by_urn).properties)) == {"region": "us-east-1"}


def test_durations_are_go_durations() -> None:
    assert [duration_seconds(d) for d in ("20m", "1h30m", "45s", "1.5h", "250ms")] == [1200, 5400, 45, 5400, 0.25]
    with pytest.raises(ValueError, match="not a duration"):
        duration_seconds("20 minutes")


def test_a_session_must_be_started_before_it_analyzes() -> None:
    session = PolicyPackSession("policies", project="p", stack="s")
    with pytest.raises(RuntimeError, match="not started"):
        session.analyze([])
    with pytest.raises(RuntimeError, match="not started"):
        session.analyze_stack([])
