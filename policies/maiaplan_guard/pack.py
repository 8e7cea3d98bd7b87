"""The policies as pulumi-policy sees them, and the analyzer server that hosts them.

Each policy wraps a rule from :mod:`maiaplan_guard.checks`: it reads its configuration, builds the
resource view (unwrapping pulumi-policy's unknown-checking proxy so unknowns reach the rule), applies
waivers, and reports. It fails closed: a rule that raises is reported as a violation of the resource
(or of the stack) at the policy's level, never as a pass.

pulumi-policy reports every violation of a policy at that policy's level. A waived violation must not
block, so :func:`serve` installs an analyzer servicer that reports messages starting with
:data:`~maiaplan_guard.WAIVED_PREFIX` at advisory level (and everything else as pulumi-policy does).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyPack,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import policy as sdk_policy

from . import (
    CONTRACT_LIMITS,
    DEDICATED_HARDWARE,
    ENCRYPTION_AT_HOST,
    NO_PUBLIC_INGRESS,
    PACK_NAME,
    TAGS,
    TENANT_NETWORK_BOUNDARY,
    WAIVED_PREFIX,
)
from .checks.boundary import check_tenant_network_boundary
from .checks.contracts import check_contract_limits
from .checks.dedicated import check_dedicated_hardware
from .checks.encryption import check_encryption_at_host
from .checks.ingress import check_no_public_ingress
from .checks.tags import check_tags
from .config import POLICY_SCHEMAS, GuardConfig, parse_config
from .findings import Finding, apply_waivers
from .graph import StackGraph, StackResource
from .resources import ResourceView
from .values import plain

# Overrides "today" (YYYY-MM-DD) for waiver expiry: tests pin it; nobody else should set it.
TODAY_ENV: Final = "MAIAPLAN_GUARD_TODAY"

ResourceCheck = Callable[[ResourceView, GuardConfig], list[Finding]]
StackCheck = Callable[[StackGraph, GuardConfig], list[Finding]]
T = TypeVar("T")

# pulumi-policy rebuilds a resource's properties for every policy of a request; within one Analyze or
# AnalyzeStack request (one thread of the server), the policies share the plain view and the graph.
_request = threading.local()


@contextmanager
def _request_scope() -> Iterator[None]:
    _request.cache = {}
    try:
        yield
    finally:
        del _request.cache


def _per_request(function: Callable[..., T]) -> Callable[..., T]:
    """``function`` of one argument, computed once per argument object within a request scope."""

    @functools.wraps(function)
    def shared(value: Any, *args: Any, **kwargs: Any) -> T:
        cache: dict[object, Any] | None = getattr(_request, "cache", None)
        if cache is None or args or kwargs:
            return function(value, *args, **kwargs)
        key = (function, id(value))
        hit = cache.get(key)
        if hit is None or hit[0] is not value:  # the cache holds the argument, so its id stays unique
            hit = cache[key] = (value, function(value))
        return hit[1]

    return shared


def share_sdk_deserialization(sdk: types.ModuleType) -> None:
    """Let the policies of one request share pulumi-policy's reading of the request.

    pulumi-policy converts, deserializes and proxies a resource's properties once per policy, the
    bulk of the pack's time; these are pure functions of the request, so within a request scope
    each runs once per properties message. Outside a request scope (and for remediation, which
    proxies secrets) they run as before. A pulumi-policy without these names is left as it is.
    """
    json_format = getattr(sdk, "json_format", None)
    if json_format is not None and hasattr(json_format, "MessageToDict"):
        shim = types.SimpleNamespace(**vars(json_format))
        shim.MessageToDict = _per_request(json_format.MessageToDict)
        sdk.json_format = shim  # type: ignore[attr-defined]
    for name in ("deserialize_properties", "unknown_checking_proxy"):
        if callable(getattr(sdk, name, None)):
            setattr(sdk, name, _per_request(getattr(sdk, name)))


def _shared(key: object, build: Callable[[], T]) -> T:
    cache: dict[object, Any] | None = getattr(_request, "cache", None)
    if cache is None:
        return build()
    if key not in cache:
        cache[key] = build()
    return cache[key]  # type: ignore[no-any-return]


def today() -> dt.date:
    """The date waivers expire against: :data:`TODAY_ENV` if set, else the local date."""
    pinned = os.environ.get(TODAY_ENV)
    return dt.date.fromisoformat(pinned) if pinned else dt.date.today()


def _error_finding(urn: str, subject: str, error: Exception) -> Finding:
    return Finding(
        urn=urn,
        subject=subject,
        rule="policy-error",
        problem="the policy failed while checking it, so it cannot vouch for it (fail closed)",
        value=f"{type(error).__name__}: {error}",
        fix="fix the policy configuration if the error names it, else report the error with the resource's "
        "properties; a waiver by URN can cover it meanwhile.",
    )


def _report(findings: list[Finding], config: GuardConfig | None, report_violation: ReportViolation) -> None:
    waivers = config.waivers if config else ()
    try:
        # "Today" matters only when a waiver could cover a finding.
        reports = apply_waivers(findings, waivers, today() if findings and waivers else dt.date.min)
    except ValueError as error:  # a bad MAIAPLAN_GUARD_TODAY: report everything unwaived, and why
        reports = apply_waivers([*findings, _error_finding("", "waiver evaluation", error)], (), dt.date.min)
    for report in reports:
        report_violation(report.message, report.urn or None)


def _validate_resource(check: ResourceCheck) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config: GuardConfig | None = None
        try:
            config = parse_config(args.get_config())
            view = _shared(
                ("view", args.urn),
                lambda: ResourceView.of(args.resource_type, args.urn, args.name, plain(args.props)),
            )
            findings = check(view, config)
        except Exception as error:  # fail closed: a crash is a violation, never a pass
            kind = args.resource_type.rsplit(":", 1)[-1]
            findings = [_error_finding(args.urn, f"{kind} '{args.name}'", error)]
        _report(findings, config, report_violation)

    return validate


def stack_resource(resource: PolicyResource) -> StackResource:
    """The plain view of one resource of pulumi-policy's stack validation arguments."""
    return StackResource.of_stack(
        resource.resource_type,
        resource.urn,
        resource.name,
        plain(resource.props),
        parent=resource.parent.urn if resource.parent is not None else resource.opts.parent,
        dependencies=[d.urn for d in resource.dependencies],
        property_dependencies={k: [d.urn for d in v] for k, v in resource.property_dependencies.items()},
        provider_props=plain(resource.provider.props) if resource.provider is not None else None,
    )


def _validate_stack(check: StackCheck) -> Callable[[StackValidationArgs, ReportViolation], None]:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        config: GuardConfig | None = None
        try:
            config = parse_config(args.get_config())
            graph = _shared("graph", lambda: StackGraph([stack_resource(r) for r in args.resources]))
            findings = check(graph, config)
        except Exception as error:  # fail closed
            findings = [_error_finding("", "the stack", error)]
        _report(findings, config, report_violation)

    return validate


def _schema(policy: str) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in POLICY_SCHEMAS[policy].items()})


def build_policies() -> list[Policy]:
    """The pack's six policies with their default levels: mandatory, advisory for tags."""
    mandatory = EnforcementLevel.MANDATORY
    resource_policies: list[tuple[str, str, ResourceCheck, EnforcementLevel, Severity]] = [
        (
            TAGS,
            "Every taggable resource carries the 'tenant' and 'managed-by' tags (GCP labels).",
            check_tags,
            EnforcementLevel.ADVISORY,
            Severity.LOW,
        ),
        (
            DEDICATED_HARDWARE,
            "Compute of a hardware-isolated tenant runs on dedicated hosts / tenancy / sole-tenant nodes.",
            check_dedicated_hardware,
            mandatory,
            Severity.CRITICAL,
        ),
        (
            NO_PUBLIC_INGRESS,
            "No public IP on tenant compute; no network rule open inbound to the internet.",
            check_no_public_ingress,
            mandatory,
            Severity.HIGH,
        ),
        (
            ENCRYPTION_AT_HOST,
            "Azure VMs and scale sets encrypt at host; AWS instances and launch templates encrypt their volumes.",
            check_encryption_at_host,
            mandatory,
            Severity.HIGH,
        ),
    ]
    stack_policies: list[tuple[str, str, StackCheck, Severity]] = [
        (
            TENANT_NETWORK_BOUNDARY,
            "Peerings stay within one tenant; no resource sits in another tenant's "
            "resource group, network or host group.",
            check_tenant_network_boundary,
            Severity.CRITICAL,
        ),
        (
            CONTRACT_LIMITS,
            "Each cloud contract's chip limits, share, regions and exclusive workloads hold.",
            check_contract_limits,
            Severity.HIGH,
        ),
    ]
    policies: list[Policy] = [
        ResourceValidationPolicy(
            name=name,
            description=description,
            validate=_validate_resource(check),
            enforcement_level=level,
            config_schema=_schema(name),
            severity=severity,
        )
        for name, description, check, level, severity in resource_policies
    ]
    policies += [
        StackValidationPolicy(
            name=name,
            description=description,
            validate=_validate_stack(check),
            enforcement_level=mandatory,
            config_schema=_schema(name),
            severity=severity,
        )
        for name, description, check, severity in stack_policies
    ]
    return policies


def waiver_aware_servicer() -> type:
    """pulumi-policy's analyzer servicer, reporting ``waived:`` messages at advisory level, and
    letting the policies of one request share the work of reading the resources.

    Raises
    ------
    RuntimeError
        When the installed pulumi-policy no longer has the hook this relies on (checked at start-up,
        so a waived violation can never silently be reported at the wrong level).
    """
    base: Any = getattr(sdk_policy, "_PolicyAnalyzerServicer", None)
    if base is None or not callable(getattr(base, "_create_report_violation", None)):
        raise RuntimeError(
            f"{PACK_NAME} needs pulumi-policy's _PolicyAnalyzerServicer._create_report_violation "
            "(pulumi-policy >=1.13,<2) to report waived violations at advisory level"
        )

    class WaiverAwareServicer(base):  # type: ignore[misc]
        def Analyze(self, request: Any, context: Any) -> Any:
            with _request_scope():
                return super().Analyze(request, context)

        def AnalyzeStack(self, request: Any, context: Any) -> Any:
            with _request_scope():
                return super().AnalyzeStack(request, context)

        def _create_report_violation(
            self,
            response: Any,
            policy_name: str,
            policy_description: str,
            enforcement_level: EnforcementLevel,
            severity: Severity | None = None,
        ) -> ReportViolation:
            at_level = super()._create_report_violation(
                response, policy_name, policy_description, enforcement_level, severity
            )
            advisory = super()._create_report_violation(
                response, policy_name, policy_description, EnforcementLevel.ADVISORY, severity
            )

            def report(message: str, urn: str | None = None) -> None:
                (advisory if message.startswith(WAIVED_PREFIX) else at_level)(message, urn)

            return report

    return WaiverAwareServicer


def serve() -> None:
    """Start the analyzer: print its port on stdout's first line and serve until interrupted."""
    setattr(sdk_policy, "_PolicyAnalyzerServicer", waiver_aware_servicer())  # noqa: B010 (a private hook)
    share_sdk_deserialization(sdk_policy)
    PolicyPack(
        name=PACK_NAME,
        policies=build_policies(),
        description="maiaplan-guard: tenant isolation and cloud-contract limits, judged on the resources.",
    )
