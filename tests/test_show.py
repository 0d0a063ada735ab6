"""``dualcontrol show`` (what the store holds) and ``dualcontrol ingest --check``.

Two enterprises of Ordos report January and February 2023; A then corrects its
January coal. The figures are written out by hand below.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.regions import make_uscc
from dualcontrol.store import open_store

A = make_uscc("150602", 1)  # Dongsheng district, Ordos
B = make_uscc("150621", 2)  # Dalad banner, Ordos
ZH = ["统一社会信用代码", "企业名称", "行政区划代码", "统计期", "能源名称", "消费量", "计量单位",
      "用途", "来源"]
FIRST = [
    [A, "鄂尔多斯甲公司", "150602", "2023-01", "原煤", "1000", "吨", "燃料", "外购"],
    [A, "鄂尔多斯甲公司", "150602", "2023-01", "电力", "50", "万千瓦时", "", ""],
    [B, "达拉特乙公司", "150621", "2023-02", "天然气", "1,200", "万立方米", "原料", "外购"],
]
#: A corrects its January coal: 1,000 t -> 1,200 t (electricity unchanged).
CORRECTION = [
    [A, "鄂尔多斯甲公司", "150602", "2023-01", "原煤", "1200", "吨", "燃料", "外购"],
    [A, "鄂尔多斯甲公司", "150602", "2023-01", "电力", "50", "万千瓦时", "", ""],
]
runner = CliRunner()


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    lines = [",".join(f'"{c}"' if "," in c else c for c in r) for r in [ZH, *rows]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def counts(url: str) -> tuple[int, ...]:
    with open_store(url, create=False) as store:
        row = store.read_sql(
            "SELECT (SELECT COUNT(*) FROM energy_reports) AS e, "
            "(SELECT COUNT(*) FROM report_revisions) AS r, "
            "(SELECT COUNT(*) FROM submissions) AS s, (SELECT COUNT(*) FROM enterprises) AS n,"
            " (SELECT COUNT(*) FROM audit_log) AS a, "
            "(SELECT COUNT(*) FROM staging_energy_reports) AS g").iloc[0]
    return tuple(int(v) for v in row)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    monkeypatch.setenv("DUALCONTROL_HOME", str(folder))
    # the reports are of 2023, without a published Inner Mongolia grid factor
    monkeypatch.setenv("DUALCONTROL_FACTOR_YEARS", "nearest")
    return folder


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def stored(request: pytest.FixtureRequest, home: Path, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Return the URL of a store (each backend) holding FIRST (by alice) and CORRECTION
    (by bob)."""
    from conftest import drop_pg_schema, make_pg_url, pg_base_url

    base = name = None
    if request.param == "postgres":
        base = pg_base_url()
        if base is None:
            pytest.skip("DUALCONTROL_TEST_PG not set (run scripts/test-services.sh)")
        url, name = make_pg_url(base)
        monkeypatch.setenv("DUALCONTROL_DB", url)
    else:
        url = f"duckdb:///{home / 'dualcontrol.duckdb'}"
    try:
        for user, rows, file in (("alice", FIRST, "first.csv"), ("bob", CORRECTION, "fix.csv")):
            result = runner.invoke(app, ["ingest", str(write_csv(tmp_path / file, rows)),
                                         "--user", user, "--merge"])
            assert result.exit_code == 0, result.output
        yield url
    finally:
        if base is not None and name is not None:
            drop_pg_schema(base, name)


# ----------------------------------------------------------------------- ingest --check


def test_check_without_a_store_validates_and_creates_nothing(home: Path,
                                                             tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "--check", str(write_csv(tmp_path / "f.csv", FIRST))])
    assert result.exit_code == 0, result.output
    assert "valid (3 rows)" in result.stdout
    # two enterprise-months (A 2023-01, B 2023-02), two enterprises new to the store
    assert "create 2 revisions (3 rows)" in " ".join(result.stdout.split())
    assert "register 2 new enterprises" in " ".join(result.stdout.split())
    assert "an empty store" in result.stderr
    assert not home.exists()


def test_check_against_the_store_stores_nothing(stored: str, tmp_path: Path) -> None:
    before = counts(stored)
    same = runner.invoke(app, ["ingest", "--check", "--json",
                               str(write_csv(tmp_path / "same.csv", CORRECTION))])
    assert same.exit_code == 0, same.output
    report = json.loads(same.stdout)
    assert (report["revisions_it_would_create"], report["unchanged_periods"]) == (0, 1)
    assert report["stored"] is False
    changed = [r[:] for r in CORRECTION]
    changed[0][5] = "1300"
    again = runner.invoke(app, ["ingest", "--check", "--json",
                                str(write_csv(tmp_path / "c.csv", changed))])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["revisions_it_would_create"] == 1
    assert counts(stored) == before


def test_check_refuses_what_an_import_refuses(stored: str, tmp_path: Path) -> None:
    before = counts(stored)
    # one row of A's January is missing: an import refuses it without --replace/--merge
    partial = runner.invoke(app, ["ingest", "--check",
                                  str(write_csv(tmp_path / "p.csv", CORRECTION[:1]))])
    assert partial.exit_code == 2, partial.output
    assert "electricity" in partial.output
    bad = [r[:] for r in FIRST]
    bad[1][6] = "桶"
    wrong = runner.invoke(app, ["ingest", "--check", str(write_csv(tmp_path / "b.csv", bad))])
    assert wrong.exit_code == 2
    assert "row 3" in wrong.output and "'unit'" in wrong.output
    both = runner.invoke(app, ["ingest", "--check", "--skip-invalid",
                               str(write_csv(tmp_path / "f.csv", FIRST))])
    assert both.exit_code == 2 and "--check" in both.output
    assert counts(stored) == before


# ------------------------------------------------------------------------------- show


def test_show_enterprise_revisions_rows_and_accounts(stored: str) -> None:
    result = runner.invoke(app, ["show", "enterprise", A, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["enterprise"]["name"] == "鄂尔多斯甲公司"
    revisions = [(r["period"], r["revision"], r["current"], r["submitter"], r["rows"])
                 for r in data["revisions"]]
    assert revisions == [("2023-01", 1, False, "alice", 2), ("2023-01", 2, True, "bob", 2)]
    coal = [r for r in data["rows"] if r["carrier"] == "raw_coal"]
    assert [(r["quantity"], r["revision"]) for r in coal] == [(1200.0, 2)]
    # GB/T 2589: raw coal 0.7143 tce/t, electricity 0.1229 kgce/kWh (calorific equivalent)
    # 1,200 t x 0.7143 + 50x10^4 kWh x 0.1229x10^-3 tce/kWh = 857.16 + 61.45 = 918.61 tce
    (january,) = data["accounts"]
    assert january["month"] == "2023-01"
    assert january["energy_tce"] == pytest.approx(918.61, rel=1e-9)
    every = json.loads(runner.invoke(app, ["show", "enterprise", A, "--all-revisions",
                                           "--json"]).stdout)
    assert sorted(r["quantity"] for r in every["rows"] if r["carrier"] == "raw_coal") == [
        1000.0, 1200.0]


def test_show_enterprise_by_name_and_in_a_table(stored: str) -> None:
    result = runner.invoke(app, ["show", "enterprise", "达拉特", "--period", "2023"])
    assert result.exit_code == 0, result.output
    assert B in result.stdout and "natural_gas" in result.stdout
    assert "store: " in result.stderr
    none = runner.invoke(app, ["show", "enterprise", B, "--period", "2024"])
    assert none.exit_code == 0 and "no energy reports stored in 2024" in none.stderr
    several = runner.invoke(app, ["show", "enterprise", "公司"])
    assert several.exit_code == 2
    assert "2 enterprises match" in several.output and A in several.output
    unknown = runner.invoke(app, ["show", "enterprise", "no such firm"])
    assert unknown.exit_code == 2 and "no such firm" in unknown.output
    bad = runner.invoke(app, ["show", "enterprise", A, "--period", "2023-13"])
    assert bad.exit_code == 2 and "--period" in bad.output


def test_show_region_months(stored: str) -> None:
    result = runner.invoke(app, ["show", "region", "鄂尔多斯市", "--year", "2023", "--json"])
    assert result.exit_code == 0, result.output
    months = {m["month"]: m for m in json.loads(result.stdout)}
    assert set(months) == {"2023-01", "2023-02"}
    jan, feb = months["2023-01"], months["2023-02"]
    assert (jan["enterprises_reporting"], jan["enterprises_registered"], jan["rows"],
            jan["revised"]) == (1, 2, 2, 1)
    assert (feb["enterprises_reporting"], feb["rows"], feb["revised"]) == (1, 1, 0)
    assert jan["energy_tce"] == pytest.approx(918.61, rel=1e-9)
    county = json.loads(runner.invoke(app, ["show", "region", "150621", "--json"]).stdout)
    assert [m["month"] for m in county] == ["2023-02"]  # the latest year stored: 2023


def test_show_audit_says_who_changed_what(stored: str) -> None:
    result = runner.invoke(app, ["show", "audit", "--key", f"{A} 2023-01", "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.stdout)
    assert [(e["user"], e["action"], e["file"]) for e in entries] == [
        ("bob", "revise", "fix.csv"), ("alice", "create", "first.csv")]
    assert entries[0]["revision_before"] == entries[1]["revision_after"]
    by_alice = json.loads(runner.invoke(app, ["show", "audit", "--user", "alice",
                                              "--json"]).stdout)
    assert {e["user"] for e in by_alice} == {"alice"} and len(by_alice) >= 3
    assert runner.invoke(app, ["show", "audit", "--since", "2023-02-30"]).exit_code == 2
    assert runner.invoke(app, ["show", "audit", "--limit", "0"]).exit_code == 2


def test_show_store_counts(stored: str) -> None:
    result = runner.invoke(app, ["show", "store", "--json"])
    assert result.exit_code == 0, result.output
    (energy,) = json.loads(result.stdout)
    assert (energy["kind"], energy["submissions"], energy["entities"], energy["revisions"],
            energy["first_period"], energy["last_period"]) == (
        "energy", 2, 2, 3, "2023-01", "2023-02")


def test_show_without_a_store_exits_2(home: Path) -> None:
    result = runner.invoke(app, ["show", "store"])
    assert result.exit_code == 2
    assert "no store at" in result.output
    assert not home.exists()
