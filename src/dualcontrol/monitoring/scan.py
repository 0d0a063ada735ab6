"""The sorted scan: every quality check of :mod:`.quality` in one pass over the day files.

:func:`~dualcontrol.monitoring.quality.label_readings` finds each reading's neighbours
with window functions, which sort every reading; on two cores no engine does that faster
than about 10 M readings/s (see the README). This module computes the same labels and
the same meter-day aggregates (:func:`~dualcontrol.monitoring.rollup.meter_day_counts`)
without a sort of the month: the day partitions are read in date order, a counting
sort groups each day's readings by meter (linear time; the file order within a meter is
kept and only repaired where it is not by time), and a compiled loop walks each meter's
readings carrying the meter's state from one day to the next: the previous reading, its
rate and the rate before it, the run of unchanged readings, and the day still waiting
for the reading after its last one (which decides that last reading's spike test and
whether it joins the day's MAD). Only the aggregates are kept: counts per meter and day,
quantities, and on request the quantity per meter and hour, reduced to unit-carrier
streams.

The rules, their thresholds and the null semantics are those of :mod:`.quality`, which
remains the definition (and the code that runs on Spark); the tests run both on the
same data and require equal results. Where the scan cannot follow the definition
exactly it declines (:class:`ScanDeclined`) and the pipeline runs the Ibis checks:

- a reading, not in the future, whose time is outside its ``day`` partition (the series
  order would cross partitions);
- a meter-day whose spike test needs more than :data:`MAX_PENDING` candidates kept
  until the next day (a day where at least half the log-ratios are zero).

References
----------
As :mod:`.quality`: 发改环资〔2017〕1711号 technical specification; Leys C. et al.
(2013) J. Exp. Soc. Psychol. 49(4):764-766.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numba as nb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dualcontrol.monitoring.schema import FAULT_CLASSES, Rules, rules

logger = logging.getLogger(__name__)

#: Columns of the per-meter-day count array: rows, live readings, missing, the faults.
COUNT_COLUMNS: tuple[str, ...] = ("rows", "readings", "missing", *FAULT_CLASSES)
_ROWS, _READINGS, _MISSING = 0, 1, 2
_GAP, _DUPLICATE, _NEGATIVE, _RESET, _ROLLOVER, _STUCK, _SPIKE, _OUT_OF_ORDER, _FUTURE, \
    _OFF_GRID = (3 + FAULT_CLASSES.index(f) for f in (
        "gap", "duplicate", "negative", "reset", "rollover", "stuck", "spike",
        "out_of_order", "future", "off_grid"))
#: Spike candidates of a meter-day kept until the reading after the day's last.
MAX_PENDING = 16
#: ``seq`` of a reading without one (sorts last, as DuckDB orders nulls).
NO_SEQ = np.iinfo(np.int64).max

# float state per meter: previous reading, its epoch [s], its rate, the rate before it,
# its quantity (raw + filled, NaN if none), and the pending day's order statistics
_R, _EP, _RATE, _RATE1, _Q, _SN, _SLO, _SMID, _SHI = range(9)
# integer state per meter: has a previous reading, run of unchanged readings, its seq,
# its day, its hour, pending day waiting, candidates kept
_HAS, _RUN, _SEQ, _DAY, _HOUR, _PEND, _NCAND = range(7)
# status codes
_OK, _MISPLACED, _OVERFLOW = 0, 1, 2


class ScanDeclined(Exception):  # noqa: N818 - a condition, not an error of the user
    """The scan cannot follow :mod:`.quality` exactly on this data; use the Ibis checks."""


@dataclass
class ScanResult:
    """Meter-day aggregates (one row per meter and day) and hourly stream quantities."""

    meter_days: pd.DataFrame
    hours: pd.DataFrame | None
    readings: int


# ---------------------------------------------------------------- compiled kernels


@nb.njit(cache=True, nogil=True)
def _group(ids, ts_us, seq, lookup, as_of_us, n_meters, day_lo_us, day_hi_us):
    # pragma: no cover - compiled
    """Return the day's readings grouped by meter (counting sort, file order kept), the
    groups' starts, the meters whose file order is not by (time, seq), the readings'
    meter index (-1: not in the registry) and future flag, and a status.

    Readings of unknown meters and future ones are left out of the groups; the status
    is ``_MISPLACED`` if a live reading's time is outside ``(day_lo_us, day_hi_us]``.
    """
    n = ids.shape[0]
    midx = np.empty(n, np.int32)
    fut = np.empty(n, np.bool_)
    starts = np.zeros(n_meters + 1, np.int64)
    status = _OK
    for i in range(n):
        k = ids[i]
        m = lookup[k] if 0 <= k < lookup.shape[0] else -1
        midx[i] = m
        fut[i] = ts_us[i] > as_of_us
        if m < 0 or fut[i]:
            continue
        if ts_us[i] <= day_lo_us or ts_us[i] > day_hi_us:
            status = _MISPLACED
        starts[m + 1] += 1
    for m in range(n_meters):
        starts[m + 1] += starts[m]
    pos = starts[:-1].copy()
    order = np.empty(starts[n_meters], np.int64)
    unsorted = np.zeros(n_meters, np.bool_)
    for i in range(n):
        m = midx[i]
        if m < 0 or fut[i]:
            continue
        if pos[m] > starts[m]:
            k = order[pos[m] - 1]
            if ts_us[k] > ts_us[i] or (ts_us[k] == ts_us[i] and seq[k] > seq[i]):
                unsorted[m] = True
        order[pos[m]] = i
        pos[m] += 1
    return order, starts, unsorted, midx, fut, status


@nb.njit(cache=True, nogil=True)
def _sort_group(order, lo, hi, ts, sq):  # pragma: no cover - compiled
    """Put ``order[lo:hi]`` in (time, seq) order; insertion sort, as it is nearly sorted."""
    for a in range(lo + 1, hi):
        item = order[a]
        b = a - 1
        while b >= lo and (ts[order[b]] > ts[item]
                           or (ts[order[b]] == ts[item] and sq[order[b]] > sq[item])):
            order[b + 1] = order[b]
            b -= 1
        order[b + 1] = item


@nb.njit(cache=True, nogil=True)
def _median_of(n, s_lo, s_mid, s_hi, x, with_x):  # pragma: no cover - compiled
    """Median of a sorted set S (``n`` values; ``s_lo, s_mid, s_hi`` its values at
    ``n//2 - 1, n//2, n//2 + 1``, -inf/+inf outside) with or without one more value
    ``x``, as ``quantile_cont(0.5)``; NaN for an empty set."""
    if not with_x:
        if n == 0:
            return np.nan
        if n % 2 == 1:
            return s_mid
        return (s_lo + s_mid) / 2.0
    # rank j of S + {x} is min(s_j, max(s_{j-1}, x))
    if n % 2 == 0:          # n + 1 odd: rank n//2
        return min(s_mid, max(s_lo, x))
    first = min(s_mid, max(s_lo, x))      # rank n//2
    second = min(s_hi, max(s_mid, x))     # rank n//2 + 1
    return (first + second) / 2.0


@nb.njit(cache=True, nogil=True)
def _take_spike(m, day, q, hour, cnt, qty, qn, corr_h, corr_q, corr_n):
    # pragma: no cover - compiled
    cnt[m, day, _SPIKE] += 1
    if not math.isnan(q):
        qty[m, day] -= q
        qn[m, day] -= 1
        if corr_h.shape[1] == 0:  # no hourly quantities kept
            return
        k = corr_n[m]
        corr_h[m, k] = hour
        corr_q[m, k] = q
        corr_n[m] = k + 1


@nb.njit(cache=True, nogil=True)
def _resolve(m, k_ups, ratio_prev, ratio_next, zc, stf, sti, cand, cand_h, cnt, qty, qn,
             corr_h, corr_q, corr_n):  # pragma: no cover - compiled
    """Decide the spikes of meter ``m``'s pending day now its last reading's next is known.

    ``k_ups`` says whether that last reading (the meter's previous reading) is in the
    day's log-ratio set, with ``ratio_prev``, ``ratio_next`` its rate over the rates
    either side.
    """
    if sti[m, _PEND] == 0:
        return
    day = sti[m, _DAY]
    up_prev = math.log(ratio_prev) if k_ups else np.nan
    up_next = math.log(ratio_next) if k_ups else np.nan
    n = int(stf[m, _SN])
    mad = _median_of(n, stf[m, _SLO], stf[m, _SMID], stf[m, _SHI], abs(up_prev), k_ups)
    if mad > 0:
        limit = zc * mad
        for c in range(sti[m, _NCAND]):
            if cand[m, c, 0] > limit and cand[m, c, 1] > limit:
                _take_spike(m, day, cand[m, c, 2], cand_h[m, c], cnt, qty, qn,
                            corr_h, corr_q, corr_n)
        if k_ups and up_prev > limit and up_next > limit:
            _take_spike(m, day, stf[m, _Q], sti[m, _HOUR], cnt, qty, qn,
                        corr_h, corr_q, corr_n)
    sti[m, _PEND] = 0
    sti[m, _NCAND] = 0


@nb.njit(cache=True, nogil=True)
def _prepare(m, s_vals, n_s, c_vals, c_hours, n_c, zc, stf, sti, cand, cand_h):
    # pragma: no cover - compiled
    """Keep what the spike test of meter ``m``'s day needs once its last reading's next
    is known: nothing if no reading can be a spike whatever that next is, else the
    middle order statistics of the day's |log-ratios| and the candidates that can.

    ``s_vals`` are the day's rate ratios ``rate_k / rate_{k-1}`` (their |ln| is the
    set whose median is the MAD); ``c_vals`` the ratios to the previous and next rate
    of the readings above both, and their quantity. Logarithms are taken only here,
    and only for a day that may hold a spike.
    """
    rk = stf[m, _RATE]
    rk1 = stf[m, _RATE1]
    x_possible = rk > 0 and rk1 > 0
    ratio_x = rk / rk1 if x_possible else np.nan
    best = 1.0
    for c in range(n_c):
        best = max(best, min(c_vals[c, 0], c_vals[c, 1]))
    if x_possible:
        best = max(best, ratio_x)
    sti[m, _PEND] = 0
    sti[m, _NCAND] = 0
    if not best > 1.0:
        return _OK
    # no spike if both MADs the day can end with are at least ln(best) / zc: count the
    # values below that, generously (a value near the bound counts as below)
    v = math.log(best) / zc
    low_ratio = math.exp(-v) * (1.0 - 1e-9)
    high_ratio = math.exp(v) * (1.0 + 1e-9)
    below = 0
    for i in range(n_s):
        if low_ratio <= s_vals[i] <= high_ratio:
            below += 1
    x_below = 1 if (x_possible and low_ratio <= ratio_x <= high_ratio) else 0
    ok_without = n_s == 0 or below <= (n_s - 1) // 2
    ok_with = (not x_possible) or below + x_below <= n_s // 2
    if ok_without and ok_with:
        return _OK
    ordered = np.empty(n_s)
    for i in range(n_s):
        ordered[i] = abs(math.log(s_vals[i]))
    ordered.sort()
    h = n_s // 2
    stf[m, _SN] = n_s
    stf[m, _SLO] = ordered[h - 1] if h - 1 >= 0 else -np.inf
    stf[m, _SMID] = ordered[h] if h < n_s else np.inf
    stf[m, _SHI] = ordered[h + 1] if h + 1 < n_s else np.inf
    # the smallest MAD the day can end with, among those that allow a spike (> 0)
    low = np.inf
    without = _median_of(n_s, stf[m, _SLO], stf[m, _SMID], stf[m, _SHI], 0.0, False)
    if without > 0:
        low = without
    if x_possible:
        with_x = _median_of(n_s, stf[m, _SLO], stf[m, _SMID], stf[m, _SHI],
                            abs(math.log(ratio_x)), True)
        if with_x > 0:
            low = min(low, with_x)
    if low == np.inf:
        return _OK
    kept = 0
    for c in range(n_c):
        up = math.log(c_vals[c, 0])
        down = math.log(c_vals[c, 1])
        if min(up, down) > zc * low:
            if kept == cand.shape[1]:
                return _OVERFLOW
            cand[m, kept, 0] = up
            cand[m, kept, 1] = down
            cand[m, kept, 2] = c_vals[c, 2]
            cand_h[m, kept] = c_hours[c]
            kept += 1
    sti[m, _PEND] = 1
    sti[m, _NCAND] = kept
    return _OK


@nb.njit(cache=True, nogil=True, parallel=True)
def _scan_day(d, n_days, counted, order, starts, unsorted, ts_us, rd, sq, is_reg, reg_max,
              params, stf, sti, cand, cand_h, cnt, qty, qn, filled_sum, hour_q, hour_n,
              hour_rows, corr_h, corr_q, corr_n):  # pragma: no cover - compiled
    """Label one day's live readings, meter by meter (in parallel), into the aggregates.

    ``params``: interval [s], timestamp tolerance [s], stuck run, spike limit factor
    (robust z x MAD scale), reset, rollover high and low fractions [1], fill gaps (0/1),
    first hour of the month [h since the epoch]. A meter's state is held in locals
    while its day is walked and written back after.
    """
    step = params[0]
    tol = params[1]
    stuck_n = int(params[2])
    zc = params[3]
    reset_frac = params[4]
    roll_hi = params[5]
    roll_lo = params[6]
    fill = params[7] > 0
    hour0 = int(params[8])
    hourly = hour_q.shape[1] > 0
    n_meters = starts.shape[0] - 1
    status = np.zeros(n_meters, np.int64)
    for m in nb.prange(n_meters):
        lo = starts[m]
        hi = starts[m + 1]
        if hi == lo:
            continue
        if unsorted[m]:
            _sort_group(order, lo, hi, ts_us, sq)
        n_here = hi - lo
        s_vals = np.empty(n_here)
        c_vals = np.empty((n_here, 3))
        c_hours = np.empty(n_here, np.int64)
        n_s = 0
        n_c = 0
        reg = is_reg[m]
        rmax = reg_max[m]
        # the meter's state: its previous reading k and the rate before it
        has = sti[m, _HAS] == 1
        pr = stf[m, _R]
        pe = stf[m, _EP]
        rk = stf[m, _RATE]
        rk1 = stf[m, _RATE1]
        qk = stf[m, _Q]
        seq_k = sti[m, _SEQ]
        k_day = sti[m, _DAY]
        hour_k = sti[m, _HOUR]
        run = sti[m, _RUN]
        n_rows = n_live = n_missing = n_gap = n_dup = n_neg = n_reset = n_roll = 0
        n_stuck = n_off = n_ooo = n_q = 0
        q_sum = 0.0
        f_sum = 0.0
        for a in range(lo, hi):
            j = order[a]
            e = ts_us[j] / 1e6  # epoch seconds, as EPOCH(ts)
            r = rd[j]
            s = sq[j]
            missing = 0
            dup = False
            if has:
                dstep = e - pe
                n_int = math.floor(dstep / step + 0.5)
                dup = dstep == 0
                if n_int > 1:
                    missing = n_int - 1
                rate = (r - pr) / max(n_int, 1) if reg else r
                # the previous reading k is now complete: out of order, log-ratios
                k_ups = rk > 0 and rk1 > 0 and rate > 0
                out_of_order = seq_k != NO_SEQ and s != NO_SEQ and seq_k > s
                if k_day == d:
                    if counted:
                        n_ooo += out_of_order
                        if k_ups:
                            ratio_prev = rk / rk1
                            ratio_next = rk / rate
                            s_vals[n_s] = ratio_prev
                            n_s += 1
                            if ratio_prev > 1.0 and ratio_next > 1.0:
                                c_vals[n_c, 0] = ratio_prev
                                c_vals[n_c, 1] = ratio_next
                                c_vals[n_c, 2] = qk
                                c_hours[n_c] = hour_k
                                n_c += 1
                elif k_day >= 0 and k_day < n_days:
                    cnt[m, k_day, _OUT_OF_ORDER] += out_of_order
                    if sti[m, _PEND] == 1:
                        _resolve(m, k_ups, rk / rk1, rk / rate, zc, stf, sti, cand,
                                 cand_h, cnt, qty, qn, corr_h, corr_q, corr_n)
            else:
                rate = np.nan if reg else r
            drop = reg and has and r < pr
            rollover = drop and pr >= roll_hi * rmax and r <= roll_lo * rmax
            reset = drop and not rollover and r <= reset_frac * pr
            negative = (drop and not rollover and not reset) or ((not reg) and r < 0)
            run = run + 1 if (has and r == pr) else 0
            if dup or negative:
                raw = np.nan
            elif not reg:
                raw = r
            elif rollover:
                raw = r + rmax - pr
            elif reset:
                raw = r
            elif not has:
                raw = np.nan
            else:
                raw = r - pr
            filled = 0.0
            if fill and missing > 0 and (not reg) and r >= 0 and pr >= 0:
                filled = missing * (r + pr) / 2.0
            q = raw + filled
            hour = math.floor((e - 1.0) / 3600.0) - hour0
            if counted:
                n_rows += 1
                n_live += not dup
                n_missing += missing
                n_gap += missing > 0
                n_dup += dup
                n_neg += negative
                n_reset += reset
                n_roll += rollover
                n_stuck += run >= stuck_n
                offset = e - step * math.floor(e / step)
                n_off += offset > tol and offset < step - tol
                f_sum += filled
                valid = not math.isnan(q)
                if valid:
                    q_sum += q
                    n_q += 1
                if hourly:
                    h = hour - d * 24
                    hour_rows[m, h] += 1
                    if valid:
                        hour_q[m, h] += q
                        hour_n[m, h] += 1
            # reading j becomes the previous reading
            rk1 = rk if has else np.nan
            rk = rate
            pr = r
            pe = e
            qk = q
            seq_k = s
            k_day = d
            hour_k = hour
            has = True
        stf[m, _R] = pr
        stf[m, _EP] = pe
        stf[m, _RATE] = rk
        stf[m, _RATE1] = rk1
        stf[m, _Q] = qk
        sti[m, _HAS] = 1
        sti[m, _SEQ] = seq_k
        sti[m, _DAY] = k_day
        sti[m, _HOUR] = hour_k
        sti[m, _RUN] = run
        if counted:
            row = cnt[m, d]
            row[_ROWS] += n_rows
            row[_READINGS] += n_live
            row[_MISSING] += n_missing
            row[_GAP] += n_gap
            row[_DUPLICATE] += n_dup
            row[_NEGATIVE] += n_neg
            row[_RESET] += n_reset
            row[_ROLLOVER] += n_roll
            row[_STUCK] += n_stuck
            row[_OFF_GRID] += n_off
            row[_OUT_OF_ORDER] += n_ooo
            qty[m, d] += q_sum
            qn[m, d] += n_q
            filled_sum[m, d] += f_sum
            status[m] = _prepare(m, s_vals, n_s, c_vals, c_hours, n_c, zc, stf, sti,
                                 cand, cand_h)
    return status.max()


@nb.njit(cache=True, nogil=True)
def _finish(n_days, zc, stf, sti, cand, cand_h, cnt, qty, qn, corr_h, corr_q, corr_n):
    # pragma: no cover - compiled
    """Decide the days still waiting at the end of the data (their last reading has no
    next reading, so it is not in the log-ratio set)."""
    for m in range(stf.shape[0]):
        if sti[m, _PEND] == 1 and sti[m, _DAY] < n_days:
            _resolve(m, False, np.nan, np.nan, zc, stf, sti, cand, cand_h, cnt, qty, qn,
                     corr_h, corr_q, corr_n)


@nb.njit(cache=True, nogil=True)
def _add_hours(d, stream, to_cu, hour_q, hour_n, hour_rows, hours_q, hours_n, hours_rows,
               corr_h, corr_q, corr_n):  # pragma: no cover - compiled
    """Add a day's meter-hour quantities [uom] to the streams' hours [carrier unit], and
    take the spikes found since out of the hours they were added to."""
    for m in range(hour_q.shape[0]):
        s = stream[m]
        for h in range(hour_q.shape[1]):
            if hour_rows[m, h] > 0:
                hours_q[s, d * 24 + h] += hour_q[m, h] * to_cu[m]
                hours_n[s, d * 24 + h] += hour_n[m, h]
                hours_rows[s, d * 24 + h] += hour_rows[m, h]
        for k in range(corr_n[m]):
            hours_q[s, corr_h[m, k]] -= corr_q[m, k] * to_cu[m]
            hours_n[s, corr_h[m, k]] -= 1
        corr_n[m] = 0


# ---------------------------------------------------------------- the scan


def day_directories(readings_dir: Path) -> dict[date, Path]:
    """Return the ``day=YYYY-MM-DD`` partitions under ``readings_dir`` by date."""
    days = {}
    for path in readings_dir.glob("day=*"):
        try:
            days[date.fromisoformat(path.name[4:])] = path
        except ValueError:
            continue
    return days


def _read_day(path: Path, unit_range: tuple[int, int]) -> pa.Table | None:
    """Return a partition's readings of the units in ``unit_range`` (None if empty)."""
    files = sorted(path.glob("*.parquet"))
    if not files:
        return None
    names = pq.read_schema(files[0]).names
    keep = [c for c in ("unit_id", "meter_id", "ts", "reading", "seq") if c in names]
    table = pq.read_table(files if len(files) > 1 else files[0], columns=keep)
    units = table.column("unit_id").to_numpy()
    inside = (units >= unit_range[0]) & (units <= unit_range[1])
    return table if inside.all() else table.filter(pa.array(inside))


@dataclass
class _State:
    """Arrays the kernels carry from day to day (see the kernels for their columns)."""

    stf: np.ndarray
    sti: np.ndarray
    cand: np.ndarray
    cand_h: np.ndarray
    cnt: np.ndarray
    qty: np.ndarray
    qn: np.ndarray
    filled: np.ndarray
    hours_day: tuple[np.ndarray, np.ndarray, np.ndarray]
    hours: tuple[np.ndarray, np.ndarray, np.ndarray]
    corrections: tuple[np.ndarray, np.ndarray, np.ndarray]

    @classmethod
    def empty(cls, n_meters: int, n_days: int, n_streams: int, hourly: bool) -> _State:
        sti = np.zeros((n_meters, 7), np.int64)
        sti[:, _DAY] = -2
        hours_day = 24 if hourly else 0
        width = MAX_PENDING + 1 if hourly else 0  # spikes found a day late, per meter
        hours_shape = (n_streams if hourly else 0, n_days * 24)
        return cls(
            stf=np.full((n_meters, 9), np.nan), sti=sti,
            cand=np.zeros((n_meters, MAX_PENDING, 3)),
            cand_h=np.zeros((n_meters, MAX_PENDING), np.int64),
            cnt=np.zeros((n_meters, n_days, len(COUNT_COLUMNS)), np.int32),
            qty=np.zeros((n_meters, n_days)), qn=np.zeros((n_meters, n_days), np.int32),
            filled=np.zeros((n_meters, n_days)),
            hours_day=(np.zeros((n_meters, hours_day)),
                       np.zeros((n_meters, hours_day), np.int32),
                       np.zeros((n_meters, hours_day), np.int32)),
            hours=(np.zeros(hours_shape), np.zeros(hours_shape, np.int64),
                   np.zeros(hours_shape, np.int64)),
            corrections=(np.zeros((n_meters, width), np.int64), np.zeros((n_meters, width)),
                         np.zeros(n_meters, np.int64)))


@dataclass(frozen=True)
class _Setup:
    """What every day's labelling needs besides the readings and the state."""

    n_days: int
    lookup: np.ndarray      # meter_id -> meter index, -1 for unknown
    is_register: np.ndarray
    register_max: np.ndarray
    as_of_us: int
    params: np.ndarray


def _label_day(table: pa.Table, d: int, counted: bool, day: date, setup: _Setup,
               state: _State, path: Path) -> int:
    """Label one partition's readings into ``state``; return the readings counted."""
    ids = table.column("meter_id").cast(pa.int32()).to_numpy()
    ts_us = table.column("ts").cast(pa.timestamp("us")).to_numpy().view(np.int64)
    reading = table.column("reading").cast(pa.float64()).to_numpy(zero_copy_only=False)
    if "seq" in table.column_names:
        seq = table.column("seq").cast(pa.int64())
        seq = (seq.fill_null(NO_SEQ) if seq.null_count else seq).to_numpy()
    else:
        seq = np.full(len(ts_us), NO_SEQ, np.int64)
    day_lo = _epoch_us(datetime(day.year, day.month, day.day))
    n_meters = len(setup.is_register)
    order, starts, unsorted, midx, future, status = _group(
        ids, ts_us, seq, setup.lookup, setup.as_of_us, n_meters, day_lo,
        day_lo + 86_400_000_000)
    if status == _MISPLACED:
        raise ScanDeclined(f"readings outside their day partition in {path}")
    if state.hours_day[0].shape[1]:
        for array in state.hours_day:
            array[:] = 0
    status = _scan_day(d, setup.n_days, counted, order, starts, unsorted, ts_us, reading, seq,
                       setup.is_register, setup.register_max, setup.params, state.stf,
                       state.sti, state.cand, state.cand_h, state.cnt, state.qty, state.qn,
                       state.filled, *state.hours_day, *state.corrections)
    if status == _OVERFLOW:
        raise ScanDeclined(f"more than {MAX_PENDING} spike candidates in a meter-day of "
                           f"{day}")
    if not counted:
        return 0
    return _count_future(midx, future, d, state.cnt)


def scan_month(readings_dir: Path, meters: pd.DataFrame, units: pd.DataFrame,
               first: date, last: date, *, as_of: datetime, rule: Rules | None = None,
               fill_gaps: bool = False, hourly: bool = False, threads: int | None = None,
               progress: Callable[[date], None] | None = None) -> ScanResult:
    """Return the meter-day aggregates (and hourly streams) of days ``first``..``last``.

    Parameters
    ----------
    readings_dir : Path
        The ``readings`` directory of a data set (``day=YYYY-MM-DD/*.parquet``).
    meters, units : DataFrame
        Registries of :func:`~.schema.prepare_meters` and :func:`~.schema.prepare_units`.
    first, last : date
        The days to report; the day before and after are read as neighbours.
    as_of : datetime
        Time of the run; later readings are ``future``.
    hourly : bool
        Also return the quantity per unit-carrier stream and hour [carrier unit].
    threads : int, optional
        Threads of the labelling kernel (meters are labelled in parallel).
    progress : callable, optional
        Called with each day once it is labelled.

    Raises
    ------
    ScanDeclined
        Where the scan cannot follow :mod:`.quality` exactly (see the module).
    """
    r = rule or rules()
    if threads:
        nb.set_num_threads(min(int(threads), nb.config.NUMBA_NUM_THREADS))
    n_days = (last - first).days + 1
    meter_ids = meters["meter_id"].to_numpy(np.int64)
    lookup = np.full(int(meter_ids.max()) + 1, -1, np.int32)
    lookup[meter_ids] = np.arange(len(meter_ids), dtype=np.int32)
    month_start = datetime(first.year, first.month, first.day)
    setup = _Setup(
        n_days=n_days, lookup=lookup,
        is_register=(meters["kind"] == "register").to_numpy(),
        register_max=meters["register_max"].to_numpy(np.float64),
        as_of_us=_epoch_us(as_of),
        params=np.array([r.interval_minutes * 60, r.timestamp_tolerance_s,
                         r.stuck_min_readings, r.spike_robust_z * r.mad_scale,
                         r.reset_max_fraction, r.rollover_high_fraction,
                         r.rollover_low_fraction, 1.0 if fill_gaps else 0.0,
                         _epoch_us(month_start) // 3_600_000_000], dtype=np.float64))
    stream_keys = ["unit_id", "carrier", "use", "origin"]
    stream = meters.groupby(stream_keys, sort=True).ngroup().to_numpy(np.int64)
    to_cu = meters["to_carrier_unit"].to_numpy(np.float64)
    state = _State.empty(len(meter_ids), n_days, int(stream.max()) + 1, hourly)
    unit_range = (int(units["unit_id"].min()), int(units["unit_id"].max()))
    partitions = day_directories(readings_dir)
    days = [first + timedelta(days=offset) for offset in range(-1, n_days + 1)]
    days = [day for day in days if day in partitions]
    total = 0
    # the next day is read (Arrow's own threads, no GIL) while this one is labelled
    with ThreadPoolExecutor(max_workers=1) as reader:
        coming = reader.submit(_read_day, partitions[days[0]], unit_range) if days else None
        for i, day in enumerate(days):
            table = coming.result()
            if i + 1 < len(days):
                coming = reader.submit(_read_day, partitions[days[i + 1]], unit_range)
            if table is None:
                continue
            offset = (day - first).days
            counted = 0 <= offset < n_days
            d = offset if counted else (-1 if offset < 0 else n_days)
            total += _label_day(table, d, counted, day, setup, state, partitions[day])
            if hourly and counted:
                _add_hours(d, stream, to_cu, *state.hours_day, *state.hours,
                           *state.corrections)
            if progress:
                progress(day)
    _finish(n_days, float(setup.params[3]), state.stf, state.sti, state.cand, state.cand_h,
            state.cnt, state.qty, state.qn, *state.corrections)
    hours = None
    if hourly:
        state.hours_day[2][:] = 0  # only the corrections of the days still waiting
        _add_hours(0, stream, to_cu, *state.hours_day, *state.hours, *state.corrections)
        hours = _hours_table(meters, stream, stream_keys, month_start, *state.hours)
    return ScanResult(_meter_day_frame(meters, first, state), hours, total)


@nb.njit(cache=True, nogil=True)
def _count_future(midx, fut, d, cnt):  # pragma: no cover - compiled
    """Count the day's future readings; return the day's readings of known meters."""
    known = 0
    for i in range(midx.shape[0]):
        if midx[i] < 0:
            continue
        known += 1
        if fut[i]:
            cnt[midx[i], d, _ROWS] += 1
            cnt[midx[i], d, _FUTURE] += 1
    return known


def _epoch_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 of a naive local (China Standard) time, as stored."""
    return int((pd.Timestamp(moment) - pd.Timestamp(0)) // pd.Timedelta(microseconds=1))


def _meter_day_frame(meters: pd.DataFrame, first: date, state: _State) -> pd.DataFrame:
    """Return the meter-day aggregates: ``meter_id``, ``day`` and :func:`meter_day_counts`
    columns of :mod:`.rollup`."""
    m_idx, d_idx = np.nonzero(state.cnt[:, :, _ROWS] > 0)
    frame = pd.DataFrame({
        "meter_id": meters["meter_id"].to_numpy()[m_idx],
        "day": (np.datetime64(first, "D") + d_idx).astype("datetime64[s]"),
    })
    picked = state.cnt[m_idx, d_idx]
    for i, column in enumerate(COUNT_COLUMNS):
        frame[column] = picked[:, i].astype(np.int64)
    frame["quantity"] = np.where(state.qn[m_idx, d_idx] > 0, state.qty[m_idx, d_idx], np.nan)
    frame["filled_quantity"] = state.filled[m_idx, d_idx]
    return frame


def _hours_table(meters: pd.DataFrame, stream: np.ndarray, keys: list[str],
                 month_start: datetime, hours_q: np.ndarray, hours_n: np.ndarray,
                 hours_rows: np.ndarray) -> pa.Table:
    """Return the hourly quantity per stream [carrier unit], as :func:`unit_carrier_hours`
    of :mod:`.rollup` gives it: null where no reading of the hour has a quantity."""
    s_idx, h_idx = np.nonzero(hours_rows > 0)
    attributes = meters.assign(stream=stream).drop_duplicates("stream").set_index(
        "stream").sort_index()
    columns = {}
    for key in keys:
        columns[key] = pa.DictionaryArray.from_arrays(
            pa.array(s_idx, pa.int32()), pa.array(attributes[key].to_numpy()))
    periods = np.datetime64(month_start, "h") + h_idx
    columns["period"] = pa.array(periods.astype("datetime64[us]"))
    quantity = hours_q[s_idx, h_idx]
    columns["quantity_carrier_unit"] = pa.array(quantity, mask=hours_n[s_idx, h_idx] == 0)
    return pa.table(columns)
