"""A real Prometheus server for the gate tests, holding recorded vLLM series, and throwaway projects.

The server is Debian's ``prometheus`` (2.42 here; ``.ci/run`` installs it): started on a free
loopback port with a temporary data directory that ``promtool tsdb create-blocks-from openmetrics``
filled with the series of :mod:`recorded`. Without the binaries these tests fail: they never skip.

The timeline, in seconds after ``origin`` (minutes-aligned, eight hours before now):

- ``HEALTHY`` (0 – 3 h): every moving workload well inside its SLOs, 50 requests per scrape.
- ``BREACH_WALK`` (3 h – 6 h): the same, except safety-filter at 9 % slow tokens for the 10 minutes
  ``BREACH`` (its p99 far above 30 ms).
- ``LOW`` (6 h – 6 h 30 m): 5 requests per scrape, too few for a p99.
- ``GAP`` (6 h 30 m – 7 h): no series at all; ``RESUME`` (from 7 h): healthy again.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from recorded import Profile, Traffic, openmetrics

from deployment.adapters import ADAPTERS
from planner.plan_builder import plan_migration
from planner.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600
HEALTHY = 0
BREACH_WALK = 3 * HOUR
BREACH = (BREACH_WALK + 3000, BREACH_WALK + 3600)
"""Gating every 600 s from BREACH_WALK, the sixth gate (phase 2 at 10 %) judges exactly this window."""
BREACH_WORKLOAD = "safety-filter"
LOW = 6 * HOUR
GAP = 6 * HOUR + 1800
RESUME = 7 * HOUR
END = 7 * HOUR + 1800


@dataclass(frozen=True)
class Server:
    url: str
    origin: int


def _profile(origin: int) -> Profile:
    def profile(workload: str, t: int) -> Traffic | None:
        offset = t - origin
        if GAP <= offset < RESUME:
            return None
        if LOW <= offset < GAP:
            return Traffic(requests=5)
        if workload == BREACH_WORKLOAD and BREACH[0] < offset <= BREACH[1]:
            return Traffic(requests=50, slow_share=0.09)
        return Traffic(requests=50)

    return profile


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: the gate tests need a real Prometheus server "
            "(apt-get install -y prometheus, as .ci/run does)",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Prometheus server holding the recorded series of the example's moving workloads."""
    promtool, server = _binary("promtool"), _binary("prometheus")
    spec = load_spec(ROOT / "examples" / "maia-pilot.yaml")
    plan = plan_migration(spec)
    clusters = {c.name: c for c in plan.clusters}
    series = {
        move.workload: ADAPTERS[clusters[move.to_cluster].provider].metric_labels(
            clusters[move.to_cluster], move.workload
        )
        for phase in plan.phases
        for move in phase.moves
    }
    origin = (int(time.time()) // 600) * 600 - 8 * HOUR
    directory = tmp_path_factory.mktemp("prometheus")
    recorded = directory / "recorded.om"
    recorded.write_text(openmetrics(series, origin, origin + END, _profile(origin)), encoding="utf-8")
    data = directory / "data"
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(recorded), str(data)],
        check=True,
        capture_output=True,
    )
    config = directory / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 15s\n", encoding="utf-8")
    port = _free_port()
    log = (directory / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            server,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            "--storage.tsdb.retention.time=30d",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prometheus did not start: {(directory / 'prometheus.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield Server(url, origin)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


PROJECT_FILES = ("Pulumi.yaml", "__main__.py", "examples/maia-pilot.yaml")


def make_project(directory: Path, stack: str = "pilot", phase: int = 1, step: int = 1) -> Path:
    """A copy of maiaplan's own project (its program and example spec) with one stack, in ``directory``."""
    for name in PROJECT_FILES:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, directory / name)
    (directory / "stacks").mkdir(exist_ok=True)
    text = (ROOT / "stacks" / "Pulumi.pilot.yaml").read_text(encoding="utf-8")
    text = text.replace("maiaplan:phase: 1\n", f"maiaplan:phase: {phase}\n").replace(
        "maiaplan:step: 1\n", f"maiaplan:step: {step}\n"
    )
    (directory / "stacks" / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
    return directory
