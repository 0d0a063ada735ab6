"""API and page of carbon budgets and the project pipeline on the small store.

Expected figures are the library's for the same store (never typed in).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import WEB_PASSWORD, WEB_USERS, web_world
from dualcontrol import datasets, review

PASSWORD, NAMES = WEB_PASSWORD, WEB_USERS


@pytest.fixture(scope="module")
def world(small_store_url: str):
    with web_world(small_store_url) as made:
        yield {**made, "client": TestClient(made["app"])}


def auth(world, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][who]}"}


def test_reviewer_adds_and_approves_and_the_budget_reserves_it(world) -> None:
    client, league = world["client"], world["league"]
    new = {"code": "WEB-1", "name": "web test", "league_code": league, "energy_tce": 5000,
           "co2_t": 12345, "reviewed_on": "2026-02-01"}
    assert client.post("/api/projects", json=new,
                       headers=auth(world, "region")).status_code == 403
    answer = client.post("/api/projects", json=new, headers=auth(world, "reviewer"))
    assert answer.status_code == 201, answer.text
    moved = client.post("/api/projects/WEB-1/status", json={"status": "approved",
                                                            "on": "2026-03-10"},
                        headers=auth(world, "reviewer"))
    assert moved.status_code == 200 and moved.json()["approved_on"] == "2026-03-10"
    rows = client.get("/api/carbon/budgets?period=2026", headers=auth(world, "region")).json()
    mine = next(r for r in rows if r["region_code"] == league)
    want = datasets.carbon_budget_table(world["store"], as_of=date.today())
    want = want[(want["region_code"] == league) & (want["period"] == "2026")].iloc[0]
    assert mine["reserved_co2_t"] == pytest.approx(want["reserved_co2_t"])
    assert mine["reserved_co2_t"] >= 12345
    assert mine["remaining_co2_t"] == pytest.approx(want["remaining_co2_t"], rel=1e-12)
    # the league analyst reads its own league only
    own = client.get("/api/carbon/budgets?period=2026", headers=auth(world, "league")).json()
    assert {r["region_code"] for r in own} == {league}
    listed = client.get("/api/projects", headers=auth(world, "league")).json()
    assert {p["league_code"] for p in listed} == {league}


def test_illegal_move_is_422_and_not_stored(world) -> None:
    client, league = world["client"], world["league"]
    client.post("/api/projects", json={"code": "WEB-2", "name": "web test 2",
                                       "league_code": league, "energy_tce": 1, "co2_t": 1,
                                       "reviewed_on": "2026-02-01"},
                headers=auth(world, "administrator"))
    answer = client.post("/api/projects/WEB-2/status", json={"status": "in_operation",
                                                             "on": "2026-03-01"},
                         headers=auth(world, "administrator"))
    assert answer.status_code == 422
    assert "cannot move from reviewed to in_operation" in answer.text
    held = client.get("/api/projects?status=reviewed", headers=auth(world, "reviewer")).json()
    assert "WEB-2" in {p["code"] for p in held}


def test_review_api_gives_both_verdicts_with_the_stores_carbon_budget(world) -> None:
    text = Path(__file__).parents[1] / "examples/projects/ferrosilicon_ulanqab.yaml"
    answer = world["client"].post("/api/reviews", json=review.read_mapping(text),
                                  headers=auth(world, "reviewer"))
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["verdict"] in review.VERDICTS
    assert got["carbon"]["verdict"] in review.CARBON_VERDICTS
    budgets = datasets.carbon_budget_table(world["store"], as_of=date.today())
    ulanqab = budgets[(budgets["region_code"] == "150900") & (budgets["period"] == "2026")]
    assert got["carbon"]["budget"]["remaining_co2_t"] == pytest.approx(
        float(ulanqab["remaining_co2_t"].iloc[0]), rel=1e-12)


def test_carbon_page_in_chinese_shows_budgets_and_pipeline(world) -> None:
    client = world["client"]
    form = client.get("/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    client.post("/login", data={"username": NAMES["reviewer"], "password": PASSWORD,
                                "csrf_token": token})
    page = client.get("/carbon?lang=zh")
    assert page.status_code == 200
    assert "碳预算" in page.text and 'id="carbon-budget-table"' in page.text
    assert 'id="pipeline-table"' in page.text and "WEB-1" in page.text
    assert "项目预留" in page.text
