"""A small client of the Prometheus HTTP API (``/api/v1/query`` and ``/api/v1/query_range``).

Only the standard library: the API is two form-encoded POSTs answering JSON, and every way it can
fail (unreachable, TLS, auth, a bad query, not Prometheus at all) must become one clear paragraph
(:class:`PrometheusError`, exit 2), never a decision.
"""

from __future__ import annotations

import base64
import json
import math
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from planner.errors import InputError

DEFAULT_TIMEOUT_S = 30.0


class PrometheusError(InputError):
    """Prometheus could not answer a query: the CLI prints one paragraph and exits 2."""

    def __init__(self, url: str, problem: str, fix: str, query: str | None = None) -> None:
        super().__init__(url, f"query {query}" if query else "", problem, fix)


@dataclass(frozen=True)
class Sample:
    """One value of one series at one time (seconds since the epoch)."""

    labels: Mapping[str, str]
    timestamp: float
    value: float


class Prometheus:
    """A Prometheus server's query API.

    Parameters
    ----------
    url
        The server's base URL (``http://host:9090``, or a path prefix behind a proxy); user and
        password in the URL are sent as basic auth.
    bearer_token
        Sent as ``Authorization: Bearer …`` (managed Prometheus services).
    ca_file
        A PEM bundle to verify the server's certificate with, instead of the system's.
    timeout_s
        Per request.

    Raises
    ------
    PrometheusError
        For a URL that is not http(s).
    """

    def __init__(
        self,
        url: str,
        *,
        bearer_token: str | None = None,
        ca_file: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PrometheusError(
                url, "is not an http(s) URL of a Prometheus server", "pass e.g. --prometheus http://localhost:9090"
            )
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self._headers = {"Accept": "application/json", "User-Agent": "maiaplan-gate"}
        if parts.username is not None:
            pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        if bearer_token:
            self._headers["Authorization"] = f"Bearer {bearer_token.strip()}"
        self._context = ssl.create_default_context(cafile=ca_file) if parts.scheme == "https" else None
        self._timeout_s = timeout_s

    def instant(self, query: str, at: float) -> list[Sample]:
        """The query's value at ``at``: one sample per series (a scalar as one unlabelled sample).

        Raises
        ------
        PrometheusError
            When the server is unreachable, refuses, or rejects the query.
        """
        data = self._post("/api/v1/query", {"query": query, "time": _timestamp(at)}, query)
        return _samples(data, self.url, query)

    def range(self, query: str, start: float, end: float, step_s: float) -> list[Sample]:
        """The query evaluated every ``step_s`` seconds from ``start`` to ``end``, all series together.

        Raises
        ------
        PrometheusError
            When the server is unreachable, refuses, or rejects the query.
        """
        params = {"query": query, "start": _timestamp(start), "end": _timestamp(end), "step": f"{step_s:g}"}
        return _samples(self._post("/api/v1/query_range", params, query), self.url, query)

    def _post(self, path: str, params: Mapping[str, str], query: str) -> Any:
        body = urllib.parse.urlencode(params).encode()
        headers = {**self._headers, "Content-Type": "application/x-www-form-urlencoded"}
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s, context=self._context) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            raise self._http_error(error, query) from None
        except urllib.error.URLError as error:
            raise self._unreachable(error.reason) from None
        except (TimeoutError, ConnectionError, ssl.SSLError) as error:
            raise self._unreachable(error) from None
        document = _json(payload, self.url)
        if document.get("status") != "success":
            raise PrometheusError(
                self.url, f"rejected the query: {document.get('error', 'no reason given')}", "correct the query", query
            )
        return document.get("data")

    def _http_error(self, error: urllib.error.HTTPError, query: str) -> PrometheusError:
        if error.code in (401, 403):
            return PrometheusError(
                self.url,
                f"refused the request (HTTP {error.code} {error.reason}): the credentials are missing or wrong",
                "set MAIAPLAN_PROMETHEUS_TOKEN to a bearer token, or put user:password in the URL",
            )
        try:
            document = json.loads(error.read())
        except ValueError:
            document = None
        if isinstance(document, dict) and document.get("status") == "error":
            return PrometheusError(
                self.url,
                f"rejected the query ({document.get('errorType', 'error')}): {document.get('error', '')}",
                "correct the query (migration.gates in the spec, or the plan's defaults)",
                query,
            )
        return PrometheusError(
            self.url,
            f"answered HTTP {error.code} {error.reason} instead of a query result",
            "check that the URL is the Prometheus server (or its API prefix) and that it is healthy",
        )

    def _unreachable(self, reason: object) -> PrometheusError:
        if isinstance(reason, ssl.SSLCertVerificationError):
            return PrometheusError(
                self.url,
                f"presented a certificate that does not verify ({reason.verify_message})",
                "pass --ca-file with the CA bundle that signed the server's certificate",
            )
        if isinstance(reason, ssl.SSLError):
            return PrometheusError(
                self.url,
                f"failed the TLS handshake ({reason.reason or reason})",
                "check the scheme (http or https) and the server's TLS setup",
            )
        text = getattr(reason, "strerror", None) or str(reason)
        return PrometheusError(
            self.url,
            f"cannot be reached ({text})",
            "check the URL, that Prometheus runs there, and the network path to it",
        )


def _timestamp(seconds: float) -> str:
    return f"{seconds:.3f}"


def _json(payload: bytes, url: str) -> dict[str, Any]:
    try:
        document = json.loads(payload)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise PrometheusError(
            url,
            "did not answer with the Prometheus API's JSON",
            "point --prometheus at the Prometheus server itself (the URL before /api/v1)",
        )
    return document


def _value(text: str) -> float:
    # Prometheus sends values as strings: "NaN", "+Inf" and "-Inf" included.
    return float(text)


def _samples(data: Any, url: str, query: str) -> list[Sample]:
    if not isinstance(data, dict):
        raise PrometheusError(url, "answered without a result", "check the server's version (2.x or later)", query)
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list):
        return [Sample({}, float(result[0]), _value(result[1]))]
    if kind == "vector" and isinstance(result, list):
        return [Sample(s.get("metric", {}), float(s["value"][0]), _value(s["value"][1])) for s in result]
    if kind == "matrix" and isinstance(result, list):
        return [Sample(series.get("metric", {}), float(t), _value(v)) for series in result for t, v in series["values"]]
    raise PrometheusError(
        url, f"answered a {kind} result, which a gate cannot compare", "make the query return numbers", query
    )


def finite_or_infinite(sample: Sample) -> bool:
    """Whether a sample is a measurement: NaN (e.g. 0/0 with no traffic) is not; ±Inf is."""
    return not math.isnan(sample.value)
