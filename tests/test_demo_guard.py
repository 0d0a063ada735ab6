"""Tests of the demo's guard: it writes only into an empty store or one only it wrote."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualcontrol import demo
from dualcontrol.cli import app
from dualcontrol.demo import DEMO_USER, DemoStoreError, build_demo, non_demo_data
from dualcontrol.ingest import ingest_file
from dualcontrol.store import open_store, schema
from test_ingest import GOOD, TODAY, write_csv

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _demo_submission(store) -> None:
    """Mark the store as written by the demo: one enterprise and a demo submission."""
    with store.begin() as conn:
        conn.execute(schema.enterprises.insert().values(
            uscc=GOOD[0][0], name="demo enterprise", county_code="150602", park_code=None,
            industry="coal_power", registered_at=NOW))
        conn.execute(schema.submissions.insert().values(
            kind="energy", file_name="demo seed=2025", content_sha256="x", submitter=DEMO_USER,
            submitted_at=NOW, rows_read=1, rows_rejected=0, revisions_created=1))


def test_empty_store_and_demo_store_are_accepted(store) -> None:
    assert non_demo_data(store) is None
    _demo_submission(store)
    assert non_demo_data(store) is None


def test_store_with_ingested_data_is_refused(store, tmp_path: Path) -> None:
    ingest_file(store, write_csv(tmp_path / "e.csv", GOOD), user="clerk01", today=TODAY)
    assert non_demo_data(store) == "1 submission by users other than the demo: clerk01 (1)"


def test_demo_store_with_a_real_submission_is_refused(store, tmp_path: Path) -> None:
    _demo_submission(store)
    rows = [r[:] for r in GOOD]
    rows[0][5] = "999"
    ingest_file(store, write_csv(tmp_path / "e.csv", rows), user="alice", today=TODAY)
    assert "alice (1)" in (non_demo_data(store) or "")


def test_enterprises_without_any_submission_are_refused(store) -> None:
    with store.begin() as conn:
        conn.execute(schema.enterprises.insert().values(
            uscc=GOOD[0][0], name="real", county_code="150602", park_code=None,
            industry="coal_power", registered_at=NOW))
    assert non_demo_data(store) == "1 enterprise(s) and no demo submission"


def test_build_demo_refuses_before_writing(store_url: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with open_store(store_url) as opened:
        ingest_file(opened, write_csv(tmp_path / "e.csv", GOOD), user="clerk01", today=TODAY)
    monkeypatch.setattr(demo, "generate", lambda seed: pytest.fail("demo generated data"))
    with pytest.raises(DemoStoreError, match="users other than the demo: clerk01"):
        build_demo(url=store_url)
    with open_store(store_url) as opened:
        counts = opened.read_sql("SELECT (SELECT COUNT(*) FROM submissions) AS s, "
                                 "(SELECT COUNT(*) FROM energy_reports) AS e").iloc[0]
    assert counts.tolist() == [1, 3]


def test_cli_demo_exits_2_naming_the_store(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"duckdb:///{tmp_path / 'real.duckdb'}"
    monkeypatch.setenv("DUALCONTROL_DB", url)
    with open_store(url) as opened:
        ingest_file(opened, write_csv(tmp_path / "e.csv", GOOD), user="clerk01", today=TODAY)
    result = CliRunner().invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "real.duckdb" in text and "1 submission by users other than the demo" in text
