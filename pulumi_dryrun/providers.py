"""What each provider does in a preview that the offline engine must imitate, as small tables.

Nothing here names one of maiaplan's own resource types: behaviour is per provider package, with
type tokens only where a provider itself special-cases a type (the S3 bucket's ``bucket`` name).

- Auto-naming: when a program leaves a resource's name property unset, the provider's ``Check``
  fills it with the resource's logical name and a random suffix, and the preview shows that name.
  Here the suffix is a hash of the URN, so the same program gives the same name on every run; a
  name already in the prior state is kept, as the providers keep it.
- Invokes: canned answers to common data sources, rendered from the stack's config (region,
  project, subscription); any other invoke gets its arguments back and a deterministic ``id``.
- Reads (``Resource.get``): canned outputs for the built-in types that need them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_dryrun.urns import resource_package


@dataclass(frozen=True)
class AutonameRule:
    """Which input a provider fills with a generated name, and how it builds the name.

    ``property`` names the input, or is None for providers whose name input is the one property
    ending in ``Name`` that the program left unset (azure-native: ``vmScaleSetName``, ``hostName``).
    ``overrides`` maps a type token to its own property.
    """

    property: str | None
    suffix_chars: int
    separator: str
    overrides: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderProfile:
    """A provider package's preview behaviour: naming, identity defaults, invoke and read answers.

    ``identity`` maps a placeholder (``region``, ``account``, ...) to the config keys that set it,
    first found wins, and its offline default.
    """

    package: str
    autoname: AutonameRule | None = None
    identity: Mapping[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    invokes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    reads: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


_AWS = ProviderProfile(
    package="aws",
    autoname=AutonameRule(
        property="name",
        suffix_chars=7,
        separator="-",
        overrides={"aws:s3/bucket:Bucket": "bucket", "aws:s3/bucketV2:BucketV2": "bucket"},
    ),
    identity={
        "region": (("aws:region",), "us-east-1"),
        "account": (("aws:allowedAccountIds",), "123456789012"),
    },
    invokes={
        "aws:index/getRegion:getRegion": {
            "id": "{region}",
            "name": "{region}",
            "region": "{region}",
            "description": "{region}",
            "endpoint": "ec2.{region}.amazonaws.com",
        },
        "aws:index/getAvailabilityZones:getAvailabilityZones": {
            "id": "{region}",
            "names": ["{region}a", "{region}b", "{region}c"],
            "zoneIds": ["{region}-az1", "{region}-az2", "{region}-az3"],
            "groupNames": ["{region}"],
        },
        "aws:index/getCallerIdentity:getCallerIdentity": {
            "id": "{account}",
            "accountId": "{account}",
            "arn": "arn:aws:iam::{account}:user/maiaplan-preview",
            "userId": "AIDAMAIAPLANPREVIEW",
        },
        "aws:index/getPartition:getPartition": {
            "id": "aws",
            "partition": "aws",
            "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws",
        },
        "aws:ec2/getAmi:getAmi": {"id": "ami-{hash17}", "imageId": "ami-{hash17}", "architecture": "x86_64"},
        "aws:ec2/getVpc:getVpc": {"id": "vpc-{hash17}", "cidrBlock": "172.31.0.0/16", "default": True},
        "aws:ec2/getSubnets:getSubnets": {"id": "{region}", "ids": ["subnet-{hash17}"]},
        "aws:route53/getZone:getZone": {"id": "Z{HASH13}", "zoneId": "Z{HASH13}"},
    },
)

_GCP = ProviderProfile(
    package="gcp",
    autoname=AutonameRule(property="name", suffix_chars=7, separator="-"),
    identity={
        "project": (("gcp:project",), "maiaplan-preview"),
        "region": (("gcp:region",), "us-central1"),
        "zone": (("gcp:zone",), "us-central1-a"),
    },
    invokes={
        "gcp:organizations/getProject:getProject": {
            "id": "projects/{project}",
            "projectId": "{project}",
            "name": "{project}",
            "number": "123456789012",
        },
        "gcp:organizations/getClientConfig:getClientConfig": {
            "id": "projects/{project}/regions/{region}/zones/{zone}",
            "project": "{project}",
            "region": "{region}",
            "zone": "{zone}",
        },
        "gcp:compute/getZones:getZones": {
            "id": "projects/{project}/regions/{region}",
            "names": ["{region}-a", "{region}-b", "{region}-c"],
            "project": "{project}",
            "region": "{region}",
        },
        "gcp:compute/getNetwork:getNetwork": {
            "id": "projects/{project}/global/networks/{name}",
            "selfLink": "https://www.googleapis.com/compute/v1/projects/{project}/global/networks/{name}",
        },
    },
)

_AZURE_NATIVE = ProviderProfile(
    package="azure-native",
    autoname=AutonameRule(property=None, suffix_chars=8, separator=""),
    identity={
        "location": (("azure-native:location",), "eastus"),
        "subscription": (("azure-native:subscriptionId",), "00000000-0000-0000-0000-000000000000"),
        "tenant": (("azure-native:tenantId",), "00000000-0000-0000-0000-000000000000"),
        "client": (("azure-native:clientId",), "00000000-0000-0000-0000-000000000000"),
    },
    invokes={
        "azure-native:authorization:getClientConfig": {
            "clientId": "{client}",
            "objectId": "00000000-0000-0000-0000-000000000000",
            "subscriptionId": "{subscription}",
            "tenantId": "{tenant}",
        },
        "azure-native:resources:getResourceGroup": {
            "id": "/subscriptions/{subscription}/resourceGroups/{resourceGroupName}",
            "name": "{resourceGroupName}",
            "location": "{location}",
            "type": "Microsoft.Resources/resourceGroups",
        },
        "azure-native:network:getVirtualNetwork": {
            "id": "/subscriptions/{subscription}/resourceGroups/{resourceGroupName}"
            "/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}",
            "name": "{virtualNetworkName}",
            "location": "{location}",
            "type": "Microsoft.Network/virtualNetworks",
        },
        "azure-native:network:getSubnet": {
            "id": "/subscriptions/{subscription}/resourceGroups/{resourceGroupName}"
            "/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}/subnets/{subnetName}",
            "name": "{subnetName}",
            "type": "Microsoft.Network/virtualNetworks/subnets",
        },
    },
)

_PULUMI = ProviderProfile(
    package="pulumi",
    reads={"pulumi:pulumi:StackReference": {"outputs": {}, "secretOutputNames": []}},
)

PROFILES: Mapping[str, ProviderProfile] = {profile.package: profile for profile in (_AWS, _GCP, _AZURE_NATIVE, _PULUMI)}

_PLACEHOLDER = re.compile(r"\{([A-Za-z]+)(\d*)\}")


def profile_for(type_or_token: str) -> ProviderProfile:
    """The profile of the package a type or invoke token belongs to (an empty one if none)."""
    package = resource_package(type_or_token)
    return PROFILES.get(package, ProviderProfile(package=package))


def stable_hex(*parts: str, length: int) -> str:
    """``length`` hex digits that depend only on ``parts`` (the offline stand-in for randomness)."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()
    while len(digest) < length:
        digest += hashlib.sha256(digest.encode("ascii")).hexdigest()
    return digest[:length]


def identity(profile: ProviderProfile, config: Mapping[str, str]) -> dict[str, str]:
    """The profile's placeholders filled from the stack's config, else their offline defaults."""
    values: dict[str, str] = {}
    for placeholder, (keys, default) in profile.identity.items():
        values[placeholder] = next((_first_item(config[key]) for key in keys if config.get(key)), default)
    return values


def _first_item(value: str) -> str:
    """A config value as one string: the first element of a JSON array (``allowedAccountIds``)."""
    if value.startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return value
        if isinstance(items, list) and items:
            return str(items[0])
    return value


def autoname_property(
    profile: ProviderProfile, type_: str, inputs: Mapping[str, Any], input_names: frozenset[str]
) -> str | None:
    """The input the provider would fill with a generated name, or None (set, or no such input)."""
    rule = profile.autoname
    if rule is None:
        return None
    named = rule.overrides.get(type_, rule.property)
    if named is not None:
        return named if named in input_names and inputs.get(named) is None else None
    missing = sorted(name for name in input_names if name.endswith("Name") and inputs.get(name) is None)
    return missing[0] if len(missing) == 1 else None


def generated_name(profile: ProviderProfile, logical_name: str, urn: str) -> str:
    """The auto-name of a resource: its logical name, the separator, a suffix stable per URN."""
    assert profile.autoname is not None
    rule = profile.autoname
    return f"{logical_name}{rule.separator}{stable_hex(urn, length=rule.suffix_chars)}"


def invoke_answer(token: str, args: Mapping[str, Any], config: Mapping[str, str]) -> dict[str, Any]:
    """What a data source returns offline: its arguments, then the canned answer or a stable ``id``."""
    profile = profile_for(token)
    seed = json.dumps(args, sort_keys=True, default=str)
    context: dict[str, str] = {key: value for key, value in args.items() if isinstance(value, str)}
    context.update(identity(profile, config))
    template = profile.invokes.get(token)
    answer: dict[str, Any] = dict(args)
    if template is None:
        function = token.rsplit(":", 1)[-1]
        answer.setdefault("id", f"{function}-{stable_hex(token, seed, length=12)}")
        return answer
    answer.update(render(template, context, seed=f"{token}\x00{seed}"))
    return answer


def read_answer(type_: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The outputs of a resource read with ``.get``: what the program passed, plus canned outputs."""
    answer = dict(inputs)
    answer.update(profile_for(type_).reads.get(type_, {}))
    return answer


def render(template: Any, context: Mapping[str, str], seed: str) -> Any:
    """``template`` with ``{name}`` placeholders filled from ``context``.

    ``{hashN}``/``{HASHN}`` become N stable hex digits (lower/upper case) derived from ``seed``; a
    placeholder with no value is left as written.
    """
    if isinstance(template, str):

        def fill(match: re.Match[str]) -> str:
            name, digits = match.group(1), match.group(2)
            if name.lower() == "hash" and digits:
                value = stable_hex(seed, length=int(digits))
                return value.upper() if name == "HASH" else value
            if digits:
                return match.group(0)
            return context.get(name, match.group(0))

        return _PLACEHOLDER.sub(fill, template)
    if isinstance(template, Mapping):
        return {key: render(value, context, seed) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, context, seed) for value in template]
    return template
