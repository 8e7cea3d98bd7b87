"""The pieces of the rollout without a server: moments, the stack file, the audit log, times, TLS and auth."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from maiaplan.commands.gate import parse_time
from maiaplan.rollout.audit import append, reached_at, read_entries, who
from maiaplan.rollout.moments import StackMoment, moments, next_moment, previous_moment
from maiaplan.rollout.prometheus import Prometheus, PrometheusError
from maiaplan.rollout.stackfile import StackFile, with_moment
from planner.errors import InputError

STEPS = (1, 10, 50, 100)


def test_moments_go_one_step_at_a_time_across_phases() -> None:
    assert moments(2, (10, 100)) == [
        StackMoment(0, 100),
        StackMoment(1, 10),
        StackMoment(1, 100),
        StackMoment(2, 10),
        StackMoment(2, 100),
    ]
    assert next_moment(StackMoment(1, 50), 3, STEPS) == StackMoment(1, 100)
    assert next_moment(StackMoment(1, 100), 3, STEPS) == StackMoment(2, 1)
    assert next_moment(StackMoment(3, 100), 3, STEPS) is None
    assert next_moment(StackMoment(0, 1), 3, STEPS) == StackMoment(1, 1)
    assert previous_moment(StackMoment(2, 1), 3, STEPS) == StackMoment(1, 100)
    assert previous_moment(StackMoment(1, 1), 3, STEPS) == StackMoment(0, 100)
    assert previous_moment(StackMoment(0, 100), 3, STEPS) is None
    with pytest.raises(ValueError, match="is not a moment"):
        next_moment(StackMoment(1, 20), 3, STEPS)


def test_the_rewrite_keeps_comments_order_and_other_keys() -> None:
    text = (
        "# head comment\nconfig:\n  aws:region: us-east-1   # trailing\n  maiaplan:step: '10'\n"
        "  maiaplan:phase: 2\n  # inner comment\n  maiaplan:spec: examples/x.yaml\nextra: [1, 2]\n"
    )
    out = with_moment(StackFile(Path("Pulumi.s.yaml"), text.encode()), StackMoment(2, 50)).decode()
    assert out == text.replace("maiaplan:step: '10'", "maiaplan:step: '50'")


def test_a_stack_file_without_config_is_bad_input() -> None:
    with pytest.raises(InputError, match="is not a mapping"):
        with_moment(StackFile(Path("Pulumi.s.yaml"), b"config: 3\n"), StackMoment(1, 1))
    with pytest.raises(InputError, match="is not valid YAML"):
        with_moment(StackFile(Path("Pulumi.s.yaml"), b"config: [\n"), StackMoment(1, 1))


def test_the_audit_log_finds_when_a_step_began(tmp_path: Path) -> None:
    log = tmp_path / "Pulumi.s.audit.jsonl"
    append(log, {"applied": True, "to": {"phase": 1, "step": 10}, "at_unix": 100.0})
    append(log, {"applied": False, "to": None, "at_unix": 200.0})
    append(log, {"applied": False, "to": {"phase": 1, "step": 10}, "at_unix": 300.0})  # a dry run elsewhere
    entries = read_entries(log)
    assert reached_at(entries, StackMoment(1, 10)) == 100.0
    assert reached_at(entries, StackMoment(1, 50)) is None
    log.write_text(log.read_text() + "not json\n")
    with pytest.raises(InputError, match="line 4"):
        read_entries(log)


def test_who_comes_from_the_environment() -> None:
    assert who({"GITHUB_ACTOR": "octo", "MAIAPLAN_ACTOR": "ops"}) == "ops"
    assert who({"GITHUB_ACTOR": "octo"}) == "octo"
    assert who({}) is None


def test_times() -> None:
    assert parse_time("2026-12-01T10:00:00Z") == 1796119200.0
    assert parse_time("1796119200") == 1796119200.0
    with pytest.raises(InputError, match="not a time with a zone"):
        parse_time("2026-12-01T10:00:00")


class _Refusing(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def refusing_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_refused_credentials_are_one_paragraph(refusing_server: str) -> None:
    with pytest.raises(PrometheusError) as caught:
        Prometheus(f"http://user:wrong@{refusing_server}").instant("up", 0)
    assert "HTTP 401" in str(caught.value) and "credentials" in str(caught.value)


def test_tls_against_a_plain_http_server_is_one_paragraph(refusing_server: str) -> None:
    with pytest.raises(PrometheusError) as caught:
        Prometheus(f"https://{refusing_server}").instant("up", 0)
    assert "failed the TLS handshake" in str(caught.value)
    assert isinstance(caught.value, InputError)


def test_a_certificate_that_does_not_verify_is_one_paragraph_and_a_ca_file_fixes_it(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(PrometheusError, match="presented a certificate that does not verify"):
            Prometheus(url).instant("up", 0)
        with pytest.raises(PrometheusError, match="HTTP 401"):  # verified with the CA: on to the auth
            Prometheus(url, ca_file=str(cert)).instant("up", 0)
    finally:
        server.shutdown()
        server.server_close()


def test_not_prometheus_is_one_paragraph(tmp_path: Path) -> None:
    class _Html(_Refusing):
        def do_POST(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>login</html>")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(PrometheusError, match="did not answer with the Prometheus API's JSON"):
            Prometheus(f"http://127.0.0.1:{server.server_address[1]}").range("up", 0, 60, 15)
    finally:
        server.shutdown()
        server.server_close()
