"""A live dashboard on a small demo store and Debian's Chromium driven by Playwright.

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

import pytest
import uvicorn

from dualcontrol.store import open_store
from dualcontrol.web import create_app
from dualcontrol.web.data import StoreData
from dualcontrol.web.demo_users import create_demo_users, demo_accounts
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.store_users import StoreUsers

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "browser-test-password"


pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory, small_demo_tables: dict) -> Iterator[dict]:
    """The small demo store, its data and demo accounts (DuckDB file)."""
    from dualcontrol.demo import _load

    url = f"duckdb:///{tmp_path_factory.mktemp('browser') / 'site.duckdb'}"
    store = open_store(url)
    _load(store, small_demo_tables, "small-demo", 2025)
    data = StoreData(store, inputs=ROOT / "examples")
    users = StoreUsers(store)
    accounts = demo_accounts(data.hierarchy())
    create_demo_users(users, accounts, password=PASSWORD)
    scopes = {a.username: a.scope.key for a in accounts if a.scope is not None}
    hierarchy = data.hierarchy()
    league = scopes["demo-league-analyst"]
    yield {"store": store, "data": data, "users": users, "league": league,
           "own": scopes["demo-reporter"],
           "other_league": hierarchy.loc[hierarchy["league"] != league, "league"].iloc[0]}
    store.close()


@pytest.fixture(scope="session")
def server(site: dict) -> Iterator[str]:
    app = create_app(data=site["data"], users=site["users"],
                     settings=WebSettings(environment="test",
                                          secret_key="browser-test-secret-key"))
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


def login(page, server: str, username: str) -> None:
    page.goto(f"{server}/login?lang=en")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(f"{server}/")
    assert username in page.inner_text("#who")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
