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
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from dualcontrol.store import Store, open_store

# Timing deadlines make property tests flaky on a loaded 2-core machine: none here;
# speed is measured in benchmarks/, not in tests.
settings.register_profile("dualcontrol", deadline=None, derandomize=False)
settings.load_profile("dualcontrol")


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
