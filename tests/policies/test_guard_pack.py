"""The pack as pulumi-policy runs it, in process: policies, levels, waivers, failing closed."""

from __future__ import annotations

from typing import Any

import pytest
from maiaplan_guard import POLICY_NAMES, pack
from maiaplan_guard.pack import build_policies, waiver_aware_servicer
from maiaplan_guard.values import plain
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy import policy as sdk_policy
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from pulumi_dryrun.analyzer import analyze_request
from pulumi_dryrun.resources import UNKNOWN, ResourceRecord

VMSS = "azure-native:compute:VirtualMachineScaleSet"
URN = f"urn:pulumi:dev::maiaplan::{VMSS}::pool"


def vmss(encryption: Any = True) -> ResourceRecord:
    return ResourceRecord(
        URN,
        VMSS,
        "pool",
        True,
        {
            "hostGroup": {"id": UNKNOWN},
            "virtualMachineProfile": {"securityProfile": {"encryptionAtHost": encryption}},
            "tags": {"tenant": "anthropic", "managed-by": "maiaplan"},
        },
    )


def servicer(config: dict[str, dict[str, Any]] | None = None, policies: list[Any] | None = None) -> Any:
    service = waiver_aware_servicer()(
        "maiaplan-guard", "0.1.0", policies or build_policies(), EnforcementLevel.ADVISORY
    )
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name in POLICY_NAMES:
        level = analyzer_pb2.ADVISORY if name == "maiaplan-tags" else analyzer_pb2.MANDATORY
        request.policyConfig[name].enforcementLevel = level
        request.policyConfig[name].properties.update((config or {}).get(name, {}))
    service.Configure(request, None)
    return service


def diagnostics(service: Any, record: ResourceRecord) -> list[tuple[str, int, str]]:
    response = service.Analyze(analyze_request(record, {}), None)
    return [(d.policyName, d.enforcementLevel, d.message.split("\n", 1)[1]) for d in response.diagnostics]


def test_the_pack_has_the_six_policies_with_their_kinds_and_default_levels() -> None:
    policies = {p.name: p for p in build_policies()}
    assert list(policies) == list(POLICY_NAMES)
    assert {n for n, p in policies.items() if isinstance(p, StackValidationPolicy)} == {
        "tenant-network-boundary",
        "contract-limits",
    }
    assert all(isinstance(policies[n], ResourceValidationPolicy) for n in POLICY_NAMES[:4])
    assert {n: p.enforcement_level for n, p in policies.items()} == {
        n: EnforcementLevel.ADVISORY if n == "maiaplan-tags" else EnforcementLevel.MANDATORY for n in POLICY_NAMES
    }


def test_plain_unwraps_the_unknown_checking_proxy_without_raising() -> None:
    wire = {"a": {"b": [UNKNOWN, 1.0, {"c": UNKNOWN}]}, "d": UNKNOWN}
    proxy = unknown_checking_proxy(deserialize_properties(wire))
    with pytest.raises(UnknownValueError):
        _ = proxy["d"]
    assert plain(proxy) == wire


def test_a_waived_violation_of_a_mandatory_policy_is_reported_at_advisory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIAPLAN_GUARD_TODAY", "2026-03-01")
    waiver = {"urn": URN, "reason": "host encryption feature pending", "expires": "2026-06-30"}
    service = servicer({"encryption-at-host": {"waivers": [waiver]}})
    [(policy, level, message)] = diagnostics(service, vmss(encryption=False))
    assert (policy, level) == ("encryption-at-host", analyzer_pb2.ADVISORY)
    assert message.startswith("waived: VirtualMachineScaleSet 'pool' breaks rule 'encryption-at-host'")
    assert message.endswith("Waiver: host encryption feature pending (expires 2026-06-30).")
    monkeypatch.setenv("MAIAPLAN_GUARD_TODAY", "2026-07-01")
    [(_, level, message)] = diagnostics(service, vmss(encryption=False))
    assert level == analyzer_pb2.MANDATORY and "A waiver expired on 2026-06-30" in message


def test_a_policy_that_raises_reports_a_violation_at_its_level(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(resource: Any, config: Any) -> list[Any]:
        raise KeyError("virtualMachineProfile")

    monkeypatch.setattr(pack, "check_encryption_at_host", broken)
    [(policy, level, message)] = diagnostics(servicer(policies=build_policies()), vmss())
    assert (policy, level) == ("encryption-at-host", analyzer_pb2.MANDATORY)
    assert "breaks rule 'policy-error'" in message and "KeyError: 'virtualMachineProfile'" in message


def test_a_configuration_the_schema_would_reject_fails_closed() -> None:
    # The CLI validates configs against the schemas; a pack run without that check still fails closed.
    service = servicer({"dedicated-hardware": {"tenants": [{"name": "anthropic", "isolation": "partial"}]}})
    [(policy, level, message)] = diagnostics(service, vmss())
    assert (policy, level) == ("dedicated-hardware", analyzer_pb2.MANDATORY)
    assert "ConfigError: tenants[0] must be {name, isolation: hardware|shared}" in message


def test_an_invalid_pinned_date_reports_the_violations_unwaived(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIAPLAN_GUARD_TODAY", "soon")
    waiver = {"urn": URN, "reason": "r", "expires": "2099-01-01"}
    found = diagnostics(servicer({"encryption-at-host": {"waivers": [waiver]}}), vmss(encryption=False))
    assert [level for _, level, _ in found] == [analyzer_pb2.MANDATORY, analyzer_pb2.MANDATORY]
    assert "Invalid isoformat string: 'soon'" in found[1][2]


def test_each_request_reads_its_own_properties() -> None:
    service = servicer()
    assert diagnostics(service, vmss(encryption=True)) == []
    assert [p for p, _, _ in diagnostics(service, vmss(encryption=False))] == ["encryption-at-host"]


def test_the_servicer_hook_is_checked_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sdk_policy._PolicyAnalyzerServicer, "_create_report_violation")
    with pytest.raises(RuntimeError, match="to report waived violations at advisory level"):
        waiver_aware_servicer()


def test_policies_of_one_request_share_the_sdks_reading_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [vmss(encryption=False), ResourceRecord(URN + "2", VMSS, "pool2", True, {"tags": {"tenant": "x"}})]
    expected = [diagnostics(servicer(), record) for record in records]
    calls: list[object] = []
    json_format = getattr(sdk_policy, "json_format")  # noqa: B009 (not re-exported)
    convert = json_format.MessageToDict

    def counting(message: Any) -> Any:
        calls.append(message)
        return convert(message)

    monkeypatch.setattr(sdk_policy, "json_format", json_format)
    monkeypatch.setattr(json_format, "MessageToDict", counting)
    for name in ("deserialize_properties", "unknown_checking_proxy"):
        monkeypatch.setattr(sdk_policy, name, getattr(sdk_policy, name))
    pack.share_sdk_deserialization(sdk_policy)
    service = servicer()
    calls.clear()  # Configure converts the policies' configurations
    assert [diagnostics(service, record) for record in records] == expected
    assert len(calls) == len(records)  # once per request, not once per policy
