"""The accounting commands as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualcontrol.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_convert_json_raw_coal_by_code_and_chinese_name() -> None:
    for name in ("raw_coal", "原煤"):
        result = run("convert", "1", "t", name, "--json")
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["tce"] == pytest.approx(0.7143)
        assert {"carrier", "quantity", "unit", "tce", "co2_t", "sources"} <= set(data)


def test_convert_electricity_both_methods() -> None:
    calorific = json.loads(run("convert", "10000", "kWh", "electricity", "--json").stdout)
    assert calorific["tce"] == pytest.approx(1.229)
    # 2020 coefficient from supply_coal_consumption.csv: 305.5 gce/kWh (unverified row)
    # (its CO2 needs the nearest year's factor: none is published for 2020)
    coal = json.loads(run("--factor-years", "nearest", "convert", "10000", "kWh",
                          "electricity", "--method", "coal-equivalent", "--year", "2020",
                          "--json").stdout)
    assert coal["tce"] == pytest.approx(10000 * 305.5e-6)
    assert "2020" in coal["sources"]["tce"]


def test_convert_wrong_unit_exits_non_zero_and_names_accepted_units() -> None:
    result = run("convert", "5", "kWh", "raw_coal")
    assert result.exit_code != 0
    assert "accepted: t, kg, 10^4 t" in result.stderr


def test_account_without_a_published_factor_year_is_refused_unless_asked(monkeypatch,
                                                                         caplog) -> None:
    # Issue 15: the example is of 2023-2024; Inner Mongolia's provincial factor is
    # published for 2022 only (grid_factors.csv). Refused, naming the file and the
    # option; with the option, one line says which year's factor stands in.
    refused = run("account", str(EXAMPLES / "energy_use.csv"))
    assert refused.exit_code == 2
    assert "inner_mongolia" in refused.stderr and "2023" in refused.stderr
    assert "grid_factors.csv" in refused.stderr and "--factor-years nearest" in refused.stderr
    from dualcontrol import reference

    monkeypatch.setattr(reference, "_substitutions_told", set())  # said once per process
    with caplog.at_level("WARNING", logger="dualcontrol.reference"):
        asked = run("--factor-years", "nearest", "account", str(EXAMPLES / "energy_use.csv"))
    assert asked.exit_code == 0, asked.output
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "2023 -> 2022" in said[0] and "as asked" in said[0]


def test_account_example_by_league() -> None:
    result = run("--factor-years", "nearest", "account", str(EXAMPLES / "energy_use.csv"),
                 "--gdp", str(EXAMPLES / "gdp.csv"), "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    leagues = {r["league"] for r in records}
    assert leagues == {"Ordos", "Baotou", "Hohhot", "Wuhai"}
    assert {r["year"] for r in records} == {2023, 2024}
    for r in records:
        assert r["controlled_tce"] == pytest.approx(
            r["energy_tce"] - r["feedstock_tce"] - r["renewable_tce"])
        assert r["intensity_tce_per_10k_yuan"] == pytest.approx(
            r["energy_tce"] / r["gdp_const_10k_yuan"])


def test_account_table_and_zh_headers() -> None:
    result = run("--factor-years", "nearest", "account", str(EXAMPLES / "energy_use.csv"),
                 "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "纳入控制能耗" in result.stdout


def test_account_bad_file_names_row_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("enterprise,period,carrier,quantity,unit\nE1,2022,raw_coal,1,t\n"
                   "E1,2022,raw_coal,-1,t\n", encoding="utf-8")
    result = run("account", str(bad))
    assert result.exit_code == 2
    assert "row 3" in result.stderr and "quantity" in result.stderr


def test_reference_carriers_lists_sources() -> None:
    result = run("reference", "carriers", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert all(r["source"] for r in rows)
    assert any(r["code"] == "raw_coal" for r in rows)
