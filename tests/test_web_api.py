"""API tests for every route and role on the store (DuckDB and PostgreSQL), including
every attempt to cross a boundary, each refused and logged in the store's audit log.

Expected numbers are never typed in: the API must return what the library
(:mod:`dualcontrol.datasets`, :mod:`dualcontrol.assessment`) returns for the same store.
"""

from __future__ import annotations

import html
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from conftest import WEB_PASSWORD, WEB_USERS, web_world
from dualcontrol import datasets
from dualcontrol.assessment import prepare_accounts, progress
from dualcontrol.store import open_store
from dualcontrol.web.data import StoreData
from dualcontrol.web.security import new_token, token_digest

PASSWORD, NAMES = WEB_PASSWORD, WEB_USERS


@pytest.fixture(scope="module")
def world(small_store_url: str):
    """The app on the small demo store, one user and one token per demo account."""
    with web_world(small_store_url) as made:
        yield made


@pytest.fixture
def client(world) -> TestClient:
    return TestClient(world["app"])


def auth(world, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][who]}"}


def last_denial(world) -> tuple[str, str]:
    with world["store"].connect() as conn:
        row = conn.execute(sa.text("SELECT entity_key, after_json FROM audit_log WHERE action = "
                                   "'denied' ORDER BY id DESC LIMIT 1")).first()
    return row[0], row[1]


def assert_refused_and_logged(world, answer, status: int, path: str) -> None:
    assert answer.status_code == status, answer.text
    key, after = last_denial(world)
    assert path in key and "reason" in (after or "")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def login(client: TestClient, who: str) -> None:
    form = client.get("/login")
    answer = client.post("/login", data={"username": NAMES[who], "password": PASSWORD,
                                         "csrf_token": csrf_of(form.text)},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text


def report_csv(world, uscc: str, period: str, *, factor: float = 1.0,
               bad_unit_row: int | None = None) -> bytes:
    """Return an energy report CSV of one enterprise and month built from the store's rows."""
    rows = datasets.energy_reports(world["store"], enterprise=uscc)
    rows = rows[rows["period"] == rows["period"].max() if period == "last" else
                rows["period"] == period]
    frame = pd.DataFrame({"uscc": rows["enterprise_uscc"], "region_code": rows["county_code"],
                          "period": rows["period"], "carrier": rows["carrier"],
                          "quantity": rows["quantity"] * factor, "unit": rows["unit"],
                          "use": rows["use"], "origin": rows["origin"]})
    if bad_unit_row is not None:
        frame.iloc[bad_unit_row, frame.columns.get_loc("unit")] = "bushel"
    return frame.to_csv(index=False).encode()


# ---- tokens, passwords, login -----------------------------------------------------------

def test_token_issued_and_wrong_password_refused_and_logged(world, client) -> None:
    answer = client.post("/api/token", data={"username": NAMES["reporter"],
                                             "password": PASSWORD})
    assert answer.status_code == 200
    header = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    assert client.get(f"/api/accounts/enterprise/{world['own']}",
                      headers=header).status_code == 200
    wrong = client.post("/api/token", data={"username": NAMES["reviewer"], "password": "nope"})
    assert wrong.status_code == 401
    entries = world["users"].audit_entries(limit=5)
    assert any(e.action == "login_failed" and e.entity_key == NAMES["reviewer"] for e in entries)


def test_tokens_and_passwords_are_stored_hashed(world, client) -> None:
    raw = client.post("/api/token", data={"username": NAMES["reviewer"],
                                          "password": PASSWORD}).json()["access_token"]
    with world["store"].connect() as conn:
        digests = {r[0] for r in conn.execute(sa.text("SELECT digest FROM api_tokens"))}
        hashes = [r[0] for r in conn.execute(sa.text("SELECT password_hash FROM users"))]
    assert token_digest(raw) in digests and raw not in digests
    assert hashes and all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)


def test_forged_malformed_and_expired_tokens_refused_and_logged(world, client) -> None:
    forged = client.get("/api/accounts", headers={"Authorization": "Bearer forged"})
    assert_refused_and_logged(world, forged, 401, "/api/accounts")
    malformed = client.get("/api/accounts", headers={"Authorization": "Basic abc"})
    assert_refused_and_logged(world, malformed, 401, "/api/accounts")
    raw = new_token()
    world["users"].add_token(username=NAMES["administrator"], digest=token_digest(raw),
                             expires_at=datetime.now(UTC) - timedelta(seconds=1))
    expired = client.get("/api/accounts", headers={"Authorization": f"Bearer {raw}"})
    assert_refused_and_logged(world, expired, 401, "/api/accounts")
    assert "expired" in last_denial(world)[1]


def test_login_form_without_csrf_refused_and_logged(world, client) -> None:
    client.get("/login")
    answer = client.post("/login", data={"username": NAMES["administrator"],
                                         "password": PASSWORD})
    assert answer.status_code == 403
    assert_refused_and_logged(world, answer, 403, "POST /login")


# ---- reading by role --------------------------------------------------------------------

def test_administrator_reads_leagues_as_the_store_computes(world, client) -> None:
    got = pd.DataFrame(client.get("/api/accounts?level=league",
                                  headers=auth(world, "administrator")).json())
    want = datasets.region_accounts(world["store"], level="league")
    merged = got.merge(want, left_on=["league", "year"], right_on=["region_code", "year"])
    assert len(merged) == len(want) == len(got)
    assert (merged["energy_tce_x"] - merged["energy_tce_y"]).abs().max() < 1e-6


def test_league_analyst_sees_own_league_only(world, client) -> None:
    header = auth(world, "league")
    rows = client.get("/api/accounts?level=enterprise", headers=header).json()
    assert rows and {r["league"] for r in rows} == {world["league"]}
    # the region's yearly totals are published; its monthly ones are not his
    assert client.get("/api/accounts?level=region", headers=header).status_code == 200
    region = client.get("/api/accounts?level=region&grain=month", headers=header)
    assert_refused_and_logged(world, region, 403, "/api/accounts")
    county = client.get("/api/accounts?level=county", headers=header).json()
    assert county and {r["league"] for r in county} == {world["league"]}
    published = client.get(f"/api/accounts/league/{world['other_league']}", headers=header)
    assert published.status_code == 200
    other = client.get(f"/api/accounts/league/{world['other_league']}?grain=month",
                       headers=header)
    assert_refused_and_logged(world, other, 403, f"/api/accounts/league/{world['other_league']}")
    ent = client.get(f"/api/accounts/enterprise/{world['other']}", headers=header)
    assert_refused_and_logged(world, ent, 403, "/api/accounts/enterprise/")


def test_region_analyst_reads_region_and_every_league(world, client) -> None:
    header = auth(world, "region")
    assert client.get("/api/accounts?level=region", headers=header).status_code == 200
    leagues = client.get("/api/accounts?level=league", headers=header).json()
    assert len({r["league"] for r in leagues}) == 12


def test_reporter_reads_own_enterprise_only(world, client) -> None:
    header = auth(world, "reporter")
    months = client.get(f"/api/accounts/enterprise/{world['own']}?grain=month", headers=header)
    assert months.status_code == 200
    periods = datasets.energy_reports(world["store"], enterprise=world["own"])["period"]
    assert len(months.json()) == periods.nunique()
    listed = client.get("/api/accounts?level=enterprise", headers=header).json()
    assert {r["enterprise"] for r in listed} == {world["own"]}
    other = client.get(f"/api/accounts/enterprise/{world['other']}", headers=header)
    assert_refused_and_logged(world, other, 403, "/api/accounts/enterprise/")


@pytest.mark.parametrize("who", ["public", None])
def test_public_reads_published_aggregates_only(world, client, who) -> None:
    header = auth(world, who) if who else {}
    leagues = client.get("/api/accounts?level=league", headers=header)
    assert leagues.status_code == 200 and len({r["league"] for r in leagues.json()}) == 12
    refused = 403 if who else 401  # anonymous visitors are asked to log in
    county = client.get("/api/accounts?level=county", headers=header)
    assert_refused_and_logged(world, county, refused, "/api/accounts")
    monthly = client.get("/api/accounts?level=league&grain=month", headers=header)
    assert_refused_and_logged(world, monthly, refused, "/api/accounts")


def test_review_takes_its_context_from_the_store_as_the_cli_does(world, client) -> None:
    from pathlib import Path

    from dualcontrol import review
    from dualcontrol.budget import energy_budget

    text = (Path(__file__).parents[1] / "examples/projects/ferrosilicon_ulanqab.yaml")
    data = review.read_mapping(text)
    answer = client.post("/api/reviews", json=data, headers=auth(world, "reviewer"))
    assert answer.status_code == 200, answer.text
    got = answer.json()
    # what `dualcontrol review FILE` (no --context) computes on the same store
    raw = datasets.assessment_accounts(world["store"])
    accounts = prepare_accounts(raw)
    project = review.parse_project(data)
    year = review.context_year(accounts, project.start_year)
    context = review.context_from_accounts(raw, energy_budget(accounts, year=year),
                                           project.league, year=year)
    want = review.review_project(project, context).as_dict()
    assert got["verdict"] == want["verdict"]
    assert got["effects"] == want["effects"] and got["effects"]
    assert got["effects"][0]["year"] == year


def test_barometer_matches_the_assessment_and_is_scoped(world, client) -> None:
    store = world["store"]
    accounts = prepare_accounts(pd.concat([datasets.region_accounts(store, level=lv)
                                           for lv in ("region", "league")]))
    year = int(accounts["year"].max())
    want = progress(accounts, year=year)
    got = pd.DataFrame(client.get("/api/assessment/barometer",
                                  headers=auth(world, "reviewer")).json())
    pairs = got.merge(want, on=["region_code", "indicator"])
    assert len(pairs) == len(want) and (pairs["rating_x"] == pairs["rating_y"]).all()
    mine = client.get("/api/assessment/barometer", headers=auth(world, "league")).json()
    assert {r["region_code"] for r in mine} == {world["league"]}
    budget = client.get("/api/assessment/budget?format=csv", headers=auth(world, "reviewer"))
    assert budget.status_code == 200 and "budget_tce" in budget.text


def test_ledgers_match_the_library_and_are_scoped(world, client) -> None:
    from dualcontrol.assessment import compare_rule_sets

    league = world["league"]
    accounts = prepare_accounts(datasets.assessment_accounts(world["store"], periods=True))
    want = compare_rule_sets(accounts, year=2025, region_code=league)
    answer = client.get(f"/api/assessment/ledgers?region={league}&year=2025",
                        headers=auth(world, "reviewer"))
    assert answer.status_code == 200, answer.text
    got = pd.DataFrame(answer.json())
    assert list(got["rule_set"]) == list(want["rule_set"])
    assert list(got["rating"]) == list(want["rating"])
    assert got["value"].astype(float).tolist() == pytest.approx(
        want["value"].astype(float).tolist(), nan_ok=True)
    assert set(got["rule_set"]) == {"energy_dual_control", "carbon_dual_control"}
    own = client.get(f"/api/assessment/ledgers?region={league}&year=2025",
                     headers=auth(world, "league"))
    assert own.status_code == 200
    other = client.get(f"/api/assessment/ledgers?region={world['other_league']}",
                       headers=auth(world, "league"))
    assert_refused_and_logged(world, other, 403, "/api/assessment/ledgers")
    missing = client.get("/api/assessment/ledgers?region=159900",
                         headers=auth(world, "reviewer"))
    assert missing.status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_tables_download_as_csv_and_xlsx(world, client, fmt) -> None:
    answer = client.get(f"/api/accounts?level=league&format={fmt}")
    assert answer.status_code == 200
    frame = (pd.read_csv(io.BytesIO(answer.content)) if fmt == "csv"
             else pd.read_excel(io.BytesIO(answer.content)))
    assert len(frame) == len(client.get("/api/accounts?level=league").json())


def test_benchmark_positions_come_from_the_benchmarking_module(world, client) -> None:
    units = client.get("/api/benchmarks/units", headers=auth(world, "administrator"))
    assert units.status_code == 200, units.text
    rows = units.json()
    assert rows and all(r["class"] for r in rows)
    mine = client.get("/api/benchmarks/units", headers=auth(world, "reporter")).json()
    assert {r["enterprise_code"] for r in mine} <= {world["own"]}


# ---- uploads ----------------------------------------------------------------------------

def test_reporter_uploads_own_report_as_a_revision(world, client) -> None:
    header = auth(world, "reporter")
    body = report_csv(world, world["own"], "last", factor=2.0)
    answer = client.post("/api/reports", headers=header,
                         files={"file": ("report.csv", body, "text/csv")})
    assert answer.status_code == 201, answer.text
    assert answer.json()["revisions_created"] == 1
    revisions = datasets.energy_reports(world["store"], enterprise=world["own"],
                                        revisions="all")
    assert revisions["revision"].max() == 2
    entries = world["users"].audit_entries(limit=20)
    assert any(e.action == "report_uploaded" and e.username == NAMES["reporter"]
               for e in entries)


def test_upload_with_bad_row_lists_problems_and_stores_nothing(world, client) -> None:
    header = auth(world, "reporter")
    before = len(datasets.energy_reports(world["store"], revisions="all"))
    body = report_csv(world, world["own"], "last", factor=3.0, bad_unit_row=1)
    answer = client.post("/api/reports", headers=header,
                         files={"file": ("bad.csv", body, "text/csv")})
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert problems and problems[0]["row"] == 3 and problems[0]["file"] == "bad.csv"
    assert len(datasets.energy_reports(world["store"], revisions="all")) == before


def test_uploads_outside_the_scope_refused_and_logged(world, client) -> None:
    body = report_csv(world, world["other"], "last")
    for who in ("reporter", "league"):
        answer = client.post("/api/reports", headers=auth(world, who),
                             files={"file": ("other.csv", body, "text/csv")})
        assert_refused_and_logged(world, answer, 403, "/api/reports")
    for who in ("reviewer", "public"):
        answer = client.post("/api/reports", headers=auth(world, who),
                             files={"file": ("other.csv", body, "text/csv")})
        assert_refused_and_logged(world, answer, 403, "/api/reports")


def test_upload_form_needs_csrf_and_shows_row_errors(world, client) -> None:
    login(client, "reporter")
    body = report_csv(world, world["own"], "last", bad_unit_row=0)
    refused = client.post("/upload", files={"file": ("bad.csv", body, "text/csv")})
    assert_refused_and_logged(world, refused, 403, "/upload")
    form = client.get("/upload")
    page = client.post("/upload", data={"csrf_token": csrf_of(form.text)},
                       files={"file": ("bad.csv", body, "text/csv")})
    assert page.status_code == 422 and "bushel" in page.text


# ---- users and audit --------------------------------------------------------------------

def test_administrator_adds_user_in_the_store(world, client) -> None:
    answer = client.post("/api/users", headers=auth(world, "administrator"),
                         json={"username": "ana", "password": "long enough pw",
                               "role": "analyst", "scope": f"league:{world['league']}"})
    assert answer.status_code == 201, answer.text
    stored = world["users"].get_user(username="ana")
    assert stored is not None and str(stored.scope) == f"league:{world['league']}"
    for who in ("league", "reporter", "reviewer", "public"):
        assert_refused_and_logged(world, client.get("/api/users", headers=auth(world, who)),
                                  403, "/api/users")
        assert_refused_and_logged(world, client.get("/api/audit", headers=auth(world, who)),
                                  403, "/api/audit")
    log = client.get("/api/audit?limit=50", headers=auth(world, "administrator")).json()
    assert any(e["action"] == "user_added" and e["entity_key"] == "ana" for e in log)


# ---- pages ------------------------------------------------------------------------------

def test_overview_map_coloured_from_the_assessment(world, client) -> None:
    data = world["data"]
    year = int(data.accounts(level="league")["year"].max())
    want = progress(prepare_accounts(pd.concat([datasets.region_accounts(
        world["store"], level=lv) for lv in ("region", "league")])), year=year)
    want = want[want["indicator"] == "energy_intensity"].set_index("region_code")["rating"]
    login(client, "reviewer")
    page = client.get("/?lang=en")
    data = json.loads(html.unescape(
        page.text.split('id="leaguemap-data">', 1)[1].split("</script>", 1)[0]))
    tiles = {d["code"]: d["rating"] for d in data}
    assert len(tiles) == 12
    assert tiles == {code: want.get(code, "no_data") for code in tiles}
    assert not re.search(r'(src|href)="(https?:)?//', page.text)


@pytest.mark.parametrize("who", list(NAMES))
def test_every_role_sees_the_pages(world, client, who) -> None:
    login(client, who)
    assert client.get("/").status_code == 200
    # league pages show published yearly totals to everyone; enterprises are not public
    league = client.get(f"/league/{world['league']}")
    assert league.status_code == 200
    other = client.get(f"/league/{world['other_league']}")
    assert other.status_code == 200
    if who in ("league", "reporter"):  # a neighbour's enterprises and units stay hidden
        assert 'id="children-table"' not in other.text and 'id="units-table"' not in other.text
    own = client.get(f"/enterprise/{world['own']}")
    assert own.status_code == (403 if who == "public" else 200)


def test_pages_switch_language_and_docs_have_every_route(client) -> None:
    assert "总览" in client.get("/?lang=zh").text
    assert "Overview" in client.get("/?lang=en").text
    page = client.get("/docs")
    for path in client.get("/openapi.json").json()["paths"]:
        assert f"<code>{path}</code>" in page.text
    assert client.get("/static/plotly.min.js").status_code == 200


def test_bulletin_from_the_store(client) -> None:
    assert client.get("/bulletin").status_code == 200
    xlsx = client.get("/bulletin?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_warm_up_fills_the_overview_cache(small_store_url: str) -> None:
    from dualcontrol.web.server import warm

    store = open_store(small_store_url)
    try:
        data = StoreData(store)
        warm(data)
        kinds = {key[0] for key in data._cache}
        assert {"accounts", "barometer", "budget"} <= kinds
        year = int(data.accounts(level="league")["year"].max())
        assert ("barometer", year) in data._cache
    finally:
        store.close()
