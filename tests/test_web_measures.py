"""The measures page and API on a store holding only a registry: scope, zh/en, figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dualcontrol import measures
from dualcontrol.store import open_store
from dualcontrol.store.measures import save_measures
from dualcontrol.web import create_app
from dualcontrol.web.data import StoreData
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.store_users import StoreUsers
from dualcontrol.web.users import make_user

ROOT = Path(__file__).parents[1]
PASSWORD = "correct horse battery"
ORDOS, BAOTOU = "150600", "150200"


def row(key: str, league: str, **over: str) -> dict[str, str]:
    base = {"measure_id": key, "level": "measure", "title": f"measure {key}",
            "owner_kind": "league", "owner": league, "region_code": league,
            "indicators": "co2_intensity", "action": "retrofit", "deadline": "2025-12-31",
            "effect_tce": "1000", "effect_co2_t": "2769", "effect_basis": "estimate",
            "status": "planned", "source": "test", "wedge_group": f"group {key}"}
    return base | over


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory):
    url = f"duckdb:///{tmp_path_factory.mktemp('wm') / 'm.duckdb'}"
    store = open_store(url)
    save_measures(store, measures.parse_measures(pd.DataFrame([
        row("ORD-1", ORDOS), row("BAO-1", BAOTOU, deadline="2030-12-31")])), user="t")
    users = StoreUsers(store)
    users.add_user(user=make_user("ana", PASSWORD, "analyst", scope=f"league:{ORDOS}"))
    users.add_user(user=make_user("rev", PASSWORD, "reviewer"))
    app = create_app(data=StoreData(store, inputs=ROOT / "examples"), users=users,
                     settings=WebSettings(environment="test",
                                          secret_key="test-secret-0123456789"))
    yield app
    store.close()


def client_of(app, who: str) -> TestClient:
    client = TestClient(app)
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/login", data={"username": who, "password": PASSWORD,
                                         "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    return client


def test_a_league_analyst_reads_its_league_only(app_client) -> None:
    client = client_of(app_client, "ana")
    rows = client.get("/api/measures/registry").json()
    assert [r["measure_id"] for r in rows] == ["ORD-1"]
    overdue = client.get("/api/measures/overdue?as_of=2026-01-01").json()
    assert [(r["measure_id"], r["days_overdue"], r["deadline"]) for r in overdue] == [
        ("ORD-1", 1, "2025-12-31")]
    assert "BAO-1" not in client.get("/measures?draws=20&lang=en").text
    # the wedges are the region's: Baotou's measure is in them, but not by its name
    wedges = {r["group"]: r for r in client.get(
        "/api/measures/wedges?draws=0&year=2031&scenario=baseline").json()}
    assert set(wedges) == {"group ORD-1", "other measures", "total"}
    assert wedges["other measures"]["co2_t"] == 2769.0


def test_the_reviewer_sees_the_region_and_the_wedges(app_client) -> None:
    client = client_of(app_client, "rev")
    assert {r["measure_id"] for r in client.get("/api/measures/registry").json()} == {
        "ORD-1", "BAO-1"}
    wedges = {r["group"]: r for r in client.get(
        "/api/measures/wedges?draws=0&year=2030&scenario=baseline").json()}
    # ORD-1 overdue since 2025: counts from 2026; BAO-1 due 2030: counts from 2031
    assert wedges["group ORD-1"]["co2_t"] == 2769.0
    assert wedges["group BAO-1"]["co2_t"] == 0.0
    assert wedges["total"]["measures"] == 2
    assert client.get("/api/measures/nothing").status_code == 404
    assert client.get("/api/measures/wedges?scenario=nope").status_code == 404
    page_zh = client.get("/measures?draws=20&lang=zh").text
    assert "逾期未完成措施" in page_zh and "chart-wedges" in page_zh
    page_en = client.get("/measures?draws=20&lang=en").text
    assert "Overdue measures" in page_en and "BAO-1" in page_en


def test_the_registry_downloads_as_xlsx_and_reads_back(app_client, tmp_path: Path) -> None:
    client = client_of(app_client, "rev")
    answer = client.get("/api/measures/registry?format=xlsx")
    assert answer.status_code == 200
    path = tmp_path / "r.xlsx"
    path.write_bytes(answer.content)
    from dualcontrol.fileio import read_table

    again = measures.parse_measures(read_table(path), file=str(path))
    assert sorted(again["measure_id"]) == ["BAO-1", "ORD-1"]
    assert set(again["deadline"]) == {dt.date(2025, 12, 31), dt.date(2030, 12, 31)}
