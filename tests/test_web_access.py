"""The access model as a table: every route of the app, for every role, answers what
:data:`dualcontrol.web.access.ACCESS` says, and scoped answers hold nobody else's keys.

The expected status is never typed in: each sample request names the kinds of data it
needs (and at which level and node); the model decides 200-like (the route's own
success), 401 (anonymous) or 403. A route of the app without a sample here, or without
an entry in :data:`~dualcontrol.web.access.ROUTES`, fails the tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from dualcontrol import bulletin as bulletin_mod
from dualcontrol import datasets
from dualcontrol.regions import REGION_CODE
from dualcontrol.store import open_store
from dualcontrol.web import create_app
from dualcontrol.web.access import (
    ACCESS,
    ANONYMOUS,
    LEVELS,
    MENU,
    PROFILES,
    PUBLIC,
    ROUTES,
    Data,
    Principal,
    Within,
    markdown_table,
    may,
    profile_of,
    route_table,
)
from dualcontrol.web.data import StoreData
from dualcontrol.web.demo_users import create_demo_users, demo_accounts
from dualcontrol.web.security import new_token, token_digest
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.store_users import StoreUsers
from dualcontrol.web.users import make_user

ROOT = Path(__file__).parents[1]
PASSWORD = "correct horse battery"
#: The roles walked, and their demo user (None: an anonymous visitor).
ROLES = {
    "anonymous": None,
    "public": "demo-public",
    "reporter": "demo-reporter",
    "league": "demo-league-analyst",
    "region": "demo-region-analyst",
    "reviewer": "demo-reviewer",
    "administrator": "demo-administrator",
}
#: A user the administrator routes act on.
TARGET = "access-target"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def report_csv(store, uscc: str, *, bad: bool) -> bytes:
    """Return an energy report of one enterprise's last month (a bad unit if ``bad``)."""
    rows = datasets.energy_reports(store, enterprise=uscc)
    rows = rows[rows["period"] == rows["period"].max()]
    frame = pd.DataFrame(
        {
            "uscc": rows["enterprise_uscc"],
            "region_code": rows["county_code"],
            "period": rows["period"],
            "carrier": rows["carrier"],
            "quantity": rows["quantity"],
            "unit": rows["unit"],
            "use": rows["use"],
            "origin": rows["origin"],
        }
    )
    if bad:
        frame.iloc[0, frame.columns.get_loc("unit")] = "bushel"
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def world(small_store_url: str):
    """The app on the small demo store (with the shipped examples as inputs), a logged-in
    client and a token per role, and the keys of own and other leagues and enterprises."""
    store = open_store(small_store_url)
    data = StoreData(store, inputs=ROOT / "examples")
    users = StoreUsers(store)
    accounts = demo_accounts(data.hierarchy())
    create_demo_users(users, accounts, password=PASSWORD)
    from dualcontrol.demo_measures import load_demo_measures  # the 1+N+X registry

    load_demo_measures(store, user="demo")
    users.add_user(user=make_user(TARGET, PASSWORD, "reviewer"))
    settings = WebSettings(
        environment="test", secret_key="test-secret-0123456789", login_max_failures=1000
    )
    app = create_app(data=data, users=users, settings=settings)
    clients, tokens, principals = {}, {}, {}
    for role, name in ROLES.items():
        client = TestClient(app)
        form = client.get("/login")
        if name is not None:
            answer = client.post(
                "/login",
                data={"username": name, "password": PASSWORD, "csrf_token": csrf_of(form.text)},
                follow_redirects=False,
            )
            assert answer.status_code == 303, answer.text
            raw = new_token()
            users.add_token(
                username=name,
                digest=token_digest(raw),
                expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
            tokens[role] = raw
            user = users.get_user(username=name)
            assert user is not None
            principals[role] = user.principal
        else:
            principals[role] = ANONYMOUS
        clients[role] = client
    hierarchy = data.hierarchy()
    league = next(a.scope.key for a in accounts if a.username == ROLES["league"])
    own = next(a.scope.key for a in accounts if a.username == ROLES["reporter"])
    others = hierarchy[hierarchy["league"] != league]
    sibling = hierarchy.loc[
        (hierarchy["league"] == league) & (hierarchy["enterprise"] != own), "enterprise"
    ].iloc[0]
    yield {
        "app": app,
        "store": store,
        "data": data,
        "users": users,
        "clients": clients,
        "tokens": tokens,
        "principals": principals,
        "league": league,
        "own": own,
        "sibling": sibling,
        "other": others["enterprise"].iloc[0],
        "other_league": others["league"].iloc[0],
        "lineage": hierarchy.set_index("enterprise"),
    }
    store.close()


@dataclass(frozen=True)
class Need:
    """A kind of data a request needs, at a level, for a node given by a function."""

    data: Data
    level: str | None = None
    node: Callable[[dict], dict[str, str]] | None = None


@dataclass(frozen=True)
class Sample:
    """One request to a route, what it needs, and its answer when allowed."""

    route: str
    path: str | Callable[[dict], str]
    needs: tuple[Need, ...]
    ok: int = 200
    #: keyword arguments of the request, built from the world and the role
    kwargs: Callable[[dict, str], dict[str, Any]] = field(default=lambda w, r: {})
    #: True when the answer holds scoped data: checked for other leagues' and firms' keys
    scoped: bool = False


def enterprise_node(key: str) -> Callable[[dict], dict[str, str]]:
    """Return a function giving the hierarchy of the world's enterprise ``key``."""

    def node(w: dict) -> dict[str, str]:
        row = w["lineage"].loc[w[key]]
        return {
            "region": REGION_CODE,
            **{lv: str(row[lv]) for lv in LEVELS[1:-1]},
            "enterprise": w[key],
        }

    return node


def league_node(key: str) -> Callable[[dict], dict[str, str]]:
    return lambda w: {"region": REGION_CODE, "league": w[key]}


def form_with_csrf(
    fields: Callable[[dict, str], dict[str, Any]],
    files: Callable[[dict, str], dict[str, Any]] | None = None,
) -> Callable[[dict, str], dict[str, Any]]:
    """Return request arguments of a page form carrying the role's CSRF token."""

    def make(w: dict, role: str) -> dict[str, Any]:
        token = csrf_of(w["clients"][role].get("/login").text)
        out: dict[str, Any] = {"data": {**fields(w, role), "csrf_token": token}}
        if files is not None:
            out["files"] = files(w, role)
        return out

    return make


def project_yaml() -> str:
    return (ROOT / "examples/projects/ferrosilicon_ulanqab.yaml").read_text("utf-8")


def project_league(w: dict) -> dict[str, str]:
    return {"region": REGION_CODE, "league": w["data"].league_key("Ulanqab")}


SITE = (Need(Data.site),)
SAMPLES: tuple[Sample, ...] = (
    Sample("GET /openapi.json", "/openapi.json", SITE),
    Sample("GET /docs", "/docs", SITE),
    Sample("GET /static/plotly.min.js", "/static/plotly.min.js", SITE),
    Sample("GET /static", "/static/style.css", SITE),
    Sample("GET /login", "/login", SITE),
    Sample(
        "POST /login",
        "/login",
        SITE,
        ok=401,  # an unknown user: the form answers
        kwargs=form_with_csrf(lambda w, r: {"username": f"nobody-{r}", "password": "x"}),
    ),
    Sample(
        "POST /api/token",
        "/api/token",
        SITE,
        kwargs=lambda w, r: {"data": {"username": ROLES[r] or "demo-public", "password": PASSWORD}},
    ),
    Sample("GET /", "/", (Need(Data.published),)),
    Sample(
        "GET /league/{key}",
        lambda w: f"/league/{w['league']}",
        (Need(Data.published, "league", league_node("league")),),
    ),
    Sample(
        "GET /league/{key}",
        lambda w: f"/league/{w['other_league']}",
        (Need(Data.published, "league", league_node("other_league")),),
    ),
    Sample(
        "GET /enterprise/{key}",
        lambda w: f"/enterprise/{w['own']}",
        (Need(Data.accounts, "enterprise", enterprise_node("own")),),
        scoped=True,
    ),
    Sample(
        "GET /enterprise/{key}",
        lambda w: f"/enterprise/{w['other']}",
        (Need(Data.accounts, "enterprise", enterprise_node("other")),),
    ),
    Sample("GET /api/accounts", "/api/accounts?level=league", (Need(Data.published),)),
    Sample("GET /api/accounts", "/api/accounts?level=region", (Need(Data.published),)),
    Sample(
        "GET /api/accounts",
        "/api/accounts?level=enterprise&grain=month",
        (Need(Data.accounts, "enterprise"),),
        scoped=True,
    ),
    Sample(
        "GET /api/accounts",
        "/api/accounts?level=county",
        (Need(Data.accounts, "county"),),
        scoped=True,
    ),
    Sample(
        "GET /api/accounts",
        "/api/accounts?level=league&grain=quarter",
        (Need(Data.accounts, "league"),),
        scoped=True,
    ),
    Sample(
        "GET /api/accounts/{level}/{key}",
        lambda w: f"/api/accounts/league/{w['other_league']}",
        (Need(Data.published, "league", league_node("other_league")),),
    ),
    Sample(
        "GET /api/accounts/{level}/{key}",
        lambda w: f"/api/accounts/league/{w['other_league']}?grain=month",
        (Need(Data.accounts, "league", league_node("other_league")),),
    ),
    Sample(
        "GET /api/accounts/{level}/{key}",
        lambda w: f"/api/accounts/enterprise/{w['own']}?grain=month",
        (Need(Data.accounts, "enterprise", enterprise_node("own")),),
        scoped=True,
    ),
    Sample(
        "GET /api/accounts/{level}/{key}",
        lambda w: f"/api/accounts/enterprise/{w['sibling']}",
        (Need(Data.accounts, "enterprise", enterprise_node("sibling")),),
    ),
    Sample(
        "GET /api/assessment/barometer",
        "/api/assessment/barometer",
        (Need(Data.assessment),),
        scoped=True,
    ),
    Sample(
        "GET /api/assessment/budget", "/api/assessment/budget", (Need(Data.budget),), scoped=True
    ),
    Sample(
        "GET /api/assessment/ledgers",
        "/api/assessment/ledgers",
        (Need(Data.assessment, "region", lambda w: {"region": REGION_CODE}),),
    ),
    Sample(
        "GET /api/assessment/ledgers",
        lambda w: f"/api/assessment/ledgers?region={w['league']}",
        (Need(Data.assessment, "league", league_node("league")),),
        scoped=True,
    ),
    Sample(
        "GET /api/assessment/ledgers",
        lambda w: f"/api/assessment/ledgers?region={w['other_league']}",
        (Need(Data.assessment, "league", league_node("other_league")),),
    ),
    Sample(
        "GET /api/benchmarks/units",
        "/api/benchmarks/units",
        (Need(Data.benchmarks, "enterprise"),),
        scoped=True,
    ),
    Sample(
        "GET /api/benchmarks/{table}",
        "/api/benchmarks/front-runners",
        (Need(Data.front_runners),),
        scoped=True,
    ),
    Sample(
        "GET /api/benchmarks/{table}", "/api/benchmarks/shares", (Need(Data.benchmark_summary),)
    ),
    Sample("GET /benchmarking", "/benchmarking", (Need(Data.benchmark_summary),), scoped=True),
    Sample("GET /api/decomposition", "/api/decomposition", (Need(Data.analysis),)),
    Sample("GET /api/outlook", "/api/outlook", (Need(Data.analysis),)),
    Sample(
        "GET /api/outlook/{scenario}/{table}",
        "/api/outlook/baseline/peaks?draws=20",
        (Need(Data.analysis),),
    ),
    Sample("GET /outlook", "/outlook?draws=20", (Need(Data.analysis),)),
    Sample("GET /bulletin", "/bulletin", (Need(Data.bulletin),)),
    Sample("GET /bulletin", "/bulletin?format=xlsx", (Need(Data.bulletin),)),
    Sample("GET /bulletin", "/bulletin?format=pdf", (Need(Data.bulletin), Need(Data.pdf))),
    Sample(
        "POST /api/reports",
        "/api/reports",
        (Need(Data.uploads, "enterprise", enterprise_node("own")),),
        ok=201,
        kwargs=lambda w, r: {
            "files": {"file": ("own.csv", report_csv(w["store"], w["own"], bad=False), "text/csv")}
        },
    ),
    Sample(
        "POST /api/reports",
        "/api/reports",
        (Need(Data.uploads, "enterprise", enterprise_node("other")),),
        ok=201,
        kwargs=lambda w, r: {
            "files": {
                "file": ("other.csv", report_csv(w["store"], w["other"], bad=False), "text/csv")
            }
        },
    ),
    Sample("GET /upload", "/upload", (Need(Data.uploads),)),
    Sample(
        "POST /upload",
        "/upload",
        (Need(Data.uploads),),
        ok=422,  # rows listed back
        kwargs=form_with_csrf(
            lambda w, r: {},
            lambda w, r: {
                "file": ("bad.csv", report_csv(w["store"], w["own"], bad=True), "text/csv")
            },
        ),
    ),
    Sample(
        "POST /api/reviews",
        "/api/reviews",
        (Need(Data.reviews, "league", project_league),),
        kwargs=lambda w, r: {"json": yaml.safe_load(project_yaml())},
    ),
    Sample("GET /review", "/review", (Need(Data.reviews),)),
    Sample(
        "POST /review",
        "/review",
        (Need(Data.reviews, "league", project_league),),
        kwargs=form_with_csrf(lambda w, r: {"project": project_yaml()}),
    ),
    Sample("GET /api/carbon/budgets", "/api/carbon/budgets?period=2026",
           (Need(Data.carbon_budget),), scoped=True),
    Sample("GET /api/projects", "/api/projects", (Need(Data.pipeline),), scoped=True),
    Sample(
        "POST /api/projects",
        "/api/projects",
        (Need(Data.pipeline_edit, "league", league_node("league")),),
        ok=201,
        kwargs=lambda w, r: {"json": {
            "code": f"ACCESS-{r}", "name": "access test", "league_code": w["league"],
            "energy_tce": 1000, "co2_t": 2500, "reviewed_on": "2026-02-01"}},
    ),
    Sample(
        "POST /api/projects/{code}/status",
        "/api/projects/NO-SUCH-PROJECT/status",
        (Need(Data.pipeline_edit),),
        ok=422,  # allowed, and refused as an unknown project
        kwargs=lambda w, r: {"json": {"status": "approved", "on": "2026-03-01"}},
    ),
    Sample("GET /carbon", "/carbon", (Need(Data.carbon_budget),), scoped=True),
    Sample("GET /api/users", "/api/users", (Need(Data.users),)),
    Sample(
        "POST /api/users",
        "/api/users",
        (Need(Data.users),),
        ok=201,
        kwargs=lambda w, r: {
            "json": {"username": f"made-by-{r}", "password": PASSWORD, "role": "public"}
        },
    ),
    Sample(
        "PATCH /api/users/{username}",
        f"/api/users/{TARGET}",
        (Need(Data.users),),
        kwargs=lambda w, r: {"json": {"active": True}},
    ),
    Sample(
        "GET /api/users/{username}/sessions", f"/api/users/{TARGET}/sessions", (Need(Data.users),)
    ),
    Sample(
        "DELETE /api/users/{username}/sessions",
        f"/api/users/{TARGET}/sessions",
        (Need(Data.users),),
    ),
    Sample("GET /api/audit", "/api/audit?limit=5", (Need(Data.audit),)),
    Sample("GET /api/measures/{table}", "/api/measures/registry?format=csv",
           (Need(Data.measures),), scoped=True),
    Sample("GET /measures", "/measures?draws=50", (Need(Data.measures),), scoped=True),
    Sample(
        "POST /logout",
        "/logout",
        SITE,
        ok=303,  # last: it ends the role's session
        kwargs=form_with_csrf(lambda w, r: {}),
    ),
)


def app_routes(app) -> set[str]:
    """Return every route of the app as ``"METHOD path"`` (HEAD goes with GET)."""
    out = set()
    for route in iter_route_contexts(app.routes):
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                out.add(f"{method} {route.path}")
    return out


def expected(w: dict, role: str, sample: Sample) -> int:
    """Return the status the access model gives ``role`` for ``sample``."""
    principal = w["principals"][role]
    for need in sample.needs:
        node = need.node(w) if need.node else None
        if not may(principal, need.data, level=need.level, node=node):
            return 401 if principal.is_anonymous else 403
    return sample.ok


def foreign_keys(w: dict, role: str) -> list[str]:
    """Return the keys a scoped role must never find in a scoped answer."""
    if role == "league":
        return [w["other_league"], w["other"]]
    if role == "reporter":
        return [w["other_league"], w["other"], w["sibling"]]
    return []


def test_every_route_has_an_entry_in_the_model_and_a_sample(world) -> None:
    routes = app_routes(world["app"])
    assert routes == set(ROUTES), "routes and access.ROUTES differ"
    assert routes == {s.route for s in SAMPLES}, "a route has no sample request here"
    for sample in SAMPLES:
        assert {n.data for n in sample.needs} <= set(ROUTES[sample.route]), sample


@pytest.mark.parametrize("role", list(ROLES))
def test_every_route_answers_as_the_model_says(world, role, monkeypatch) -> None:
    def write_pdf(b, path: Path, **kw) -> Path:  # no Chromium: a tiny PDF
        path.write_bytes(b"%PDF-1.4 fake")
        return path

    monkeypatch.setattr(bulletin_mod, "write_pdf", write_pdf)
    client = world["clients"][role]
    wrong = []
    for sample in SAMPLES:
        method, _ = sample.route.split(" ", 1)
        path = sample.path(world) if callable(sample.path) else sample.path
        headers = (
            {"Authorization": f"Bearer {world['tokens'][role]}"}
            if role in world["tokens"] and path.startswith("/api")
            else {}
        )
        answer = client.request(
            method, path, headers=headers, follow_redirects=False, **sample.kwargs(world, role)
        )
        want = expected(world, role, sample)
        if answer.status_code != want:
            wrong.append(f"{method} {path}: {answer.status_code} != {want} {answer.text[:200]}")
            continue
        if sample.scoped and answer.status_code < 300:
            body = answer.text
            for key in foreign_keys(world, role):
                if re.search(rf"(?<![\w.]){re.escape(key)}(?![\w.])", body):
                    wrong.append(f"{method} {path}: {role} sees {key}")
    if ROLES[role] is not None:  # the walk ended with logging out: log in again
        form = client.get("/login")
        client.post(
            "/login",
            data={"username": ROLES[role], "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        )
    assert not wrong, "\n".join(wrong)


def test_the_public_grants_are_every_profiles_and_never_name_an_enterprise() -> None:
    for profile in PROFILES:
        for data, grant in PUBLIC.items():
            mine = ACCESS[profile][data]
            assert set(grant.levels) <= set(mine.levels) and mine.within == Within.all
    for data in (Data.accounts, Data.benchmarks, Data.front_runners, Data.assessment):
        assert data not in PUBLIC
    assert set(PUBLIC[Data.published].levels) == {"region", "league"}


@pytest.mark.parametrize("role", list(ROLES))
def test_menu_shows_what_the_role_may_open_and_nothing_else(world, role) -> None:
    client = world["clients"][role]
    page = client.get("/?lang=en")
    nav = page.text.split("<nav>", 1)[1].split("</nav>", 1)[0]
    shown = re.findall(r'href="([^"]+)"', nav)
    principal = world["principals"][role]
    assert shown == [path for path, _, data in MENU if may(principal, data)]
    for path in shown:  # a menu never leads to a refusal
        assert client.get(path).status_code == 200, (role, path)


@pytest.mark.parametrize("role", ["anonymous", "reporter", "league", "reviewer"])
def test_overview_tiles_show_figures_only_within_the_scope(world, role) -> None:
    page = world["clients"][role].get("/?lang=en").text
    tiles = re.findall(
        r'<a class="tile"[^>]*data-code="(\d+)"[^>]*data-rating="(\w+)"'
        r'.*?<span class="tval">([^<]*)</span>',
        page,
        re.S,
    )
    assert len(tiles) == 12
    principal: Principal = world["principals"][role]
    for code, rating, value in tiles:
        node = {"region": REGION_CODE, "league": code}
        if may(principal, Data.assessment, node=node):
            assert rating != "withheld"
        else:
            assert rating == "withheld" and not re.search(r"\d", value), (role, code)
    shown = {code for code, rating, _ in tiles if rating != "withheld"}
    assert shown == {"league": {world["league"]}, "reviewer": {c for c, _, _ in tiles}}.get(
        role, set()
    )


def test_readme_table_is_the_code_table() -> None:
    text = (ROOT / "README.md").read_text("utf-8")
    for name, table in (("access-table", markdown_table()), ("route-table", route_table())):
        start, end = f"<!-- {name}:start -->\n", f"\n<!-- {name}:end -->"
        assert start in text and end in text, f"README has no {name}"
        assert text.split(start, 1)[1].split(end, 1)[0] == table, f"README's {name} is stale"


def test_profiles_cover_every_role_and_scope_level(world) -> None:
    assert set(ACCESS) == set(PROFILES)
    assert {profile_of(p) for p in world["principals"].values()} == {
        "anonymous",
        "public",
        "reporter",
        "analyst@league",
        "analyst@region",
        "reviewer",
        "administrator",
    }
