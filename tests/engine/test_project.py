"""Pulumi.yaml and Pulumi.<stack>.yaml read as the CLI reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pulumi_dryrun.errors import DryRunError
from pulumi_dryrun.project import (
    SECRET_PLACEHOLDER,
    load_project,
    load_stack_config,
    with_overrides,
)

PROJECT = """\
name: shop
runtime:
  name: python
stackConfigDir: stacks
config:
  shop:replicas:
    type: integer
    default: 3
  shop:debug:
    type: boolean
    default: false
  zones:
    type: array
    default: [a, b]
  shop:region:
    type: string
    description: Where to deploy.
  shop:apiKey:
    type: string
    secret: true
  aws:region: us-east-1
"""


def make_project(tmp_path: Path, stacks: dict[str, str], project: str = PROJECT) -> Path:
    (tmp_path / "Pulumi.yaml").write_text(project)
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "stacks").mkdir()
    for name, text in stacks.items():
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    return tmp_path


def test_typed_defaults_are_applied_and_passed_as_strings(tmp_path: Path) -> None:
    directory = make_project(
        tmp_path, {"dev": "config:\n  shop:region: eu-west-1\n  shop:apiKey:\n    secure: v1:abc:def\n"}
    )
    project = load_project(directory)
    config = load_stack_config(project, "dev")
    assert project.name == "shop"
    assert project.stack_config_dir == directory / "stacks"
    assert config.file == directory / "stacks" / "Pulumi.dev.yaml"
    assert config.values == {
        "aws:region": "us-east-1",
        "shop:apiKey": SECRET_PLACEHOLDER,
        "shop:debug": "false",
        "shop:region": "eu-west-1",
        "shop:replicas": "3",
        "shop:zones": '["a","b"]',
    }
    assert config.structured == {"shop:zones": ["a", "b"]}
    assert config.secret_keys == {"shop:apiKey"}
    assert config.namespace("aws") == {"region": "us-east-1"}


def test_stack_values_override_defaults_and_objects_become_json(tmp_path: Path) -> None:
    stack = (
        "config:\n  shop:region: eu\n  shop:replicas: 7\n  shop:debug: true\n"
        "  shop:apiKey:\n    secure: x\n  aws:defaultTags:\n    tags:\n      team: infra\n"
        "  region2: plain\n"
    )
    config = load_stack_config(load_project(make_project(tmp_path, {"dev": stack})), "dev")
    assert config.values["shop:replicas"] == "7"
    assert config.values["shop:debug"] == "true"
    assert config.values["aws:defaultTags"] == '{"tags":{"team":"infra"}}'
    assert config.structured["aws:defaultTags"] == {"tags": {"team": "infra"}}
    assert config.values["shop:region2"] == "plain"


def test_secure_values_inside_objects_make_the_key_secret(tmp_path: Path) -> None:
    stack = "config:\n  shop:region: eu\n  shop:apiKey:\n    secure: x\n  shop:db:\n    user: app\n    password:\n      secure: y\n"
    config = load_stack_config(load_project(make_project(tmp_path, {"dev": stack})), "dev")
    assert "shop:db" in config.secret_keys
    assert config.structured["shop:db"] == {"user": "app", "password": SECRET_PLACEHOLDER}


def test_missing_required_value_names_the_key_and_the_file(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path, {"dev": "config:\n  shop:apiKey:\n    secure: x\n"}))
    with pytest.raises(DryRunError) as caught:
        load_stack_config(project, "dev")
    assert caught.value.path == "config.shop:region"
    assert "missing configuration value 'shop:region' (Where to deploy)" in caught.value.problem
    assert caught.value.file.endswith("Pulumi.dev.yaml")


@pytest.mark.parametrize(
    ("line", "key", "type_"),
    [
        ("shop:replicas: many", "shop:replicas", "integer"),
        ("shop:debug: maybe", "shop:debug", "boolean"),
        ("shop:zones: a", "shop:zones", "array"),
    ],
)
def test_values_of_the_wrong_declared_type_are_refused(tmp_path: Path, line: str, key: str, type_: str) -> None:
    stack = f"config:\n  shop:region: eu\n  shop:apiKey:\n    secure: x\n  {line}\n"
    project = load_project(make_project(tmp_path, {"dev": stack}))
    with pytest.raises(DryRunError) as caught:
        load_stack_config(project, "dev")
    assert caught.value.path == f"config.{key}"
    assert f"must be of type '{type_}'" in caught.value.problem


def test_a_declared_secret_given_in_plaintext_is_refused(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path, {"dev": "config:\n  shop:region: eu\n  shop:apiKey: hunter2\n"}))
    with pytest.raises(DryRunError, match="declares 'shop:apiKey' secret"):
        load_stack_config(project, "dev")


def test_unknown_stack_suggests_the_closest_one(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path, {"staging": "config: {}\n", "prod": "config: {}\n"}))
    with pytest.raises(DryRunError) as caught:
        load_stack_config(project, "stagin")
    assert "did you mean 'staging'?" in caught.value.problem
    assert "stacks: prod, staging" in caught.value.problem


@pytest.mark.parametrize("name", ["bad name", "a:b", ""])
def test_malformed_stack_names_are_refused(tmp_path: Path, name: str) -> None:
    project = load_project(make_project(tmp_path, {}))
    with pytest.raises(DryRunError, match="not a valid stack name"):
        load_stack_config(project, name)


def test_qualified_stack_names_use_the_short_name_file(tmp_path: Path) -> None:
    stack = "config:\n  shop:region: eu\n  shop:apiKey:\n    secure: x\n"
    project = load_project(make_project(tmp_path, {"dev": stack}))
    assert load_stack_config(project, "acme/shop/dev").stack == "dev"


def test_overrides_qualify_bare_keys(tmp_path: Path) -> None:
    stack = "config:\n  shop:region: eu\n  shop:apiKey:\n    secure: x\n"
    project = load_project(make_project(tmp_path, {"dev": stack}))
    config = with_overrides(project, load_stack_config(project, "dev"), {"replicas": 9, "aws:region": "us-west-2"})
    assert config.values["shop:replicas"] == "9"
    assert config.values["aws:region"] == "us-west-2"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("name: x\nruntime: nodejs\n", "Python programs only"),
        ("runtime: python\n", "no name"),
        ("name: x\nruntime: python\nmain: nowhere\n", "does not exist"),
        ("name: x\nruntime: [python\n", "not valid YAML"),
        ("name: x\nruntime: python\nconfig:\n  x:y:\n    type: float\n", "unknown config type 'float'"),
    ],
)
def test_malformed_projects_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "Pulumi.yaml").write_text(text)
    (tmp_path / "__main__.py").write_text("")
    with pytest.raises(DryRunError, match=problem):
        load_project(tmp_path)


def test_a_directory_without_pulumi_yaml_is_not_a_project(tmp_path: Path) -> None:
    with pytest.raises(DryRunError, match=r"has no Pulumi\.yaml"):
        load_project(tmp_path)


def test_main_may_name_a_program_directory(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: x\nruntime: python\nmain: src/\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "__main__.py").write_text("")
    assert load_project(tmp_path).program == tmp_path / "src"


def test_a_date_stays_the_text_the_cli_passes(tmp_path: Path) -> None:
    project = load_project(
        make_project(
            tmp_path,
            {"dev": "config:\n  shop:region: eu\n  shop:apiKey:\n    secure: v1:abc:def\n  shop:since: 2024-01-01\n"},
        )
    )
    assert load_stack_config(project, "dev").values["shop:since"] == "2024-01-01"


def test_a_date_like_value_that_is_no_date_is_one_paragraph(tmp_path: Path) -> None:
    project = load_project(make_project(tmp_path, {"dev": "config:\n  shop:region: eu\n  shop:x: 2024-13-01\n"}))
    with pytest.raises(DryRunError, match="'2024-13-01' looks like a date but is not one") as caught:
        load_stack_config(project, "dev")
    assert caught.value.path == "line 3"
    assert "\n" not in str(caught.value)


def test_a_secret_key_set_on_the_command_line_stays_secret(tmp_path: Path) -> None:
    project = load_project(
        make_project(tmp_path, {"dev": "config:\n  shop:region: eu\n  shop:apiKey:\n    secure: v1:abc:def\n"})
    )
    config = with_overrides(project, load_stack_config(project, "dev"), {"apiKey": "k3y-from-ci"})
    assert config.values["shop:apiKey"] == "k3y-from-ci"
    assert "k3y-from-ci" in config.secret_values
