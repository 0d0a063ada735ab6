"""Fixtures: a ``store`` on the embedded DuckDB file and on PostgreSQL.

The PostgreSQL parameter uses ``DUALCONTROL_TEST_PG`` (written to var/test-env.sh by
scripts/test-services.sh); each test gets its own schema, dropped afterwards. Without
the variable the parameter is skipped, except in CI (``CI=true``), where a missing
server is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from dualcontrol.store import Store, open_store

# Timing deadlines make property tests flaky on a loaded 2-core machine: none here;
# speed is measured in benchmarks/, not in tests.
settings.register_profile("dualcontrol", deadline=None, derandomize=False)
settings.load_profile("dualcontrol")


@pytest.fixture(scope="session", autouse=True)
def _session_data_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep fixtures of wider scope (set up before each test's own folders) off the
    user's data and settings folders too."""
    base = tmp_path_factory.mktemp("xdg-session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(base / "data"))
        patch.setenv("XDG_CONFIG_HOME", str(base / "config"))
        for name in ("DUALCONTROL_HOME", "DUALCONTROL_DB", "DUALCONTROL_CONFIG"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(autouse=True)
def _own_data_folder(monkeypatch: pytest.MonkeyPatch,
                     tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point every test's settings at folders of its own, never the user's data.

    The default store lives in the user's data folder (XDG_DATA_HOME), and a settings
    file may sit in XDG_CONFIG_HOME: both are moved to empty temporary folders, and
    DUALCONTROL_HOME, DUALCONTROL_DB and DUALCONTROL_CONFIG are unset (a test sets them).
    """
    base = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    for name in ("DUALCONTROL_HOME", "DUALCONTROL_DB", "DUALCONTROL_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def pg_base_url() -> str | None:
    """Return the PostgreSQL test URL, or None (failing in CI)."""
    url = os.environ.get("DUALCONTROL_TEST_PG", "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("DUALCONTROL_TEST_PG is not set in CI: run scripts/test-services.sh")
    return None


def make_pg_url(base: str) -> tuple[str, str]:
    """Create a fresh schema on the test server; return (URL using it, schema name)."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {name}"))
    finally:
        engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{name}", name


def drop_pg_schema(base: str, name: str) -> None:
    """Drop a schema made by :func:`make_pg_url`."""
    engine = sa.create_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of an empty store of each backend."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'store.duckdb'}"
        return
    base = pg_base_url()
    if base is None:
        pytest.skip("DUALCONTROL_TEST_PG not set (run scripts/test-services.sh)")
    url, name = make_pg_url(base)
    try:
        yield url
    finally:
        drop_pg_schema(base, name)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """Yield an open, migrated store of each backend."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.close()


#: Years of the small demo store of the web tests (the 14th plan from its base year).
SMALL_YEARS = range(2020, 2026)


@pytest.fixture(scope="session")
def small_demo_tables() -> dict:
    """Return the seeded demo tables cut to two enterprises per league, 2020-2025."""
    from dualcontrol.demo import generate
    from dualcontrol.regions import regions

    tables = generate(2025)
    league_of = regions().set_index("code")["league_code"]
    ent = tables["enterprises"].assign(league=lambda f: f["county_code"].map(league_of))
    ent = ent.sort_values("uscc").groupby("league").head(2).drop(columns=["league"])
    keep = set(ent["uscc"])
    out = {"enterprises": ent, "parks": tables["parks"],
           "green_registry": tables["green_registry"].head(5),
           "economic": tables["economic"][tables["economic"]["period"].str[:4].astype(int).isin(
               SMALL_YEARS)]}
    for kind in ("energy", "output", "water", "production_units"):
        frame = tables[kind][tables[kind]["enterprise_uscc"].isin(keep)]
        if "period" in frame:
            frame = frame[frame["period"].str[:4].astype(int).isin(SMALL_YEARS)]
        out[kind] = frame.reset_index(drop=True)
    return out


@pytest.fixture(scope="module",
                params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def small_store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                    small_demo_tables: dict) -> Iterator[str]:
    """Yield the URL of a store of each backend holding the small demo data."""
    from dualcontrol.demo import _load

    if request.param == "duckdb":
        url, name, base = f"duckdb:///{tmp_path_factory.mktemp('web') / 's.duckdb'}", None, None
    else:
        base = pg_base_url()
        if base is None:
            pytest.skip("DUALCONTROL_TEST_PG not set (run scripts/test-services.sh)")
        url, name = make_pg_url(base)
    try:
        with open_store(url) as opened:
            _load(opened, small_demo_tables, "small-demo", 2025)
        yield url
    finally:
        if name is not None and base is not None:
            drop_pg_schema(base, name)


@pytest.fixture(autouse=True)
def _factor_years_reset() -> Iterator[None]:
    """A ``--factor-years`` given to the in-process CLI holds for the process: undo it
    after each test, so that no test runs under another test's choice."""
    yield
    from dualcontrol.factor_policy import set_factor_years

    set_factor_years(None)


#: Password of the demo users of the web tests, and the user name of each demo role.
WEB_PASSWORD = "correct horse battery"
WEB_USERS = {"administrator": "demo-administrator", "region": "demo-region-analyst",
             "league": "demo-league-analyst", "reporter": "demo-reporter",
             "reviewer": "demo-reviewer", "public": "demo-public"}


@contextmanager
def web_world(url: str) -> Iterator[dict]:
    """Yield the web app on the store at ``url`` with one user and API token per demo
    role: ``app``, ``store``, ``users``, ``data``, ``tokens`` (role -> raw token),
    ``league`` and ``other_league`` (the league analyst's and another), ``own`` and
    ``other`` (the reporter's enterprise and one outside the analyst's league)."""
    from dualcontrol.web import create_app
    from dualcontrol.web.data import StoreData
    from dualcontrol.web.demo_users import create_demo_users, demo_accounts
    from dualcontrol.web.security import new_token, token_digest
    from dualcontrol.web.settings import WebSettings
    from dualcontrol.web.store_users import StoreUsers

    store = open_store(url)
    try:
        data = StoreData(store)
        users = StoreUsers(store)
        accounts = demo_accounts(data.hierarchy())
        create_demo_users(users, accounts, password=WEB_PASSWORD)
        tokens = {}
        for key, name in WEB_USERS.items():
            raw = new_token()
            users.add_token(username=name, digest=token_digest(raw),
                            expires_at=datetime.now(UTC) + timedelta(hours=1))
            tokens[key] = raw
        settings = WebSettings(environment="test", secret_key="test-secret-0123456789")
        app = create_app(data=data, users=users, settings=settings)
        scope = {a.username: a.scope.key for a in accounts if a.scope is not None}
        league = scope[WEB_USERS["league"]]
        hierarchy = data.hierarchy()
        others = hierarchy[hierarchy["league"] != league]
        yield {"app": app, "store": store, "users": users, "tokens": tokens, "data": data,
               "league": league, "own": scope[WEB_USERS["reporter"]],
               "other": others["enterprise"].iloc[0], "other_league": others["league"].iloc[0]}
    finally:
        store.close()
