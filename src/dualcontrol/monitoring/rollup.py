"""Roll-ups of labelled readings: meter-hour, then unit and carrier by hour, day and month.

The labelled readings (:func:`~dualcontrol.monitoring.quality.label_readings`) are
aggregated once per unit, meter and hour; every later table (quality per meter and
day, energy per unit and carrier, tce and CO2 by hierarchy level) is computed from
that aggregate, which is a quarter of the readings at 15 minutes. Energy to tce and
CO2 uses the accounting core (:func:`dualcontrol.accounting.account_rows`) with its
coefficient table, so a metered kWh is valued exactly as a reported one.

A reading ends its interval: the reading at 01:00 is the quantity of 00:45-01:00 and
belongs to hour 00:00 and, at 00:00, to the previous day.
"""

from __future__ import annotations

import logging

import ibis
import ibis.expr.types as ir

from dualcontrol.accounting import account_rows, rollup
from dualcontrol.monitoring.schema import FAULT_CLASSES, Rules, rules

logger = logging.getLogger(__name__)

#: Keys of the meter-hour aggregate besides the hour.
METER_KEYS: tuple[str, ...] = ("unit_id", "meter_id", "carrier", "use", "origin", "day")


def meter_hour(labelled: ir.Table, meters: ir.Table) -> ir.Table:
    """Return per unit, meter and hour: readings, fault counts and quantity.

    The readings are grouped by meter and hour only (integer keys); the meter's unit,
    carrier, use, origin and conversion to the carrier unit are joined to the groups.

    Returns
    -------
    ibis Table
        :data:`METER_KEYS`, ``hour`` [timestamp, start of the hour; null for future
        readings], ``readings`` (live readings: not duplicated, not in the future),
        ``missing`` [readings], one count column per fault class, ``quantity`` [uom],
        ``filled_quantity`` [uom] and ``quantity_carrier_unit`` [carrier unit].
    """
    t = labelled
    hour = ibis.ifelse(t.future, ibis.null("timestamp"),
                       (t.ts - ibis.interval(seconds=1)).truncate("h"))
    t = t.mutate(hour=hour)
    counts = {f: t[f].cast("int64").sum() for f in FAULT_CLASSES}
    hours = t.group_by(["meter_id", "day", "hour"]).aggregate(
        rows=t.count(),
        readings=(~t.duplicate & ~t.future).cast("int64").sum(),
        missing=t.missing_before.sum(),
        **counts,
        quantity=t.interval_quantity.sum(),
        filled_quantity=t.filled_quantity.sum(),
    )
    m = meters.select("meter_id", "unit_id", "carrier", "use", "origin", "to_carrier_unit")
    hours = hours.join(m, "meter_id")
    return hours.mutate(quantity_carrier_unit=hours.quantity * hours.to_carrier_unit).select(
        *METER_KEYS, "hour", "rows", "readings", "missing", *FAULT_CLASSES, "quantity",
        "filled_quantity", "quantity_carrier_unit")


def meter_day_quality(hours: ir.Table, rule: Rules | None = None) -> ir.Table:
    """Return per unit, meter and day: readings, completeness and fault counts.

    ``completeness`` [1] is the share of the day's expected readings present (live,
    on time or off grid); ``complete`` says whether it meets
    ``completeness_min_fraction`` (发改环资〔2017〕1711号).
    """
    r = rule or rules()
    counts = {f: hours[f].sum() for f in FAULT_CLASSES}
    day = hours.group_by(["unit_id", "meter_id", "carrier", "day"]).aggregate(
        readings=hours.readings.sum(), **counts, quantity=hours.quantity.sum(),
        filled_quantity=hours.filled_quantity.sum(),
    )
    completeness = day.readings.cast("float64") / r.slots_per_day
    return day.mutate(completeness=completeness,
                      complete=completeness >= r.completeness_min_fraction)


def meter_quality(days: ir.Table) -> ir.Table:
    """Return per unit and meter over the period: readings, days incomplete, faults."""
    counts = {f: days[f].sum() for f in FAULT_CLASSES}
    return days.group_by(["unit_id", "meter_id", "carrier"]).aggregate(
        days=days.count(), readings=days.readings.sum(),
        days_incomplete=(~days.complete).cast("int64").sum(),
        min_completeness=days.completeness.min(), **counts,
        quantity=days.quantity.sum(), filled_quantity=days.filled_quantity.sum(),
    ).order_by(["unit_id", "meter_id"])


def unit_carrier(hours: ir.Table, grain: str = "day") -> ir.Table:
    """Return metered quantity per unit, carrier, use, origin and ``grain``.

    ``grain`` is ``hour``, ``day`` or ``month``; the quantity is
    ``quantity_carrier_unit`` [carrier unit: kWh, m3, GJ, t].
    """
    h = hours.filter(hours.hour.notnull())
    period = {"hour": h.hour, "day": h.day.cast("timestamp"),
              "month": h.day.cast("timestamp").truncate("M")}[grain]
    h = h.mutate(period=period)
    return h.group_by(["unit_id", "carrier", "use", "origin", "period"]).aggregate(
        quantity_carrier_unit=h.quantity_carrier_unit.sum(),
    )


def energy_accounts(amounts: ir.Table, units: ir.Table, coefficients: ir.Table) -> ir.Table:
    """Return metered quantities with the unit's hierarchy, tce and CO2.

    Parameters
    ----------
    amounts : ibis Table
        Output of :func:`unit_carrier`.
    units : ibis Table
        The unit registry (``unit_id``, ``enterprise`` and the hierarchy levels).
    coefficients : ibis Table
        :func:`dualcontrol.accounting.coefficient_table` for the years of the data.

    Returns
    -------
    ibis Table
        Columns of :func:`dualcontrol.accounting.account_rows`: ``energy_tce``,
        ``controlled_tce``, ``co2_t`` [t] ... per row, with ``period`` and the levels.
    """
    joined = amounts.join(units, "unit_id")
    joined = joined.mutate(
        year=joined.period.year().cast("int64"),
        month=joined.period.month().cast("int64"),
    )
    joined = joined.mutate(quarter=((joined.month - 1) // 3 + 1).cast("int64"))
    joined = joined.mutate(half=((joined.quarter - 1) // 2 + 1).cast("int64"))
    accounted = account_rows(joined, coefficients)
    return accounted.drop(*[c for c in accounted.columns if c.endswith("_right")])


def level_rollup(accounted: ir.Table, level: str) -> ir.Table:
    """Return the month's metered tce and CO2 summed to hierarchy ``level``."""
    return rollup(accounted, level, "month")
