"""Tests of the measures registry in the store: revisions, audit, all-or-nothing."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dualcontrol import measures
from dualcontrol.store.measures import load_measures, measure_history, save_measures


def registry(**over: str) -> pd.DataFrame:
    row = {"measure_id": "IM-1", "level": "measure", "title": "retrofit boilers",
           "owner_kind": "league", "owner": "Ordos", "region_code": "150600",
           "indicators": "co2_total|energy_intensity", "action": "retrofit",
           "deadline": "2026-12-31", "effect_tce": "1000", "effect_co2_t": "2500",
           "effect_basis": "estimate", "status": "planned", "source": "plan"}
    doc = {"measure_id": "DOC", "level": "document", "title": "overall plan",
           "owner_kind": "department", "owner": "DRC", "indicators": "co2_peak",
           "action": "policy", "status": "in_progress", "source": "内政发"}
    return measures.parse_measures(pd.DataFrame([doc, row | over]))


def test_save_load_and_revise_with_audit(store) -> None:
    t0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    first = save_measures(store, registry(), user="ana", file_name="m.xlsx", now=t0)
    assert (first.created, first.revised, first.unchanged) == (2, 0, 0)
    got = load_measures(store).set_index("measure_id")
    assert got.loc["IM-1", "deadline"] == dt.date(2026, 12, 31)
    assert got.loc["IM-1", "effect_co2_t"] == 2500.0
    assert got.loc["DOC", "deadline"] is None
    # the same rows again change nothing
    again = save_measures(store, registry(), user="ana", now=t0)
    assert (again.created, again.revised, again.unchanged) == (0, 0, 2)
    # completing the measure is a new revision; the first stays readable
    t1 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    done = registry(status="completed", completed_on="2026-11-30", evidence="report 7")
    assert save_measures(store, done, user="bob", now=t1).revised == 1
    history = measure_history(store, "IM-1")
    assert list(history["revision"]) == [1, 2]
    assert list(history["status"]) == ["planned", "completed"]
    assert list(history["changed_by"]) == ["ana", "bob"]
    latest = load_measures(store).set_index("measure_id")
    assert latest.loc["IM-1", "status"] == "completed"
    assert latest.loc["IM-1", "revision"] == 2
    audit = store.read_sql("SELECT username, action, entity_key, before_json, after_json "
                           "FROM audit_log WHERE entity = 'measure_revisions' ORDER BY id")
    assert list(audit["action"]) == ["create", "create", "revise"]
    assert audit["entity_key"].iloc[-1] == "IM-1 r2"
    assert '"status": "planned"' in audit["before_json"].iloc[-1]
    assert '"status": "completed"' in audit["after_json"].iloc[-1]


def test_a_failing_save_stores_nothing(store) -> None:
    rows = registry()
    rows.loc[1, "title"] = None  # NOT NULL: the second insert fails
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error
        save_measures(store, rows, user="ana")
    assert load_measures(store).empty
    assert store.read_sql("SELECT COUNT(*) AS n FROM audit_log "
                          "WHERE entity = 'measure_revisions'")["n"].iloc[0] == 0
