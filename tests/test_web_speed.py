"""The web server's speed measures keep the figures right and revocation immediate.

Results are kept per store version (:mod:`dualcontrol.web.results`): an upload, or an
import by another process, must change the figures the next request shows. Users and
sessions are looked up in memory (:mod:`dualcontrol.web.cached_users`): a logout or a
revocation must still end the session at once. Static files are served compressed with
validators and cache lifetimes (:mod:`dualcontrol.web.assets`). The speed itself is
measured by ``benchmarks/bench_web_load.py``, not here.
"""

from __future__ import annotations

import gzip
import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dualcontrol import datasets
from dualcontrol.ingest import ingest_file
from dualcontrol.store import open_store
from dualcontrol.web import create_app
from dualcontrol.web.app import PLOTLY_JS
from dualcontrol.web.assets import IMMUTABLE, REVALIDATE, Asset, accepts_gzip
from dualcontrol.web.cached_users import CachedUsers
from dualcontrol.web.data import StoreData
from dualcontrol.web.demo_users import create_demo_users, demo_accounts
from dualcontrol.web.results import ResultCache, StoreVersion
from dualcontrol.web.security import new_token, token_digest
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.store_users import StoreUsers

PASSWORD = "correct horse battery"
ADMIN = "demo-administrator"
REVIEWER = "demo-reviewer"
REPORTER = "demo-reporter"


@pytest.fixture(scope="module")
def world(small_store_url: str):
    """The app as ``dualcontrol serve`` wires it: results kept, users looked up in memory."""
    store = open_store(small_store_url)
    data = StoreData(store, version_poll_s=0.0)
    users = CachedUsers(StoreUsers(store), refresh_s=3600.0)
    accounts = demo_accounts(data.hierarchy())
    create_demo_users(users, accounts, password=PASSWORD)
    tokens = {}
    for name in (ADMIN, REPORTER):
        raw = new_token()
        users.add_token(
            username=name,
            digest=token_digest(raw),
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        tokens[name] = {"Authorization": f"Bearer {raw}"}
    settings = WebSettings(environment="test", secret_key="test-secret-0123456789")
    app = create_app(data=data, users=users, settings=settings)
    own = next(a.scope.key for a in accounts if a.username == REPORTER)
    yield {"app": app, "store": store, "data": data, "users": users, "tokens": tokens, "own": own}
    store.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def login(client: TestClient, username: str) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def reads_counties(client: TestClient) -> bool:
    status = client.get("/api/accounts?level=county").status_code
    assert status in (200, 401, 403)
    return status == 200


def energy_csv(store, uscc: str, *, factor: float) -> tuple[bytes, str]:
    """Return the enterprise's latest month as an upload with quantities times ``factor``."""
    rows = datasets.energy_reports(store, enterprise=uscc)
    rows = rows[rows["period"] == rows["period"].max()]
    frame = pd.DataFrame(
        {
            "uscc": rows["enterprise_uscc"],
            "region_code": rows["county_code"],
            "period": rows["period"],
            "carrier": rows["carrier"],
            "quantity": rows["quantity"] * factor,
            "unit": rows["unit"],
            "use": rows["use"],
            "origin": rows["origin"],
        }
    )
    return frame.to_csv(index=False).encode(), str(rows["period"].iloc[0])


def league_energy(client: TestClient, headers: dict[str, str], league: str, year: int) -> float:
    rows = client.get(f"/api/accounts?level=league&year={year}", headers=headers).json()
    (row,) = [r for r in rows if str(r["league"]) == league]
    return float(row["energy_tce"])


# ---- results kept per store version -----------------------------------------------------


def test_an_upload_changes_the_figures_of_the_next_request(world) -> None:
    """Doubling one enterprise's latest month raises its league's energy by that month's
    energy: new = old + (2 - 1) x month. The month's energy is what the enterprise's
    accounts gain, read from the API before and after (1e-6 tce for rounding)."""
    client = TestClient(world["app"])
    admin, own = world["tokens"][ADMIN], world["own"]
    league = str(world["data"].hierarchy().set_index("enterprise").loc[own, "league"])
    body, period = energy_csv(world["store"], own, factor=2.0)
    year = int(period[:4])
    before = league_energy(client, admin, league, year)
    months = client.get(f"/api/accounts/enterprise/{own}?grain=month", headers=admin).json()
    month_tce = next(
        r["energy_tce"] for r in months if (r["year"], r["month"]) == (year, int(period[5:7]))
    )
    assert league_energy(client, admin, league, year) == before  # kept, not recomputed
    computed = world["data"].results.computed
    answer = client.post(
        "/api/reports",
        headers=world["tokens"][REPORTER],
        files={"file": ("report.csv", body, "text/csv")},
    )
    assert answer.status_code == 201, answer.text
    after = league_energy(client, admin, league, year)
    assert after == pytest.approx(before + month_tce, abs=1e-6)
    assert world["data"].results.computed > computed


def test_an_import_by_another_process_shows_at_the_next_request(world, tmp_path) -> None:
    """An import through a second connection to the store (the command line's way): the
    server's cache sees the store change without being told. Tripling a month adds
    twice its energy to the league."""
    client = TestClient(world["app"])
    admin, own = world["tokens"][ADMIN], world["own"]
    league = str(world["data"].hierarchy().set_index("enterprise").loc[own, "league"])
    tripled, period = energy_csv(world["store"], own, factor=3.0)
    year = int(period[:4])
    before = league_energy(client, admin, league, year)
    months = client.get(f"/api/accounts/enterprise/{own}?grain=month", headers=admin).json()
    month_tce = next(
        r["energy_tce"] for r in months if (r["year"], r["month"]) == (year, int(period[5:7]))
    )
    path = tmp_path / "cli.csv"
    path.write_bytes(tripled)
    with open_store(world["store"].url) as other:
        result = ingest_file(other, path, "energy", user="cli:test")
    assert result.revisions_created == 1
    after = league_energy(client, admin, league, year)
    assert after == pytest.approx(before + 2 * month_tce, abs=1e-6)


def test_the_version_is_read_only_when_the_store_file_changed(tmp_path, monkeypatch) -> None:
    from dualcontrol.web import results

    with open_store(f"duckdb:///{tmp_path / 'v.duckdb'}") as store:
        reads = []
        real = results.read_version
        monkeypatch.setattr(results, "read_version", lambda s: reads.append(1) or real(s))
        versions = StoreVersion(store, max_age_s=3600.0)
        assert versions.current() is None and len(reads) == 1
        for _ in range(5):
            versions.current()
        assert len(reads) == 1  # the file did not change: no query
        with store.begin() as conn:  # any write changes the file's size or time
            conn.exec_driver_sql("CREATE TABLE touched (x INTEGER)")
        versions.current()
        assert len(reads) == 2
        versions.forget()
        versions.current()
        assert len(reads) == 3


def test_one_computation_per_key_however_many_ask_at_once() -> None:
    cache = ResultCache(lambda: 1)
    started, calls = threading.Event(), []

    def slow() -> str:
        calls.append(1)
        started.set()
        time.sleep(0.2)
        return "table"

    answers: list[str] = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get(("t",), slow))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["table"] * 8 and len(calls) == 1


def test_a_new_version_drops_the_kept_results() -> None:
    version = [1]
    cache = ResultCache(lambda: version[0], max_bounded=2)
    assert cache.get(("a",), lambda: "a1") == "a1"
    assert cache.get(("a",), lambda: "not again") == "a1"
    version[0] = 2
    assert cache.get(("a",), lambda: "a2") == "a2"
    for key in ("x", "y", "z"):  # per-node results: the least recently used goes first
        cache.get((key,), lambda k=key: k, bounded=True)
    assert ("x",) not in cache and ("y",) in cache and ("z",) in cache and ("a",) in cache


def test_results_kept_on_disk_read_back_equal(world, tmp_path) -> None:
    data = world["data"]
    tables = {
        "league": data.accounts(level="league"),
        "enterprise": data.accounts(level="enterprise"),
    }
    year = int(tables["league"]["year"].max())
    tables["barometer"] = data.barometer(year=year)
    assert data.results.save(tmp_path / "kept") >= 3
    fresh = StoreData(world["store"])
    assert fresh.results.load(tmp_path / "kept") >= 3
    computed = fresh.results.computed
    pd.testing.assert_frame_equal(fresh.accounts(level="league"), tables["league"])
    pd.testing.assert_frame_equal(fresh.accounts(level="enterprise"), tables["enterprise"])
    pd.testing.assert_frame_equal(fresh.barometer(year=year), tables["barometer"])
    assert fresh.results.computed == computed  # read, not computed


# ---- sessions looked up in memory, revoked at once --------------------------------------


def test_logout_ends_the_session_at_once(world) -> None:
    client = TestClient(world["app"])
    login(client, REVIEWER)
    cookie = client.cookies.get("dualcontrol_session")
    assert reads_counties(client)
    page = client.get("/")
    client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    copied = TestClient(world["app"])
    copied.cookies.set("dualcontrol_session", cookie)
    assert not reads_counties(copied)


def test_revocation_and_deactivation_take_effect_at_once(world) -> None:
    reviewer = TestClient(world["app"])
    login(reviewer, REVIEWER)
    assert reads_counties(reviewer)
    admin = TestClient(world["app"])
    answer = admin.delete(f"/api/users/{REVIEWER}/sessions", headers=world["tokens"][ADMIN])
    assert answer.status_code == 200 and answer.json()["revoked"] >= 1
    assert not reads_counties(reviewer)
    login(reviewer, REVIEWER)
    assert reads_counties(reviewer)
    admin.patch(f"/api/users/{REVIEWER}", json={"active": False}, headers=world["tokens"][ADMIN])
    assert not reads_counties(reviewer)
    admin.patch(f"/api/users/{REVIEWER}", json={"active": True}, headers=world["tokens"][ADMIN])


def test_a_revocation_by_another_process_is_seen_after_the_refresh(world) -> None:
    now = [0.0]
    users = CachedUsers(
        StoreUsers(world["store"]), refresh_s=2.0, background=False, clock=lambda: now[0]
    )
    app = create_app(
        data=world["data"],
        users=users,
        settings=WebSettings(environment="test", secret_key="test-secret-0123456789"),
    )
    client = TestClient(app)
    login(client, REVIEWER)
    assert reads_counties(client)
    reads = users.reads
    for _ in range(3):
        assert reads_counties(client)
    assert users.reads == reads  # looked up in memory
    StoreUsers(world["store"]).revoke_sessions(username=REVIEWER)  # another process
    now[0] += 1.0
    assert reads_counties(client)  # within the refresh time: what was read is used
    now[0] += 1.5
    assert not reads_counties(client)


# ---- static files ------------------------------------------------------------------------


def test_static_files_are_gzipped_with_validators_and_cache_lifetimes(world) -> None:
    client = TestClient(world["app"])
    assets = world["app"].state.assets
    url = assets.url("plotly.min.js")
    answer = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["cache-control"] == IMMUTABLE
    assert answer.headers["vary"] == "Accept-Encoding"
    sent = int(answer.headers["content-length"])
    plain = PLOTLY_JS.read_bytes()
    assert answer.content == plain  # the client undid the gzip
    assert sent < len(plain) / 2
    etag = answer.headers["etag"]
    again = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})
    assert again.status_code == 304 and not again.content
    unversioned = client.get("/static/style.css", headers={"Accept-Encoding": "identity"})
    assert unversioned.headers["cache-control"] == REVALIDATE
    assert "content-encoding" not in unversioned.headers
    assert unversioned.headers["etag"] and unversioned.text.strip()
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/nothing.css").status_code == 404


def test_pages_link_versioned_files_and_charts_only_where_drawn(world) -> None:
    client = TestClient(world["app"])
    overview = client.get("/").text
    login_page = client.get("/login").text
    css = world["app"].state.assets.url("style.css")
    assert css in overview and css in login_page
    assert "plotly.min.js?v=" in overview
    assert "plotly.min.js" not in login_page


def test_api_reads_gzipped_pages_not(world) -> None:
    client = TestClient(world["app"])
    headers = {**world["tokens"][ADMIN], "Accept-Encoding": "gzip"}
    table = client.get("/api/accounts?level=league", headers=headers)
    assert table.headers.get("content-encoding") == "gzip"
    assert table.json()  # decoded by the client
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in page.headers  # BREACH: token next to chosen text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.5", True),
        ("gzip;q=0", False),
        ("identity", False),
        ("", False),
        ("*", True),
    ],
)
def test_accept_encoding_is_read_with_its_weights(header: str, expected: bool) -> None:
    from starlette.datastructures import Headers

    assert accepts_gzip(Headers({"accept-encoding": header})) is expected


def test_an_asset_is_gzipped_once_and_small_files_are_not(tmp_path) -> None:
    big = tmp_path / "a.css"
    big.write_text("body { color: black; }\n" * 200)
    small = tmp_path / "b.css"
    small.write_text("a{}")
    asset = Asset.read(big)
    assert asset.gzipped is not None and gzip.decompress(asset.gzipped) == big.read_bytes()
    assert Asset.read(small).gzipped is None


# ---- answers kept per user ---------------------------------------------------------------


def test_a_kept_page_carries_the_token_of_the_session_asking(world) -> None:
    cache = next(m for m in middlewares(world["app"]) if type(m).__name__ == "ResponseCache")
    first, second = TestClient(world["app"]), TestClient(world["app"])
    login(first, ADMIN)
    login(second, ADMIN)
    hits = cache.hits
    pages = [first.get("/league/" + league_of(world)).text for _ in range(2)]
    other = second.get("/league/" + league_of(world)).text
    assert cache.hits >= hits + 2  # the repeat and the second session: kept answers
    assert csrf_of(pages[0]) == csrf_of(pages[1]) != csrf_of(other)
    assert pages[0].replace(csrf_of(pages[0]), "") == other.replace(csrf_of(other), "")
    assert "\x00" not in other


def test_answers_are_kept_per_user(world) -> None:
    """The league analyst and the administrator read different rows of one URL."""
    admin = TestClient(world["app"])
    login(admin, ADMIN)
    analyst = TestClient(world["app"])
    login(analyst, "demo-league-analyst")
    everyone = admin.get("/api/accounts?level=county").json()
    mine = analyst.get("/api/accounts?level=county").json()
    again = admin.get("/api/accounts?level=county").json()
    assert len(mine) < len(everyone) == len(again)


def middlewares(app) -> list[object]:
    """Return the app's middleware objects, outermost first."""
    if app.middleware_stack is None:
        app.middleware_stack = app.build_middleware_stack()
    found, layer = [], app.middleware_stack
    while layer is not None:
        found.append(layer)
        layer = getattr(layer, "app", None)
    return found


def league_of(world) -> str:
    hierarchy = world["data"].hierarchy()
    return str(hierarchy.set_index("enterprise").loc[world["own"], "league"])


def test_a_restart_reads_the_kept_results_and_draws_the_overview(world, tmp_path) -> None:
    from dualcontrol.web.server import Keeper, prime

    keeper = Keeper(world["data"], tmp_path)
    assert keeper.warm() is True
    assert keeper.warm() is False  # same version: nothing to do
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert any(folder.glob("*.parquet"))
    restarted = StoreData(world["store"])
    assert Keeper(restarted, tmp_path).restore() >= 3
    computed = restarted.results.computed
    app = create_app(
        data=restarted,
        users=world["users"],
        settings=WebSettings(environment="test", secret_key="test-secret-0123456789"),
    )
    assert prime(app) == 200
    assert restarted.results.computed - computed <= 4  # charts, not the accounts


def test_prime_works_inside_a_running_event_loop(world) -> None:
    """A program with an event loop running in the calling thread (a browser driver in
    the test suite, an embedding application): prime asks from another thread instead
    of failing with 'asyncio.run() cannot be called from a running event loop'."""
    import asyncio

    from dualcontrol.web.server import prime

    app = create_app(
        data=world["data"],
        users=world["users"],
        settings=WebSettings(environment="test", secret_key="test-secret-0123456789"),
    )

    async def inside() -> int:
        return prime(app)

    # the loop runs in a thread of its own (this one may hold a browser driver's loop)
    answers: list[int] = []
    caller = threading.Thread(target=lambda: answers.append(asyncio.run(inside())))
    caller.start()
    caller.join()
    assert answers == [200]


def test_last_seen_times_are_written_together(world) -> None:
    from dualcontrol.web.sessions import start_session

    users = CachedUsers(StoreUsers(world["store"]), refresh_s=3600.0)
    sessions = [
        start_session(users, username=REVIEWER, client="test", max_age_s=600) for _ in range(3)
    ]
    digests = [token_digest(s.sid) for s in sessions]
    later = datetime.now(UTC) + timedelta(minutes=5)
    for digest in digests:
        users.touch_session(digest=digest, at=later)
    stored = StoreUsers(world["store"])
    assert all(stored.find_session(digest=d).last_seen_at < later for d in digests)
    assert users.find_session(digest=digests[0]).last_seen_at == later  # known here
    users.flush()
    for digest in digests:  # DuckDB and PostgreSQL keep microseconds
        assert abs(stored.find_session(digest=digest).last_seen_at - later) < timedelta(
            milliseconds=1
        )
