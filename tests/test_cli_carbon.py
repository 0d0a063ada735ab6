"""The carbon-budget and pipeline commands on a small store, and the demo's pipeline."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from dualcontrol import datasets, demo_pipeline
from dualcontrol.cli import app
from dualcontrol.errors import InputError
from dualcontrol.store import open_store
from dualcontrol.store.projects import list_projects

runner = CliRunner()


@pytest.fixture
def store_env(small_store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DUALCONTROL_DB", small_store_url)
    return small_store_url


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def budgets(as_of: str) -> list[dict]:
    code, out = run("carbon-budget", "--json", "--as-of", as_of)
    assert code == 0, out
    return json.loads(out[out.index("["):])


def league_2026(rows: list[dict], league: str) -> dict:
    return next(r for r in rows if r["region_code"] == league and r["period"] == "2026")


def test_approval_in_march_reserves_in_the_leagues_budget(store_env: str) -> None:
    code, out = run("pipeline", "add", "--code", "CLI-1", "--name", "Baotou test smelter",
                    "--league", "Baotou", "--energy-tce", "100000", "--co2-t", "250000",
                    "--reviewed-on", "2026-02-01", "--user", "tester")
    assert code == 0, out
    code, out = run("pipeline", "move", "CLI-1", "approved", "--on", "2026-03-10",
                    "--user", "tester")
    assert code == 0 and "approved" in out, out
    before = league_2026(budgets("2026-02-15"), "150200")
    after = league_2026(budgets("2026-04-01"), "150200")
    assert before["reserved_co2_t"] == 0.0
    assert after["reserved_co2_t"] == 250_000.0
    assert after["remaining_co2_t"] == pytest.approx(before["remaining_co2_t"] - 250_000.0)
    # the leagues share out the region's budget exactly
    rows = budgets("2026-04-01")
    region = next(r for r in rows if r["level"] == "region" and r["period"] == "2026")
    leagues = [r for r in rows if r["level"] == "league" and r["period"] == "2026"]
    assert sum(r["budget_co2_t"] for r in leagues) == pytest.approx(region["budget_co2_t"],
                                                                   rel=1e-12)
    # the command shows the library's one figure
    table = datasets.carbon_budget_table(open_store(store_env), as_of=date(2026, 4, 1))
    mine = table[(table["region_code"] == "150200") & (table["period"] == "2026")].iloc[0]
    assert mine["remaining_co2_t"] == pytest.approx(after["remaining_co2_t"], rel=1e-12)


def test_illegal_move_exits_2_and_changes_nothing(store_env: str) -> None:
    run("pipeline", "add", "--code", "CLI-2", "--name", "test", "--league", "150600",
        "--energy-tce", "1", "--co2-t", "1", "--reviewed-on", "2026-02-01")
    code, out = run("pipeline", "move", "CLI-2", "in_operation", "--on", "2026-03-01")
    assert code == 2
    assert "cannot move from reviewed to in_operation" in out
    code, out = run("pipeline", "list", "--json")
    held = {p["code"]: p["status"] for p in json.loads(out[out.index("["):])}
    assert held["CLI-2"] == "reviewed"


@pytest.mark.parametrize("args, words", [
    (("carbon-budget", "--year", "2031"), "no carbon budget for this year"),
    (("carbon-budget", "--rule", "league_by_population"), "league_base_emissions"),
    (("pipeline", "move", "CLI-404", "approved"), "unknown project"),
    (("pipeline", "add", "--code", "X", "--name", "x", "--league", "Hohhot", "--energy-tce",
      "1", "--co2-t", "1", "--reviewed-on", "2026-13-01"), "not a date"),
])
def test_bad_input_exits_2_with_the_reason(store_env: str, args: tuple, words: str) -> None:
    code, out = run(*args)
    assert code == 2, out
    assert words in out


def test_carbon_budget_table_in_10k_t(store_env: str) -> None:
    code, out = run("carbon-budget", "--lang", "zh")
    assert code == 0, out
    assert "碳预算(万吨CO2)" in out and "项目预留(万吨CO2)" in out and "2026-2030" in out


def test_demo_pipeline_loads_once_with_every_state(store_env: str) -> None:
    with open_store(store_env) as store:
        first = demo_pipeline.load_demo_projects(store)
        again = demo_pipeline.load_demo_projects(store)
        held = list_projects(store)
        log = store.read_sql("SELECT COUNT(*) AS n FROM audit_log WHERE username = "
                             f"'{demo_pipeline.DEMO_REVIEWER}'")["n"].iloc[0]
    expected = demo_pipeline.demo_projects()
    assert first == len(expected) and again == 0
    demo = held[held["code"].str.startswith("DEMO-")].set_index("code")["status"]
    assert demo.to_dict() == dict(zip(expected["code"], expected["status"], strict=True))
    assert {"reviewed", "approved", "under_construction", "in_operation", "rejected",
            "withdrawn"} <= set(demo)
    # one audit row per project added and per step after review
    steps = sum(len(demo_pipeline.steps(p)) for _, p in expected.iterrows())
    assert log == len(expected) + steps


def test_demo_file_contradicting_itself_is_refused() -> None:
    project = demo_pipeline.demo_projects().iloc[0].copy()
    project["status"] = "approved"  # its dates end in operation
    with pytest.raises(InputError, match="another state"):
        demo_pipeline.steps(project)


def test_add_from_a_review_takes_its_figures(store_env: str) -> None:
    from pathlib import Path

    from dualcontrol import review

    path = Path(__file__).parents[1] / "examples/projects/ferrosilicon_ulanqab.yaml"
    code, out = run("pipeline", "add", "--code", "CLI-R", "--review", str(path), "--json",
                    "--reviewed-on", "2026-02-01")
    assert code == 0, out
    row = json.loads(out[out.index("{"):])
    want = review.review_project(review.load_project(path))
    assert row["league_code"] == "150900"
    assert row["co2_t"] == pytest.approx(want.carbon.co2_t)
    assert row["energy_tce"] == pytest.approx(want.energy_tce)
    code, out = run("pipeline", "add", "--code", "CLI-X", "--name", "no figures",
                    "--league", "Ordos")
    assert code == 2 and "--energy-tce" in out and "--co2-t" in out
