"""The quarterly bulletin: year-to-date sums, changes and the commentary's figures."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dualcontrol import bulletin
from dualcontrol.cli import app
from dualcontrol.errors import InputError


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, small_demo_tables) -> str:
    """Return the URL of a DuckDB store holding the small demo data."""
    from dualcontrol.demo import _load
    from dualcontrol.store import open_store

    url = f"duckdb:///{tmp_path_factory.mktemp('bulletin') / 'b.duckdb'}"
    with open_store(url) as store:
        _load(store, small_demo_tables, "small-demo", 2025)
    return url


def quarterly(rows: list[tuple[str, int, int, float, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["league", "year", "quarter", "energy_tce", "co2_t"])
    frame["controlled_tce"] = frame["energy_tce"] * 0.5
    frame["feedstock_tce"] = 0.0
    frame["renewable_tce"] = 0.0
    return frame


# Two leagues, two years; quarters 1-3 to date, quarter 4 must be left out for Q3.
ROWS = [("A", 2023, q, 100.0, 200.0) for q in (1, 2, 3, 4)] + \
       [("A", 2024, q, 110.0, 210.0) for q in (1, 2, 3, 4)] + \
       [("B", 2023, q, 50.0, 80.0) for q in (1, 2, 3, 4)] + \
       [("B", 2024, q, 40.0, 100.0) for q in (1, 2, 3)] + [("B", 2024, 4, 999.0, 999.0)]


def test_year_to_date_by_hand() -> None:
    table = bulletin.year_to_date(quarterly(ROWS), level="league", year=2024, quarter=3)
    a = table.set_index("league").loc["A"]
    # A: 3 x 110 = 330 tce in 2024 Q1-Q3 against 3 x 100 = 300 in 2023 -> +10 %
    assert a["energy_tce"] == 330.0 and a["energy_tce_prev"] == 300.0
    assert a["energy_tce_change_pct"] == pytest.approx(10.0)
    b = table.set_index("league").loc["B"]
    # B: 3 x 40 = 120 against 150 -> -20 %; CO2 300 against 240 -> +25 %
    assert b["energy_tce_change_pct"] == pytest.approx(-20.0)
    assert b["co2_t_change_pct"] == pytest.approx(25.0)


def test_commentary_states_the_numbers() -> None:
    leagues = quarterly(ROWS)
    region = leagues.assign(region="R").groupby(["region", "year", "quarter"], as_index=False)[
        ["energy_tce", "co2_t", "controlled_tce", "feedstock_tce", "renewable_tce"]].sum()
    barometer = pd.DataFrame([{"region": "A", "indicator": "energy_intensity", "value": 1.0,
                               "requirement": 0.9, "gap": 0.1, "rating": "red"},
                              {"region": "B", "indicator": "energy_intensity", "value": 0.8,
                               "requirement": 0.9, "gap": -0.1, "rating": "green"}])
    result = bulletin.bulletin(leagues, region, barometer, "2024-Q3")
    text = " ".join(result.commentary)
    # region: 330 + 120 = 450 tce = 0.045 万tce against 450 in 2023 -> 0.0 %
    assert "0.0 万tce" in text and "rose 0.0 %" in text
    # A used 330 of 450 = 73.3 %
    assert "A used the most energy, 73.3 %" in text
    assert "A (energy_intensity)" in text and "1 of 2 ratings are on track (green)" in text


def test_bulletin_needs_a_quarter_with_data() -> None:
    with pytest.raises(InputError, match="quarterly"):
        bulletin.parse_quarter("2024-07")
    with pytest.raises(InputError, match="no data"):
        bulletin.year_to_date(quarterly(ROWS), level="league", year=2030, quarter=1)


@pytest.mark.parametrize("fmt", ["html", "xlsx"])
def test_report_command_writes_the_bulletin(tmp_path, fmt, demo_db, monkeypatch) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", demo_db)
    out = tmp_path / f"b.{fmt}"
    result = CliRunner().invoke(app, ["report", "--period", "2024-Q4", "--format", fmt,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "the region used" in result.output
    if fmt == "html":
        html = out.read_text("utf-8")
        assert 'id="commentary"' in html and 'id="leagues"' in html
        assert "https://" not in html.split("<script", 1)[0]  # no external stylesheet/font
    else:
        sheets = pd.read_excel(io.BytesIO(out.read_bytes()), sheet_name=None)
        assert set(sheets) == {"commentary", "barometer", "region", "leagues"}


@pytest.mark.browser
def test_report_pdf_printed_by_chromium(tmp_path, demo_db, monkeypatch) -> None:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's chromium is not installed")
    monkeypatch.setenv("DUALCONTROL_DB", demo_db)
    out = tmp_path / "b.pdf"
    result = CliRunner().invoke(app, ["report", "--period", "2024-Q4", "--format", "pdf",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:5] == b"%PDF-"


def test_carbon_section_by_hand() -> None:
    """Issue 17: the bulletin's carbon budgets of the year, region and leagues only, with
    remaining = budget - actual - reserved, and the leagues that overdraw named."""
    budgets = pd.DataFrame([
        # region: 1000 - 900 - 30 = 70 (10^4 t: 0.1, 0.09, 0.003, 0.007)
        {"region_code": "150000", "region_name": "R", "level": "region", "period": "2026",
         "budget_co2_t": 1000.0, "actual_co2_t": 900.0, "reserved_co2_t": 30.0,
         "remaining_co2_t": 70.0, "actual_basis": "b", "rule_id": "r"},
        {"region_code": "150100", "region_name": "A", "level": "league", "period": "2026",
         "budget_co2_t": 600.0, "actual_co2_t": 620.0, "reserved_co2_t": 0.0,
         "remaining_co2_t": -20.0, "actual_basis": "b", "rule_id": "r"},
        {"region_code": "150200", "region_name": "B", "level": "league", "period": "2026",
         "budget_co2_t": 400.0, "actual_co2_t": 280.0, "reserved_co2_t": 30.0,
         "remaining_co2_t": 90.0, "actual_basis": "b", "rule_id": "r"},
        {"region_code": "150200", "region_name": "B", "level": "league", "period": "2027",
         "budget_co2_t": 410.0, "actual_co2_t": 280.0, "reserved_co2_t": 30.0,
         "remaining_co2_t": 100.0, "actual_basis": "b", "rule_id": "r"},
        {"region_code": "150202", "region_name": "C", "level": "county", "period": "2026",
         "budget_co2_t": 40.0, "actual_co2_t": 80.0, "reserved_co2_t": 0.0,
         "remaining_co2_t": -40.0, "actual_basis": "b", "rule_id": "r"},
    ])
    table, lines = bulletin.carbon_section(budgets, 2026)
    assert table["region_name"].tolist() == ["R", "A", "B"]
    assert (table["budget_co2_t"] - table["actual_co2_t"] - table["reserved_co2_t"]
            == table["remaining_co2_t"]).all()
    assert "0.1 万t CO2 for the region" in lines[0] and "0.0 万t remaining" in lines[0]
    assert lines[1] == "1 leagues overdraw their carbon budget: A."
    assert bulletin.carbon_section(budgets, 2031)[0].empty
