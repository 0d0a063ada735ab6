"""Roll-ups of labelled readings: meter-day, then unit and carrier by hour, day and month.

The labelled readings (:func:`~dualcontrol.monitoring.quality.label_readings`) are
aggregated once per meter and day (:func:`meter_day_counts`, or the same table from the
sorted scan of :mod:`~dualcontrol.monitoring.scan`); the quality per meter and day and
the energy per unit and carrier by day and month come from that aggregate, which is a
96th of the readings at 15 minutes. Aggregates group on integer keys (the meter, or the
meter's unit-carrier stream) and the meters' text attributes are joined to the groups,
not to the rows. The hourly energy per unit and carrier
(:func:`unit_carrier_hours`), asked for only when it is written out, is its own
aggregate of the readings: a meter-hour table would be a quarter of the readings and,
measured on 28.8 M readings, took three times as long as labelling them. Energy to tce
and CO2 uses the accounting core (:func:`dualcontrol.accounting.account_rows`) with its
coefficient table, so a metered kWh is valued exactly as a reported one.

A reading ends its interval: the reading at 01:00 is the quantity of 00:45-01:00 and
belongs to hour 00:00; the day is the reading's ``day`` partition.
"""

from __future__ import annotations

import logging
from datetime import datetime

import ibis
import ibis.expr.types as ir

from dualcontrol.accounting import MEASURES, account_rows, rollup
from dualcontrol.monitoring.schema import FAULT_CLASSES, Rules, rules

logger = logging.getLogger(__name__)

#: What a unit's energy is kept apart by: its unit-carrier streams.
STREAM_KEYS: tuple[str, ...] = ("unit_id", "carrier", "use", "origin")

#: Count columns of the meter-day aggregate.
COUNTS: tuple[str, ...] = ("rows", "readings", "missing", *FAULT_CLASSES)

#: Meter attributes joined to the aggregates.
_METER_COLUMNS = ("meter_id", "unit_id", "carrier", "use", "origin", "to_carrier_unit")


def meter_day_counts(labelled: ir.Table) -> ir.Table:
    """Return per meter and day: readings, fault counts and quantity [uom].

    ``labelled`` is :func:`~dualcontrol.monitoring.quality.label_readings`; the
    :mod:`~dualcontrol.monitoring.scan` computes the same table without labelling every
    reading.

    Returns
    -------
    ibis Table
        ``meter_id``, ``day``, ``rows`` (every reading), ``readings`` (live readings: not
        duplicated, not in the future), ``missing`` [readings], one count column per
        fault class, ``quantity`` [uom] and ``filled_quantity`` [uom].
    """
    t = labelled
    counts = {f: t[f].cast("int64").sum() for f in FAULT_CLASSES}
    return t.group_by(["meter_id", "day"]).aggregate(
        rows=t.count(),
        readings=(~t.duplicate & ~t.future).cast("int64").sum(),
        missing=t.missing_before.sum(),
        **counts,
        quantity=t.interval_quantity.sum(),
        filled_quantity=t.filled_quantity.sum(),
    )


def meter_day_quality(counts: ir.Table, rule: Rules | None = None) -> ir.Table:
    """Return per meter and day: readings, completeness and fault counts.

    ``counts`` is :func:`meter_day_counts` (or the scan's table of the same columns).
    ``completeness`` [1] is the share of the day's expected readings present (live, on
    time or off grid); ``complete`` says whether it meets ``completeness_min_fraction``
    (发改环资〔2017〕1711号).
    """
    r = rule or rules()
    day = counts.select("meter_id", "day",
                        **{c: counts[c].cast("int64") for c in ("readings", *FAULT_CLASSES)},
                        quantity=counts.quantity, filled_quantity=counts.filled_quantity)
    completeness = day.readings.cast("float64") / r.slots_per_day
    return day.mutate(completeness=completeness,
                      complete=completeness >= r.completeness_min_fraction)


def meter_quality(days: ir.Table, meters: ir.Table) -> ir.Table:
    """Return per unit and meter over the period: readings, days incomplete, faults.

    ``days`` is :func:`meter_day_quality`; the meter's unit and carrier are joined to the
    per-meter sums (grouping on the integer meter id alone).
    """
    counts = {f: days[f].sum() for f in FAULT_CLASSES}
    per_meter = days.group_by("meter_id").aggregate(
        days=days.count(), readings=days.readings.sum(),
        days_incomplete=(~days.complete).cast("int64").sum(),
        min_completeness=days.completeness.min(), **counts,
        quantity=days.quantity.sum(), filled_quantity=days.filled_quantity.sum(),
    )
    joined = per_meter.join(meters.select("meter_id", "unit_id", "carrier"), "meter_id")
    return joined.select("unit_id", "meter_id", "carrier",
                         *[c for c in per_meter.columns if c != "meter_id"]
                         ).order_by(["unit_id", "meter_id"])


def _streams(meters: ir.Table) -> ir.Table:
    """Return the meters with ``stream``: a number per unit, carrier, use and origin."""
    m = meters.select(*_METER_COLUMNS)
    return m.mutate(stream=ibis.dense_rank().over(order_by=list(STREAM_KEYS)))


def _stream_amounts(amounts: ir.Table, streams: ir.Table) -> ir.Table:
    """Return ``amounts`` (``stream``, ``period``, ``quantity_carrier_unit``) with each
    stream's unit, carrier, use and origin."""
    keys = streams.select("stream", *STREAM_KEYS).distinct()
    joined = amounts.join(keys, "stream")
    return joined.select(*STREAM_KEYS, "period", "quantity_carrier_unit")


def unit_carrier_days(counts: ir.Table, meters: ir.Table) -> ir.Table:
    """Return metered quantity per unit, carrier, use, origin and day.

    ``counts`` is :func:`meter_day_counts`; ``period`` is the day (as a timestamp) and
    ``quantity_carrier_unit`` [carrier unit: kWh, m3, GJ, t] the sum of the meters'
    quantities [uom] times ``to_carrier_unit``. The meter-days are grouped on integer
    keys (the meter's unit-carrier stream and the day), the attributes joined after.
    """
    streams = _streams(meters)
    t = counts.join(streams.select("meter_id", "stream", "to_carrier_unit"), "meter_id")
    t = t.mutate(quantity_carrier_unit=t.quantity * t.to_carrier_unit)
    per_day = t.group_by(["stream", "day"]).aggregate(
        quantity_carrier_unit=t.quantity_carrier_unit.sum())
    return _stream_amounts(per_day.mutate(period=per_day.day.cast("timestamp")), streams)


def unit_carrier_hours(labelled: ir.Table, meters: ir.Table) -> ir.Table:
    """Return metered quantity per unit, carrier, use, origin and hour.

    ``period`` is the start of the hour the reading's interval ends in; future
    readings (no trusted quantity) are left out. The readings are grouped on integer
    keys (the meter's unit-carrier stream and the hour's number since the epoch), the
    attributes joined to the groups after.
    """
    streams = _streams(meters)
    t = labelled.filter(~labelled.future)
    t = t.join(streams.select("meter_id", "stream", "to_carrier_unit"), "meter_id")
    t = t.mutate(hour=(t.ts.epoch_seconds() - 1) // 3600,
                 quantity_carrier_unit=t.interval_quantity * t.to_carrier_unit)
    hours = t.group_by(["stream", "hour"]).aggregate(
        quantity_carrier_unit=t.quantity_carrier_unit.sum())
    epoch = ibis.literal(datetime(1970, 1, 1))
    return _stream_amounts(
        hours.mutate(period=epoch + (hours.hour * 3600).as_interval("s")), streams)


def stream_accounts(amounts: ir.Table, coefficients: ir.Table) -> ir.Table:
    """Return metered quantities with tce and CO2, without the units' hierarchy.

    ``amounts`` is :func:`unit_carrier_days` (or the same by hour or month);
    ``coefficients`` is :func:`dualcontrol.accounting.coefficient_table` for the years
    of the data. Returns :data:`STREAM_KEYS`, ``period``, ``quantity_carrier_unit``
    [carrier unit] and the measures of :func:`dualcontrol.accounting.account_rows`
    (``energy_tce``, ``co2_t`` [t] ...); a unit's hierarchy is in the unit registry.
    """
    dated = amounts.mutate(year=amounts.period.year().cast("int64"))
    accounted = account_rows(dated, coefficients)
    return accounted.select(*STREAM_KEYS, "period", "quantity_carrier_unit", *MEASURES)


def energy_accounts(amounts: ir.Table, units: ir.Table, coefficients: ir.Table) -> ir.Table:
    """Return metered quantities with the unit's hierarchy, tce and CO2.

    Parameters
    ----------
    amounts : ibis Table
        Output of :func:`unit_carrier_days`, or the same by month.
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
