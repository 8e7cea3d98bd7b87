"""The demo program run under a preview, in its own process: what the recording monitor records."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.resources import UNKNOWN
from pulumi_dryrun.runner import ProgramRun, run_program
from pulumi_dryrun.values import is_secret

pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo_project"
STACK_URN = "urn:pulumi:dev::demo::pulumi:pulumi:Stack::demo-dev"
DEFAULT_AWS = "urn:pulumi:dev::demo::pulumi:providers:aws::default_7_51_1"
DEFAULT_GCP = "urn:pulumi:dev::demo::pulumi:providers:gcp::default_10_2_0"
NETWORK = "urn:pulumi:dev::demo::demo:net:Network::core"
VPC = "urn:pulumi:dev::demo::demo:net:Network$aws:ec2/vpc:Vpc::core-vpc"
SUBNET = "urn:pulumi:dev::demo::demo:net:Network$aws:ec2/subnet:Subnet::core-subnet"
GROUP = "urn:pulumi:dev::demo::aws:autoscaling/group:Group::workers"
TEMPLATE = "urn:pulumi:dev::demo::aws:ec2/launchTemplate:LaunchTemplate::workers"
REPLICA = "urn:pulumi:dev::demo::aws:s3/bucket:Bucket::replica"
WEST = "urn:pulumi:dev::demo::pulumi:providers:aws::west"


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return run_program(DEMO, "dev")


def test_every_registration_with_engine_urns_sorted(dev: ProgramRun) -> None:
    urns = [record.urn for record in dev.resources]
    assert urns == sorted(urns)
    assert set(urns) == {
        STACK_URN,
        DEFAULT_AWS,
        DEFAULT_GCP,
        WEST,
        NETWORK,
        VPC,
        SUBNET,
        "urn:pulumi:dev::demo::demo:net:Network$aws:ec2/securityGroup:SecurityGroup::core-sg",
        "urn:pulumi:dev::demo::aws:s3/bucket:Bucket::logs-0",
        "urn:pulumi:dev::demo::aws:s3/bucket:Bucket::logs-1",
        REPLICA,
        TEMPLATE,
        GROUP,
        "urn:pulumi:dev::demo::aws:ssm/parameter:Parameter::db-password",
        "urn:pulumi:dev::demo::aws:ssm/parameter:Parameter::api-token",
        "urn:pulumi:dev::demo::gcp:storage/bucket:Bucket::artifacts",
    }
    assert not any("pulumi:pulumi:Stack$" in urn for urn in urns)


def test_parents_dependencies_and_property_dependencies(dev: ProgramRun) -> None:
    by_urn = dev.by_urn()
    assert by_urn[NETWORK].parent == STACK_URN
    assert by_urn[VPC].parent == NETWORK
    assert by_urn[SUBNET].dependencies == (VPC,)
    assert by_urn[SUBNET].property_dependencies["vpcId"] == (VPC,)
    assert by_urn[SUBNET].property_dependencies["cidrBlock"] == ()
    assert set(by_urn[GROUP].dependencies) == {SUBNET, TEMPLATE}
    assert by_urn[GROUP].property_dependencies["launchTemplate"] == (TEMPLATE,)
    assert set(by_urn[REPLICA].dependencies) == {
        "urn:pulumi:dev::demo::aws:s3/bucket:Bucket::logs-0",
        "urn:pulumi:dev::demo::aws:s3/bucket:Bucket::logs-1",
    }
    assert by_urn[GROUP].ignore_changes == ("tags",)
    group_line = (DEMO / "__main__.py").read_text().splitlines().index("group = autoscaling.Group(") + 1
    assert by_urn[GROUP].source_position == f"__main__.py:{group_line}"
    assert by_urn[VPC].source_position == "network.py:16"


def test_default_and_explicit_providers(dev: ProgramRun) -> None:
    by_urn = dev.by_urn()
    aws = by_urn[DEFAULT_AWS]
    assert aws.parent is None and aws.id == UNKNOWN
    assert aws.inputs == {"__internal": {}, "region": "us-west-2", "version": "7.51.1"}
    assert aws.outputs == {"region": "us-west-2", "version": "7.51.1"}
    assert by_urn[DEFAULT_GCP].inputs["project"] == "demo-project"
    assert by_urn[VPC].provider == f"{DEFAULT_AWS}::{UNKNOWN}"
    assert by_urn["urn:pulumi:dev::demo::gcp:storage/bucket:Bucket::artifacts"].provider == f"{DEFAULT_GCP}::{UNKNOWN}"
    assert by_urn[REPLICA].provider == f"{WEST}::{UNKNOWN}"
    assert by_urn[WEST].parent == STACK_URN
    assert by_urn[WEST].inputs["region"] == "us-west-2"
    assert by_urn[NETWORK].provider is None


def test_config_defaults_integers_and_invokes(dev: ProgramRun) -> None:
    by_urn = dev.by_urn()
    group = by_urn[GROUP].inputs
    assert group["desiredCapacity"] == 2 and type(group["desiredCapacity"]) is int  # Pulumi.yaml default
    assert type(group["maxSize"]) is int
    volume = by_urn[TEMPLATE].inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"]
    assert volume == 200 and type(volume) is int
    assert dev.outputs["zones"] == 3  # getAvailabilityZones answered from the table


def test_provider_computed_outputs_are_unknown_or_generated(dev: ProgramRun) -> None:
    by_urn = dev.by_urn()
    bucket = by_urn["urn:pulumi:dev::demo::aws:s3/bucket:Bucket::logs-0"]
    assert bucket.id == UNKNOWN
    assert bucket.inputs["bucket"].startswith("logs-0-") and len(bucket.inputs["bucket"]) == len("logs-0-") + 7
    assert bucket.outputs["arn"] == UNKNOWN
    assert bucket.outputs["bucket"] == bucket.inputs["bucket"]
    assert by_urn[NETWORK].outputs == {"subnetId": UNKNOWN, "vpcId": UNKNOWN}
    assert dev.outputs["bucketNames"] == [
        bucket.inputs["bucket"],
        by_urn[bucket.urn.replace("0", "1")].inputs["bucket"],
    ]
    assert dev.outputs["vpcId"] == UNKNOWN


def test_secrets_stay_wrapped(dev: ProgramRun) -> None:
    by_urn = dev.by_urn()
    assert is_secret(by_urn["urn:pulumi:dev::demo::aws:ssm/parameter:Parameter::db-password"].inputs["value"])
    assert is_secret(dev.outputs["dbPassword"]) and is_secret(dev.outputs["apiToken"])
    assert dev.outputs["apiToken"]["value"] == "tok-4f9a1c77e2d0"
    assert "demo:dbPassword" in dev.config.secret_keys


def test_runs_are_independent_and_repeatable(dev: ProgramRun) -> None:
    prod = run_program(DEMO, "prod")
    again = run_program(DEMO, "dev")
    assert again.resources == dev.resources and again.outputs == dev.outputs
    assert all(record.urn.startswith("urn:pulumi:prod::") for record in prod.resources)
    assert len(prod.resources) == len(dev.resources) - 1  # one log bucket fewer
    assert "network" not in sys.modules  # the program's own modules are forgotten


def test_prior_state_keeps_ids_names_and_outputs(dev: ProgramRun) -> None:
    bucket_urn = "urn:pulumi:dev::demo::aws:s3/bucket:Bucket::logs-0"
    from dataclasses import replace

    prior = {record.urn: record for record in dev.resources}
    existing = replace(
        prior[bucket_urn],
        id="logs-0-real123",
        inputs={**prior[bucket_urn].inputs, "bucket": "logs-0-real123"},
        outputs={"arn": "arn:aws:s3:::logs-0-real123", "bucket": "logs-0-real123", "tags": {"env": "dev"}},
    )
    prior[bucket_urn] = existing
    run = run_program(DEMO, "dev", prior=prior)
    bucket = run.by_urn()[bucket_urn]
    assert bucket.id == "logs-0-real123"
    assert bucket.inputs["bucket"] == "logs-0-real123"
    assert bucket.outputs["arn"] == "arn:aws:s3:::logs-0-real123"
    assert run.outputs["bucketNames"][0] == "logs-0-real123"


def test_overrides_set_config(dev: ProgramRun) -> None:
    run = run_program(DEMO, "dev", overrides={"demo:groupSize": 6, "buckets": 0})
    assert run.by_urn()[GROUP].inputs["desiredCapacity"] == 6
    assert not any(record.name.startswith("logs-") for record in run.resources)


def test_a_raising_program_names_its_own_frame_first() -> None:
    with pytest.raises(DryRunError) as caught:
        run_program(DEMO, "broken")
    error = caught.value
    assert error.file == str(DEMO / "network.py")
    raise_line = next(
        number
        for number, line in enumerate((DEMO / "network.py").read_text().splitlines(), 1)
        if "raise ValueError" in line
    )
    assert error.path == f"line {raise_line}"
    assert "ValueError: the demo network needs a /16, not /8 in subnet_cidr" in error.problem
    network_line = next(
        number
        for number, line in enumerate((DEMO / "__main__.py").read_text().splitlines(), 1)
        if line.startswith("network = Network(")
    )
    assert f"called from network.py:18 in __init__, __main__.py:{network_line} in <module>" in error.problem
    assert "pulumi/" not in str(error)


@pytest.mark.parametrize(
    ("stack", "path", "problem"),
    [
        ("nopassword", "config.demo:dbPassword", "requires configuration value 'demo:dbPassword'"),
        ("noenv", "config.demo:env", "missing configuration value 'demo:env'"),
        ("untyped", "config.demo:groupSize", "must be of type 'integer'"),
        ("nosuch", "", "has no config file"),
    ],
)
def test_config_errors_name_the_key_and_the_stack_file(stack: str, path: str, problem: str) -> None:
    with pytest.raises(DryRunError) as caught:
        run_program(DEMO, stack)
    assert caught.value.path == path
    assert problem in caught.value.problem
    assert Path(caught.value.file).name == f"Pulumi.{stack}.yaml"


def test_programs_with_the_same_module_names_each_import_their_own(tmp_path: Path) -> None:
    for name, size in (("one", "1"), ("two", "2")):
        project = tmp_path / name
        project.mkdir()
        (project / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n")
        (project / "Pulumi.dev.yaml").write_text("config: {}\n")
        (project / "helpers.py").write_text(f"SIZE = {size}\n")
        (project / "__main__.py").write_text("import pulumi\nimport helpers\npulumi.export('size', helpers.SIZE)\n")
    assert run_program(tmp_path / "one", "dev").outputs == {"size": 1.0}
    assert run_program(tmp_path / "two", "dev").outputs == {"size": 2.0}


def test_a_logged_error_fails_the_preview(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: logs\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\npulumi.log.warn('careful')\npulumi.log.error('broken quota')\n"
    )
    with pytest.raises(DryRunError, match="reported 1 error\\(s\\): broken quota"):
        run_program(tmp_path, "dev")


def test_reads_are_recorded_as_external(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: reads\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi\nfrom pulumi_aws import ec2\n"
        "vpc = ec2.Vpc.get('shared', 'vpc-0123')\n"
        "ec2.Subnet('sub', vpc_id=vpc.id, cidr_block='10.0.1.0/24')\n"
    )
    run = run_program(tmp_path, "dev")
    shared = run.by_urn()["urn:pulumi:dev::reads::aws:ec2/vpc:Vpc::shared"]
    assert shared.external and shared.id == "vpc-0123"
    subnet = run.by_urn()["urn:pulumi:dev::reads::aws:ec2/subnet:Subnet::sub"]
    assert subnet.inputs["vpcId"] == "vpc-0123"
