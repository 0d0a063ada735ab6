"""Terminal tables are readable at 100 columns: key columns and whole numbers stay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from dualcontrol.cli import app, output

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory, small_demo_tables: dict) -> str:
    from dualcontrol.demo import _load
    from dualcontrol.store import open_store

    url = f"duckdb:///{tmp_path_factory.mktemp('store') / 's.duckdb'}"
    with open_store(url) as opened:
        _load(opened, small_demo_tables, "small-demo", 2025)
    return url


def at_100(monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setattr(output.console, "width", 100)
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{result.exception!r}\n{result.output}"
    widths = [cell_len(line) for line in result.stdout.splitlines()]
    assert max(widths) <= 100, result.stdout
    return result.stdout


def test_account_by_league_keeps_league_year_and_whole_numbers(monkeypatch) -> None:
    monkeypatch.setenv("DUALCONTROL_FACTOR_YEARS", "nearest")  # 2023-2024: no IM factor
    out = at_100(monkeypatch, "account", str(EXAMPLES / "energy_use.csv"), "--gdp",
                 str(EXAMPLES / "gdp.csv"))
    assert "league" in out and "year" in out
    assert {"Ordos", "Baotou", "Hohhot", "Wuhai", "2023", "2024"} <= set(out.split())
    assert "(10^4" in out and "tce)" in out  # the unit of the scaled energy columns
    assert "77.8" in out  # Baotou 2023: 778,000 tce shown as 77.8 x 10^4 tce, not cut


def test_account_zh_headers_carry_units(monkeypatch) -> None:
    monkeypatch.setenv("DUALCONTROL_FACTOR_YEARS", "nearest")  # 2023-2024: no IM factor
    out = at_100(monkeypatch, "account", str(EXAMPLES / "energy_use.csv"), "--lang", "zh")
    assert "盟市" in out and "万吨标准煤" in out  # DRC units


def test_assess_keeps_region_indicator_rating_and_units(monkeypatch, store_url) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", store_url)
    out = at_100(monkeypatch, "assess", "--level", "league")
    for word in ("region", "indicator", "rating", "unit", "energy_total", "tce"):
        assert word in out, word
    assert any(r in out for r in ("red", "yellow", "green", "no_target", "no_data"))
    assert "[tce]" in out  # brackets of the budget title are not taken as markup


def test_reference_and_wide(monkeypatch) -> None:
    out = at_100(monkeypatch, "reference", "carriers")
    assert "raw_coal" in out and "code" in out
    assert "not shown at 100 columns" in runner.invoke(app, ["reference", "carriers"]).stderr
    monkeypatch.setattr(output.console, "width", 400)
    wide = runner.invoke(app, ["--wide", "reference", "carriers"])
    assert wide.exit_code == 0
    assert "edition" in wide.stdout
    output.set_wide(False)


def test_assess_zh_gives_totals_in_drc_units(monkeypatch, store_url) -> None:
    # Totals are shown in 10^4 units like every other table: a league's energy total of
    # V tce is V / 10^4 万吨标准煤 (one decimal), its CO2 total in 万吨CO2.
    monkeypatch.setenv("DUALCONTROL_DB", store_url)
    records = runner.invoke(app, ["assess", "--level", "league", "--year", "2025", "--json"])
    assert records.exit_code == 0, records.output
    rows = [r for r in json.loads(records.stdout)
            if r["indicator"] == "energy_total" and r["value"] is not None]
    assert rows and rows[0]["unit"] == "tce"
    out = at_100(monkeypatch, "assess", "--level", "league", "--year", "2025", "--lang", "zh")
    assert f"{rows[0]['value'] / 1e4:,.1f}" in out
    assert f"{rows[0]['value']:,.1f}" not in out
    assert "万吨标准煤" in out
