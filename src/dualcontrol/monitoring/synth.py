"""Synthetic meter data with known faults, for tests and benchmarks.

Each unit belongs to an industry with a daily and a weekly load shape; each meter
measures one carrier at the 15-minute interval of the rules. Faults of every class in
:data:`~dualcontrol.monitoring.schema.FAULT_CLASSES` are injected into distinct meters
each day and written to a ground-truth table, so the quality checks can be scored.

The generator works one day and one block of meters at a time with NumPy and writes
each block as its own Parquet file, so memory stays bounded whatever the size. The load
shapes and magnitudes below are illustrative, not statistics of any real unit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dualcontrol.monitoring.schema import READINGS_SCHEMA, rules

logger = logging.getLogger(__name__)

_H = np.arange(24)
#: Illustrative hourly load shape [1, mean 1] and weekday factors (Mon..Sun) per industry.
INDUSTRIES: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "steel": (1 + 0.05 * np.sin(2 * np.pi * _H / 24), np.ones(7)),
    "chemical": (np.ones(24), np.ones(7)),
    "cement": (np.where((_H >= 23) | (_H < 7), 1.4, 0.8),  # mills run on night tariff
               np.array([1, 1, 1, 1, 1, 0.95, 0.85])),
    "manufacturing": (np.where((_H >= 8) & (_H < 20), 1.6, 0.4),
                      np.array([1, 1, 1, 1, 1, 0.6, 0.4])),
    "commercial": (0.5 + 1.0 * np.exp(-(((_H - 14) / 4.0) ** 2)) * 1.6,
                   np.array([1, 1, 1, 1, 1, 0.8, 0.7])),
}
#: Meter layout of a unit: carrier, kind, unit of measure, mean quantity per 15 min.
METER_TYPES: tuple[tuple[str, str, str, float], ...] = (
    ("electricity", "register", "kWh", 2000.0),
    ("natural_gas", "register", "m3", 300.0),
    ("heat", "interval", "GJ", 20.0),
    ("raw_coal", "interval", "t", 5.0),
    ("electricity", "interval", "kWh", 500.0),
)
LEAGUES: tuple[str, ...] = ("呼和浩特市", "包头市", "呼伦贝尔市", "兴安盟", "通辽市", "赤峰市",
                            "锡林郭勒盟", "乌兰察布市", "鄂尔多斯市", "巴彦淖尔市", "乌海市",
                            "阿拉善盟")
FUTURE_YEARS = 10
OFF_GRID_S = 300


@dataclass
class Fleet:
    """The units and meters of a synthetic data set and the meters' running state."""

    units: pd.DataFrame
    meters: pd.DataFrame
    base_per_slot: np.ndarray          # mean quantity per 15 min [uom]
    register: np.ndarray               # unwrapped register value [uom]
    seq: np.ndarray                    # next sequence number per meter
    rollover_pool: np.ndarray          # meters kept free for a rollover
    used_rollover: set[int] = field(default_factory=set)
    #: meters reset once already: a second reset within a day or two would drop from a
    #: register holding only a day's count, to more than ``reset_max_fraction`` of it,
    #: which the checks rightly call ``negative``; one reset per meter keeps the
    #: ground truth unambiguous
    used_reset: set[int] = field(default_factory=set)


def make_fleet(n_units: int, n_meters: int, *, seed: int = 0) -> Fleet:
    """Return ``n_units`` units with ``n_meters`` meters each, hierarchy included."""
    rng = np.random.default_rng(seed)
    names = list(INDUSTRIES)
    unit_ids = np.arange(1, n_units + 1, dtype=np.int32)
    league = rng.integers(0, len(LEAGUES), n_units)
    park = rng.integers(0, 3, n_units)
    units = pd.DataFrame({
        "unit_id": unit_ids,
        "enterprise": [f"U{u:06d}" for u in unit_ids],
        "industry": [names[i] for i in rng.integers(0, len(names), n_units)],
        "region": "内蒙古自治区",
        "league": [LEAGUES[i] for i in league],
        "county": [f"{LEAGUES[i]}-county{p % 2 + 1}" for i, p in zip(league, park, strict=True)],
        "park": [f"{LEAGUES[i]}-park{p + 1}" for i, p in zip(league, park, strict=True)],
    })
    meter_unit = np.repeat(unit_ids, n_meters)
    position = np.tile(np.arange(n_meters), n_units)
    kinds = [METER_TYPES[p % len(METER_TYPES)] for p in position]
    scale = rng.lognormal(0.0, 0.8, n_units)[meter_unit - 1]
    base = np.array([k[3] for k in kinds]) * scale / (1 + position // len(METER_TYPES))
    register = base * rng.uniform(20_000, 100_000, len(base))
    is_register = np.array([k[1] == "register" for k in kinds])
    register_max = np.where(is_register, 10.0 ** np.ceil(np.log10(register * 10)), np.nan)
    meters = pd.DataFrame({
        "meter_id": np.arange(1, len(meter_unit) + 1, dtype=np.int32),
        "unit_id": meter_unit,
        "carrier": [k[0] for k in kinds],
        "kind": [k[1] for k in kinds],
        "uom": [k[2] for k in kinds],
        "register_max": register_max,
        "use": "combustion",
        "origin": "purchased",
    })
    registers = rng.permutation(np.flatnonzero(is_register))
    pool = np.sort(registers[: max(1, round(0.1 * len(registers)))])
    return Fleet(units, meters, base, np.where(is_register, register, 0.0),
                 np.zeros(len(base), dtype=np.int64), pool)


@dataclass
class Block:
    """One day's readings of a block of meters, and the faults injected into them."""

    table: pa.Table
    faults: list[dict]


def _inject(fleet: Fleet, rows: np.ndarray, day: pd.Timestamp, inc: np.ndarray,
            values: np.ndarray, rng: np.random.Generator, per_class: int,
            ) -> tuple[list[dict], dict[str, list[tuple[int, int, int]]]]:
    """Modify ``values`` in place for value faults; return row faults to apply later."""
    slots = inc.shape[1]
    r = rules()
    meters = fleet.meters
    is_register = (meters["kind"].to_numpy()[rows] == "register")
    pool = set(fleet.rollover_pool.tolist())
    free = [i for i in rng.permutation(len(rows)) if int(rows[i]) not in pool]
    faults: list[dict] = []
    row_faults: dict[str, list[tuple[int, int, int]]] = {}

    def take(predicate) -> list[int]:
        chosen = [i for i in free if predicate(i)][:per_class]
        for i in chosen:
            free.remove(i)
        return chosen

    def record(kind: str, i: int, k: int, n: int = 1) -> None:
        faults.append({"fault": kind, "unit_id": int(meters["unit_id"].iat[rows[i]]),
                       "meter_id": int(meters["meter_id"].iat[rows[i]]),
                       "day": day.date(), "slot": k, "n_readings": n})

    stuck_len = r.stuck_min_readings + 4
    for kind in ("reset", "negative", "stuck", "spike"):
        for i in take(lambda i, kind=kind: kind in ("negative", "stuck", "spike")
                      or (is_register[i] and int(rows[i]) not in fleet.used_reset)):
            if kind == "reset":
                fleet.used_reset.add(int(rows[i]))
            k = int(rng.integers(8, slots - 24))
            v = values[i]
            if is_register[i]:
                if kind == "reset":
                    v[k:] -= v[k - 1]
                elif kind == "negative":
                    v[k:] -= 1.2 * inc[i, k]
                elif kind == "stuck":
                    lost = v[k + stuck_len - 1] - v[k - 1]
                    v[k:k + stuck_len] = v[k - 1]
                    v[k + stuck_len:] -= lost
                else:
                    v[k:] += 19 * inc[i, k]
            elif kind == "negative":
                v[k] = -0.5 * v[k]
            elif kind == "stuck":
                v[k:k + stuck_len] = v[k - 1]
            else:
                v[k] *= 20
            record(kind, i, k, stuck_len if kind == "stuck" else 1)
    # a rollover: the register's maximum is set just below its next reading
    candidates = [i for i in range(len(rows)) if int(rows[i]) in pool
                  and int(rows[i]) not in fleet.used_rollover]
    for i in candidates[:per_class]:
        k = int(rng.integers(8, slots - 24))
        m = int(rows[i])
        fleet.used_rollover.add(m)
        meters.iat[m, meters.columns.get_loc("register_max")] = float(
            values[i, k - 1] + 0.5 * inc[i, k])
        record("rollover", i, k)
    for kind in ("gap", "duplicate", "out_of_order", "future", "off_grid"):
        for i in take(lambda i: True):
            k = int(rng.integers(8, slots - 24))
            n = int(rng.integers(2, 17)) if kind == "gap" else 1
            row_faults.setdefault(kind, []).append((i, k, n))
            record(kind, i, k, n)
    return faults, row_faults


def synth_day(fleet: Fleet, day: pd.Timestamp, rows: np.ndarray, *,
              rng: np.random.Generator, fault_rate: float) -> Block:
    """Return one day's readings of the meters ``rows`` (positions in ``fleet.meters``)."""
    r = rules()
    slots = r.slots_per_day
    step_us = r.interval_minutes * 60 * 1_000_000
    units = fleet.units.set_index("unit_id")
    unit_of = fleet.meters["unit_id"].to_numpy()[rows]
    industry = units.loc[unit_of, "industry"].to_numpy()
    hour = (np.arange(1, slots + 1) * r.interval_minutes - 1) // 60 % 24
    shape = np.empty((len(rows), slots))
    for name, (hourly, weekly) in INDUSTRIES.items():
        shape[industry == name] = hourly[hour] * weekly[day.dayofweek]
    inc = fleet.base_per_slot[rows, None] * shape * rng.normal(1.0, 0.05, shape.shape)
    inc = np.abs(inc)
    is_register = fleet.meters["kind"].to_numpy()[rows] == "register"
    values = np.where(is_register[:, None],
                      fleet.register[rows, None] + np.cumsum(inc, axis=1), inc)
    per_class = max(1, round(fault_rate * len(rows)))
    faults, row_faults = _inject(fleet, rows, day, inc, values, rng, per_class)
    fleet.register[rows] = np.where(is_register, values[:, -1], 0.0)
    maxima = fleet.meters["register_max"].to_numpy()[rows]
    wrapped = is_register[:, None] & (values >= np.nan_to_num(maxima, nan=np.inf)[:, None])
    values = np.where(wrapped, values - np.nan_to_num(maxima)[:, None], values)

    # readings end their interval: the first of the day is at 00:15, the last at 24:00
    start_us = (day.value // 1000) + step_us
    ts = start_us + np.arange(slots, dtype=np.int64) * step_us
    ts_grid = np.broadcast_to(ts, values.shape).copy()
    seq = fleet.seq[rows, None] + 4 * np.arange(slots, dtype=np.int64)
    fleet.seq[rows] += 4 * slots
    keep = np.ones(values.shape, dtype=bool)
    extra: list[tuple[int, int, int]] = []  # (row, slot, ts shift [us])
    for i, k, n in row_faults.get("gap", []):
        keep[i, k:k + n] = False
    for i, k, _ in row_faults.get("out_of_order", []):
        seq[i, k] += 4 * 3 + 1          # received after the next three readings
    for i, k, _ in row_faults.get("off_grid", []):
        ts_grid[i, k] += OFF_GRID_S * 1_000_000
    for i, k, _ in row_faults.get("duplicate", []):
        extra.append((i, k, 0))
    for i, k, _ in row_faults.get("future", []):
        extra.append((i, k, FUTURE_YEARS * 365 * 86_400 * 1_000_000))
    meter_ids = fleet.meters["meter_id"].to_numpy()[rows]
    ii, kk = np.nonzero(keep)
    e_i = np.array([e[0] for e in extra], dtype=np.int64)
    e_k = np.array([e[1] for e in extra], dtype=np.int64)
    e_shift = np.array([e[2] for e in extra], dtype=np.int64)
    all_i = np.concatenate([ii, e_i])
    all_k = np.concatenate([kk, e_k])
    table = pa.table({
        "unit_id": pa.array(unit_of[all_i].astype(np.int32)),
        "meter_id": pa.array(meter_ids[all_i].astype(np.int32)),
        "ts": pa.array(np.concatenate([ts_grid[ii, kk], ts_grid[e_i, e_k] + e_shift]),
                       type=pa.timestamp("us")),
        "reading": pa.array(values[all_i, all_k]),
        "seq": pa.array(seq[all_i, all_k]),
    }, schema=READINGS_SCHEMA)
    for f in faults:
        f["ts"] = pd.Timestamp(int(ts[f.pop("slot")]) * 1000)
    return Block(table, faults)


def synth_blocks(fleet: Fleet, start: pd.Timestamp, days: int, *, block_meters: int = 50_000,
                 fault_rate: float = 0.001, seed: int = 0,
                 ) -> Iterator[tuple[pd.Timestamp, int, Block]]:
    """Yield ``(day, block number, Block)`` for every day and block of meters."""
    rng = np.random.default_rng(seed + 1)
    n = len(fleet.meters)
    for d in range(days):
        day = start + pd.Timedelta(days=d)
        for b, first in enumerate(range(0, n, block_meters)):
            rows = np.arange(first, min(n, first + block_meters))
            yield day, b, synth_day(fleet, day, rows, rng=rng, fault_rate=fault_rate)


def write_synthetic(out: str | Path, *, n_units: int, n_meters: int, days: int,
                    month: str = "2024-07", seed: int = 0, fault_rate: float = 0.001,
                    block_meters: int = 50_000, csv: bool = False) -> dict[str, int]:
    """Write a synthetic data set (see :mod:`dualcontrol.monitoring.schema`) to ``out``.

    Returns counts: ``readings``, ``faults``, ``units``, ``meters``. The ground truth
    is ``out/faults.csv``: ``fault``, ``unit_id``, ``meter_id``, ``day``, ``ts`` (first
    affected reading), ``n_readings``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fleet = make_fleet(n_units, n_meters, seed=seed)
    start = pd.Timestamp(f"{month}-01")
    faults: list[dict] = []
    readings = 0
    writer = None
    for day, b, block in synth_blocks(fleet, start, days, block_meters=block_meters,
                                      fault_rate=fault_rate, seed=seed):
        readings += block.table.num_rows
        faults.extend(block.faults)
        if csv:
            frame = block.table.to_pandas()
            frame.insert(0, "day", day.date().isoformat())
            frame.to_csv(out / "readings.csv", mode="a", header=writer is None, index=False)
            writer = True
        else:
            folder = out / "readings" / f"day={day.date().isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(block.table, folder / f"part-{b:04d}.parquet",
                           compression="zstd", row_group_size=1 << 20)
        logger.info("wrote %s block %d (%d readings)", day.date(), b, block.table.num_rows)
    fleet.units.to_csv(out / "units.csv", index=False)
    meters = fleet.meters.copy()
    meters["register_max"] = meters["register_max"].map(
        lambda v: "" if math.isnan(v) else repr(float(v)))
    meters.to_csv(out / "meters.csv", index=False)
    pd.DataFrame(faults, columns=["fault", "unit_id", "meter_id", "day", "ts",
                                  "n_readings"]).to_csv(out / "faults.csv", index=False)
    return {"readings": readings, "faults": len(faults), "units": n_units,
            "meters": len(meters)}
