"""Stored reports under the official method (issue 15): electricity sent out and a
measured net calorific value go through the template, the store and back into the
accounts, on both stores. Hand calculations as in tests/test_accounting_official.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dualcontrol.datasets import energy_reports, region_accounts
from dualcontrol.errors import InputError
from dualcontrol.factor_policy import set_factor_years
from dualcontrol.ingest import ingest_file
from dualcontrol.regions import make_uscc
from dualcontrol.report_templates import template_headers

PLANT = make_uscc("150602", 11)  # Dongsheng district, Ordos
CUSTOMER = make_uscc("150621", 12)  # Dalad banner, Ordos
TODAY = dt.date(2026, 11, 24)


def write(path: Path, rows: list[list[str]]) -> Path:
    header = template_headers("energy", "zh")
    lines = [",".join(r) for r in [header, *rows]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_template_has_the_measured_ncv_column() -> None:
    assert "低位发热量(千焦/千克)" in template_headers("energy", "zh")
    assert "Net calorific value (kJ/kg)" in template_headers("energy", "en")


def test_sent_out_and_measured_ncv_round_trip_through_the_store(store, tmp_path: Path) -> None:
    set_factor_years("nearest")  # 2023: no Inner Mongolia factor; 2022's is asked for
    rows = [
        # a lignite plant: 10,000 t at 3,500 kcal/kg = 14,653.8 kJ/kg -> 0.5 tce/t
        [PLANT, "甲电厂", "150602", "2023-01", "褐煤", "10000", "吨", "加工转换投入", "外购",
         "14653.8"],
        [PLANT, "甲电厂", "150602", "2023-01", "电力", "1000", "万千瓦时", "外供", "自产", ""],
        [CUSTOMER, "乙公司", "150621", "2023-01", "电力", "600", "万千瓦时", "", "", ""],
    ]
    result = ingest_file(store, write(tmp_path / "e.csv", rows), user="clerk", today=TODAY)
    assert result.rows_stored == 3
    stored = energy_reports(store)
    lignite = stored[stored["carrier"] == "lignite"].iloc[0]
    assert lignite["ncv_gj_per_t"] == pytest.approx(14.6538)
    assert set(stored["use"]) == {"transformation_input", "supplied", "combustion"}

    region = region_accounts(store, level="region", years=[2023]).iloc[0]
    lignite_tce = 10_000 * 0.5  # 5,000 tce
    sent_tce = 1e7 * 0.0001229  # 1,229 tce
    bought_tce = 6e6 * 0.0001229  # 737.4 tce
    assert region["energy_tce"] == pytest.approx(lignite_tce - sent_tce + bought_tce)
    assert region["supplied_tce"] == pytest.approx(sent_tce)

    # the same file again changes nothing; stored rows without an NCV keep their hash
    again = ingest_file(store, write(tmp_path / "e.csv", rows), user="clerk", today=TODAY)
    assert again.revisions_created == 0 and again.unchanged_periods == 2


def test_bad_booking_is_refused_with_row_and_nothing_stored(store, tmp_path: Path) -> None:
    rows = [[CUSTOMER, "乙公司", "150621", "2023-01", "原煤", "10", "吨", "", "可再生", ""]]
    with pytest.raises(InputError) as exc:
        ingest_file(store, write(tmp_path / "bad.csv", rows), user="clerk", today=TODAY)
    problem = exc.value.problems[0]
    assert (problem.row, problem.field) == (2, "origin")
    assert energy_reports(store).empty
