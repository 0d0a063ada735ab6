"""The monitoring pipeline on synthetic data, on DuckDB and on Spark.

The synthetic data carry a ground truth of the faults injected; the checks must find
every one of them and nothing else. The same tests run on both engines (the ``engine``
fixture), and a Spark-marked test compares the two engines' numbers.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

from dualcontrol.cli import app
from dualcontrol.monitoring.engines import connect, open_data
from dualcontrol.monitoring.pipeline import monitor
from dualcontrol.monitoring.schema import FAULT_CLASSES

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning")

AS_OF = datetime(2025, 1, 1)
MONTH = "2024-07"


def _spark_available() -> bool:
    return shutil.which("java") is not None and __import__("importlib").util.find_spec(
        "pyspark") is not None


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dualcontrol.monitoring.synth import write_synthetic

    out = tmp_path_factory.mktemp("meters")
    write_synthetic(out, n_units=12, n_meters=5, days=3, month=MONTH, seed=7)
    return out


@pytest.fixture(scope="session")
def reports(dataset: Path) -> pd.DataFrame:
    """Monthly reports: metered x 1.02 (ok), x 1.10 (beyond), one carrier unreported."""
    monthly = _run(dataset, "duckdb").monthly
    rows = []
    for i, r in enumerate(monthly.itertuples(index=False)):
        if i == 0:
            continue  # not reported
        factor = 1.10 if i % 4 == 1 else 1.02
        unit = {"electricity": "kWh", "natural_gas": "m3", "heat": "GJ", "raw_coal": "t"}
        rows.append({"enterprise": r.enterprise, "period": MONTH, "carrier": r.carrier,
                     "quantity": r.quantity_carrier_unit * factor, "unit": unit[r.carrier]})
    rows.append({"enterprise": "U000001", "period": MONTH, "carrier": "diesel",
                 "quantity": 3.0, "unit": "t"})  # not metered
    return pd.DataFrame(rows)


#: Pipeline results per engine and options, computed once per test session.
_RESULTS: dict = {}


def _run(dataset: Path, engine: str, **kwargs):
    key = (engine, tuple(sorted(kwargs)))  # one value per keyword in this module
    if key not in _RESULTS:
        con = connect(engine)
        _RESULTS[key] = monitor(con, open_data(con, dataset), MONTH, as_of=AS_OF, **kwargs)
    return _RESULTS[key]


@pytest.fixture(scope="session", params=["duckdb", pytest.param("spark",
                                                                marks=pytest.mark.spark)])
def engine(request: pytest.FixtureRequest) -> str:
    if request.param == "spark" and not _spark_available():
        pytest.skip("PySpark or Java is missing")
    return request.param


def _detected(quality_days: pd.DataFrame) -> set:
    return {(f, int(m)) for f in FAULT_CLASSES
            for m in quality_days.loc[quality_days[f] > 0, "meter_id"]}


def test_synthetic_truth_has_every_fault_class(dataset: Path) -> None:
    truth = pd.read_csv(dataset / "faults.csv")
    assert set(truth["fault"]) == set(FAULT_CLASSES)


def test_every_injected_fault_is_found_and_nothing_else(dataset: Path, engine: str) -> None:
    result = _run(dataset, engine)
    truth = pd.read_csv(dataset / "faults.csv")
    expected = {(f, int(m)) for f, m in truth[["fault", "meter_id"]].itertuples(index=False)}
    assert _detected(result.quality) == expected


def test_readings_counted_once(dataset: Path, engine: str) -> None:
    # 12 units x 5 meters x 3 days x 96 readings, less the gaps' readings, plus one
    # extra row per duplicate and per future reading (from the ground truth)
    truth = pd.read_csv(dataset / "faults.csv")
    n = truth.groupby("fault")["n_readings"].sum()
    expected = 12 * 5 * 3 * 96 - n["gap"] + n["duplicate"] + n["future"]
    assert _run(dataset, engine).rows == expected


def test_incomplete_days_follow_the_90_percent_rule(dataset: Path, engine: str) -> None:
    # a gap of g readings leaves 96 - g of 96 expected; below 90 % (g >= 10) is incomplete
    truth = pd.read_csv(dataset / "faults.csv")
    gaps = truth[truth["fault"] == "gap"]
    expected = {int(m) for m, g in zip(gaps["meter_id"], gaps["n_readings"], strict=True)
                if (96 - g) / 96 < 0.90}
    quality = _run(dataset, engine).quality
    assert set(quality.loc[quality["days_incomplete"] > 0, "meter_id"]) == expected


def test_unit_chunks_give_the_same_result(dataset: Path) -> None:
    one = _run(dataset, "duckdb")
    three = _run(dataset, "duckdb", unit_chunks=3)
    pd.testing.assert_frame_equal(one.quality, three.quality)
    pd.testing.assert_frame_equal(one.monthly, three.monthly)


def test_levels_add_up(dataset: Path, engine: str) -> None:
    result = _run(dataset, engine)
    total = result.monthly["energy_tce"].sum()
    for level, frame in result.levels.items():
        assert frame["energy_tce"].sum() == pytest.approx(total, rel=1e-12), level
        assert frame["co2_t"].sum() == pytest.approx(result.monthly["co2_t"].sum(),
                                                     rel=1e-12), level
    assert result.monthly["quantity_carrier_unit"].sum() == pytest.approx(
        pc.sum(result.daily["quantity_carrier_unit"]).as_py(), rel=1e-12)


def test_reconciliation_statuses(dataset: Path, engine: str, reports: pd.DataFrame) -> None:
    result = _run(dataset, engine, reports=reports)
    rec = result.reconciliation.set_index(["enterprise", "carrier"])
    first = result.monthly.iloc[0]
    assert rec.loc[(first.enterprise, first.carrier), "status"] == "not_reported"
    assert rec.loc[("U000001", "diesel"), "status"] == "not_metered"
    rest = rec[rec["status"].isin(["ok", "beyond_tolerance"])]
    # reported = metered x 1.10 or x 1.02, so (metered - reported) / reported is
    # -0.10 / 1.10 = -0.0909 (beyond 5 %) or -0.02 / 1.02 = -0.0196 (within)
    beyond = rest["status"] == "beyond_tolerance"
    assert rest.loc[beyond, "relative_difference"].to_numpy() == pytest.approx(-0.1 / 1.1)
    assert rest.loc[~beyond, "relative_difference"].to_numpy() == pytest.approx(-0.02 / 1.02)
    assert beyond.sum() > 0 and (~beyond).sum() > 0


@pytest.mark.spark
def test_duckdb_and_spark_give_the_same_numbers(dataset: Path) -> None:
    if not _spark_available():
        pytest.skip("PySpark or Java is missing")
    duck, spark = _run(dataset, "duckdb"), _run(dataset, "spark")
    assert duck.rows == spark.rows
    pd.testing.assert_frame_equal(duck.quality, spark.quality, check_dtype=False,
                                  rtol=1e-12)
    for name in ("monthly", "daily"):
        a, b = getattr(duck, name), getattr(spark, name)
        if name == "daily":  # Arrow tables
            a, b = a.to_pandas(), b.to_pandas()
        cols = ["unit_id", "carrier", "quantity_carrier_unit", "energy_tce", "co2_t"]
        pd.testing.assert_frame_equal(a[cols].reset_index(drop=True),
                                      b[cols].reset_index(drop=True), check_dtype=False,
                                      rtol=1e-12)
    for level in duck.levels:
        pd.testing.assert_series_equal(duck.levels[level]["energy_tce"],
                                       spark.levels[level]["energy_tce"], rtol=1e-12)


def test_cli_synth_and_monitor_json(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "data"
    done = runner.invoke(app, ["synth", "meters", str(out), "--units", "4", "--meters", "3",
                               "--days", "1", "--csv"])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(app, ["monitor", str(out), "--month", MONTH, "--json",
                                "--as-of", "2025-01-01T00:00:00"])
    assert shown.exit_code == 0, shown.output
    payload = json.loads(shown.stdout)
    truth = pd.read_csv(out / "faults.csv")
    found = {f["fault"] for f in payload["faults"] if f["readings"] > 0}
    assert set(truth["fault"]) <= found
    assert payload["readings"] > 0 and payload["levels"]["region"][0]["energy_tce"] > 0


def test_cli_checks_choice(tmp_path: Path) -> None:
    """``--checks`` picks the labelling; both ways give the same readings and tce."""
    runner = CliRunner()
    out = tmp_path / "data"
    assert runner.invoke(app, ["synth", "meters", str(out), "--units", "3", "--meters",
                               "2", "--days", "2"]).exit_code == 0
    payloads = {}
    for checks in ("scan", "windows"):
        shown = runner.invoke(app, ["monitor", str(out), "--month", MONTH, "--json",
                                    "--as-of", "2025-01-01T00:00:00", "--checks", checks,
                                    "--threads", "1"])
        assert shown.exit_code == 0, shown.output
        payloads[checks] = json.loads(shown.stdout)
        assert payloads[checks]["checks"] == checks
    scan, windows = payloads["scan"], payloads["windows"]
    assert scan["readings"] == windows["readings"] > 0
    assert scan["faults"] == windows["faults"]
    assert scan["levels"]["region"][0]["energy_tce"] == pytest.approx(
        windows["levels"]["region"][0]["energy_tce"], rel=1e-12)
    wrong = runner.invoke(app, ["monitor", str(out), "--month", MONTH, "--checks", "sort"])
    assert wrong.exit_code == 2 and "scan" in wrong.output


def test_cli_reports_missing_files(tmp_path: Path) -> None:
    shown = CliRunner().invoke(app, ["monitor", str(tmp_path), "--month", MONTH])
    assert shown.exit_code == 2
    assert "meters.csv" in shown.output


def test_first_reading_of_the_month_keeps_its_increment(tmp_path: Path) -> None:
    # a register counting 1 kWh per 15 min over 30 June and 1 July 2024 (no faults):
    # July has the 96 readings 07-01 00:15 .. 07-02 00:00, and its first increment is
    # the 00:15 reading minus the last June one, so July's energy is 96 x 1 = 96 kWh
    # and June's readings are neither counted nor flagged
    pd.DataFrame({"unit_id": [1], "enterprise": ["U1"], "region": ["R"],
                  "league": ["L"]}).to_csv(tmp_path / "units.csv", index=False)
    pd.DataFrame({"meter_id": [1], "unit_id": [1], "carrier": ["electricity"],
                  "kind": ["register"], "uom": ["kWh"], "register_max": [1e9]}).to_csv(
        tmp_path / "meters.csv", index=False)
    ts = pd.date_range("2024-06-30 00:15", periods=192, freq="15min")
    pd.DataFrame({"day": (ts - pd.Timedelta(seconds=1)).date, "unit_id": 1,
                  "meter_id": 1, "ts": ts, "reading": 1000.0 + pd.RangeIndex(192),
                  "seq": pd.RangeIndex(192)}).to_csv(tmp_path / "readings.csv", index=False)
    con = connect("duckdb")
    result = monitor(con, open_data(con, tmp_path), MONTH, as_of=AS_OF,
                     hourly_path=tmp_path / "hourly")
    assert result.rows == 96
    assert result.monthly["quantity_carrier_unit"].sum() == pytest.approx(96.0)
    assert int(result.quality[list(FAULT_CLASSES)].to_numpy().sum()) == 0
    # hours 00:00 .. 23:00 of 1 July, four 1 kWh intervals each (00:15 .. 01:00 is hour 0)
    hourly = pd.read_parquet(tmp_path / "hourly").sort_values("period")
    assert list(hourly["period"]) == list(pd.date_range("2024-07-01", periods=24, freq="h"))
    assert hourly["quantity_carrier_unit"].tolist() == pytest.approx([4.0] * 24)


def test_hourly_energy_adds_up_to_the_month(dataset: Path, engine: str,
                                            tmp_path: Path) -> None:
    con = connect(engine)
    result = monitor(con, open_data(con, dataset), MONTH, as_of=AS_OF,
                     hourly_path=tmp_path / "hourly")
    hourly = pd.read_parquet(tmp_path / "hourly")
    assert (hourly["period"].dt.floor("h") == hourly["period"]).all()
    assert hourly["period"].min() == pd.Timestamp("2024-07-01 00:00")
    assert hourly["period"].max() == pd.Timestamp("2024-07-03 23:00")
    keys = ["unit_id", "carrier"]
    by_hour = hourly.groupby(keys)["quantity_carrier_unit"].sum()
    by_month = result.monthly.groupby(keys)["quantity_carrier_unit"].sum()
    pd.testing.assert_series_equal(by_hour, by_month, check_index_type=False, rtol=1e-9)


def test_memory_limit_must_be_a_size_literal() -> None:
    from dualcontrol.errors import InputError
    from dualcontrol.monitoring.engines import connect

    with pytest.raises(InputError, match="memory limit"):
        connect("duckdb", memory_limit="3GB'; DROP TABLE x; --")


def test_dense_faults_keep_an_unambiguous_truth(tmp_path: Path) -> None:
    # at a fault rate of 0.3 per class and meter-day the meters run out before the
    # classes do; a register is reset at most once (a second reset a day later drops
    # from a day's count to more than 1 % of it, which the checks call negative), and
    # what is found is exactly what was injected
    from dualcontrol.monitoring.synth import write_synthetic

    write_synthetic(tmp_path, n_units=6, n_meters=4, days=8, month=MONTH, seed=3,
                    fault_rate=0.3)
    truth = pd.read_csv(tmp_path / "faults.csv")
    resets = truth.loc[truth["fault"] == "reset", "meter_id"]
    assert len(resets) > 1 and resets.is_unique
    con = connect("duckdb")
    result = monitor(con, open_data(con, tmp_path), MONTH, as_of=AS_OF)
    expected = {(f, int(m)) for f, m in truth[["fault", "meter_id"]].itertuples(index=False)}
    assert _detected(result.quality) == expected
