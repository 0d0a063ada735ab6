"""A live dashboard on the example data and Debian's Chromium driven by Playwright.

Chromium is the distribution's (``/usr/bin/chromium``); Playwright never downloads a
browser. Every request the browser makes is recorded so each test can assert that
none left 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import uvicorn

from dualcontrol.web import create_app
from dualcontrol.web.access import Role, Scope
from dualcontrol.web.data import FrameData, examples_data
from dualcontrol.web.demo_users import create_demo_users
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.users import MemoryUsers

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "browser-test-password"
SCOPES = {Role.analyst: Scope("league", "Ordos"),
          Role.reporter: Scope("enterprise", "Wuhai Ferroalloy Co.")}

#: A barometer standing in for the assessment on the example data (which has no
#: targets): the test checks that the tile map shows whatever the assessment says.
BAROMETER = pd.DataFrame([
    {"region": "Ordos", "indicator": "energy_intensity", "value": 1.9, "requirement": 1.7,
     "gap": 0.2, "rating": "red"},
    {"region": "Baotou", "indicator": "energy_intensity", "value": 1.2,
     "requirement": 1.18, "gap": 0.02, "rating": "yellow"},
    {"region": "Hohhot", "indicator": "energy_intensity", "value": 0.5,
     "requirement": 0.6, "gap": -0.1, "rating": "green"},
    {"region": "Wuhai", "indicator": "energy_total", "value": 1.0, "requirement": 2.0,
     "gap": -1.0, "rating": "green"},
])


class AssessedData(FrameData):
    """The example data with :data:`BAROMETER` as its assessment."""

    def barometer(self, *, year: int) -> pd.DataFrame:
        return BAROMETER.copy()


pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    base = examples_data(ROOT / "examples")
    data = AssessedData(energy=base.energy, gdp=base.gdp, units=base.units,
                        scenario_files=base.scenario_files, decomposition=base.decomposition,
                        context=base.context)
    users = MemoryUsers()
    create_demo_users(users, SCOPES, password=PASSWORD)
    app = create_app(data=data, users=users,
                     settings=WebSettings(environment="test",
                                          secret_key="browser-test-secret-key"),
                     extras={"sample_project": (ROOT / "examples" / "projects" /
                                                "ferrosilicon_ulanqab.yaml").read_text()})
    app.state.users = users
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not instance.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/test-services.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                      headless=True)
        yield chromium
        chromium.close()


class Recorder:
    """Every URL the page requested."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def outside(self, base: str) -> list[str]:
        """Return requests that went anywhere but the test server."""
        return [u for u in self.urls
                if not (u.startswith(base + "/") or u == base
                        or u.startswith(("data:", "blob:", "about:")))]


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  locale="en-US")
    recorder = Recorder()
    context.on("request", lambda request: recorder.urls.append(request.url))
    tab = context.new_page()
    tab.recorder = recorder
    yield tab
    context.close()
    assert recorder.urls, "the browser made no request at all"
    assert recorder.outside(server) == [], "requests left 127.0.0.1"


def login(page, server: str, role: Role) -> None:
    page.goto(f"{server}/login?lang=en")
    page.fill("#username", f"demo-{role}")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{server}/")
    assert f"demo-{role}" in page.inner_text("#who")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
