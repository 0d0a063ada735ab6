"""Each page in Chinese and English, on a desktop and at phone width, in Debian's Chromium.

Screenshots are kept as test artefacts in ``artifacts/screenshots/office`` (the path is
printed). Also: the map draws the twelve leagues of regions.csv in their ratings'
colours, tables sort and page, and no page is wider than a phone's screen.
"""

from __future__ import annotations

import json
import re

import pytest

from dualcontrol.reference import load_table
from dualcontrol.web.figures import RATING_COLOURS

from .conftest import SCREENSHOTS, login

pytestmark = pytest.mark.browser

OFFICE = SCREENSHOTS / "office"
PAGES = {
    "overview": "/",
    "league": "/league/{league}",
    "why": "/why/{league}/energy_total",
    "enterprise": "/enterprise/{own}",
    "benchmarking": "/benchmarking",
    "outlook": "/outlook?draws=50",
    "review": "/review",
    "bulletin": "/bulletin",
    "upload": "/upload",
    "docs": "/docs",
}
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def shoot(page, name: str) -> None:
    OFFICE.mkdir(parents=True, exist_ok=True)
    path = OFFICE / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_page_in_each_language_and_width(browser, server, site, lang, viewport) -> None:
    context = browser.new_context(viewport=VIEWPORTS[viewport],
                                  locale="zh-CN" if lang == "zh" else "en-US")
    outside: list[str] = []
    context.on("request", lambda r: outside.append(r.url)
               if not r.url.startswith((server, "data:", "blob:", "about:")) else None)
    page = context.new_page()
    try:
        login(page, server, "demo-administrator")
        for name, path in PAGES.items():
            url = server + path.format(league=site["league"], own=site["own"])
            answer = page.goto(url + ("&" if "?" in url else "?") + f"lang={lang}")
            assert answer.status == 200, (name, answer.status)
            page.wait_for_load_state("networkidle")
            if name == "overview":
                page.wait_for_selector("#leaguemap[data-drawn]")
            title = page.inner_text("main h1")
            if lang == "zh":  # Chinese headings on the Chinese pages (API reference aside)
                assert any("\u4e00" <= ch <= "\u9fff" for ch in title) or name == "docs", \
                    (name, title)
            if viewport == "phone":  # nothing wider than the screen: tables scroll inside
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= VIEWPORTS["phone"]["width"] + 1, (name, width)
            shoot(page, f"{name}_{lang}_{viewport}")
    finally:
        context.close()
    assert outside == [], "requests left 127.0.0.1"


def test_map_draws_the_twelve_leagues_in_their_colours(page, server, site) -> None:
    login(page, server, "demo-region-analyst")
    page.goto(f"{server}/?lang=zh")
    page.wait_for_selector("#leaguemap[data-drawn]")
    matched = json.loads(page.get_attribute("#leaguemap", "data-matched"))
    regions = load_table("regions")
    assert {code for code, _, _ in matched} == set(regions.loc[regions["level"] == "league",
                                                               "code"])
    data = site["data"]
    year = int(data.accounts(level="league")["year"].max())
    barometer = data.barometer(year=year)
    want = barometer[(barometer["indicator"] == "energy_intensity")
                     & (barometer["level"] == "league")]
    assert {c: r for c, r, _ in matched} == dict(zip(want["region_code"].astype(str),
                                                     want["rating"], strict=True))
    assert all(colour == RATING_COLOURS.get(rating, "#cfd6dc") for _, rating, colour in matched)
    # the SVG renderer drew the leagues' areas in those colours
    fills = page.eval_on_selector_all("#leaguemap svg path",
                                      "ps => ps.map(p => p.getAttribute('fill'))")
    drawn = {f.lower() for f in fills if f}
    assert {RATING_COLOURS[r].lower() for _, r, _ in matched if r in RATING_COLOURS} <= drawn
    # a click on a league opens why it has its rating
    page.click("#headline-table a.chip >> nth=3")
    page.wait_for_url("**/why/**")
    assert page.locator("#why-rules").count() == 1


def test_tables_sort_and_page(page, server, site) -> None:
    login(page, server, "demo-administrator")
    page.goto(f"{server}/league/{site['league']}?lang=en")
    table = "#children-table"
    page.wait_for_selector(table)
    rows = page.eval_on_selector_all(f"{table} tbody tr", "rs => rs.length")
    visible = page.eval_on_selector_all(f"{table} tbody tr:not([hidden])", "rs => rs.length")
    if rows > 20:
        assert visible == 20
        assert page.locator(f"{table} + .pager, .table-wrap + .pager").count() >= 1
    # sort by energy under control, ascending then descending
    header = f"{table} th[data-col='controlled_tce']"
    page.click(header)
    values = page.eval_on_selector_all(
        f"{table} tbody tr:not([hidden]) td:nth-child(5)",
        "cs => cs.map(c => parseFloat(c.dataset.sort))")
    assert values == sorted(values)
    page.click(header)
    values = page.eval_on_selector_all(
        f"{table} tbody tr:not([hidden]) td:nth-child(5)",
        "cs => cs.map(c => parseFloat(c.dataset.sort))")
    assert values == sorted(values, reverse=True)


def test_bulletin_pdf_is_a4_in_chinese_with_an_embedded_cjk_font(page, server) -> None:
    login(page, server, "demo-administrator")
    answer = page.request.get(f"{server}/bulletin?format=pdf&lang=zh")
    assert answer.status == 200
    pdf = answer.body()
    assert pdf[:5] == b"%PDF-"
    # A4 is 210 x 297 mm = 595.28 x 841.89 pt; Chromium writes it to 0.5 pt
    boxes = {tuple(float(v) for v in box.split())
             for box in re.findall(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", pdf)}
    assert boxes and all(abs(b[2] - 595.28) < 0.5 and abs(b[3] - 841.89) < 0.5 for b in boxes)
    # the subset font's name (a TrueType font's /BaseFont, or the /FontName of the Type 3
    # font Chromium writes for an OpenType CJK font such as Noto Sans CJK)
    fonts = set(re.findall(rb"/(?:BaseFont|FontName)\s*/[A-Z]{6}\+([\w-]+)", pdf))
    assert any(re.search(rb"CJK|WenQuanYi|Noto", f) for f in fonts), fonts
    OFFICE.mkdir(parents=True, exist_ok=True)
    (OFFICE / "bulletin_zh.pdf").write_bytes(pdf)
    print(f"bulletin: {OFFICE / 'bulletin_zh.pdf'}")
    html = page.request.get(f"{server}/bulletin?format=html&lang=zh").text()
    commentary = html.split('id="commentary">', 1)[1].split("</ul>", 1)[0]
    assert "万吨标准煤" in commentary and not re.search(r"\b(?:used|rose|fell|ratings)\b",
                                                      commentary)
