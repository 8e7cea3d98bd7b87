"""`maiaplan gate` against a real Prometheus holding recorded vLLM series (conftest.py's timeline)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from conftest import BREACH, GAP, HEALTHY, LOW, RESUME, ROOT, Server, make_project

from maiaplan.cli import main
from maiaplan.rollout.audit import audit_log_path
from maiaplan.rollout.prometheus import Prometheus
from planner.gates import ERROR_RATE, default_rules
from planner.plan_builder import plan_migration
from planner.spec import load_spec


def gate(
    project: Path, server: Server | str, offset: int, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str]:
    url = server if isinstance(server, str) else server.url
    at = str((server.origin if isinstance(server, Server) else 0) + offset)
    code = main(
        [
            "gate",
            "--project",
            str(project),
            "--stack",
            "pilot",
            "--prometheus",
            url,
            "--at",
            at,
            "--format",
            "json",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out else {}, captured.err


def by_check(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["workload"], c["name"]): c for c in document["evidence"]}


def test_a_healthy_step_advances(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _err = gate(make_project(tmp_path), prometheus, HEALTHY + 1800, capsys)
    assert code == 0
    assert document["decision"] == "advance"
    assert document["from"] == {"phase": 1, "step": 1} and document["to"] == {"phase": 1, "step": 10}
    checks = by_check(document)
    phase_1 = [
        move.workload for move in plan_migration(load_spec(ROOT / "examples" / "maia-pilot.yaml")).phases[0].moves
    ]
    assert "router-small" in phase_1
    assert set(checks) == {(w, n) for w in phase_1 for n in ("p99-time-per-output-token", "error-rate")}
    latency = checks[("router-small", "p99-time-per-output-token")]
    assert 'cluster="az-eastus-maia",workload="router-small"' in latency["query"]
    assert latency["verdict"] == "pass" and latency["values"] == 10 and latency["failures"] == 0
    assert latency["worst"] < 0.025  # all tokens in vLLM's first bucket, 10 ms
    assert latency["samples"] >= 500
    assert checks[("router-small", "error-rate")]["worst"] == 0


def test_a_p99_breach_rolls_back(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path, phase=2, step=10)
    code, document, _err = gate(project, prometheus, BREACH[1], capsys)
    assert code == 4
    assert document["decision"] == "rollback"
    assert document["to"] == {"phase": 2, "step": 1}
    latency = by_check(document)[("safety-filter", "p99-time-per-output-token")]
    assert latency["verdict"] == "fail"
    assert latency["failures"] == 10 and latency["worst"] > 0.03
    assert "more than the 1 allowed" in latency["reason"]
    assert by_check(document)[("safety-filter", "error-rate")]["verdict"] == "pass"


def test_too_few_samples_hold(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _err = gate(make_project(tmp_path), prometheus, LOW + 1200, capsys)
    assert code == 3
    assert document["decision"] == "hold" and document["to"] is None
    latency = by_check(document)[("router-small", "p99-time-per-output-token")]
    assert latency["verdict"] == "inconclusive"
    assert latency["samples"] < 500 and "fewer than the 500 the check needs" in latency["reason"]


def test_a_window_not_elapsed_since_the_step_began_holds(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, phase=1, step=10)
    at = prometheus.origin + HEALTHY + 3000
    entry = {"applied": True, "to": {"phase": 1, "step": 10}, "at_unix": at - 240, "decision": "advance"}
    audit_log_path(project / "stacks" / "Pulumi.pilot.yaml").write_text(json.dumps(entry) + "\n")
    code, document, _err = gate(project, prometheus, HEALTHY + 3000, capsys)
    assert code == 3
    for check in document["evidence"]:
        assert check["verdict"] == "inconclusive"
        assert "the window has not elapsed: the step began 240 s ago, the check needs 600 s" in check["reason"]
        assert check["start_unix"] == at - 240


def test_metrics_that_do_not_cover_the_window_hold(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document, _err = gate(make_project(tmp_path), prometheus, RESUME + 300, capsys)
    assert code == 3
    latency = by_check(document)[("router-small", "p99-time-per-output-token")]
    assert "the metrics cover only the last" in latency["reason"]


def test_no_series_at_all_holds(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document, _err = gate(make_project(tmp_path), prometheus, GAP + 1200, capsys)
    assert code == 3
    assert all("the query returned no value" in c["reason"] for c in document["evidence"])


def test_text_output_shows_the_evidence(prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path, phase=2, step=10)
    at = str(prometheus.origin + BREACH[1])
    code = main(["gate", "--project", str(project), "--stack", "pilot", "--prometheus", prometheus.url, "--at", at])
    out = capsys.readouterr().out
    assert code == 4
    assert "decision: ROLLBACK (exit 4)" in out
    assert "would roll back to phase 2 at 1 %" in out
    assert "safety-filter  az-eastus-maia  p99-time-per-output-token  FAIL" in out
    assert (
        'histogram_quantile(0.99, sum by (le) (rate(vllm:time_per_output_token_seconds_bucket{cluster="az-eastus-maia",workload="safety-filter"}[60s])))'
        in out
    )


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_prometheus_down_exits_2_with_one_paragraph(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path)
    code = main(["gate", "--project", str(project), "--stack", "pilot", "--prometheus", _closed_port()])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "cannot be reached (Connection refused)" in captured.err
    assert "Traceback" not in captured.err and len(captured.err.strip().splitlines()) == 1


def test_a_query_prometheus_rejects_exits_2(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    spec = project / "examples" / "maia-pilot.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8")
        + "  gates:\n    - {name: gateway-errors, query: 'sum(rate(gateway_errors[${interval}])', comparator: '<', "
        "threshold: 0.01}\n",
        encoding="utf-8",
    )
    code, document, err = gate(project, prometheus, HEALTHY + 1800, capsys)
    assert code == 2 and document == {}
    assert "rejected the query (bad_data)" in err and "gateway_errors" in err


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://prometheus:9090", "is not an http(s) URL"), ("http://127.0.0.1:1/", "cannot be reached")],
)
def test_bad_urls_exit_2(url: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gate", "--project", str(make_project(tmp_path)), "--stack", "pilot", "--prometheus", url]) == 2
    assert message in capsys.readouterr().err


def test_an_error_rate_without_failed_reason_series_is_zero_not_missing(prometheus: Server) -> None:
    spec = load_spec(ROOT / "examples" / "maia-pilot.yaml")
    (rule,) = [r for r in default_rules(spec.workloads[0], spec.migration) if r.name == ERROR_RATE]
    assert rule.query is not None
    # The recorded servers export no finished_reason="error" series at all: the rate must still be 0.
    query = rule.query.replace("abort|error", "error").replace("${selector}", 'workload="embed"')
    query = query.replace("${interval}", "60s")
    (sample,) = Prometheus(prometheus.url).instant(query, prometheus.origin + HEALTHY + 1800)
    assert sample.value == 0


def test_a_first_token_slo_is_judged_on_vllms_first_token_histogram(
    prometheus: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    spec = project / "examples" / "maia-pilot.yaml"
    text = spec.read_text(encoding="utf-8")
    healthy = "serving: {tokens_per_s: 100000, p99_ms_per_token: 25, context_tokens: 4096}"
    assert healthy in text
    # The recorded first tokens come within 1 ms: an SLO of 5 ms passes, one of 0.5 ms fails.
    for slo_ms, code_expected, verdict in ((5, 0, "pass"), (0.5, 4, "fail")):
        spec.write_text(
            text.replace(
                healthy,
                healthy.replace("context_tokens: 4096", f"context_tokens: 4096, p99_ms_to_first_token: {slo_ms}"),
            ),
            encoding="utf-8",
        )
        code, document, _err = gate(project, prometheus, HEALTHY + 1800, capsys)
        assert code == code_expected
        first_token = by_check(document)[("router-small", "p99-time-to-first-token")]
        assert first_token["verdict"] == verdict
        assert "vllm:time_to_first_token_seconds_bucket" in first_token["query"]
        assert ("embed", "p99-time-to-first-token") not in by_check(document)  # embed sets no such SLO
