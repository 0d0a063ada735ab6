"""Tests of the project pipeline: states, moves, and the store's audited transitions."""

from __future__ import annotations

import json
from datetime import date

import pytest

from dualcontrol import pipeline
from dualcontrol.errors import InputError
from dualcontrol.store import projects as store_projects


@pytest.mark.parametrize("current, new", [
    ("reviewed", "approved"), ("reviewed", "rejected"), ("reviewed", "withdrawn"),
    ("approved", "under_construction"), ("approved", "withdrawn"),
    ("under_construction", "in_operation"), ("under_construction", "withdrawn"),
])
def test_legal_moves(current: str, new: str) -> None:
    pipeline.check_transition(current, new)


@pytest.mark.parametrize("current, new", [
    ("reviewed", "in_operation"), ("reviewed", "under_construction"),
    ("approved", "reviewed"), ("approved", "in_operation"), ("in_operation", "withdrawn"),
    ("rejected", "approved"), ("withdrawn", "approved"), ("approved", "approved"),
])
def test_illegal_moves_are_refused(current: str, new: str) -> None:
    with pytest.raises(InputError) as err:
        pipeline.check_transition(current, new, project="P9")
    assert f"cannot move from {current} to {new}" in str(err.value)
    assert "P9" in str(err.value)


def test_unknown_status_names_the_accepted_ones() -> None:
    with pytest.raises(InputError, match="under_construction"):
        pipeline.check_transition("reviewed", "built")


def test_status_on_a_day_follows_the_dates() -> None:
    p = {"reviewed_on": date(2026, 1, 5), "approved_on": date(2026, 3, 10),
         "in_operation_on": None}
    assert pipeline.status_on(p, date(2026, 1, 1)) is None
    assert pipeline.status_on(p, date(2026, 3, 9)) == "reviewed"
    assert pipeline.status_on(p, date(2026, 3, 10)) == "approved"


def add(store, code: str = "P1") -> dict:
    return store_projects.add_project(
        store, code=code, name="Ordos coal-to-olefins", league_code="150600",
        county_code="150627", energy_tce=1.0e6, co2_t=2.6e6, reviewed_on=date(2026, 2, 1),
        username="reviewer1", industry="coal_chemicals", product="coal_to_olefins")


def audit(store) -> list[dict]:
    return store.read_sql("SELECT username, action, entity_key, before_json, after_json "
                          "FROM audit_log WHERE entity = 'projects' ORDER BY id"
                          ).to_dict("records")


def test_store_add_and_move_through_the_pipeline_audited(store) -> None:
    assert add(store)["status"] == "reviewed"
    store_projects.transition(store, code="P1", status="approved", on=date(2026, 3, 10),
                              username="reviewer1")
    store_projects.transition(store, code="P1", status="under_construction",
                              on=date(2026, 4, 1), username="admin")
    done = store_projects.transition(store, code="P1", status="in_operation",
                                     on=date(2026, 9, 1), username="admin")
    assert done["status"] == "in_operation"
    assert done["approved_on"] == date(2026, 3, 10)
    assert done["in_operation_on"] == date(2026, 9, 1)
    log = audit(store)
    assert [r["action"] for r in log] == ["project_added", "project_approved",
                                          "project_under_construction", "project_in_operation"]
    assert [r["username"] for r in log] == ["reviewer1", "reviewer1", "admin", "admin"]
    assert json.loads(log[1]["before_json"]) == {"status": "reviewed"}
    listed = store_projects.list_projects(store, status="in_operation")
    assert list(listed["code"]) == ["P1"]


def test_store_refuses_an_illegal_move_and_writes_nothing(store) -> None:
    add(store)
    before = audit(store)
    with pytest.raises(InputError, match="cannot move from reviewed to in_operation"):
        store_projects.transition(store, code="P1", status="in_operation",
                                  on=date(2026, 3, 1), username="x")
    with pytest.raises(InputError, match="before the previous step"):
        store_projects.transition(store, code="P1", status="approved", on=date(2026, 1, 1),
                                  username="x")
    assert store_projects.get_project(store, "P1")["status"] == "reviewed"
    assert audit(store) == before


def test_store_refuses_bad_new_projects(store) -> None:
    add(store)
    with pytest.raises(InputError) as err:
        store_projects.add_project(store, code="P1", name="again", league_code="159900",
                                   energy_tce=-1, co2_t=1.0, reviewed_on=date(2026, 2, 1),
                                   username="x")
    text = str(err.value)
    assert "already used" in text and "unknown league" in text and "energy_tce" in text
    with pytest.raises(InputError, match="unknown project"):
        store_projects.get_project(store, "P404")
