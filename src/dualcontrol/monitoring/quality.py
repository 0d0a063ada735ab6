"""Quality checks of meter readings: every reading kept, every problem labelled.

Each check adds a boolean column named after its fault class (see
:data:`~dualcontrol.monitoring.schema.FAULT_CLASSES`); a reading may carry several.
Nothing is dropped: a flagged reading stays in the table, and only the column
``interval_quantity`` (the quantity the reading contributes to roll-ups) leaves it out
where it cannot be trusted.

Checks, per meter in timestamp order (ties broken by ``seq``):

``future``
    ``ts`` later than ``as_of`` (the time of the run). Kept apart from the series.
``off_grid``
    ``ts`` more than ``timestamp_tolerance_s`` from a multiple of the interval.
``duplicate``
    Same ``ts`` as the previous reading; contributes nothing.
``gap``
    One or more expected readings missing before this one; ``missing_before`` says how
    many. A register's next increment still covers the gap (energy kept); an interval
    meter's missing quantities are lost unless gap filling is asked for.
``out_of_order``
    Received (``seq``) after the reading that follows it in time.
``rollover``
    A register dropped from at least ``rollover_high_fraction`` of ``register_max`` to at
    most ``rollover_low_fraction`` of it; the increment is
    ``reading + register_max - previous``.
``reset``
    A register dropped to at most ``reset_max_fraction`` of its previous value (not a
    rollover); the increment is the reading itself (counted from zero).
``negative``
    Any other drop of a register, or a negative interval quantity; contributes nothing.
``stuck``
    The reading completes ``stuck_min_readings`` or more consecutive intervals without
    change (register) or with the same value (interval meter).
``spike``
    The quantity per interval is far above both neighbours: the log-ratios to each
    exceed ``spike_robust_z`` x ``mad_scale`` x MAD of the meter's day (see
    :func:`_spikes`); contributes nothing.

The neighbours come from one ordered window per meter (lag and lead of the narrow
readings, materialised once); stuck runs and spikes are found on small side tables
(readings equal to their predecessor; the day's log-ratios and MAD), materialised too,
and joined back.

Gap filling (opt-in, ``fill_gaps=True``) adds to the reading after a gap of an
interval meter an estimate of the missing quantities: the missing count times the
mean of the quantities either side of the gap. The estimate is in the column
``filled_quantity`` and included in ``interval_quantity``, so it can always be told
apart. Registers need no filling: their increment spans the gap.

References
----------
发改环资〔2017〕1711号 technical specification (interval, timestamp tolerance,
completeness); Leys C. et al. (2013) J. Exp. Soc. Psychol. 49(4):764-766 (median
absolute deviation). Thresholds: ``dualcontrol reference monitoring-rules``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import ibis
import ibis.expr.types as ir

from dualcontrol.monitoring.schema import FAULT_CLASSES, Rules, rules

logger = logging.getLogger(__name__)


def _false(value: ir.BooleanValue) -> ir.BooleanValue:
    return value.fill_null(False)


def label_readings(readings: ir.Table, meters: ir.Table, *, as_of: datetime,
                   rule: Rules | None = None, fill_gaps: bool = False,
                   stage: Callable[[ir.Table], ir.Table] | None = None) -> ir.Table:
    """Return every reading with one boolean column per fault class and its quantity.

    Parameters
    ----------
    readings : ibis Table
        ``unit_id``, ``meter_id``, ``ts``, ``reading`` [uom], ``seq`` (may be null),
        ``day`` [date].
    meters : ibis Table
        The registry of :func:`~dualcontrol.monitoring.schema.prepare_meters`.
    as_of : datetime
        Time of the run, in the readings' time zone; later timestamps are ``future``.
    stage : callable, optional
        Applied to the intermediate tables read more than once (the readings with their
        neighbours, the log-ratios of the spike check, the few stuck and spike flags);
        the pipeline passes one that materialises them (``Table.cache``), so the sort
        and the medians run once per reading however often the result is read.

    Returns
    -------
    ibis Table
        The readings with ``kind``, ``missing_before`` [readings], ``n_intervals``,
        ``interval_quantity`` [uom, null where it cannot be trusted], ``filled_quantity``
        [uom], ``rate`` [uom / interval] and the labels of :data:`FAULT_CLASSES`.
    """
    r = rule or rules()
    stage = stage or (lambda table: table)
    step_s = r.interval_minutes * 60
    m = meters.select("meter_id", "kind", "register_max")
    t = readings
    epoch = t.ts.epoch_seconds()
    offset = epoch % step_s
    t = t.mutate(
        future=t.ts > ibis.literal(as_of).cast("timestamp"),
        off_grid=(offset > r.timestamp_tolerance_s)
        & (offset < step_s - r.timestamp_tolerance_s),
        epoch_s=epoch,
    )
    # the neighbours are found on the narrow readings; the meters' attributes after
    t, stuck_runs = _neighbours(t, r.stuck_min_readings, stage)
    t = t.join(m, "meter_id")
    is_register = t.kind == "register"

    def per_interval(later, earlier, later_s, earlier_s):
        # register: increment per elapsed interval; interval meter: the quantity itself
        n_steps = ((later_s - earlier_s) / step_s).round().clip(lower=1)
        return ibis.ifelse(is_register, (later - earlier) / n_steps, later)

    t = t.mutate(rate=per_interval(t.reading, t.prev_reading, t.epoch_s, t.prev_epoch),
                 prev_rate=per_interval(t.prev_reading, t.prev2_reading, t.prev_epoch,
                                        t.prev2_epoch),
                 next_rate=per_interval(t.next_reading, t.reading, t.next_epoch, t.epoch_s))
    positive = (t.rate > 0) & (t.prev_rate > 0) & (t.next_rate > 0) & ~t.future
    ups = t.filter(positive)
    # the filter keeps the denominators positive; nullif keeps an engine that evaluates
    # the ratio before the filter (Spark in ANSI mode) from dividing by zero
    ups = stage(ups.select(
        "meter_id", "future", "position", "day",
        up_prev=(ups.rate / ups.prev_rate.nullif(0)).ln(),
        up_next=(ups.rate / ups.next_rate.nullif(0)).ln()))
    spikes = stage(_spikes(ups, r))
    step = t.epoch_s - t.prev_epoch
    drop = is_register & (t.reading < t.prev_reading)
    rollover = drop & (t.prev_reading >= r.rollover_high_fraction * t.register_max) & (
        t.reading <= r.rollover_low_fraction * t.register_max)
    reset = drop & ~rollover & (t.reading <= r.reset_max_fraction * t.prev_reading)
    negative = (drop & ~rollover & ~reset) | (~is_register & (t.reading < 0))
    n_intervals = (step / step_s).round().cast("int64")
    duplicate = step == 0
    live = ~t.future
    t = t.mutate(
        duplicate=_false(duplicate) & live,
        n_intervals=n_intervals,
        missing_before=ibis.ifelse(_false(n_intervals > 1) & live, n_intervals - 1, 0),
        out_of_order=_false(t.seq > t.next_seq) & live,
        rollover=_false(rollover) & live,
        reset=_false(reset) & live,
        negative=_false(negative) & live,
        off_grid=t.off_grid & live,
    )
    t = t.mutate(gap=t.missing_before > 0)
    increment = ibis.cases(
        (t.duplicate | t.negative | t.future, ibis.null("float64")),
        (~is_register, t.reading),
        (t.rollover, t.reading + t.register_max - t.prev_reading),
        (t.reset, t.reading),
        (t.prev_reading.isnull(), ibis.null("float64")),
        else_=t.reading - t.prev_reading,
    )
    filled = ibis.literal(0.0)
    if fill_gaps:
        # the reading after the gap and the one before it (prev_reading) bracket it
        filled = ibis.ifelse(t.gap & ~is_register & (t.reading >= 0) & (t.prev_reading >= 0),
                             t.missing_before * (t.reading + t.prev_reading) / 2.0, 0.0)
    t = t.mutate(raw_quantity=increment, filled_quantity=filled.fill_null(0.0))
    # the few stuck runs and spikes are found apart and joined last
    keys = ["meter_id", "future", "position"]
    for flags in (stuck_runs, spikes):
        t = t.left_join(flags, keys)
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    t = t.mutate(stuck=_false(t.stuck_run) & ~t.future, spike=_false(t.spike))
    keep = [*readings.columns, "kind", "n_intervals", "missing_before", "filled_quantity",
            "rate", "interval_quantity", *FAULT_CLASSES]
    return t.mutate(
        interval_quantity=ibis.ifelse(t.spike, ibis.null("float64"),
                                      t.raw_quantity + t.filled_quantity),
    ).select(*keep)


def _neighbours(t: ir.Table, n: int, stage: Callable[[ir.Table], ir.Table],
                ) -> tuple[ir.Table, ir.Table]:
    """Return ``t`` with the readings either side of each, and the stuck runs.

    The series is the meter's readings in timestamp order, ties broken by ``seq``
    (future readings form a series of their own); ``position`` is the place in it.
    The second table holds the ``meter_id``, ``future`` and ``position`` of the readings
    that complete a stuck run: the reading and the ``n`` before it all equal and not
    null, that is, each of the last ``n`` readings equal to the one before it. Only the
    readings equal to their predecessor (few, in real data) go through the window that
    counts them; a frame of ``n + 1`` readings over every reading (min, max and count)
    costs twice the lag and lead windows together.
    """
    series = ibis.window(group_by=[t.meter_id, t.future], order_by=[t.ts, t.seq])
    t = stage(t.mutate(
        position=ibis.row_number().over(series),
        prev_epoch=t.epoch_s.lag().over(series),
        prev_reading=t.reading.lag().over(series),
        prev2_epoch=t.epoch_s.lag(2).over(series),
        prev2_reading=t.reading.lag(2).over(series),
        next_epoch=t.epoch_s.lead().over(series),
        next_reading=t.reading.lead().over(series),
        next_seq=t.seq.lead().over(series),
    ))
    keys = ["meter_id", "future", "position"]
    same = t.filter(t.reading == t.prev_reading).select(*keys)
    run = ibis.range_window(preceding=n - 1, following=0, group_by=["meter_id", "future"],
                            order_by="position")
    same = same.mutate(equal=same.position.count().over(run))
    return t, stage(same.filter(same.equal >= n).select(*keys, stuck_run=ibis.literal(True)))


def _spikes(ups: ir.Table, r: Rules) -> ir.Table:
    """Return the ``meter_id``, ``future`` and ``position`` of the spikes.

    ``ups`` holds, for the readings whose rate and neighbours' rates are positive,
    ``up_prev = x_k - x_{k-1}`` and ``up_next = x_k - x_{k+1}`` with ``x_k = ln(rate_k)``.
    A reading is a spike when both exceed ``spike_robust_z * mad_scale * MAD``, the MAD
    being the median of ``|x_k - x_{k-1}|`` over the meter's day (the centre of
    consecutive log-ratios is zero for a series without trend). Log-ratios make the
    test independent of the load level, and asking for both sides keeps the steps of a
    shift pattern (a rise at 08:00 that stays) from being spikes. Rates that are not
    positive, or lack a neighbour, are not tested.
    """
    mad = ups.group_by(["meter_id", "day"]).aggregate(mad=ups.up_prev.abs().median())
    t = ups.join(mad, ["meter_id", "day"])
    limit = r.spike_robust_z * r.mad_scale * t.mad
    t = t.filter((t.mad > 0) & (t.up_prev > limit) & (t.up_next > limit))
    return t.select("meter_id", "future", "position", spike=ibis.literal(True))
