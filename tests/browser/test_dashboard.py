"""The dashboard in Debian's Chromium: roles, tile map, upload errors, review, no egress."""

from __future__ import annotations

import pandas as pd
import pytest

from dualcontrol import datasets
from dualcontrol.assessment import prepare_accounts, progress
from dualcontrol.regions import REGION_CODE
from dualcontrol.web.access import Data, may
from dualcontrol.web.figures import RATING_COLOURS

from .conftest import login, screenshot

pytestmark = pytest.mark.browser

USERS = ["demo-administrator", "demo-region-analyst", "demo-league-analyst", "demo-reporter",
         "demo-reviewer", "demo-public"]


def rgb(hex_colour: str) -> str:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


def expected_ratings(site: dict) -> dict[str, str]:
    """The energy-intensity rating of each league as the assessment computes it."""
    store = site["store"]
    accounts = prepare_accounts(pd.concat([datasets.region_accounts(store, level=lv)
                                           for lv in ("region", "league")]))
    rated = progress(accounts, year=int(accounts["year"].max()))
    rated = rated[rated["indicator"] == "energy_intensity"]
    return dict(zip(rated["region_code"], rated["rating"], strict=True))


@pytest.mark.parametrize("username", USERS)
def test_each_role_logs_in_and_tile_map_matches_assessment(page, server, site,
                                                           username) -> None:
    login(page, server, username)
    page.goto(f"{server}/?lang=en")
    page.wait_for_selector("#tilemap .tile")
    tiles = page.eval_on_selector_all(
        "#tilemap .tile",
        "els => els.map(e => [e.dataset.code, e.dataset.rating,"
        " getComputedStyle(e).backgroundColor])")
    assert len(tiles) == 12
    expected = expected_ratings(site)
    # the written access model (web/access.py) says whose barometer the role may read;
    # the others are withheld: grey, no figure
    principal = site["users"].get_user(username=username).principal
    shown = {code for code, _, _ in tiles
             if may(principal, Data.assessment, node={"region": REGION_CODE, "league": code})}
    if username in ("demo-administrator", "demo-region-analyst", "demo-reviewer"):
        assert len(shown) == 12
    elif username == "demo-league-analyst":
        assert shown == {site["league"]}
    else:
        assert not shown
    for code, rating, colour in tiles:
        want = expected.get(code, "no_data") if code in shown else "withheld"
        assert rating == want, code
        assert colour == rgb(RATING_COLOURS.get(want, "#9e9e9e")), code
    if username == "demo-administrator":
        page.wait_for_selector("#chart-region .main-svg")
        screenshot(page, "overview_en")
        page.click("#lang-zh")
        page.wait_for_selector("#tilemap .tile")
        assert "总览" in page.inner_text("main h1")
        screenshot(page, "overview_zh")


def test_league_page_has_charts_and_is_scoped(page, server, site) -> None:
    login(page, server, "demo-league-analyst")
    page.goto(f"{server}/league/{site['league']}?lang=en")
    for chart in ("#chart-trend", "#chart-mix", "#chart-co2"):
        page.wait_for_selector(f"{chart} .main-svg")
    screenshot(page, "league")
    # a neighbour's page opens with its published yearly totals only: its enterprises
    # are not listed (web/access.py: accounts below the league are scoped)
    answer = page.goto(f"{server}/league/{site['other_league']}?lang=en")
    assert answer.status == 200
    own_enterprises = datasets.energy_reports(site["store"])
    neighbour = set(own_enterprises.loc[own_enterprises["league_code"] == site["other_league"],
                                        "enterprise_uscc"])
    text = page.content()
    assert neighbour and not any(uscc in text for uscc in neighbour)


def test_enterprise_page_for_reporter(page, server, site) -> None:
    login(page, server, "demo-reporter")
    page.goto(f"{server}/enterprise/{site['own']}?lang=en")
    page.wait_for_selector("#chart-trend .main-svg")
    page.wait_for_selector("#chart-mix .main-svg")
    screenshot(page, "enterprise")


def test_upload_with_bad_row_shows_the_error(page, server, site, tmp_path) -> None:
    login(page, server, "demo-reporter")
    rows = datasets.energy_reports(site["store"], enterprise=site["own"])
    rows = rows[rows["period"] == rows["period"].max()].reset_index(drop=True)
    frame = pd.DataFrame({"统一社会信用代码": rows["enterprise_uscc"],
                          "行政区划代码": rows["county_code"], "统计期": rows["period"],
                          "能源名称": rows["carrier"], "消费量": rows["quantity"].astype(str),
                          "计量单位": rows["unit"], "用途": rows["use"],
                          "来源": rows["origin"]})
    frame.loc[1, "消费量"] = "twelve"
    bad = tmp_path / "december.csv"
    frame.to_csv(bad, index=False, encoding="gb18030")
    page.goto(f"{server}/upload?lang=en")
    page.set_input_files("#upload-file", str(bad))
    page.click("#upload-submit")
    page.wait_for_selector("#problems-table")
    cells = page.eval_on_selector_all("#problems-table tbody tr",
                                      "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
    # second data row = spreadsheet row 3
    assert cells[0][0] == "3" and "quantity" in cells[0][1] and cells[0][2] == "twelve"
    screenshot(page, "upload_errors")


def test_reviewer_reviews_a_project(page, server) -> None:
    login(page, server, "demo-reviewer")
    page.goto(f"{server}/review?lang=en")
    assert "ferrosilicon" in page.input_value("#project-text")
    page.click("#review-submit")
    page.wait_for_selector("#verdict")
    verdict = page.inner_text("#verdict")
    assert verdict in ("approve", "approve_with_conditions", "reject")
    assert page.eval_on_selector_all("#reasons-table tbody tr", "r => r.length") > 0
    screenshot(page, "review")


def test_benchmarking_and_outlook_pages_render_charts(page, server, site) -> None:
    login(page, server, "demo-administrator")
    if site["data"].unit_benchmarks() is not None:
        page.goto(f"{server}/benchmarking?lang=en")
        page.wait_for_selector("#chart-dist-0 .main-svg")
        screenshot(page, "benchmarking")
    page.goto(f"{server}/outlook?lang=en")
    page.wait_for_selector("#chart-lmdi .main-svg")
    page.wait_for_selector("#chart-fan .main-svg")
    assert "peak" in page.inner_text("#chart-fan")
    screenshot(page, "outlook")


def test_public_visitor_cannot_open_enterprise_page(page, server, site) -> None:
    page.goto(f"{server}/?lang=en")
    page.wait_for_selector("#tilemap .tile")
    answer = page.goto(f"{server}/enterprise/{site['own']}")
    assert answer.status == 401  # not logged in: the page offers the login
    assert "/login" in page.content()


def test_api_reference_is_local(page, server) -> None:
    page.goto(f"{server}/docs?lang=en")
    page.wait_for_selector("#op-read_accounts_api_accounts_get")
    screenshot(page, "api_docs")


def test_measures_page_renders_the_wedges(page, server, site) -> None:
    from dualcontrol.demo_measures import load_demo_measures

    load_demo_measures(site["data"].store, user="demo")
    login(page, server, "demo-administrator")
    page.goto(f"{server}/measures?lang=en&draws=50")
    page.wait_for_selector("#chart-wedges .main-svg")
    assert "Overdue measures" in page.inner_text("body")
    screenshot(page, "measures")
