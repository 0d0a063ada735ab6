"""The dashboard in Debian's Chromium: roles, tile map, upload errors, review, no egress."""

from __future__ import annotations

import pandas as pd
import pytest

from dualcontrol.web.access import Role
from dualcontrol.web.figures import RATING_COLOURS

from .conftest import BAROMETER, ROOT, login, screenshot

pytestmark = pytest.mark.browser


def rgb(hex_colour: str) -> str:
    value = hex_colour.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_logs_in_and_tile_map_matches_assessment(page, server, role) -> None:
    login(page, server, role)
    page.goto(f"{server}/?lang=en")
    page.wait_for_selector("#tilemap .tile")
    tiles = page.eval_on_selector_all(
        "#tilemap .tile",
        "els => els.map(e => [e.dataset.league, e.dataset.rating,"
        " getComputedStyle(e).backgroundColor])")
    assert len(tiles) == 12
    intensity = BAROMETER[BAROMETER["indicator"] == "energy_intensity"]
    expected = dict(zip(intensity["region"], intensity["rating"], strict=True))
    for league, rating, colour in tiles:
        want = expected.get(league, "no_data")  # Wuhai is rated on the total only
        assert rating == want, league
        assert colour == rgb(RATING_COLOURS[want]), league
    if role == Role.administrator:
        page.wait_for_selector("#chart-region .main-svg")
        screenshot(page, "overview_en")
        page.click("#lang-zh")
        page.wait_for_selector("#tilemap .tile")
        assert "总览" in page.inner_text("main h1")
        screenshot(page, "overview_zh")


def test_league_page_has_charts_and_is_scoped(page, server) -> None:
    login(page, server, Role.analyst)
    page.goto(f"{server}/league/Ordos?lang=en")
    for chart in ("#chart-trend", "#chart-mix", "#chart-co2"):
        page.wait_for_selector(f"{chart} .main-svg")
    screenshot(page, "league_ordos")
    answer = page.goto(f"{server}/league/Baotou")
    assert answer.status == 403
    assert "Ordos" in page.inner_text("#error-message")


def test_enterprise_page_for_reporter(page, server) -> None:
    login(page, server, Role.reporter)
    page.goto(f"{server}/enterprise/Wuhai Ferroalloy Co.?lang=en")
    page.wait_for_selector("#chart-trend .main-svg")
    screenshot(page, "enterprise")


def test_upload_with_bad_row_shows_the_error(page, server, tmp_path) -> None:
    login(page, server, Role.reporter)
    energy = pd.read_csv(ROOT / "examples" / "energy_use.csv", dtype=str)
    rows = energy[(energy["enterprise"] == "Wuhai Ferroalloy Co.")
                  & (energy["period"] == "2024-12")].reset_index(drop=True)
    rows.loc[1, "quantity"] = "twelve"
    bad = tmp_path / "december.csv"
    rows.to_csv(bad, index=False)
    page.goto(f"{server}/upload?lang=en")
    page.set_input_files("#upload-file", str(bad))
    page.click("#upload-submit")
    page.wait_for_selector("#problems-table")
    cells = page.eval_on_selector_all("#problems-table tbody tr",
                                      "rows => rows.map(r => [...r.cells].map(c => c.innerText))")
    # second data row = spreadsheet row 3
    assert cells[0][:4] == ["3", "quantity", "twelve", "quantity is not a number"]
    screenshot(page, "upload_errors")


def test_reviewer_reviews_a_project(page, server) -> None:
    login(page, server, Role.reviewer)
    page.goto(f"{server}/review?lang=en")
    assert "ferrosilicon" in page.input_value("#project-text")
    page.click("#review-submit")
    page.wait_for_selector("#verdict")
    verdict = page.inner_text("#verdict")
    assert verdict in ("approve", "approve_with_conditions", "reject")
    assert page.eval_on_selector_all("#reasons-table tbody tr", "r => r.length") > 0
    screenshot(page, "review")


def test_benchmarking_and_outlook_pages_render_charts(page, server) -> None:
    login(page, server, Role.administrator)
    page.goto(f"{server}/benchmarking?lang=en")
    page.wait_for_selector("#chart-dist-0 .main-svg")
    assert page.eval_on_selector_all("#front-table tbody tr", "r => r.length") > 0
    screenshot(page, "benchmarking")
    page.goto(f"{server}/outlook?lang=en")
    page.wait_for_selector("#chart-lmdi .main-svg")
    page.wait_for_selector("#chart-fan .main-svg")
    assert "peak" in page.inner_text("#chart-fan")
    screenshot(page, "outlook")


def test_public_visitor_cannot_open_enterprise_page(page, server) -> None:
    page.goto(f"{server}/?lang=en")
    page.wait_for_selector("#tilemap .tile")
    answer = page.goto(f"{server}/enterprise/Wuhai Ferroalloy Co.")
    assert answer.status == 403


def test_api_reference_is_local(page, server) -> None:
    page.goto(f"{server}/docs?lang=en")
    page.wait_for_selector("#op-read_accounts_api_accounts_get")
    screenshot(page, "api_docs")
