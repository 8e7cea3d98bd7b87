"""The steps between a prior state and a preview: create, update, replace, delete, same, read."""

from __future__ import annotations

from typing import Any

from pulumi_dryrun.diff import PROVIDER_KEY, PropertyChange, diff, property_changes
from pulumi_dryrun.resources import SECRET_SIG, SECRET_SIG_KEY, UNKNOWN, ResourceRecord
from pulumi_dryrun.values import make_secret

STACK = "urn:pulumi:dev::p::pulumi:pulumi:Stack::p-dev"
PROVIDER = "urn:pulumi:dev::p::pulumi:providers:aws::default_7_51_1"


def record(name: str, type_: str = "aws:s3/bucket:Bucket", parent: str | None = STACK, **fields: Any) -> ResourceRecord:
    qualified = type_ if parent in (None, STACK) else f"{parent.split('::')[2]}${type_}"
    return ResourceRecord(
        urn=f"urn:pulumi:dev::p::{qualified}::{name}",
        type=type_,
        name=name,
        custom=fields.pop("custom", True),
        inputs=fields.pop("inputs", {}),
        parent=parent,
        provider=fields.pop("provider", f"{PROVIDER}::id-1"),
        **fields,
    )


def stack() -> ResourceRecord:
    return ResourceRecord(urn=STACK, type="pulumi:pulumi:Stack", name="p-dev", custom=False, inputs={})


def provider(inputs: dict[str, Any] | None = None) -> ResourceRecord:
    return ResourceRecord(
        urn=PROVIDER, type="pulumi:providers:aws", name="default_7_51_1", custom=True, inputs=inputs or {}, id="id-1"
    )


def ops(new: list[ResourceRecord], old: list[ResourceRecord]) -> dict[str, str]:
    plan = diff(new, {r.urn: r for r in old})
    return {step.name: step.op for step in plan.steps}


def test_create_update_delete_same() -> None:
    old = [stack(), provider(), record("a", inputs={"acl": "private"}), record("b"), record("gone")]
    new = [stack(), provider(), record("a", inputs={"acl": "public"}), record("b"), record("fresh")]
    plan = diff(new, {r.urn: r for r in old})
    assert {step.name: step.op for step in plan.steps} == {
        "p-dev": "same",
        "default_7_51_1": "same",
        "a": "update",
        "b": "same",
        "gone": "delete",
        "fresh": "create",
    }
    assert plan.counts == {"create": 1, "update": 1, "replace": 0, "delete": 1, "read": 0, "same": 2}
    update = next(step for step in plan.steps if step.name == "a")
    assert update.changes == (PropertyChange("acl", "update", "private", "public"),)
    assert update.keys == ("acl",)


def test_nested_changes_have_paths_like_the_cli() -> None:
    old = {"tags": {"env": "dev", "team": "x"}, "rules": [{"port": 80}, {"port": 443}], "weird key": 1}
    new = {"tags": {"env": "prod", "owner": "y"}, "rules": [{"port": 80}], "weird key": 2}
    assert list(property_changes(old, new)) == [
        PropertyChange("rules[1]", "delete", {"port": 443}, None),
        PropertyChange("tags.env", "update", "dev", "prod"),
        PropertyChange("tags.owner", "add", None, "y"),
        PropertyChange("tags.team", "delete", "x", None),
        PropertyChange('["weird key"]', "update", 1, 2),
    ]
    assert PropertyChange("rules[1].port", "update").key == "rules"
    assert PropertyChange('["weird key"].x', "update").key == '["weird key"]'


def test_numbers_compare_by_value_and_bools_by_type() -> None:
    assert not list(property_changes({"size": 3}, {"size": 3.0}))
    assert list(property_changes({"flag": 1}, {"flag": True}))


def test_unknowns_differ_from_known_values_only() -> None:
    assert list(property_changes({"vpcId": "vpc-1"}, {"vpcId": UNKNOWN}))
    assert not list(property_changes({"vpcId": UNKNOWN}, {"vpcId": UNKNOWN}))


def test_secrets_compare_by_plaintext_when_both_have_one() -> None:
    assert not list(property_changes({"p": make_secret("a")}, {"p": make_secret("a")}))
    assert list(property_changes({"p": make_secret("a")}, {"p": make_secret("b")}))
    ciphertext = {SECRET_SIG_KEY: SECRET_SIG, "ciphertext": "AAAA"}
    assert not list(property_changes({"p": ciphertext}, {"p": make_secret("b")}))
    assert list(property_changes({"p": "a"}, {"p": make_secret("a")}))


def test_replace_on_changes_turns_an_update_into_a_replacement() -> None:
    old = [record("a", inputs={"name": "x", "tags": {"a": "1"}})]
    changed_name = record("a", inputs={"name": "y", "tags": {"a": "1"}}, replace_on_changes=("name",))
    changed_tag = record("a", inputs={"name": "x", "tags": {"a": "2"}}, replace_on_changes=("name",))
    everything = record("a", inputs={"name": "x", "tags": {"a": "2"}}, replace_on_changes=("*",))
    assert ops([changed_name], old) == {"a": "replace"}
    assert ops([changed_tag], old) == {"a": "update"}
    assert ops([everything], old) == {"a": "replace"}


def test_an_alias_matches_the_old_urn() -> None:
    old = [record("old-name", inputs={"acl": "private"})]
    renamed = record("new-name", inputs={"acl": "private"}, aliases=(old[0].urn,))
    plan = diff([renamed], {r.urn: r for r in old})
    assert [(step.name, step.op, step.old_urn) for step in plan.steps] == [("new-name", "same", old[0].urn)]


def test_provider_internal_settings_are_not_a_change_but_a_new_provider_is() -> None:
    old = [provider({"region": "us-east-1", "version": "7.51.1"})]
    new = [provider({"region": "us-east-1", "version": "7.51.1", "__internal": {}})]
    assert ops(new, old) == {"default_7_51_1": "same"}
    moved = record("a", provider="urn:pulumi:dev::p::pulumi:providers:aws::west::id-2")
    plan = diff([moved], {r.urn: r for r in [record("a")]})
    assert plan.steps[0].op == "update"
    assert plan.steps[0].keys == (PROVIDER_KEY,)


def test_reads_and_default_providers_in_counts() -> None:
    read = record("existing", external=True, id="vpc-1")
    plan = diff([stack(), provider(), read], {})
    assert plan.counts["read"] == 1
    assert plan.counts["create"] == 1  # the stack; the default provider is not counted
    assert [step.name for step in plan.shown()] == ["p-dev", "existing"]


def test_tree_order_and_shown_steps() -> None:
    component = record("net", type_="my:mod:Net", custom=False, provider=None)
    child_same = record("vpc", type_="aws:ec2/vpc:Vpc", parent=component.urn)
    child_new = record("subnet", type_="aws:ec2/subnet:Subnet", parent=component.urn)
    other = record("logs")
    old = [stack(), component, child_same, other]
    plan = diff([stack(), component, child_same, child_new, other], {r.urn: r for r in old})
    assert [step.name for step in plan.steps] == ["p-dev", "logs", "net", "subnet", "vpc"]
    assert plan.depth[child_new.urn] == 2
    # Only the change and the ancestors leading to it are shown.
    assert [step.name for step in plan.shown()] == ["p-dev", "net", "subnet"]


def test_deleted_children_stay_under_their_parent() -> None:
    component = record("net", type_="my:mod:Net", custom=False, provider=None)
    child = record("vpc", type_="aws:ec2/vpc:Vpc", parent=component.urn)
    plan = diff([stack()], {r.urn: r for r in [stack(), component, child]})
    assert [(step.name, step.op, plan.depth[step.urn]) for step in plan.steps] == [
        ("p-dev", "same", 0),
        ("net", "delete", 1),
        ("vpc", "delete", 2),
    ]


def test_stack_output_changes() -> None:
    old_stack = ResourceRecord(STACK, "pulumi:pulumi:Stack", "p-dev", False, {}, outputs={"a": 1, "b": "x"})
    new_stack = ResourceRecord(STACK, "pulumi:pulumi:Stack", "p-dev", False, {}, outputs={"a": 2, "c": "y"})
    plan = diff([new_stack], {STACK: old_stack})
    assert plan.output_changes == (
        PropertyChange("a", "update", 1, 2),
        PropertyChange("b", "delete", "x", None),
        PropertyChange("c", "add", None, "y"),
    )
