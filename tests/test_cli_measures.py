"""The measures commands as a user runs them, and the demo's registry."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.store import open_store

runner = CliRunner()
SCENARIOS = Path(__file__).resolve().parents[1] / "examples" / "scenarios"

ROWS = [
    {"measure_id": "DOC", "level": "document", "title": "plan", "owner_kind": "department",
     "owner": "DRC", "indicators": "co2_peak", "action": "policy", "status": "in_progress",
     "source": "doc"},
    {"measure_id": "M1", "level": "measure", "parent_id": "DOC", "title": "=HYPERLINK(1)",
     "owner_kind": "league", "owner": "Ordos", "indicators": "co2_intensity",
     "action": "retrofit", "deadline": "2025-12-31", "effect_tce": "1,000",
     "effect_co2_t": "2769", "effect_basis": "estimate", "status": "planned",
     "source": "plan", "wedge_group": "heat"},
]


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"duckdb:///{tmp_path / 'm.duckdb'}"
    monkeypatch.setenv("DUALCONTROL_DB", url)
    return url


def run(*args: str):
    return runner.invoke(app, ["measures", *args])


def listed() -> pd.DataFrame:
    result = run("list", "--json", "--as-of", "2026-01-01")
    assert result.exit_code == 0, result.output
    return pd.DataFrame(json.loads(result.stdout)["measures"])


def test_import_export_round_trip_and_revision(db: str, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    pd.DataFrame(ROWS).to_csv(source, index=False)
    result = run("import", str(source), "--user", "ana")
    assert result.exit_code == 0, result.output
    assert "2 measures created" in result.stdout
    got = listed().set_index("measure_id")
    assert got.loc["M1", "effect_tce"] == 1000.0
    summary = json.loads(run("list", "--json", "--as-of", "2026-01-01").stdout)["summary"]
    assert {(r["level"], r["overdue"]) for r in summary} == {("document", 0), ("measure", 1)}
    # export to XLSX, then import it back: nothing changes
    out = tmp_path / "out.xlsx"
    assert run("export", str(out)).exit_code == 0
    sheet = pd.read_excel(out, dtype=str, keep_default_na=False)
    assert sheet.set_index("measure_id").loc["M1", "title"] == "'=HYPERLINK(1)"
    again = run("import", str(out), "--user", "ana")
    assert "0 measures created, 0 revised, 2 unchanged" in again.stdout, again.output
    # mark it completed in the sheet: one new revision
    sheet.loc[sheet["measure_id"] == "M1", ["status", "completed_on", "evidence"]] = [
        "completed", "2025-11-30", "report"]
    sheet.to_excel(out, index=False)
    done = run("import", str(out), "--user", "bob")
    assert "0 measures created, 1 revised, 1 unchanged" in done.stdout, done.output
    with open_store(db) as store:
        audit = store.read_sql("SELECT username, action FROM audit_log "
                               "WHERE entity = 'measure_revisions' ORDER BY id")
    assert audit.values.tolist() == [["ana", "create"], ["ana", "create"], ["bob", "revise"]]


def test_a_bad_file_exits_2_names_the_cell_and_stores_nothing(db: str, tmp_path: Path,
                                                              ) -> None:
    from dualcontrol.store import open_store

    open_store(db).close()  # an existing, empty store, so that the listing can read it
    bad = tmp_path / "bad.csv"
    rows = [dict(ROWS[0]), dict(ROWS[1], effect_tce="1,5", status="finished")]
    pd.DataFrame(rows).to_csv(bad, index=False)
    result = run("import", str(bad))
    assert result.exit_code == 2
    assert f"{bad}, row 3, field 'effect_tce'" in result.stderr
    assert "field 'status'" in result.stderr and "'finished'" in result.stderr
    assert listed().empty
    # a parent neither in the file nor the store
    orphan = tmp_path / "orphan.csv"
    pd.DataFrame([ROWS[1]]).to_csv(orphan, index=False)
    result = run("import", str(orphan))
    assert result.exit_code == 2 and "parent measure not found" in result.stderr
    assert listed().empty


def test_wedges_json_with_one_stored_measure(db: str, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    pd.DataFrame(ROWS).to_csv(source, index=False)
    run("import", str(source))
    result = run("wedges", str(SCENARIOS / "inner_mongolia_baseline.yaml"), "--draws", "0",
                 "--json", "--chart", str(tmp_path / "w.png"))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # M1 is overdue (deadline 2025-12-31, base year 2025): it counts from 2026, so in 2030
    # the wedge "heat" is its whole effect
    heat = {r["group"]: r for r in data["wedges"]}["heat"]
    assert heat["energy_tce"] == 1000.0 and heat["co2_t"] == 2769.0
    assert (tmp_path / "w.png").exists()


def test_demo_registry_holds_generated_and_illustrative_measures(small_store_url: str,
                                                                 ) -> None:
    from dualcontrol import benchmarking, datasets
    from dualcontrol.demo_measures import load_demo_measures
    from dualcontrol.store.measures import load_measures

    with open_store(small_store_url) as store:
        if load_measures(store).empty:
            assert load_demo_measures(store, user="demo") is not None
        assert load_demo_measures(store, user="demo") is None  # once only
        reg = load_measures(store)
        units = datasets.production_units(store)
    latest = units[units["year"] == units["year"].max()]
    covered, _ = benchmarking.split_by_level(latest)
    judged = benchmarking.benchmark_units(covered)
    laggards = judged[judged["class"].isin(["below_baseline", "below_limit"])]
    generated = reg[reg["measure_id"].str.startswith("GEN-")]
    assert sorted(generated["unit_id"]) == sorted(laggards["unit_id"].astype(str))
    assert {"DEMO-DOC", "DEMO-COAL-RETRO", "DEMO-WATER"} <= set(reg["measure_id"])
    assert (reg["changed_by"] == "demo").all()


def test_generate_json_and_save_on_the_small_demo(small_store_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUALCONTROL_DB", small_store_url)
    shown = run("generate", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["measures"] and all(m["measure_id"] == f"GEN-{m['unit_id']}"
                                    for m in data["measures"])
    assert all(r["unit_id"] not in {m["unit_id"] for m in data["measures"]}
               for r in data["front_runners"])
    saved = run("generate", "--save", "--user", "ana")
    assert saved.exit_code == 0, saved.output
    again = run("generate", "--save", "--user", "ana")
    assert f"0 created, 0 revised, {len(data['measures'])} unchanged" in again.stdout
