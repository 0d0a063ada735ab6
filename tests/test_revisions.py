"""Tests of revisions that mean what they say (issue 19): partial corrections refused,
--replace and --merge, --skip-invalid never storing part of an enterprise-month, and the
rejected-rows file written before anything is committed; on both stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dualcontrol import ingest
from dualcontrol.cli import app
from dualcontrol.datasets import energy_reports
from dualcontrol.errors import InputError
from dualcontrol.ingest import ingest_file
from dualcontrol.report_templates import template_headers
from dualcontrol.store import open_store
from dualcontrol.store.faults import StoreFullError
from test_ingest import GOOD, TODAY, A, B, nothing_stored, write_csv

#: A's January corrected: only the coal row, 1100 t instead of 1000 t.
COAL_ONLY = [[A, "鄂尔多斯甲公司", "150602", "2023-01", "原煤", "1100", "吨", "燃料", "外购"]]


def _revisions(store) -> int:
    return int(store.read_sql("SELECT COUNT(*) AS n FROM report_revisions")["n"].iloc[0])


def _january(store) -> dict[str, float]:
    rows = energy_reports(store, enterprise=A)
    rows = rows[rows["period"] == "2023-01"]
    return dict(zip(rows["carrier"], rows["quantity"], strict=True))


@pytest.fixture
def stored(store, tmp_path: Path):
    ingest_file(store, write_csv(tmp_path / "v1.csv", GOOD), user="alice", today=TODAY)
    assert _january(store) == {"raw_coal": 1000.0, "electricity": 50.0}
    return store


def test_partial_correction_is_refused_naming_the_dropped_rows(stored, tmp_path: Path) -> None:
    before = _revisions(stored)
    with pytest.raises(InputError) as info:
        ingest_file(stored, write_csv(tmp_path / "fix.csv", COAL_ONLY), today=TODAY)
    [problem] = info.value.problems
    assert problem.row == 2 and problem.value == f"{A} 2023-01"
    assert "1 rows" in problem.message and "has 2" in problem.message
    assert "electricity / combustion / purchased" in problem.message
    assert "--replace" in problem.accepted and "--merge" in problem.accepted
    assert _revisions(stored) == before
    assert _january(stored) == {"raw_coal": 1000.0, "electricity": 50.0}


def test_replace_makes_the_rows_sent_the_whole_month(stored, tmp_path: Path) -> None:
    result = ingest_file(stored, write_csv(tmp_path / "fix.csv", COAL_ONLY),
                         on_partial="replace", today=TODAY)
    assert (result.revisions_created, result.partial_replaced, result.merged_rows) == (1, 1, 0)
    assert _january(stored) == {"raw_coal": 1100.0}


def test_merge_replaces_only_the_rows_sent(stored, tmp_path: Path) -> None:
    result = ingest_file(stored, write_csv(tmp_path / "fix.csv", COAL_ONLY),
                         on_partial="merge", today=TODAY)
    assert (result.revisions_created, result.merged_rows) == (1, 1)
    assert _january(stored) == {"raw_coal": 1100.0, "electricity": 50.0}
    lines = stored.read_sql(
        "SELECT e.carrier, e.line FROM energy_reports e JOIN report_revisions r "
        "ON r.id = e.revision_id WHERE r.submission_id = :sid ORDER BY e.carrier",
        {"sid": result.submission_id})
    # the carried-over electricity row is marked by a negative line
    assert lines.set_index("carrier")["line"].to_dict() == {"electricity": -1, "raw_coal": 2}
    # B's February, absent from the file, is untouched
    assert set(energy_reports(stored)["period"]) == {"2023-01", "2023-02"}


def test_merge_adds_a_new_carrier_and_same_rows_change_nothing(stored, tmp_path: Path) -> None:
    diesel = [[A, "鄂尔多斯甲公司", "150602", "2023-01", "柴油", "3", "吨", "燃料", "外购"]]
    ingest_file(stored, write_csv(tmp_path / "add.csv", diesel), on_partial="merge",
                today=TODAY)
    assert _january(stored) == {"raw_coal": 1000.0, "electricity": 50.0, "diesel": 3.0}
    again = ingest_file(stored, write_csv(tmp_path / "add2.csv", diesel), on_partial="merge",
                        today=TODAY)
    assert (again.revisions_created, again.unchanged_periods) == (0, 1)


def test_complete_correction_needs_no_flag(stored, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD[:2]]
    rows[1][5] = "55"
    result = ingest_file(stored, write_csv(tmp_path / "full.csv", rows), today=TODAY)
    assert result.revisions_created == 1
    assert _january(stored) == {"raw_coal": 1000.0, "electricity": 55.0}


def test_partial_economic_year_is_refused(store, tmp_path: Path) -> None:
    header = template_headers("economic", "en")
    full = [["150602", "2023", "", "1,000,000", "105", ""],
            ["150602", "2023", "industry", "400,000", "", ""]]
    ingest_file(store, write_csv(tmp_path / "e1.csv", full, header=header), "economic",
                today=TODAY)
    with pytest.raises(InputError, match="would drop industry"):
        ingest_file(store, write_csv(tmp_path / "e2.csv", full[:1], header=header),
                    "economic", today=TODAY)


def test_skip_invalid_sets_aside_the_whole_month(store, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD]
    rows[1][5] = "1,5"                       # A's January electricity is invalid
    path = write_csv(tmp_path / "mixed.csv", rows)
    result = ingest_file(store, path, skip_invalid=True, today=TODAY)
    # A's valid coal row of the same month is not stored alone; B's February is
    assert (result.rows_stored, result.rows_rejected, result.months_set_aside) == (1, 2, 1)
    assert set(energy_reports(store)["period"]) == {"2023-02"}
    rejected = pd.read_csv(result.rejected_file, dtype=str, encoding="utf-8-sig")
    assert rejected["row"].tolist() == ["2", "3"]
    assert "row 3 of this entity-period is invalid" in rejected["problems"].iloc[0]
    assert "quantity" in rejected["problems"].iloc[1]


def test_skip_invalid_sets_aside_a_partial_month(stored, tmp_path: Path) -> None:
    rows = [*COAL_ONLY, [B, "达拉特乙公司", "150621", "2023-03", "原煤", "7", "吨", "", ""]]
    result = ingest_file(stored, write_csv(tmp_path / "p.csv", rows), skip_invalid=True,
                         today=TODAY)
    assert (result.rows_stored, result.months_set_aside) == (1, 1)
    assert _january(stored) == {"raw_coal": 1000.0, "electricity": 50.0}
    assert any("partial submission" in p.message for p in result.problems)


def test_unwritable_rejected_file_is_found_before_anything(store, tmp_path: Path) -> None:
    rows = [r[:] for r in GOOD]
    rows[1][5] = "-1"
    path = write_csv(tmp_path / "mixed.csv", rows)
    (tmp_path / "mixed.csv.rejected.csv").mkdir()   # a folder where the file should go
    with pytest.raises(InputError, match="cannot write the rejected-rows file"):
        ingest_file(store, path, skip_invalid=True, today=TODAY)
    assert nothing_stored(store)


def test_rejected_file_failing_late_commits_nothing(store, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [r[:] for r in GOOD]
    rows[1][5] = "-1"

    def disk_full(path: Path, records: list) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest, "_write_rejected", disk_full)
    # a full disk is said in words (StoreFullError, exit 2), not an OSError traceback
    with pytest.raises(StoreFullError, match="disk is full"):
        ingest_file(store, write_csv(tmp_path / "mixed.csv", rows), skip_invalid=True,
                    today=TODAY)
    assert nothing_stored(store)


def test_cli_replace_merge_and_refusal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", f"duckdb:///{tmp_path / 'cli.duckdb'}")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(write_csv(tmp_path / "v1.csv", GOOD))]
                         ).exit_code == 0
    fix = write_csv(tmp_path / "fix.csv", COAL_ONLY)
    refused = runner.invoke(app, ["ingest", str(fix)])
    assert refused.exit_code == 2
    assert "would drop electricity" in " ".join(refused.output.split())
    both = runner.invoke(app, ["ingest", str(fix), "--replace", "--merge"])
    assert both.exit_code == 2 and "not both" in both.output
    merged = runner.invoke(app, ["ingest", str(fix), "--merge", "--json"])
    assert merged.exit_code == 0, merged.output
    assert '"merged_rows": 1' in merged.output and '"on_partial": "merge"' in merged.output
    with open_store() as store:
        assert _january(store) == {"raw_coal": 1100.0, "electricity": 50.0}
