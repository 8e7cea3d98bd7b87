"""Stack state: `pulumi stack export` files and --save-state snapshots, one format, one reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.resources import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, ResourceRecord
from pulumi_dryrun.state import dependency_order, read_state, rebase, state_document, state_text
from pulumi_dryrun.values import make_secret

STACK = "urn:pulumi:dev::shop::pulumi:pulumi:Stack::shop-dev"
PROVIDER = "urn:pulumi:dev::shop::pulumi:providers:aws::default_7_51_1"
BUCKET = "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::logs"
COMPONENT = "urn:pulumi:dev::shop::my:net:Net::core"
VPC = "urn:pulumi:dev::shop::my:net:Net$aws:ec2/vpc:Vpc::core-vpc"

# What `pulumi stack export` writes (abridged from a real aws stack): encrypted and decrypted
# secrets, a pending delete, property dependencies with null entries, custom timeouts in seconds.
EXPORT: dict[str, Any] = {
    "version": 3,
    "deployment": {
        "manifest": {"time": "2025-01-01T10:00:00.0Z", "magic": "abc", "version": "v3.150.0"},
        "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:x"}},
        "resources": [
            {"urn": STACK, "custom": False, "type": "pulumi:pulumi:Stack", "outputs": {"bucket": "logs-1a2b3c4"}},
            {
                "urn": PROVIDER,
                "custom": True,
                "id": "f1e2d3c4-0000-4000-8000-000000000000",
                "type": "pulumi:providers:aws",
                "inputs": {"__internal": {}, "region": "us-west-2", "version": "7.51.1"},
                "outputs": {"region": "us-west-2", "version": "7.51.1"},
            },
            {
                "urn": BUCKET,
                "custom": True,
                "id": "logs-1a2b3c4",
                "type": "aws:s3/bucket:Bucket",
                "inputs": {
                    "bucket": "logs-1a2b3c4",
                    "tags": {"env": "dev"},
                    "policy": {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "v1:AAAA:BBBB"},
                    "token": {SECRET_SIG_KEY: SECRET_SIG, "plaintext": '"s3cr3t-value"'},
                },
                "outputs": {"arn": "arn:aws:s3:::logs-1a2b3c4", "bucket": "logs-1a2b3c4", "forceDestroy": False},
                "parent": STACK,
                "provider": f"{PROVIDER}::f1e2d3c4-0000-4000-8000-000000000000",
                "propertyDependencies": {"bucket": None, "tags": []},
                "customTimeouts": {"create": 1200, "delete": 90.5},
                "sourcePosition": "project:///__main__.py#12,5",
                "created": "2025-01-01T10:00:00Z",
            },
            {"urn": "urn:pulumi:dev::shop::aws:s3/bucket:Bucket::old", "type": "aws:s3/bucket:Bucket", "delete": True},
        ],
    },
}


def write(tmp_path: Path, document: Any, name: str = "state.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def test_reads_a_stack_export(tmp_path: Path) -> None:
    snapshot = read_state(write(tmp_path, EXPORT))
    by_urn = snapshot.by_urn()
    assert list(by_urn) == [STACK, PROVIDER, BUCKET]  # the pending delete is gone
    bucket = by_urn[BUCKET]
    assert bucket.id == "logs-1a2b3c4"
    assert bucket.name == "logs"
    assert bucket.provider == f"{PROVIDER}::f1e2d3c4-0000-4000-8000-000000000000"
    assert bucket.inputs["token"] == make_secret("s3cr3t-value")
    assert bucket.inputs["policy"] == {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "v1:AAAA:BBBB"}
    assert bucket.property_dependencies == {"bucket": (), "tags": ()}
    assert bucket.custom_timeouts == {"create": "1200s", "delete": "90.5s"}
    assert bucket.source_position == "__main__.py:12"
    assert by_urn[STACK].outputs == {"bucket": "logs-1a2b3c4"}


def test_snapshot_round_trip_without_secrets(tmp_path: Path) -> None:
    records = [
        ResourceRecord(STACK, "pulumi:pulumi:Stack", "shop-dev", False, {}, outputs={"token": make_secret("hunter22")}),
        ResourceRecord(
            VPC,
            "aws:ec2/vpc:Vpc",
            "core-vpc",
            True,
            {"cidrBlock": "10.0.0.0/16", "count": 2.0},
            outputs={"arn": UNKNOWN},
            parent=COMPONENT,
            provider=f"{PROVIDER}::{UNKNOWN}",
            id=UNKNOWN,
            property_dependencies={"cidrBlock": ()},
            custom_timeouts={"create": "1h30m"},
            source_position="net.py:7",
        ),
        ResourceRecord(COMPONENT, "my:net:Net", "core", False, {}, parent=STACK),
        ResourceRecord(PROVIDER, "pulumi:providers:aws", "default_7_51_1", True, {"region": "x"}, id=UNKNOWN),
    ]
    path = tmp_path / "snapshot.json"
    path.write_text(state_text(records, "maiaplan-1.0"), encoding="utf-8")
    text = path.read_text()
    assert "hunter22" not in text
    assert '"count": 2' in text and "2.0" not in text
    document = json.loads(text)
    assert document["version"] == 3
    assert document["deployment"]["manifest"]["time"] == "0001-01-01T00:00:00Z"
    urns = [resource["urn"] for resource in document["deployment"]["resources"]]
    assert urns.index(STACK) < urns.index(COMPONENT) < urns.index(VPC)
    assert urns.index(PROVIDER) < urns.index(VPC)
    vpc = document["deployment"]["resources"][urns.index(VPC)]
    assert vpc["customTimeouts"] == {"create": 5400.0}
    assert vpc["sourcePosition"] == "project:///net.py#7,1"
    again = read_state(path).by_urn()
    assert again[VPC].inputs == {"cidrBlock": "10.0.0.0/16", "count": 2}
    assert again[VPC].source_position == "net.py:7"
    assert again[STACK].outputs["token"] == {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "[secret]"}
    # Same resources, same bytes.
    (tmp_path / "again.json").write_text(state_text(list(reversed(records)), "maiaplan-1.0"), encoding="utf-8")
    assert (tmp_path / "again.json").read_text() == text


def test_dependency_order_puts_dependencies_first_and_is_stable() -> None:
    a = ResourceRecord("urn:pulumi:s::p::t:t:T::a", "t:t:T", "a", True, {}, dependencies=("urn:pulumi:s::p::t:t:T::z",))
    z = ResourceRecord("urn:pulumi:s::p::t:t:T::z", "t:t:T", "z", True, {})
    m = ResourceRecord("urn:pulumi:s::p::t:t:T::m", "t:t:T", "m", True, {})
    assert [r.name for r in dependency_order([a, z, m])] == ["m", "z", "a"]


STATES = Path(__file__).resolve().parents[1] / "fixtures" / "states"
COUNTDOWN = Path(__file__).resolve().parents[1] / "fixtures" / "countdown_project"
ROLE = "urn:pulumi:foo::countdown::aws:iam/role:Role::countDown_watcher-iamrole"


def _resource(**fields: Any) -> dict[str, Any]:
    return {"urn": BUCKET, "type": "aws:s3/bucket:Bucket", "custom": True, **fields}


def _export(*resources: Any, version: Any = 3) -> dict[str, Any]:
    return {"version": version, "deployment": {"resources": list(resources)}}


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"x": value}
    return value


@pytest.mark.parametrize(
    ("document", "path", "problem"),
    [
        ("not json", "line 1", "is not JSON"),
        ([1, 2], "", "a JSON list, not an object"),
        ({"resources": []}, "", "has no `deployment`"),
        ({"version": 2, "deployment": {}}, "version", "deployment version 2 is not supported"),
        ({"version": 5, "deployment": {}}, "version", "deployment version 5 is not supported"),
        ({"version": "3", "deployment": {}}, "version", "must be a deployment version number"),
        ({"version": 3, "deployment": []}, "deployment", "must be an object, not a list"),
        ({"version": 3, "deployment": {"resources": {}}}, "deployment.resources", "must be a list of resources"),
        (_export({"id": "x"}), "deployment.resources[0]", "is not a resource"),
        (_export("urn:pulumi:x"), "deployment.resources[0]", "is not a resource"),
        (_export(_resource(urn="arn:aws:s3:::logs")), "deployment.resources[0].urn", "is not a URN"),
        (_export(_resource(urn=7)), "deployment.resources[0].urn", "must be a URN string, not a number"),
        (_export(_resource(parent="nope")), "deployment.resources[0].parent", "is not a URN"),
        (_export(_resource(dependencies="urn")), "deployment.resources[0].dependencies", "must be a list"),
        (_export(_resource(dependencies=["x"])), "deployment.resources[0].dependencies[0]", "is not a URN"),
        (_export(_resource(custom="yes")), "deployment.resources[0].custom", "must be true or false"),
        (_export(_resource(inputs=[1])), "deployment.resources[0].inputs", "must be an object of properties"),
        (_export(_resource(provider="x::y")), "deployment.resources[0].provider", "is not a URN"),
        (
            _export(_resource(customTimeouts={"create": "soon"})),
            "deployment.resources[0].customTimeouts.create",
            "is not a duration",
        ),
        (_export(_resource(customTimeouts=[20])), "deployment.resources[0].customTimeouts", "must be an object"),
        (
            _export(_resource(outputs={"pw": {SECRET_SIG_KEY: SECRET_SIG}})),
            "deployment.resources[0].outputs.pw",
            "needs a `ciphertext`",
        ),
        (
            _export(_resource(propertyDependencies=[])),
            "deployment.resources[0].propertyDependencies",
            "must be an object",
        ),
        (
            _export(_resource(), _resource()),
            "deployment.resources[1].urn",
            r"appears twice \(also at deployment\.resources\[0\]\)",
        ),
        (_export(_resource(inputs=_nested(300))), "deployment.resources[0].inputs", "nested deeper than 200 levels"),
        ("[" * 100_000 + "]" * 100_000, "", "nested deeper than 200 levels"),
    ],
)
def test_every_malformed_state_is_one_paragraph_naming_the_file_and_path(
    tmp_path: Path, document: Any, path: str, problem: str
) -> None:
    file = tmp_path / "bad.json"
    file.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(DryRunError, match=problem) as caught:
        read_state(file)
    assert caught.value.file == str(file)
    assert caught.value.path.startswith(path)
    assert "\n" not in str(caught.value)


def test_a_non_utf8_state_is_exit_2_naming_the_byte(tmp_path: Path) -> None:
    file = tmp_path / "latin1.json"
    file.write_bytes(b'{"version": 3, "deployment": {"resources": [{"urn": "caf\xe9"}]}}')
    with pytest.raises(DryRunError, match="is not UTF-8") as caught:
        read_state(file)
    assert caught.value.path == "byte 56"


def test_a_deleted_copy_beside_the_live_resource_is_not_a_duplicate(tmp_path: Path) -> None:
    snapshot = read_state(write(tmp_path, _export(_resource(delete=True, id="old"), _resource(id="new"))))
    assert [record.id for record in snapshot.resources] == ["new"]


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_real_exports_with_ciphertext_secrets(version: str) -> None:
    snapshot = read_state(STATES / f"checkpoint-secrets-{version}.json")
    role = snapshot.by_urn()[ROLE]
    assert role.outputs["uniqueId"] == {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "IkFST0FKQlFBTlBGRVhGVzJTRVZKTSI="}
    assert role.property_dependencies == {"assumeRolePolicy": ()}
    assert role.parent == "urn:pulumi:foo::countdown::aws:serverless:Function::countDown_watcher"


def test_a_v4_export_with_go_durations_output_values_and_pending_operations() -> None:
    snapshot = read_state(STATES / "checkpoint-secrets-v4.json")
    logs = snapshot.by_urn()["urn:pulumi:foo::countdown::aws:cloudwatch/logGroup:LogGroup::heartbeat-func-logs"]
    assert logs.custom_timeouts == {"create": "1200s", "update": "5400s", "delete": "0.5s"}
    topic = snapshot.by_urn()["urn:pulumi:foo::countdown::cloud:topic:Topic::countDown"]
    assert topic.outputs == {"topicArn": "arn:aws:sns:us-east-2:153052954103:countDown-9d430501c4510322"}
    [warning] = snapshot.warnings
    assert "1 pending operation(s) (creating)" in warning


@pytest.mark.parametrize("version", ["v3", "v4"])
def test_a_preview_against_a_real_export_with_output_only_ciphertexts(
    version: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from maiaplan.cli import main

    state = STATES / f"checkpoint-secrets-{version}.json"
    code = main(["preview", "--project", str(COUNTDOWN), "--stack", "foo", "--state", str(state), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    document = json.loads(captured.out)
    assert document["outputs"]["roleUniqueId"] == "[secret]"
    warnings = [entry["message"] for entry in document["diagnostics"] if entry["severity"] == "warning"]
    assert any("pending operation" in message for message in warnings) == (version == "v4")


def test_missing_state_file(tmp_path: Path) -> None:
    with pytest.raises(DryRunError, match="cannot be read"):
        read_state(tmp_path / "nowhere.json")


def test_rebase_moves_another_stacks_state_to_this_stack(tmp_path: Path) -> None:
    snapshot = rebase(read_state(write(tmp_path, EXPORT)), "prod", "shop")
    by_urn = snapshot.by_urn()
    assert snapshot.rebased_from == "dev"
    assert "urn:pulumi:prod::shop::pulumi:pulumi:Stack::shop-prod" in by_urn
    bucket = by_urn["urn:pulumi:prod::shop::aws:s3/bucket:Bucket::logs"]
    assert bucket.parent == "urn:pulumi:prod::shop::pulumi:pulumi:Stack::shop-prod"
    assert bucket.provider == (
        "urn:pulumi:prod::shop::pulumi:providers:aws::default_7_51_1::f1e2d3c4-0000-4000-8000-000000000000"
    )
    assert by_urn["urn:pulumi:prod::shop::pulumi:pulumi:Stack::shop-prod"].name == "shop-prod"
    assert rebase(snapshot, "prod", "shop") is snapshot
    with pytest.raises(DryRunError, match="of project shop, not 'other'"):
        rebase(snapshot, "prod", "other")


def test_state_document_of_nothing() -> None:
    assert state_document([], "maiaplan-1.0")["deployment"]["resources"] == []
