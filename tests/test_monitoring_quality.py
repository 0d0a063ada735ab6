"""Quality checks of meter readings on small hand-made series (DuckDB)."""

from __future__ import annotations

from datetime import datetime

import hypothesis.strategies as st
import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from dualcontrol.monitoring.quality import label_readings
from dualcontrol.monitoring.schema import FAULT_CLASSES, prepare_meters, rules
from dualcontrol.reference import load_table

AS_OF = datetime(2025, 1, 1)
DAY = pd.Timestamp("2024-07-01")


def _meters() -> pd.DataFrame:
    return prepare_meters(pd.DataFrame({
        "meter_id": [1, 2], "unit_id": [1, 1], "carrier": ["electricity", "electricity"],
        "kind": ["register", "interval"], "uom": ["kWh", "kWh"],
        "register_max": ["1000", ""],
    }))


def _readings(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame({
        "unit_id": np.int32(1),
        "meter_id": np.array([r[0] for r in rows], dtype="int32"),
        "ts": [DAY + pd.Timedelta(r[1]) for r in rows],
        "reading": [r[2] for r in rows],
        "seq": np.arange(len(rows), dtype="int64"),
        "day": DAY.date(),
    })


def _label(readings: pd.DataFrame, **kwargs) -> pd.DataFrame:
    con = ibis.duckdb.connect()
    labelled = label_readings(ibis.memtable(readings), ibis.memtable(_meters()), as_of=AS_OF,
                              **kwargs)
    return con.execute(labelled.order_by(["meter_id", "ts", "seq"]))


REGISTER = [(1, "15min", 900.0), (1, "30min", 950.0), (1, "45min", 990.0),
            (1, "60min", 20.0), (1, "75min", 50.0), (1, "90min", 0.1),
            (1, "105min", 10.0), (1, "120min", 5.0)]


def test_register_rollover_reset_and_negative() -> None:
    out = _label(_readings(REGISTER))
    # rollover: 990 >= 0.9 x 1000 and 20 <= 0.1 x 1000 -> 20 + 1000 - 990 = 30 kWh
    # reset: 0.1 <= 0.01 x 50 -> counted from zero: 0.1 kWh
    # negative: 10 -> 5 is neither -> nothing
    expected = [np.nan, 50.0, 40.0, 30.0, 30.0, 0.1, 9.9, np.nan]
    np.testing.assert_allclose(out["interval_quantity"], expected, rtol=1e-12)
    assert out["rollover"].tolist() == [False, False, False, True] + [False] * 4
    assert out["reset"].tolist() == [False] * 5 + [True, False, False]
    assert out["negative"].tolist() == [False] * 7 + [True]
    assert len(out) == len(REGISTER)  # every reading kept


def test_interval_gap_duplicate_negative_and_gap_filling() -> None:
    rows = [(2, "15min", 10.0), (2, "30min", 12.0), (2, "75min", 14.0), (2, "75min", 14.0),
            (2, "90min", -3.0), (2, "105min", 11.0)]
    out = _label(_readings(rows))
    assert out["missing_before"].tolist() == [0, 0, 2, 0, 0, 0]  # 00:45 and 01:00 missing
    assert out["gap"].sum() == 1 and out["duplicate"].tolist()[3]
    assert out["negative"].tolist() == [False] * 4 + [True, False]
    # 10 + 12 + 14 (once) + 11; the negative and the duplicate contribute nothing
    assert out["interval_quantity"].sum() == pytest.approx(47.0)
    filled = _label(_readings(rows), fill_gaps=True)
    # two missing quarters x mean of the neighbours (12 + 14) / 2 = 26 kWh, labelled
    assert filled["filled_quantity"].sum() == pytest.approx(26.0)
    assert filled["interval_quantity"].sum() == pytest.approx(47.0 + 26.0)


def test_future_off_grid_out_of_order_stuck_spike() -> None:
    r = rules()
    n = r.stuck_min_readings
    quarter = pd.Timedelta(minutes=15)
    values = [100.0 + (i % 3) for i in range(40)]
    values[30] = 2000.0                                  # spike, 20x its neighbours
    for i in range(10, 10 + n + 1):                       # n unchanged intervals
        values[i] = 55.0
    frame = _readings([(2, str((i + 1) * quarter), v) for i, v in enumerate(values)])
    frame.loc[5, "ts"] += pd.Timedelta(minutes=5)        # off grid by 300 s > 60 s
    frame.loc[20, "seq"] = 100                            # received after later readings
    extra = frame.iloc[[0]].assign(ts=pd.Timestamp("2030-01-01"), seq=999)
    out = _label(pd.concat([frame, extra], ignore_index=True))
    flagged = {f: out.loc[out[f], "ts"].tolist() for f in FAULT_CLASSES if out[f].any()}
    ts = frame["ts"].tolist()
    assert flagged["future"] == [pd.Timestamp("2030-01-01")]
    assert flagged["off_grid"] == [ts[5]]
    assert flagged["out_of_order"] == [ts[20]]
    assert flagged["spike"] == [ts[30]]
    # the n-th unchanged interval completes the run: reading 10 + n
    assert flagged["stuck"] == [ts[10 + n]]
    assert set(flagged) == {"future", "off_grid", "out_of_order", "spike", "stuck"}


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0.5, 500.0), min_size=3, max_size=60))
def test_clean_register_is_unflagged_and_conserves_energy(increments: list[float]) -> None:
    # a register is the running sum of its increments; with a 3 % ripple no two
    # consecutive increments are equal, so nothing is stuck
    steps = [x * (1.0 + 0.03 * (i % 2)) for i, x in enumerate(increments)]
    values = 500.0 + np.concatenate([[0.0], np.cumsum(steps)])
    quarter = pd.Timedelta(minutes=15)
    readings = _readings([(1, str((i + 1) * quarter), v) for i, v in enumerate(values)])
    meters = _meters()
    meters.loc[0, "register_max"] = 1e9
    con = ibis.duckdb.connect()
    out = con.execute(label_readings(ibis.memtable(readings), ibis.memtable(meters),
                                     as_of=AS_OF))
    flagged = out[[f for f in FAULT_CLASSES if f != "spike"]].to_numpy().any()
    assert not flagged
    assert out["interval_quantity"].sum() + out.loc[out["spike"], "rate"].sum() == (
        pytest.approx(values[-1] - values[0], rel=1e-9))


def test_rules_have_sources() -> None:
    table = load_table("monitoring-rules")
    assert (table["source"].str.len() > 0).all()
    r = rules()
    # 发改环资〔2017〕1711号: 15-minute data, completeness >= 90 %, deviation <= 5 %
    assert (r.interval_minutes, r.completeness_min_fraction,
            r.daily_monthly_deviation_max_fraction) == (15, 0.90, 0.05)
    assert r.slots_per_day == 96


def test_bad_meter_registry_lists_every_problem() -> None:
    from dualcontrol.errors import InputError

    bad = pd.DataFrame({"meter_id": [1, 1], "unit_id": [1, 1],
                        "carrier": ["electricity", "unobtainium"],
                        "kind": ["register", "dial"], "uom": ["kWh", "kWh"],
                        "register_max": ["", ""]})
    with pytest.raises(InputError) as info:
        prepare_meters(bad, file="meters.csv")
    fields = sorted(p.field for p in info.value.problems)
    assert fields == ["carrier", "kind", "meter_id", "register_max"]


def test_meter_registry_problems_name_every_row_of_a_bad_spelling() -> None:
    """Each (carrier, uom) spelling is resolved once, and a bad one is reported on each
    of its rows (spreadsheet numbering: the header is row 1)."""
    from dualcontrol.errors import InputError

    good = {"carrier": "electricity", "uom": "kWh"}
    bad = {"carrier": "electricity", "uom": "t"}  # a mass unit for electricity
    rows = [good, bad, good, bad, {"carrier": "natural_gas", "uom": "tce"}]
    frame = pd.DataFrame([{"meter_id": i + 1, "unit_id": 1, "kind": "interval", **r}
                          for i, r in enumerate(rows)])
    with pytest.raises(InputError) as info:
        prepare_meters(frame, file="meters.csv")
    found = [(p.row, p.field) for p in info.value.problems]
    assert found == [(3, "uom"), (5, "uom"), (6, "uom")]
    assert "not tce" in info.value.problems[-1].message
    ok = prepare_meters(frame.iloc[[0, 2]], file="meters.csv")
    assert ok["to_carrier_unit"].tolist() == [1.0, 1.0]
    assert ok["carrier"].tolist() == ["electricity", "electricity"]
