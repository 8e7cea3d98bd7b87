"""A real headless Chromium with the network cut off, for opening reports (Debian's chromium and
chromedriver, through Selenium)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def _first(*candidates: str | None) -> Path | None:
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


# Debian's chromium and its driver; else a Chrome on PATH (GitHub's runners: $CHROMEWEBDRIVER).
CHROMIUM = _first("/usr/bin/chromium", shutil.which("chromium"), shutil.which("google-chrome"))
CHROMEDRIVER = _first(
    "/usr/bin/chromedriver",
    shutil.which("chromedriver"),
    os.path.join(os.environ.get("CHROMEWEBDRIVER", ""), "chromedriver") if os.environ.get("CHROMEWEBDRIVER") else None,
)
# Every request goes to this proxy, a closed port: nothing reaches the network even if the page tried.
CLOSED_PROXY = "http://127.0.0.1:9"
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome:", "devtools:")


def available() -> bool:
    return CHROMIUM is not None and CHROMEDRIVER is not None


@dataclass
class PageVisit:
    """What opening a page did: its console messages, the requests it made, the ones that failed."""

    console: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    seconds_to_draw: float = 0.0

    @property
    def console_errors(self) -> list[dict[str, Any]]:
        return [entry for entry in self.console if entry.get("level") == "SEVERE"]

    @property
    def remote_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(LOCAL_SCHEMES)]


@contextmanager
def offline_chromium(width: int = 1500, height: int = 1000) -> Iterator[webdriver.Chrome]:
    """Headless Chromium, an empty profile, no background networking, every request proxied to a
    closed port and the network emulated offline; console and network logs recorded."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        raise RuntimeError("no Chromium and chromedriver: apt-get install chromium chromium-driver")
    profile = tempfile.mkdtemp(prefix="maiaplan-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--proxy-server={CLOSED_PROXY}",
        "--proxy-bypass-list=<-loopback>",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_report(driver: webdriver.Chrome, page: Path, timeout_s: float = 60.0) -> PageVisit:
    """Open ``page`` and wait until its charts are drawn (or one fails); return what happened."""
    driver.get_log("browser")
    driver.get_log("performance")
    started = time.perf_counter()
    driver.get(page.resolve().as_uri())
    while time.perf_counter() - started < timeout_s:
        state = driver.execute_script(
            "var r = document.documentElement; return [r.getAttribute('data-charts-drawn'), r.getAttribute('data-charts-failed')];"
        )
        if state[0] is not None or state[1] is not None:
            break
        time.sleep(0.05)
    visit = PageVisit(seconds_to_draw=time.perf_counter() - started)
    visit.console = driver.get_log("browser")
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            visit.requests.append(message["params"]["request"]["url"])
        elif message.get("method") == "Network.loadingFailed":
            visit.failed.append(f"{message['params'].get('errorText')} ({message['params'].get('requestId')})")
    return visit


def chart_marks(driver: webdriver.Chrome) -> dict[str, int]:
    """Per chart element id: the drawn marks in its SVG (or 1 per non-empty canvas)."""
    result: dict[str, int] = driver.execute_script(
        """
        var out = {};
        document.querySelectorAll('.chart').forEach(function (el) {
          var marks = el.querySelectorAll('svg [role="graphics-symbol"], svg .mark-rect path, svg .mark-rule line');
          var canvas = el.querySelector('canvas');
          out[el.id] = marks.length + (canvas && canvas.width > 0 ? 1 : 0);
        });
        return out;
        """
    )
    return result


def full_page_screenshot(driver: webdriver.Chrome, path: Path, width: int = 1500) -> None:
    """A screenshot of the whole page (CDP's capture beyond the viewport)."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    height = int(metrics["cssContentSize"]["height"])
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
