"""API tests for every route and role, including every attempt to cross a boundary.

The expected numbers are never typed in: the API must return what the accounting
core returns for the same rows (the web layer only selects and formats).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dualcontrol import accounting
from dualcontrol.fileio import read_table
from dualcontrol.web import create_app
from dualcontrol.web.access import Role, Scope
from dualcontrol.web.data import FrameData
from dualcontrol.web.demo_users import create_demo_users
from dualcontrol.web.security import new_token, token_digest
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.users import MemoryUsers

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PASSWORD = "correct horse battery"
SCOPES = {Role.analyst: Scope("league", "Ordos"),
          Role.reporter: Scope("enterprise", "Wuhai Ferroalloy Co.")}
OWN = "Wuhai Ferroalloy Co."
OTHER = "Baotou Special Steel Co."


@pytest.fixture(scope="module")
def base_users() -> MemoryUsers:
    # Argon2 hashing takes a third of a second: hash the demo users once per module
    repo = MemoryUsers()
    create_demo_users(repo, SCOPES, password=PASSWORD)
    return repo


@pytest.fixture(scope="module")
def tokens(base_users: MemoryUsers) -> dict[Role, str]:
    """One API token per role, issued once (the token route is tested on its own)."""
    raw = {role: new_token() for role in Role}
    return raw


@pytest.fixture
def users(base_users: MemoryUsers, tokens: dict[Role, str]) -> MemoryUsers:
    repo = MemoryUsers(users=dict(base_users.users))
    for role, raw in tokens.items():
        repo.add_token(username=f"demo-{role}", digest=token_digest(raw),
                       expires_at=datetime.now(UTC) + timedelta(hours=1))
    return repo


@pytest.fixture
def energy() -> pd.DataFrame:
    return read_table(EXAMPLES / "energy_use.csv")


@pytest.fixture(scope="module")
def base_data() -> FrameData:
    return FrameData.from_files(EXAMPLES / "energy_use.csv", EXAMPLES / "gdp.csv")


@pytest.fixture
def client(users: MemoryUsers, base_data: FrameData, tokens: dict[Role, str]) -> TestClient:
    settings = WebSettings(environment="test", secret_key="test-secret-0123456789")
    test_client = TestClient(create_app(data=base_data.fork(), users=users,
                                        settings=settings))
    test_client.tokens = tokens
    return test_client


def token(client: TestClient, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {client.tokens[role]}"}


def issue(client: TestClient, role: Role) -> dict[str, str]:
    answer = client.post("/api/token", data={"username": f"demo-{role}", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def denials(users: MemoryUsers) -> list:
    return [e for e in users.log if e.action == "denied"]


def assert_refused_and_logged(answer, users: MemoryUsers, status: int, path: str) -> None:
    assert answer.status_code == status, answer.text
    last = denials(users)[-1]
    assert path in last.entity_key
    assert "reason" in (last.after or "")


# ---- tokens and login -------------------------------------------------------------------

def test_token_issued_and_wrong_password_refused(client, users) -> None:
    header = issue(client, Role.reporter)
    assert client.get(f"/api/accounts/enterprise/{OWN}", headers=header).status_code == 200
    wrong = client.post("/api/token", data={"username": "demo-reviewer", "password": "nope"})
    assert wrong.status_code == 401
    assert users.log[-1].action == "denied"
    assert any(e.action == "login_failed" and e.entity_key == "demo-reviewer"
               for e in users.log)


def test_tokens_are_stored_hashed(client, users) -> None:
    header = issue(client, Role.reviewer)
    raw = header["Authorization"].split()[1]
    assert raw not in users.tokens
    assert token_digest(raw) in users.tokens


def test_passwords_are_stored_as_argon2_hashes(users) -> None:
    for user in users.list_users():
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash


def test_login_rate_limited_after_max_failures(client, users) -> None:
    limit = WebSettings(environment="test", secret_key="x" * 20).login_max_failures
    for _ in range(limit):
        bad = client.post("/api/token", data={"username": "demo-analyst", "password": "bad"})
        assert bad.status_code == 401
    # even the right password is now refused for this user until the window ends
    blocked = client.post("/api/token", data={"username": "demo-analyst",
                                              "password": PASSWORD})
    assert blocked.status_code == 429
    assert any(e.action == "login_limited" for e in users.log)


def test_forged_token_refused_and_logged(client, users) -> None:
    answer = client.get("/api/accounts", headers={"Authorization": f"Bearer {new_token()}"})
    assert_refused_and_logged(answer, users, 401, "/api/accounts")
    assert "forged" in denials(users)[-1].after


def test_malformed_authorization_refused_and_logged(client, users) -> None:
    answer = client.get("/api/accounts", headers={"Authorization": "Basic abc"})
    assert_refused_and_logged(answer, users, 401, "/api/accounts")


def test_expired_token_refused_and_logged(client, users) -> None:
    raw = new_token()
    users.add_token(username="demo-administrator", digest=token_digest(raw),
                    expires_at=datetime.now(UTC) - timedelta(seconds=1))
    answer = client.get("/api/accounts", headers={"Authorization": f"Bearer {raw}"})
    assert_refused_and_logged(answer, users, 401, "/api/accounts")
    assert "expired" in denials(users)[-1].after


def test_default_secret_refused_outside_development() -> None:
    with pytest.raises(ValueError, match="SECRET_KEY"):
        WebSettings(environment="production")
    assert WebSettings(environment="development").secret_key


# ---- accounts: every role, every boundary -----------------------------------------------

def direct(energy: pd.DataFrame, level: str) -> pd.DataFrame:
    return accounting.accounts(energy, read_table(EXAMPLES / "gdp.csv"), level=level)


def test_administrator_reads_every_enterprise_as_the_core_computes(client, energy) -> None:
    answer = client.get("/api/accounts?level=enterprise", headers=token(client, Role.administrator))
    got = pd.DataFrame(answer.json())
    want = direct(energy, "enterprise")
    assert answer.status_code == 200
    assert set(got["enterprise"]) == set(want["enterprise"])
    merged = got.merge(want, on=["enterprise", "year"], suffixes=("_api", "_core"))
    assert len(merged) == len(want)
    for column in ("energy_tce", "controlled_tce", "co2_t"):
        assert merged[f"{column}_api"].to_numpy() == pytest.approx(
            merged[f"{column}_core"].to_numpy(), rel=1e-12)


def test_reviewer_reads_region_totals(client, energy) -> None:
    got = client.get("/api/accounts?level=region", headers=token(client, Role.reviewer)).json()
    want = direct(energy, "region")
    assert [r["energy_tce"] for r in got] == pytest.approx(want["energy_tce"].tolist())


def test_league_analyst_sees_own_league_only(client, energy) -> None:
    header = token(client, Role.analyst)
    for level in ("league", "county", "park", "enterprise"):
        answer = client.get(f"/api/accounts?level={level}", headers=header)
        assert answer.status_code == 200
        rows = answer.json()
        assert rows and {r["league"] for r in rows} == {"Ordos"}
    ent = pd.DataFrame(client.get("/api/accounts?level=enterprise", headers=header).json())
    want = direct(energy, "enterprise")
    assert set(ent["enterprise"]) == set(want.loc[want["league"] == "Ordos", "enterprise"])


def test_league_analyst_refused_region_totals(client, users) -> None:
    answer = client.get("/api/accounts?level=region", headers=token(client, Role.analyst))
    assert_refused_and_logged(answer, users, 403, "/api/accounts")


def test_league_analyst_refused_another_league(client, users) -> None:
    header = token(client, Role.analyst)
    answer = client.get("/api/accounts/league/Baotou", headers=header)
    assert_refused_and_logged(answer, users, 403, "/api/accounts/league/Baotou")
    answer = client.get(f"/api/accounts/enterprise/{OTHER}", headers=header)
    assert_refused_and_logged(answer, users, 403, f"/api/accounts/enterprise/{OTHER}")
    assert client.get("/api/accounts/league/Ordos", headers=header).status_code == 200


def test_reporter_reads_own_enterprise_only(client, users, energy) -> None:
    header = token(client, Role.reporter)
    own = client.get(f"/api/accounts/enterprise/{OWN}?grain=month", headers=header)
    assert own.status_code == 200
    months = pd.DataFrame(own.json())
    assert set(months["enterprise"]) == {OWN}
    assert len(months) == len(energy.loc[energy["enterprise"] == OWN, "period"].unique())
    listed = client.get("/api/accounts?level=enterprise", headers=header).json()
    assert {r["enterprise"] for r in listed} == {OWN}
    other = client.get(f"/api/accounts/enterprise/{OTHER}", headers=header)
    assert_refused_and_logged(other, users, 403, f"/api/accounts/enterprise/{OTHER}")
    county = client.get("/api/accounts?level=county", headers=header)
    assert_refused_and_logged(county, users, 403, "/api/accounts")


@pytest.mark.parametrize("who", ["anonymous", Role.public])
def test_public_reads_published_aggregates_only(client, users, who) -> None:
    header = {} if who == "anonymous" else token(client, Role.public)
    assert client.get("/api/accounts?level=league", headers=header).status_code == 200
    assert client.get("/api/accounts?level=region", headers=header).status_code == 200
    for query in ("level=enterprise", "level=county", "level=league&grain=month"):
        answer = client.get(f"/api/accounts?{query}", headers=header)
        assert_refused_and_logged(answer, users, 403, "/api/accounts")
    answer = client.get(f"/api/accounts/enterprise/{OWN}", headers=header)
    assert_refused_and_logged(answer, users, 403, "/api/accounts/enterprise")


def test_unknown_node_is_404_and_bad_level_422(client) -> None:
    header = token(client, Role.administrator)
    assert client.get("/api/accounts/league/Atlantis", headers=header).status_code == 404
    assert client.get("/api/accounts?level=planet", headers=header).status_code == 422


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_tables_download_as_csv_and_xlsx(client, fmt) -> None:
    header = token(client, Role.administrator)
    as_json = pd.DataFrame(client.get("/api/accounts?level=league", headers=header).json())
    answer = client.get(f"/api/accounts?level=league&format={fmt}", headers=header)
    assert answer.status_code == 200
    assert f'filename="accounts_league_year.{fmt}"' in answer.headers["content-disposition"]
    body = io.BytesIO(answer.content)
    table = pd.read_csv(body, encoding="utf-8-sig") if fmt == "csv" else pd.read_excel(body)
    assert list(table.columns) == list(as_json.columns)
    assert table["energy_tce"].tolist() == pytest.approx(as_json["energy_tce"].tolist())


# ---- uploads ----------------------------------------------------------------------------

def csv_bytes(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_reporter_uploads_own_report_as_a_revision(client, users, energy) -> None:
    header = token(client, Role.reporter)
    rows = energy[(energy["enterprise"] == OWN) & (energy["period"] == "2024-12")].copy()
    rows["quantity"] = (rows["quantity"].astype(float) * 2).astype(str)
    before = client.get(f"/api/accounts/enterprise/{OWN}?grain=month", headers=header).json()
    answer = client.post("/api/reports", headers=header,
                         files={"file": ("dec.csv", csv_bytes(rows), "text/csv")})
    assert answer.status_code == 201, answer.text
    assert answer.json()["rows_replaced"] == len(rows)
    after = client.get(f"/api/accounts/enterprise/{OWN}?grain=month", headers=header).json()
    dec_before = next(r for r in before if r["year"] == 2024 and r["month"] == 12)
    dec_after = next(r for r in after if r["year"] == 2024 and r["month"] == 12)
    # every quantity doubled and the conversion is linear, so energy doubles
    assert dec_after["energy_tce"] == pytest.approx(2 * dec_before["energy_tce"], rel=1e-9)
    assert users.log[-1].action == "report_uploaded"


def test_upload_with_bad_row_returns_every_problem_and_stores_nothing(client, users,
                                                                       energy) -> None:
    header = token(client, Role.reporter)
    rows = energy[(energy["enterprise"] == OWN) & (energy["period"] == "2024-11")].copy()
    rows = rows.reset_index(drop=True)
    rows.loc[1, "carrier"] = "moonshine"
    rows.loc[2, "quantity"] = "-5"
    before = client.get(f"/api/accounts/enterprise/{OWN}?grain=month", headers=header).json()
    answer = client.post("/api/reports", headers=header,
                         files={"file": ("nov.csv", csv_bytes(rows), "text/csv")})
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    # data row i is spreadsheet row i + 2 (header is row 1)
    assert {(p["row"], p["field"]) for p in problems} == {(3, "carrier"), (4, "quantity")}
    accepted = next(p for p in problems if p["field"] == "carrier")["accepted"]
    assert any(a.startswith("raw_coal") for a in accepted)
    after = client.get(f"/api/accounts/enterprise/{OWN}?grain=month", headers=header).json()
    assert after == before
    assert users.log[-1].action == "upload_rejected"


def test_reporter_refused_uploading_another_enterprise(client, users, energy) -> None:
    header = token(client, Role.reporter)
    rows = energy[(energy["enterprise"] == OTHER) & (energy["period"] == "2024-12")]
    before = client.get("/api/accounts?level=league",
                        headers=token(client, Role.administrator)).json()
    answer = client.post("/api/reports", headers=header,
                         files={"file": ("x.csv", csv_bytes(rows), "text/csv")})
    assert_refused_and_logged(answer, users, 403, "/api/reports")
    after = client.get("/api/accounts?level=league",
                       headers=token(client, Role.administrator)).json()
    assert after == before


def test_league_analyst_refused_uploading_another_league(client, users, energy) -> None:
    rows = energy[(energy["enterprise"] == OTHER) & (energy["period"] == "2024-12")]
    answer = client.post("/api/reports", headers=token(client, Role.analyst),
                         files={"file": ("x.csv", csv_bytes(rows), "text/csv")})
    assert_refused_and_logged(answer, users, 403, "/api/reports")


@pytest.mark.parametrize("role", [Role.reviewer, Role.public])
def test_roles_without_upload_refused(client, users, energy, role) -> None:
    rows = energy[(energy["enterprise"] == OWN) & (energy["period"] == "2024-12")]
    answer = client.post("/api/reports", headers=token(client, role),
                         files={"file": ("x.csv", csv_bytes(rows), "text/csv")})
    assert_refused_and_logged(answer, users, 403, "/api/reports")


def test_unsupported_upload_type_is_a_problem(client) -> None:
    answer = client.post("/api/reports", headers=token(client, Role.administrator),
                         files={"file": ("x.pdf", b"%PDF", "application/pdf")})
    assert answer.status_code == 422
    assert answer.json()["problems"][0]["accepted"] == [".csv", ".txt", ".xlsx"]


# ---- users and audit --------------------------------------------------------------------

def test_administrator_adds_user_and_it_is_audited(client, users) -> None:
    header = token(client, Role.administrator)
    answer = client.post("/api/users", headers=header, json={
        "username": "baotou-analyst", "password": "a-long-password", "role": "analyst",
        "scope": "league:Baotou"})
    assert answer.status_code == 201, answer.text
    assert users.log[-1].action == "user_added"
    names = [u["username"] for u in client.get("/api/users", headers=header).json()]
    assert "baotou-analyst" in names
    bad = client.post("/api/users", headers=header, json={
        "username": "x", "password": "a-long-password", "role": "analyst"})
    assert bad.status_code == 422 and "scope" in bad.json()["detail"]


@pytest.mark.parametrize("role", [Role.analyst, Role.reporter, Role.reviewer, Role.public])
def test_only_administrators_manage_users_and_read_audit(client, users, role) -> None:
    header = token(client, role)
    answer = client.post("/api/users", headers=header, json={
        "username": "intruder", "password": "a-long-password", "role": "administrator"})
    assert_refused_and_logged(answer, users, 403, "/api/users")
    assert_refused_and_logged(client.get("/api/audit", headers=header), users, 403,
                              "/api/audit")


def test_audit_log_lists_refusals(client) -> None:
    client.get("/api/accounts?level=enterprise")  # anonymous: refused
    entries = client.get("/api/audit", headers=token(client, Role.administrator)).json()
    assert any(e["action"] == "denied" and e["username"] == "anonymous" for e in entries)


# ---- pages, sessions and CSRF -----------------------------------------------------------

def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: TestClient, role: Role) -> None:
    form = client.get("/login")
    answer = client.post("/login", data={"username": f"demo-{role}", "password": PASSWORD,
                                         "csrf_token": csrf_of(form.text)},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text


def test_login_form_without_csrf_token_refused_and_logged(client, users) -> None:
    client.get("/login")
    answer = client.post("/login", data={"username": "demo-administrator",
                                         "password": PASSWORD})
    assert answer.status_code == 403
    assert denials(users)[-1].entity_key == "POST /login"
    assert "dualcontrol_session" not in answer.cookies or "demo" not in answer.text


def test_upload_form_without_csrf_token_refused_and_logged(client, users, energy) -> None:
    login(client, Role.reporter)
    rows = energy[(energy["enterprise"] == OWN) & (energy["period"] == "2024-12")]
    answer = client.post("/upload", files={"file": ("x.csv", csv_bytes(rows), "text/csv")},
                         data={"csrf_token": "forged"})
    assert_refused_and_logged(answer, users, 403, "/upload")
    ok = client.post("/upload", files={"file": ("x.csv", csv_bytes(rows), "text/csv")},
                     data={"csrf_token": csrf_of(client.get("/upload").text)})
    assert ok.status_code == 200 and 'id="upload-ok"' in ok.text


def test_upload_page_shows_row_errors(client, energy) -> None:
    login(client, Role.reporter)
    rows = energy[(energy["enterprise"] == OWN) & (energy["period"] == "2024-12")]
    rows = rows.reset_index(drop=True).copy()
    rows.loc[0, "unit"] = "bushel"
    answer = client.post("/upload", files={"file": ("x.csv", csv_bytes(rows), "text/csv")},
                         data={"csrf_token": csrf_of(client.get("/upload").text)})
    assert answer.status_code == 422
    assert 'id="problems-table"' in answer.text and "bushel" in answer.text


def test_session_cookie_does_not_authorise_api_writes(client, users, energy) -> None:
    login(client, Role.administrator)
    rows = energy[(energy["enterprise"] == OWN) & (energy["period"] == "2024-12")]
    answer = client.post("/api/reports", files={"file": ("x.csv", csv_bytes(rows), "text/csv")})
    assert_refused_and_logged(answer, users, 401, "/api/reports")
    # but a session reads the API (GET) as its user
    assert client.get("/api/accounts?level=enterprise").status_code == 200


def test_forged_session_cookie_is_anonymous(client) -> None:
    client.cookies.set("dualcontrol_session", "eyJ1IjoiZGVtby1hZG1pbmlzdHJhdG9yIn0.forged")
    assert client.get("/api/accounts?level=enterprise").status_code == 403


def test_logout_needs_csrf(client, users) -> None:
    login(client, Role.reviewer)
    assert client.post("/logout", data={}).status_code == 403
    page = client.get("/")
    assert client.post("/logout", data={"csrf_token": csrf_of(page.text)},
                       follow_redirects=False).status_code == 303
    assert "demo-reviewer" not in client.get("/").text


@pytest.mark.parametrize("role", list(Role))
def test_overview_for_each_role_has_twelve_tiles_and_no_external_url(client, role) -> None:
    login(client, role)
    page = client.get("/?lang=en")
    assert page.status_code == 200
    assert len(re.findall(r'class="tile"', page.text)) == 12
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert "default-src 'self'" in page.headers["content-security-policy"]


def test_pages_switch_language(client) -> None:
    assert "总览" in client.get("/?lang=zh").text
    assert "Overview" in client.get("/?lang=en").text
    assert "Overview" in client.get("/").text  # the choice is remembered in a cookie


def test_league_page_scoped(client, users) -> None:
    login(client, Role.analyst)
    assert client.get("/league/Ordos").status_code == 200
    answer = client.get("/league/Baotou")
    assert_refused_and_logged(answer, users, 403, "/league/Baotou")


def test_enterprise_page_for_reporter(client, users) -> None:
    login(client, Role.reporter)
    page = client.get(f"/enterprise/{OWN}")
    assert page.status_code == 200 and 'id="chart-mix"' in page.text
    assert_refused_and_logged(client.get(f"/enterprise/{OTHER}"), users, 403, "/enterprise/")


def test_plotly_bundle_served_locally(client) -> None:
    answer = client.get("/static/plotly.min.js")
    assert answer.status_code == 200 and b"plotly" in answer.content[:2000].lower()


def test_docs_page_lists_every_api_route_without_cdn(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    schema = client.get("/openapi.json").json()
    for path in schema["paths"]:
        assert f"<code>{path}</code>" in page.text
    assert "cdn" not in page.text.lower()
