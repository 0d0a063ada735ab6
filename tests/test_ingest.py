"""Tests of ingestion: encodings, headers, every bad-input case, revisions, audit,
all-or-nothing, streaming, a killed import and concurrent submissions, on both stores."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.datasets import energy_reports, region_accounts
from dualcontrol.errors import InputError
from dualcontrol.factor_policy import set_factor_years
from dualcontrol.ingest import ingest_file
from dualcontrol.regions import make_uscc
from dualcontrol.report_templates import template_headers, write_template
from dualcontrol.store import open_store

A = make_uscc("150602", 1)   # registered in Dongsheng district, Ordos
B = make_uscc("150621", 2)   # registered in Dalad banner, Ordos
TODAY = dt.date(2026, 11, 24)
ZH = ["统一社会信用代码", "企业名称", "行政区划代码", "统计期", "能源名称", "消费量", "计量单位",
      "用途", "来源"]
GOOD = [
    [A, "鄂尔多斯甲公司", "150602", "2023-01", "原煤", "1000", "吨", "燃料", "外购"],
    [A, "鄂尔多斯甲公司", "150602", "2023-01", "电力", "50", "万千瓦时", "", ""],
    [B, "达拉特乙公司", "150621", "2023-02", "天然气", "1,200", "万立方米", "原料", "外购"],
]


def write_csv(path: Path, rows: list[list[str]], *, encoding: str = "utf-8",
              header: list[str] = ZH) -> Path:
    lines = [",".join(f'"{c}"' if "," in c else c for c in r) for r in [header, *rows]]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def stored_rows(store) -> int:
    return int(store.read_sql("SELECT COUNT(*) AS n FROM energy_reports")["n"].iloc[0])


def nothing_stored(store) -> bool:
    counts = store.read_sql(
        "SELECT (SELECT COUNT(*) FROM energy_reports) AS e, "
        "(SELECT COUNT(*) FROM report_revisions) AS r, (SELECT COUNT(*) FROM submissions) AS s,"
        " (SELECT COUNT(*) FROM enterprises) AS n, "
        "(SELECT COUNT(*) FROM staging_energy_reports) AS g, "
        "(SELECT COUNT(*) FROM audit_log) AS a").iloc[0]
    return int(counts.sum()) == 0


def test_gbk_csv_with_chinese_headers_ingests(store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", GOOD, encoding="gbk")
    result = ingest_file(store, path, user="alice", today=TODAY)
    assert result.encoding == "gb18030"
    assert (result.rows_stored, result.revisions_created, result.new_enterprises) == (3, 2, 2)
    rows = energy_reports(store)
    gas = rows[rows["carrier"] == "natural_gas"].iloc[0]
    # "1,200" 万立方米 with a thousands separator is 1200 in unit 10^4 m3, used as feedstock
    assert (gas["quantity"], gas["unit"], gas["use"]) == (1200.0, "10^4 m3", "feedstock")
    assert set(rows["submitter"]) == {"alice"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_accepted_encodings(store, tmp_path: Path, encoding: str) -> None:
    result = ingest_file(store, write_csv(tmp_path / "e.csv", GOOD, encoding=encoding),
                         today=TODAY)
    assert result.rows_stored == 3


def test_english_headers(store, tmp_path: Path) -> None:
    header = template_headers("energy", "en")
    result = ingest_file(store, write_csv(tmp_path / "en.csv", GOOD, header=header),
                         today=TODAY)
    assert result.rows_stored == 3


def test_same_file_again_changes_nothing(store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", GOOD)
    ingest_file(store, path, today=TODAY)
    before = store.read_sql("SELECT COUNT(*) AS n FROM audit_log")["n"].iloc[0]
    again = ingest_file(store, path, today=TODAY)
    assert (again.revisions_created, again.unchanged_periods, again.submission_id) == (0, 2, None)
    assert store.read_sql("SELECT COUNT(*) AS n FROM submissions")["n"].iloc[0] == 1
    assert store.read_sql("SELECT COUNT(*) AS n FROM audit_log")["n"].iloc[0] == before


def test_resubmission_is_a_new_revision_with_audit(store, tmp_path: Path) -> None:
    ingest_file(store, write_csv(tmp_path / "v1.csv", GOOD), user="alice", today=TODAY)
    corrected = [r[:] for r in GOOD]
    corrected[0][5] = "1100"
    result = ingest_file(store, write_csv(tmp_path / "v2.csv", corrected), user="bob",
                         today=TODAY)
    # only A's January changed; B's February is as stored
    assert (result.revisions_created, result.unchanged_periods) == (1, 1)
    every = energy_reports(store, revisions="all")
    coal = every[every["carrier"] == "raw_coal"].sort_values("revision")
    assert coal["quantity"].tolist() == [1000.0, 1100.0]
    assert coal["revision"].tolist() == [1, 2]
    latest = energy_reports(store)
    assert latest.loc[latest["carrier"] == "raw_coal", "quantity"].tolist() == [1100.0]
    audit = store.read_sql("SELECT username, action, entity_key, before_json, after_json "
                           "FROM audit_log WHERE action = 'revise'")
    assert audit["username"].tolist() == ["bob"]
    assert audit["entity_key"].tolist() == [f"{A} 2023-01"]
    assert '"revision_id"' in audit["before_json"].iloc[0]
    assert "v2.csv" in audit["after_json"].iloc[0]


BAD_CASES = {
    "unknown carrier": (["煤气", "10", "吨"], "carrier", "unknown energy carrier"),
    "unknown unit": (["原煤", "10", "桶子"], "unit", "unknown unit"),
    "unit of the wrong dimension": (["原煤", "10", "kWh"], "unit", "does not fit"),
    "negative quantity": (["原煤", "-1", "吨"], "quantity", ">= 0"),
    "non-numeric quantity": (["原煤", "abc", "吨"], "quantity", "not a number"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_values_store_nothing(store, tmp_path: Path, case: str) -> None:
    (carrier, quantity, unit), field, why = BAD_CASES[case]
    rows = [r[:] for r in GOOD] + [[A, "鄂尔多斯甲公司", "150602", "2023-03", carrier, quantity,
                                    unit, "燃料", "外购"]]
    with pytest.raises(InputError) as info:
        ingest_file(store, write_csv(tmp_path / "bad.csv", rows), today=TODAY)
    problem = info.value.problems[0]
    assert (problem.row, problem.field) == (5, field)
    assert why in problem.message
    assert nothing_stored(store)


@pytest.mark.parametrize(("period", "why"), [
    ("2027-01", "in the future"),
    ("2026-12", "in the future"),
    ("2014-12", "outside the plan years"),
    ("2023-13", "not understood"),
])
def test_bad_periods_store_nothing(store, tmp_path: Path, period: str, why: str) -> None:
    rows = [r[:] for r in GOOD]
    rows[1][3] = period
    with pytest.raises(InputError) as info:
        ingest_file(store, write_csv(tmp_path / "bad.csv", rows), today=TODAY)
    assert [(p.row, p.field) for p in info.value.problems] == [(3, "period")]
    assert why in info.value.problems[0].message
    assert nothing_stored(store)


def test_wrong_check_character_stores_nothing(store, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD]
    bad = A[:-1] + ("0" if A[-1] != "0" else "1")
    rows[0][0] = bad
    with pytest.raises(InputError) as info:
        ingest_file(store, write_csv(tmp_path / "bad.csv", rows), today=TODAY)
    problem = info.value.problems[0]
    assert (problem.row, problem.field, problem.value) == (2, "uscc", bad)
    assert "check character" in problem.message
    assert nothing_stored(store)


@pytest.mark.parametrize(("uscc", "county", "why"), [
    (make_uscc("110105", 7), "150602", "issued outside Inner Mongolia"),
    (make_uscc("150200", 7), "150602", "does not cover 150602"),
    (A, "159999", "not a banner, county or district"),
])
def test_enterprise_not_in_the_region_stores_nothing(store, tmp_path: Path, uscc: str,
                                                     county: str, why: str) -> None:
    rows = [r[:] for r in GOOD] + [[uscc, "某公司", county, "2023-03", "原煤", "1", "吨", "", ""]]
    with pytest.raises(InputError) as info:
        ingest_file(store, write_csv(tmp_path / "bad.csv", rows), today=TODAY)
    assert why in str(info.value)
    assert info.value.problems[0].row == 5
    assert nothing_stored(store)


def test_enterprise_reported_in_another_region_is_refused(store, tmp_path: Path) -> None:
    ingest_file(store, write_csv(tmp_path / "ok.csv", GOOD), today=TODAY)
    rows = [[B, "达拉特乙公司", "150602", "2023-03", "原煤", "1", "吨", "", ""]]
    with pytest.raises(InputError, match="registered in 150621, not in 150602"):
        ingest_file(store, write_csv(tmp_path / "moved.csv", rows), today=TODAY)


def test_duplicated_rows_store_nothing(store, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD] + [GOOD[0][:]]
    rows[-1][5] = "999"
    with pytest.raises(InputError) as info:
        ingest_file(store, write_csv(tmp_path / "dup.csv", rows), today=TODAY)
    assert [p.row for p in info.value.problems] == [2, 5]
    assert all("duplicated row" in p.message for p in info.value.problems)
    assert nothing_stored(store)


def test_unsupported_encoding_stores_nothing(store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u16.csv", GOOD, encoding="utf-16")
    with pytest.raises(InputError, match="unsupported encoding"):
        ingest_file(store, path, today=TODAY)
    big5 = tmp_path / "latin.csv"
    big5.write_bytes(",".join(ZH).encode("utf-8") + b"\n" + b"caf\xe9\n")
    with pytest.raises(InputError, match="unsupported encoding"):
        ingest_file(store, big5, today=TODAY)
    assert nothing_stored(store)


@pytest.mark.parametrize("content", [b"", ",".join(ZH).encode() + b"\n"])
def test_empty_file_stores_nothing(store, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=r"empty|no data rows"):
        ingest_file(store, path, today=TODAY)
    assert nothing_stored(store)


def test_unknown_and_missing_headers_all_listed(store, tmp_path: Path) -> None:
    header = ["统一社会信用代码", "企业名称", "地区", "统计期", "能源名称", "消费量", "计量单位"]
    with pytest.raises(InputError) as info:
        ingest_file(store, write_csv(tmp_path / "h.csv", [g[:7] for g in GOOD], header=header),
                    today=TODAY)
    fields = {p.field for p in info.value.problems}
    assert fields == {"column 3", "region_code"}


def _xlsx(path: Path, rows: list[list[str]], *, merge: str | None = None,
          extra_sheet: bool = False) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(ZH)
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    if extra_sheet:
        book.create_sheet("说明")
    book.save(path)
    return path


def test_xlsx_ingests(store, tmp_path: Path) -> None:
    result = ingest_file(store, _xlsx(tmp_path / "ok.xlsx", GOOD), today=TODAY)
    assert result.rows_stored == 3


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"merge": "A1:B1"}, "merged header cells"),
    ({"extra_sheet": True}, "exactly one sheet"),
])
def test_xlsx_layout_problems_store_nothing(store, tmp_path: Path, kwargs: dict,
                                            why: str) -> None:
    with pytest.raises(InputError, match=why):
        ingest_file(store, _xlsx(tmp_path / "bad.xlsx", GOOD, **kwargs), today=TODAY)
    assert nothing_stored(store)


def test_skip_invalid_stores_the_valid_rows(store, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD] + [[A, "鄂尔多斯甲公司", "150602", "2023-03", "原煤", "-5", "吨",
                                    "", ""]]
    result = ingest_file(store, write_csv(tmp_path / "mixed.csv", rows), skip_invalid=True,
                         today=TODAY)
    assert (result.rows_stored, result.rows_rejected) == (3, 1)
    rejected = pd.read_csv(result.rejected_file, dtype=str, encoding="utf-8-sig")
    assert rejected["row"].tolist() == ["5"]
    assert "quantity" in rejected["problems"].iloc[0]


def test_large_file_streams_in_chunks_and_reports_rows(store, tmp_path: Path) -> None:
    # a few MB through the chunked path with a small chunk size: every row of every
    # chunk is checked, the bad ones are named by row, and nothing is stored
    months = [f"{y}-{m:02d}" for y in range(2016, 2026) for m in range(1, 13)]
    units = [make_uscc("150602", i) for i in range(300)]
    frame = pd.DataFrame([(u, "企业", "150602", p, "原煤", "10.5", "吨", "燃料", "外购")
                          for u in units for p in months], columns=ZH)
    bad_rows = [2 + 777, 2 + 20_500, 2 + len(frame) - 1]
    for line in bad_rows:
        frame.iloc[line - 2, 5] = "x"
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False, encoding="gb18030")
    assert path.stat().st_size > 2_000_000
    seen: list[int] = []
    with pytest.raises(InputError) as info:
        ingest_file(store, path, chunk_rows=5_000, today=TODAY,
                    progress=lambda done, total: seen.append(done))
    assert [p.row for p in info.value.problems] == bad_rows
    assert len(seen) > 5 and seen[-1] == path.stat().st_size
    assert nothing_stored(store)
    frame.iloc[[r - 2 for r in bad_rows], 5] = "1"
    frame.to_csv(path, index=False, encoding="gb18030")
    result = ingest_file(store, path, chunk_rows=5_000, today=TODAY)
    assert result.rows_stored == len(frame) == stored_rows(store)


KILL_SCRIPT = """
import os, sys, time
from dualcontrol.ingest import ingest_file
from dualcontrol.store import open_store
store = open_store(sys.argv[1])
marker = sys.argv[3]
def progress(done, total):
    if done > 0 and not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(600)   # killed here, mid-transaction
ingest_file(store, sys.argv[2], chunk_rows=2000, progress=progress)
"""


def test_killed_import_leaves_nothing(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    store.close()
    months = [f"{y}-{m:02d}" for y in range(2016, 2024) for m in range(1, 13)]
    frame = pd.DataFrame([(make_uscc("150602", i), "企业", "150602", p, "原煤", "1", "吨", "",
                           "") for i in range(100) for p in months], columns=ZH)
    path = tmp_path / "kill.csv"
    frame.to_csv(path, index=False)
    marker = tmp_path / "started"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, store_url, str(path),
                             str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, "import ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.3)  # let it stage a chunk or two inside its transaction
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    reopened = open_store(store_url)
    try:
        assert nothing_stored(reopened)
        # the store still works: the same file imports completely
        assert ingest_file(reopened, path).rows_stored == len(frame)
    finally:
        reopened.close()


def test_concurrent_submissions_both_become_revisions(store_url: str, tmp_path: Path) -> None:
    open_store(store_url).close()
    base = [[A, "鄂尔多斯甲公司", "150602", "2023-01", "原煤", str(q), "吨", "", ""]
            for q in (1,)]
    ingest_file(open_store(store_url), write_csv(tmp_path / "seed.csv", base), today=TODAY)
    files = []
    for i, quantity in enumerate((111, 222)):
        rows = [[A, "鄂尔多斯甲公司", "150602", "2023-01", "原煤", str(quantity), "吨", "", ""]]
        files.append(write_csv(tmp_path / f"c{i}.csv", rows))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def submit(path: Path) -> None:
        store = open_store(store_url)
        try:
            barrier.wait()
            ingest_file(store, path, user=path.stem, today=TODAY)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=submit, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    store = open_store(store_url)
    try:
        every = energy_reports(store, revisions="all")
        assert sorted(every["quantity"]) == [1.0, 111.0, 222.0]
        assert sorted(every["revision"]) == [1, 2, 3]
        latest = energy_reports(store)
        assert len(latest) == 1 and latest["quantity"].iloc[0] in (111.0, 222.0)
    finally:
        store.close()


def test_accounts_of_ingested_rows_by_hand(store, tmp_path: Path) -> None:
    set_factor_years("nearest")  # 2023: no Inner Mongolia factor; 2022's is asked for
    ingest_file(store, write_csv(tmp_path / "e.csv", GOOD), today=TODAY)
    league = region_accounts(store, level="league", years=[2023])
    ordos = league[league["region_code"] == "150600"].iloc[0]
    # GB/T 2589-2020 Appendix A: raw coal 0.7143 kgce/kg, electricity 0.1229 kgce/kWh
    # (calorific), natural gas 1.3300 kgce/m3.
    # 1000 t x 0.7143 = 714.3 tce; 50 x 10^4 kWh x 0.0001229 = 61.45 tce;
    # 1200 x 10^4 m3 x 0.0013300 = 15960 tce (feedstock, deducted from the controlled total)
    assert ordos["energy_tce"] == pytest.approx(714.3 + 61.45 + 15960, rel=1e-9)
    assert ordos["feedstock_tce"] == pytest.approx(15960, rel=1e-9)
    assert ordos["controlled_tce"] == pytest.approx(714.3 + 61.45, rel=1e-9)
    region = region_accounts(store, level="region", years=[2023]).iloc[0]
    assert region["energy_tce"] == pytest.approx(ordos["energy_tce"], rel=1e-12)
    county = region_accounts(store, level="county", grain="month", years=[2023])
    assert county["energy_tce"].sum() == pytest.approx(ordos["energy_tce"], rel=1e-12)
    assert set(county["month"]) == {1, 2}


def test_cli_ingest_names_row_and_column_and_exits_nonzero(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           ) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", f"duckdb:///{tmp_path / 'cli.duckdb'}")
    rows = [r[:] for r in GOOD]
    rows[1][6] = "桶"
    bad = write_csv(tmp_path / "gbk-bad.csv", rows, encoding="gbk")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(bad), "--user", "clerk"])
    assert result.exit_code == 2
    assert "row 3" in result.output and "'unit'" in result.output
    store = open_store()
    try:
        assert nothing_stored(store)
    finally:
        store.close()
    good = write_csv(tmp_path / "gbk.csv", GOOD, encoding="gbk")
    result = runner.invoke(app, ["ingest", str(good), "--json"])
    assert result.exit_code == 0, result.output
    assert '"rows_stored": 3' in result.output


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["energy", "output", "water", "economic"])
def test_templates_round_trip(tmp_path: Path, kind: str, fmt: str) -> None:
    path = write_template(kind, tmp_path / f"t.{fmt}", lang="zh", fmt=fmt)
    if fmt == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            assert next(csv.reader(handle)) == template_headers(kind, "zh")
    runner = CliRunner()
    result = runner.invoke(app, ["template", kind, "--lang", "en", "--format", fmt, "-o",
                                 str(tmp_path / f"en.{fmt}")])
    assert result.exit_code == 0, result.output
