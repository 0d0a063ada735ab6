"""The sorted scan gives the window functions' meter-day table, whatever the file order.

:mod:`dualcontrol.monitoring.quality` (window functions) is the definition of the checks;
the scan must reproduce its meter-day counts exactly and its quantities to rounding, on
synthetic data with every fault class (dense), with gap filling, with the rows of each
day file shuffled, without ``seq``, and hourly. Where it cannot (a reading outside its
day partition) it declines and the pipeline falls back to the window functions.
"""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from dualcontrol.errors import InputError
from dualcontrol.monitoring import scan
from dualcontrol.monitoring.engines import connect, month_days, open_data, register
from dualcontrol.monitoring.pipeline import monitor
from dualcontrol.monitoring.quality import label_readings
from dualcontrol.monitoring.rollup import COUNTS, meter_day_counts
from dualcontrol.monitoring.scan import ScanDeclined, scan_month
from dualcontrol.monitoring.synth import write_synthetic

AS_OF = datetime(2025, 1, 1)
MONTH = "2024-07"


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five days, 150 meters, each fault class on 5% of the meters a day."""
    out = tmp_path_factory.mktemp("dense")
    write_synthetic(out, n_units=30, n_meters=5, days=5, month=MONTH, seed=3,
                    fault_rate=0.05)
    return out


def _windows(data: Path, *, fill_gaps: bool = False) -> pd.DataFrame:
    con = connect("duckdb")
    meter_data = open_data(con, data)
    first, last = month_days(MONTH)
    readings = meter_data.readings.filter(meter_data.readings.day.between(
        first - timedelta(days=1), last + timedelta(days=1)))
    meters = register(con, "dc_meters", meter_data.meters)
    labelled = label_readings(readings, meters, as_of=AS_OF, fill_gaps=fill_gaps)
    labelled = labelled.filter(labelled.day.between(first, last))
    frame = con.execute(meter_day_counts(labelled))
    return _tidy(frame)


def _scan(data: Path, **kwargs) -> pd.DataFrame:
    con = connect("duckdb")
    meter_data = open_data(con, data)
    first, last = month_days(MONTH)
    result = scan_month(data / "readings", meter_data.meters, meter_data.units, first, last,
                        as_of=AS_OF, **kwargs)
    return _tidy(result.meter_days.to_pandas())


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(day=pd.to_datetime(frame["day"]))
    return frame.sort_values(["meter_id", "day"]).reset_index(drop=True)


def _assert_same(scan: pd.DataFrame, windows: pd.DataFrame) -> None:
    assert len(scan) == len(windows)
    keys = ["meter_id", "day", *COUNTS]
    pd.testing.assert_frame_equal(scan[keys], windows[keys], check_dtype=False)
    # quantities are sums of the same terms in another order: equal to rounding
    for column in ("quantity", "filled_quantity"):
        np.testing.assert_allclose(scan[column], windows[column], rtol=1e-12, atol=1e-9)


def test_scan_equals_windows_on_dense_faults(dense: Path) -> None:
    scan = _scan(dense)
    _assert_same(scan, _windows(dense))
    # the comparison is not vacuous: every fault class is present
    assert (scan[list(COUNTS[3:])].sum() > 0).all()


def test_scan_equals_windows_with_gap_filling(dense: Path) -> None:
    scan = _scan(dense, fill_gaps=True)
    _assert_same(scan, _windows(dense, fill_gaps=True))
    assert scan["filled_quantity"].sum() > 0


def _copy(data: Path, out: Path, change) -> Path:
    shutil.copytree(data, out)
    for file in (out / "readings").rglob("*.parquet"):
        pq.write_table(change(pq.read_table(file)), file)
    return out


def _spy_counting_sort(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the batches grouped by the counting sort (the fallback of the runs)."""
    calls: list[int] = []
    original = scan._count

    def spy(ids, *args):
        calls.append(len(ids))
        return original(ids, *args)

    monkeypatch.setattr(scan, "_count", spy)
    return calls


def test_file_order_does_not_matter(dense: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows shuffled within each day file: the counting sort and the repair of each
    meter's order give the same table."""
    rng = np.random.default_rng(0)
    shuffled = _copy(dense, tmp_path / "shuffled",
                     lambda table: table.take(rng.permutation(table.num_rows)))
    expected = _scan(dense)
    calls = _spy_counting_sort(monkeypatch)
    _assert_same(_scan(shuffled), expected)
    assert calls  # shuffled meters come in too many runs: grouped by counting sort


def test_late_readings_join_their_meter(dense: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written meter by meter with some readings of a few meters received late
    (moved to the end of the file, out of time order): the runs and the late readings
    give the same table as the window functions, without the counting sort."""

    def delay(table):
        order = np.arange(table.num_rows)
        meter = table.column("meter_id").to_numpy()
        late = order[(meter % 25 == 0) & (order % 7 == 0)]
        assert len(late)
        return table.take(np.r_[np.delete(order, late), late[::-1]])

    delayed = _copy(dense, tmp_path / "delayed", delay)
    calls = _spy_counting_sort(monkeypatch)
    scanned = _scan(delayed)
    assert not calls
    _assert_same(scanned, _windows(delayed))
    _assert_same(scanned, _scan(dense))


def test_without_seq(dense: Path, tmp_path: Path) -> None:
    """No ``seq`` column: no out-of-order check, the rest as the window functions."""
    bare = _copy(dense, tmp_path / "bare", lambda table: table.drop_columns(["seq"]))
    scan = _scan(bare)
    assert scan["out_of_order"].sum() == 0
    _assert_same(scan, _windows(bare))


def test_hourly_streams_equal_the_window_path(dense: Path, tmp_path: Path) -> None:
    hours = {}
    for checks in ("scan", "windows"):
        con = connect("duckdb")
        result = monitor(con, open_data(con, dense), MONTH, as_of=AS_OF, checks=checks,
                         hourly_path=tmp_path / checks)
        assert result.checks == checks
        frame = pd.read_parquet(tmp_path / checks)
        keys = ["unit_id", "carrier", "use", "origin", "period"]
        hours[checks] = frame.sort_values(keys).reset_index(drop=True)
    scan, windows = hours["scan"], hours["windows"]
    assert len(scan) == len(windows) > 0
    pd.testing.assert_frame_equal(scan.drop(columns="quantity_carrier_unit"),
                                  windows.drop(columns="quantity_carrier_unit"),
                                  check_dtype=False)
    np.testing.assert_allclose(scan["quantity_carrier_unit"],
                               windows["quantity_carrier_unit"], rtol=1e-9)


def test_progress_counts_days_or_unit_groups(dense: Path) -> None:
    """The scan reports each day file read (five here), the window functions each unit
    group, ending at the total."""
    for checks, chunks, total in (("scan", 1, 5), ("windows", 3, 3)):
        seen: list[tuple[int, int]] = []
        con = connect("duckdb")
        monitor(con, open_data(con, dense), MONTH, as_of=AS_OF, checks=checks,
                unit_chunks=chunks, progress=lambda done, of, seen=seen: seen.append(
                    (done, of)))
        assert seen == [(done, total) for done in range(1, total + 1)], checks


def test_reading_outside_its_partition_falls_back_to_windows(dense: Path,
                                                             tmp_path: Path) -> None:
    """A reading stored under the wrong day: the scan declines, the pipeline labels with
    window functions and says so."""
    moved = _copy(dense, tmp_path / "moved", lambda table: table)
    day = moved / "readings" / "day=2024-07-02"
    file = next(day.glob("*.parquet"))
    table = pq.read_table(file)
    ts = table.column("ts").to_numpy().copy()
    ts[0] += np.timedelta64(1, "D")  # now a reading of 3 July
    pq.write_table(table.set_column(table.schema.get_field_index("ts"), "ts", [ts]), file)
    with pytest.raises(ScanDeclined, match="outside their day partition"):
        _scan(moved)
    con = connect("duckdb")
    result = monitor(con, open_data(con, moved), MONTH, as_of=AS_OF)
    assert result.checks == "windows"
    assert result.rows == int(_windows(moved)["rows"].sum()) > 0


def test_scan_needs_day_partitions(dense: Path, tmp_path: Path) -> None:
    csv_data = tmp_path / "csv"
    write_synthetic(csv_data, n_units=2, n_meters=2, days=1, month=MONTH, csv=True)
    con = connect("duckdb")
    with pytest.raises(InputError, match="day partitions"):
        monitor(con, open_data(con, csv_data), MONTH, as_of=AS_OF, checks="scan")
    result = monitor(con, open_data(con, csv_data), MONTH, as_of=AS_OF)
    assert result.checks == "windows"
