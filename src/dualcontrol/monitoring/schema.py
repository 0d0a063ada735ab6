"""The meter data of the online monitoring system: readings, meters, units, and the rules.

A data set is a directory::

    DATA/units.csv       one row per key energy-consuming unit (重点用能单位)
    DATA/meters.csv      one row per meter
    DATA/readings/day=YYYY-MM-DD/*.parquet   readings, Parquet partitioned by day
    (or DATA/readings.csv, the same columns in one CSV file)

Readings (:data:`READING_COLUMNS`)
    ``unit_id`` [int32], ``meter_id`` [int32, unique over the data set], ``ts``
    [timestamp without time zone, China Standard Time, UTC+8, no daylight saving],
    ``reading`` [float64, in the meter's ``uom``] and optionally ``seq`` [int64, the
    order in which the platform received the meter's readings, for the out-of-order
    check]. A reading is the cumulative register value at ``ts`` for a ``register``
    meter, or the quantity measured in the interval ending at ``ts`` for an
    ``interval`` meter.

Meters (:data:`METER_COLUMNS`)
    ``meter_id``, ``unit_id``, ``carrier`` (a code of ``dualcontrol reference
    carriers``), ``kind`` (``register`` or ``interval``), ``uom`` (unit of measure, a
    code of ``dualcontrol reference units`` of the carrier's dimension: kWh, m3, GJ, t
    ...), ``register_max`` [uom; the value at which a register rolls over to zero, blank
    for interval meters], ``use`` and ``origin`` as in the accounting core (blank:
    combustion, purchased).

Units (:data:`UNIT_COLUMNS`)
    ``unit_id``, ``enterprise`` (the name or code reports use), ``industry`` and the
    hierarchy ``region``, ``league``, ``county``, ``park``.

The carrier and unit of measure are attributes of a meter, not repeated on each of the
hundreds of millions of readings; every roll-up joins them on the small aggregates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa

from dualcontrol.errors import InputError, Problem, require_columns
from dualcontrol.reference import (
    load_table,
    quantity_in_carrier_unit,
    resolve_carrier,
    resolve_unit,
    units_for,
)

logger = logging.getLogger(__name__)

#: Arrow schema of the readings files.
READINGS_SCHEMA = pa.schema([
    pa.field("unit_id", pa.int32(), nullable=False),
    pa.field("meter_id", pa.int32(), nullable=False),
    pa.field("ts", pa.timestamp("us"), nullable=False),
    pa.field("reading", pa.float64()),
    pa.field("seq", pa.int64()),
])
READING_COLUMNS: tuple[str, ...] = tuple(READINGS_SCHEMA.names)
METER_COLUMNS: tuple[str, ...] = ("meter_id", "unit_id", "carrier", "kind", "uom",
                                  "register_max", "use", "origin")
UNIT_COLUMNS: tuple[str, ...] = ("unit_id", "enterprise", "industry", "region", "league",
                                 "county", "park")
KINDS: tuple[str, ...] = ("register", "interval")

#: Every label the quality checks put on a reading (see :mod:`.quality`).
FAULT_CLASSES: tuple[str, ...] = (
    "gap", "duplicate", "negative", "reset", "rollover", "stuck", "spike",
    "out_of_order", "future", "off_grid",
)


@dataclass(frozen=True)
class Rules:
    """The thresholds of the quality checks, from ``monitoring_rules.csv``."""

    interval_minutes: int
    completeness_min_fraction: float
    daily_monthly_deviation_max_fraction: float
    timestamp_tolerance_s: int
    stuck_min_readings: int
    spike_robust_z: float
    mad_scale: float
    reset_max_fraction: float
    rollover_high_fraction: float
    rollover_low_fraction: float

    @property
    def slots_per_day(self) -> int:
        """Return the number of readings a meter sends in a full day."""
        return 24 * 60 // self.interval_minutes


@cache
def rules() -> Rules:
    """Return the monitoring rules shipped with the package.

    References
    ----------
    发改环资〔2017〕1711号 and its technical specification (interval, completeness,
    deviation, timestamp tolerance); Leys et al. (2013) for the MAD outlier rule; the
    rest are dualcontrol choices marked ``verified=false`` in the file.
    """
    table = load_table("monitoring-rules").set_index("rule")["value"]
    kwargs = {}
    for name, kind in Rules.__annotations__.items():
        kwargs[name] = int(table[name]) if kind == "int" else float(table[name])
    return Rules(**kwargs)


def _meter_unit(carrier_name: str, uom: str, file: str | None) -> tuple[float, str]:
    """Return [carrier unit / uom] and the carrier code of a meter's carrier and unit.

    Raises :class:`InputError` (without a row: the caller adds every row of the pair).
    """
    carrier = resolve_carrier(carrier_name, file=file)
    unit = resolve_unit(uom, file=file, field="uom")
    if unit.dimension == "standard_coal":
        raise InputError(Problem("a meter measures a physical quantity, not tce", file=file,
                                 field="uom", value=uom, accepted=units_for(carrier)))
    return quantity_in_carrier_unit(1.0, unit, carrier, file=file, field="uom"), carrier.code


def prepare_meters(frame: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Return the validated meter registry with ``to_carrier_unit`` added.

    ``to_carrier_unit`` [carrier unit / uom] turns a quantity in the meter's unit of
    measure into the carrier's own unit (kWh for electricity, m3 for gas, t for coal).

    Raises
    ------
    InputError
        For missing columns, duplicated meters, unknown carriers, kinds or units, a
        unit that does not fit the carrier, or a register without ``register_max``.
    """
    require_columns(frame.columns, METER_COLUMNS[:5], file=file, accepted=METER_COLUMNS)
    problems: list[Problem] = []
    data = frame.reset_index(drop=True).copy()
    for column, default in (("register_max", ""), ("use", "combustion"),
                            ("origin", "purchased")):
        if column not in data.columns:
            data[column] = default
        data[column] = data[column].fillna(default).astype(str).str.strip().replace("", default)
    lines = data.index.to_numpy() + 2  # spreadsheet rows: the header is row 1
    pairs = data[["carrier", "uom"]].astype(str)
    pair_of = pairs.groupby(["carrier", "uom"], sort=False).ngroup().to_numpy()
    to_unit = np.full(len(data), np.nan)
    carrier_codes = np.full(len(data), None, dtype=object)
    # a registry has a few (carrier, uom) spellings: each is resolved once
    for number, (carrier_name, uom) in enumerate(
            pairs.drop_duplicates().itertuples(index=False)):
        at = np.flatnonzero(pair_of == number)
        try:
            factor, code = _meter_unit(carrier_name, uom, file)
        except InputError as exc:
            problems.extend(replace(p, row=int(line)) for line in lines[at]
                            for p in exc.problems)
            continue
        to_unit[at] = factor
        carrier_codes[at] = code
    kind = data["kind"]
    for at in np.flatnonzero(~kind.isin(KINDS).to_numpy()):
        problems.append(Problem("unknown meter kind", file=file, row=int(lines[at]),
                                field="kind", value=kind.iat[at], accepted=KINDS))
    register_max = pd.to_numeric(data["register_max"], errors="coerce")
    for at in np.flatnonzero(((kind == "register") & ~(register_max > 0)).to_numpy()):
        problems.append(Problem("a register meter needs register_max > 0", file=file,
                                row=int(lines[at]), field="register_max",
                                value=data["register_max"].iat[at],
                                accepted=["a number > 0 [uom]: where the register "
                                          "rolls over"]))
    ids = pd.to_numeric(data["meter_id"], errors="coerce")
    for index in data.index[ids.isna()]:
        problems.append(Problem("meter_id must be an integer", file=file, row=int(index) + 2,
                                field="meter_id", value=data.at[index, "meter_id"]))
    for index in data.index[ids.duplicated() & ids.notna()]:
        problems.append(Problem("meter_id given twice", file=file, row=int(index) + 2,
                                field="meter_id", value=data.at[index, "meter_id"]))
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.field or ""))
        raise InputError(problems)
    data["meter_id"] = ids.astype("int32")
    data["unit_id"] = pd.to_numeric(data["unit_id"]).astype("int32")
    data["carrier"] = carrier_codes
    data["register_max"] = register_max
    data["to_carrier_unit"] = to_unit
    return data[[*METER_COLUMNS, "to_carrier_unit"]]


def prepare_units(frame: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Return the validated unit registry (hierarchy levels as text).

    Raises
    ------
    InputError
        For missing columns or a duplicated ``unit_id``.
    """
    require_columns(frame.columns, ("unit_id", "enterprise", "region", "league"), file=file,
                    accepted=UNIT_COLUMNS)
    data = frame.reset_index(drop=True).copy()
    ids = pd.to_numeric(data["unit_id"], errors="coerce")
    problems = [Problem("unit_id must be a unique integer", file=file, row=int(index) + 2,
                        field="unit_id", value=data.at[index, "unit_id"])
                for index in data.index[ids.isna() | ids.duplicated()]]
    if problems:
        raise InputError(problems)
    data["unit_id"] = pd.to_numeric(data["unit_id"]).astype("int32")
    for column in UNIT_COLUMNS[1:]:
        if column not in data.columns:
            data[column] = ""
        data[column] = data[column].fillna("").astype(str).str.strip()
    return data[list(UNIT_COLUMNS)]
