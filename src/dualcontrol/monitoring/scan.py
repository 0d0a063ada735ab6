"""The sorted scan: every quality check of :mod:`.quality` in one pass over the day files.

:func:`~dualcontrol.monitoring.quality.label_readings` finds each reading's neighbours
with window functions, which sort every reading; on two cores no engine does that faster
than about 10 M readings/s (see the README). This module computes the same labels and
the same meter-day aggregates (:func:`~dualcontrol.monitoring.rollup.meter_day_counts`)
without a sort of the month: the day partitions are read in date order (the next day
decoded by Arrow in a thread while this one is labelled), each day's readings are put
in one buffer grouped by meter, and a compiled loop walks each meter's readings (blocks
of whole units in parallel) carrying the meter's state from one day to the next: the
previous reading, its rate and the rate before it, the run of unchanged readings, and
the day still waiting for the reading after its last one (which decides that last
reading's spike test and whether it joins the day's MAD). Only the aggregates are kept:
counts per meter and day, quantities, and on request the quantity per unit-carrier
stream and hour. The loops are compiled by numba on first use (about 20 s, then cached
on disk beside the module or under ``NUMBA_CACHE_DIR``).

Grouping by meter costs one sequential copy where files are written meter by meter (as
platforms compact them, and as ``synth meters`` writes them): each meter's run is
appended as it comes, and a meter's few readings that arrive after its run (late
duplicates, say) are moved in behind it (:func:`_append`, :func:`_regroup`). Files in
any other order (by time, shuffled) are grouped by a counting sort over the meters
(:func:`_count`, :func:`_gather`): linear too, but its writes are scattered. Either way the file
order within a meter is kept and repaired only where it is not by (time, seq).

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

from dualcontrol.monitoring.rollup import COUNTS
from dualcontrol.monitoring.schema import FAULT_CLASSES, Rules, rules

logger = logging.getLogger(__name__)

_ROWS, _READINGS, _MISSING = 0, 1, 2
_GAP, _DUPLICATE, _NEGATIVE, _RESET, _ROLLOVER, _STUCK, _SPIKE, _OUT_OF_ORDER, _FUTURE, \
    _OFF_GRID = (3 + FAULT_CLASSES.index(f) for f in (
        "gap", "duplicate", "negative", "reset", "rollover", "stuck", "spike",
        "out_of_order", "future", "off_grid"))
#: Spike candidates of a meter-day kept until the reading after the day's last.
MAX_PENDING = 16
#: Microseconds in an hour and in a day (the readings' times are epoch microseconds).
US_PER_HOUR = 3_600_000_000
US_PER_DAY = 24 * US_PER_HOUR
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
    """Meter-day aggregates (one row per meter and day) and the readings counted."""

    meter_days: pa.Table
    readings: int


# ---------------------------------------------------------------- compiled kernels


@nb.njit(cache=True, nogil=True)
def _count(ids, ts_us, lookup, as_of_us, day_lo_us, day_hi_us, live, cnt, d, counted):
    # pragma: no cover - compiled
    """Count one batch's live readings per meter into ``live``; count its future ones
    into ``cnt`` (if the day is ``counted``). Return the readings of known meters and a
    status: ``_MISPLACED`` if a live reading's time is outside ``(day_lo_us, day_hi_us]``.
    """
    known = 0
    status = _OK
    for i in range(ids.shape[0]):
        k = ids[i]
        m = lookup[k] if 0 <= k < lookup.shape[0] else -1
        if m < 0:
            continue
        known += 1
        t = ts_us[i]
        if t > as_of_us:
            if counted:
                cnt[m, d, _ROWS] += 1
                cnt[m, d, _FUTURE] += 1
            continue
        if t <= day_lo_us or t > day_hi_us:
            status = _MISPLACED
        live[m + 1] += 1
    return known, status


@nb.njit(cache=True, nogil=True)
def _append(ids, ts_us, rd, sq, lookup, as_of_us, day_lo_us, day_hi_us, future, g_ts,
            g_rd, g_sq, lo_of, hi_of, unsorted, late, late_rd, late_n, cursor):
    # pragma: no cover - compiled
    """Append one batch's live readings to the day's buffers in file order, a meter's
    run of consecutive readings at a time (files written meter by meter have one run per
    meter); count the future ones per meter into ``future``.

    A reading of a meter whose run has ended (a late duplicate, say) goes to ``late``
    (meter, time, seq) and ``late_rd`` (reading), counted per meter in ``late_n``, for
    :func:`_regroup`.
    ``cursor``: next position, current meter, readings of known meters, status
    (``_MISPLACED`` as in :func:`_count`), late readings, and 0 once ``late`` is full.
    """
    p = cursor[0]
    current = cursor[1]
    known = cursor[2]
    status = cursor[3]
    n_late = cursor[4]
    room = 1
    # the current meter's last reading (time, seq), for the order check
    prev_t = g_ts[p - 1] if p > 0 else 0
    prev_s = g_sq[p - 1] if p > 0 else 0
    for i in range(ids.shape[0]):
        k = ids[i]
        m = lookup[k] if 0 <= k < lookup.shape[0] else -1
        if m < 0:
            continue
        known += 1
        t = ts_us[i]
        if t > as_of_us:
            future[m] += 1
            continue
        if t <= day_lo_us or t > day_hi_us:
            status = _MISPLACED
        if m != current:
            if lo_of[m] >= 0:
                if n_late == late.shape[0]:
                    room = 0
                    break
                late[n_late, 0] = m
                late[n_late, 1] = t
                late[n_late, 2] = sq[i]
                late_rd[n_late] = rd[i]
                late_n[m] += 1
                n_late += 1
                continue
            if current >= 0:
                hi_of[current] = p
            lo_of[m] = p
            current = m
        elif prev_t > t or (prev_t == t and prev_s > sq[i]):
            unsorted[m] = True
        prev_t = t
        prev_s = sq[i]
        g_ts[p] = t
        g_rd[p] = rd[i]
        g_sq[p] = prev_s
        p += 1
    if current >= 0:
        hi_of[current] = p
    cursor[0] = p
    cursor[1] = current
    cursor[2] = known
    cursor[3] = status
    cursor[4] = n_late
    cursor[5] = room


@nb.njit(cache=True, nogil=True)
def _regroup(g_ts, g_rd, g_sq, lo_of, hi_of, unsorted, late, late_rd, late_n, cursor):
    # pragma: no cover - compiled
    """Move the runs of the meters with late readings to the end of the buffers, each
    followed by its late readings in file order; return False if the buffers are too
    short."""
    p = cursor[0]
    n_late = cursor[4]
    pos = np.full(lo_of.shape[0], -1, np.int64)
    for j in range(n_late):
        m = late[j, 0]
        if pos[m] >= 0:
            continue
        lo = lo_of[m]
        hi = hi_of[m]
        if p + (hi - lo) + late_n[m] > g_ts.shape[0]:
            return False
        g_ts[p:p + hi - lo] = g_ts[lo:hi]
        g_rd[p:p + hi - lo] = g_rd[lo:hi]
        g_sq[p:p + hi - lo] = g_sq[lo:hi]
        lo_of[m] = p
        p += hi - lo
        pos[m] = p
        p += late_n[m]
        hi_of[m] = p
    for j in range(n_late):
        m = late[j, 0]
        q = pos[m]
        t = late[j, 1]
        if q > lo_of[m] and (g_ts[q - 1] > t or (g_ts[q - 1] == t
                                                  and g_sq[q - 1] > late[j, 2])):
            unsorted[m] = True
        g_ts[q] = t
        g_rd[q] = late_rd[j]
        g_sq[q] = late[j, 2]
        pos[m] = q + 1
    cursor[0] = p
    return True


@nb.njit(cache=True, nogil=True)
def _gather(ids, ts_us, rd, sq, lookup, as_of_us, starts, pos, g_ts, g_rd, g_sq,
            unsorted):  # pragma: no cover - compiled
    """Copy one batch's live readings to their meter's group (file order kept) and flag
    the meters whose readings do not come in (time, seq) order."""
    for i in range(ids.shape[0]):
        k = ids[i]
        m = lookup[k] if 0 <= k < lookup.shape[0] else -1
        if m < 0 or ts_us[i] > as_of_us:
            continue
        p = pos[m]
        if p > starts[m] and (g_ts[p - 1] > ts_us[i]
                              or (g_ts[p - 1] == ts_us[i] and g_sq[p - 1] > sq[i])):
            unsorted[m] = True
        g_ts[p] = ts_us[i]
        g_rd[p] = rd[i]
        g_sq[p] = sq[i]
        pos[m] = p + 1


@nb.njit(cache=True, nogil=True)
def _sort_group(lo, hi, g_ts, g_rd, g_sq):  # pragma: no cover - compiled
    """Put a meter's readings ``[lo, hi)`` in (time, seq) order (insertion sort: the
    readings come nearly in order)."""
    for a in range(lo + 1, hi):
        t, r, q = g_ts[a], g_rd[a], g_sq[a]
        b = a - 1
        while b >= lo and (g_ts[b] > t or (g_ts[b] == t and g_sq[b] > q)):
            g_ts[b + 1], g_rd[b + 1], g_sq[b + 1] = g_ts[b], g_rd[b], g_sq[b]
            b -= 1
        g_ts[b + 1], g_rd[b + 1], g_sq[b + 1] = t, r, q


@nb.njit(cache=True, nogil=True)
def _take_spike(m, day, q, hour, cnt, qty, qn, stream, to_cu, hours_q, hours_n):
    # pragma: no cover - compiled
    """Count a spike on meter ``m``'s ``day`` and take its quantity back out."""
    cnt[m, day, _SPIKE] += 1
    if not math.isnan(q):
        qty[m, day] -= q
        qn[m, day] -= 1
        if hours_q.shape[0]:
            hours_q[stream[m], hour] -= q * to_cu[m]
            hours_n[stream[m], hour] -= 1


@nb.njit(cache=True, nogil=True)
def _resolve(m, k_ups, ratio_prev, ratio_next, zc, stf, sti, cand, cand_h, cnt, qty, qn,
             stream, to_cu, hours_q, hours_n):  # pragma: no cover - compiled
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
                _take_spike(m, day, cand[m, c, 2], cand_h[m, c], cnt, qty, qn, stream,
                            to_cu, hours_q, hours_n)
        if k_ups and up_prev > limit and up_next > limit:
            _take_spike(m, day, stf[m, _Q], sti[m, _HOUR], cnt, qty, qn, stream, to_cu,
                        hours_q, hours_n)
    sti[m, _PEND] = 0
    sti[m, _NCAND] = 0


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
    for i in range(n_s):  # counted without a branch: the ratios are noisy
        below += (low_ratio <= s_vals[i]) & (s_vals[i] <= high_ratio)
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
def _scan_day(d, n_days, counted, blocks, lo_of, hi_of, unsorted, g_ts, g_rd, g_sq, is_reg,
              reg_max, params, stf, sti, cand, cand_h, cnt, qty, qn, filled_sum, stream,
              to_cu, hours_q, hours_n, hours_rows):  # pragma: no cover - compiled
    """Label one day's live readings into the aggregates, meter by meter.

    The meters of a block (whole units, so whole unit-carrier streams) are walked by one
    thread, the blocks in parallel. ``params``: interval [s], timestamp tolerance [s],
    stuck run, spike limit factor (robust z x MAD scale), reset, rollover high and low
    fractions [1], fill gaps (0/1), first hour of the month [h since the epoch]. A
    meter's state is held in locals while its day is walked and written back after.
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
    hourly = hours_q.shape[0] > 0
    status = np.zeros(blocks.shape[0] - 1, np.int64)
    longest = 1
    for m in range(lo_of.shape[0]):
        longest = max(longest, hi_of[m] - lo_of[m])
    for b in nb.prange(blocks.shape[0] - 1):
        # the spike test's ratios and candidates of one meter-day, reused meter to meter
        s_vals = np.empty(longest)
        c_vals = np.empty((longest, 3))
        c_hours = np.empty(longest, np.int64)
        for m in range(blocks[b], blocks[b + 1]):
            lo = lo_of[m]
            hi = hi_of[m]
            if hi <= lo:
                continue
            if unsorted[m]:
                _sort_group(lo, hi, g_ts, g_rd, g_sq)
            n_s = 0
            n_c = 0
            reg = is_reg[m]
            rmax = reg_max[m]
            sm = stream[m]
            cu = to_cu[m]
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
            on_grid = False  # the previous reading's offset from the grid is exactly 0
            for a in range(lo, hi):
                e = g_ts[a] / 1e6  # epoch seconds, as EPOCH(ts)
                r = g_rd[a]
                s = g_sq[a]
                missing = 0
                dup = False
                exact = False
                if has:
                    dstep = e - pe
                    # exactly one interval on: floor(1 + 0.5), without the division
                    exact = dstep == step
                    n_int = 1 if exact else math.floor(dstep / step + 0.5)
                    dup = dstep == 0
                    if n_int > 1:
                        missing = n_int - 1
                    if not reg:
                        rate = r
                    elif n_int > 1:
                        rate = (r - pr) / n_int
                    else:  # as divided by 1
                        rate = r - pr
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
                                # written always, kept if above both neighbours (no
                                # branch on noisy data)
                                c_vals[n_c, 0] = ratio_prev
                                c_vals[n_c, 1] = ratio_next
                                c_vals[n_c, 2] = qk
                                c_hours[n_c] = hour_k
                                n_c += (ratio_prev > 1.0) & (ratio_next > 1.0)
                    elif k_day >= 0 and k_day < n_days:
                        cnt[m, k_day, _OUT_OF_ORDER] += out_of_order
                        if sti[m, _PEND] == 1:
                            _resolve(m, k_ups, rk / rk1, rk / rate, zc, stf, sti, cand,
                                     cand_h, cnt, qty, qn, stream, to_cu, hours_q, hours_n)
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
                hour = math.floor((e - 1.0) / 3600.0) - hour0 if hourly else 0
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
                    # a reading exactly one interval after one on the grid is on it
                    if not (on_grid and exact):
                        offset = e - step * math.floor(e / step)
                        on_grid = offset == 0.0
                        n_off += offset > tol and offset < step - tol
                    f_sum += filled
                    valid = not math.isnan(q)
                    if valid:
                        q_sum += q
                        n_q += 1
                    if hourly:
                        hours_rows[sm, hour] = True
                        if valid:
                            hours_q[sm, hour] += q * cu
                            hours_n[sm, hour] += 1
                # reading a becomes the previous reading
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
                status[b] = max(status[b], _prepare(m, s_vals, n_s, c_vals, c_hours, n_c,
                                                    zc, stf, sti, cand, cand_h))
    return status.max()


@nb.njit(cache=True, nogil=True)
def _finish(n_days, zc, stf, sti, cand, cand_h, cnt, qty, qn, stream, to_cu, hours_q,
            hours_n):  # pragma: no cover - compiled
    """Decide the days still waiting at the end of the data (their last reading has no
    next reading, so it is not in the log-ratio set)."""
    for m in range(stf.shape[0]):
        if sti[m, _PEND] == 1 and sti[m, _DAY] < n_days:
            _resolve(m, False, np.nan, np.nan, zc, stf, sti, cand, cand_h, cnt, qty, qn,
                     stream, to_cu, hours_q, hours_n)


@nb.njit(cache=True, nogil=True)
def _hour_cells(q, n, rows, lo, hi):  # pragma: no cover - compiled
    """Return the stream-hours of hours ``lo..hi`` that have readings (``rows`` true):
    stream, hour (counted from ``lo``), quantity [carrier unit] and whether it has none
    (all its readings without a quantity), in stream then hour order."""
    count = 0
    for s in range(rows.shape[0]):
        for h in range(lo, hi):
            count += rows[s, h]
    s_idx = np.empty(count, np.int32)
    h_idx = np.empty(count, np.int64)
    qv = np.empty(count)
    none = np.empty(count, np.bool_)
    i = 0
    for s in range(rows.shape[0]):
        for h in range(lo, hi):
            if rows[s, h]:
                s_idx[i] = s
                h_idx[i] = h - lo
                qv[i] = q[s, h]
                none[i] = n[s, h] == 0
                i += 1
    return s_idx, h_idx, qv, none


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


def _read_day(path: Path) -> list[tuple[np.ndarray, ...]]:
    """Return a partition's readings as NumPy batches (meter_id, ts [us], reading, seq).

    Run in the reader thread: Arrow decodes with its own threads, and the batches are
    turned into arrays there, without copies where the data has no nulls.
    """
    files = sorted(path.glob("*.parquet"))
    if not files:
        return []
    names = pq.read_schema(files[0]).names
    keep = [c for c in ("meter_id", "ts", "reading", "seq") if c in names]
    table = pq.read_table(files if len(files) > 1 else files[0], columns=keep)
    batches = []
    for batch in table.to_batches():
        ids = batch.column("meter_id").cast(pa.int32()).to_numpy(zero_copy_only=False)
        ts = batch.column("ts").cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
        reading = batch.column("reading").cast(pa.float64()).to_numpy(zero_copy_only=False)
        if "seq" in batch.schema.names:
            seq = batch.column("seq").cast(pa.int64())
            seq = (seq.fill_null(NO_SEQ) if seq.null_count else seq).to_numpy()
        else:
            seq = np.full(len(ids), NO_SEQ, np.int64)
        batches.append((ids, ts.view(np.int64), reading, seq))
    return batches


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
    #: per unit-carrier stream and hour of the month: quantity [carrier unit], readings
    #: with a quantity, and whether it has any reading
    hours: tuple[np.ndarray, np.ndarray, np.ndarray]
    #: the day's readings grouped by meter (time [us], reading, seq), reused day to day
    #: (fresh arrays each day cost as much in page faults as the gathering itself)
    buffers: tuple[np.ndarray, np.ndarray, np.ndarray] = (
        np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64))

    late_buffers: tuple[np.ndarray, np.ndarray] = (np.empty((0, 3), np.int64),
                                                   np.empty(0))

    def grouped(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the grouped-readings buffers, ``n`` long and 1/8 more (the room
        :func:`_regroup` moves runs to)."""
        if len(self.buffers[0]) < n + n // 8:
            size = int(n * 1.25)
            self.buffers = (np.empty(size, np.int64), np.empty(size),
                            np.empty(size, np.int64))
        return self.buffers

    def release(self) -> None:
        """Let go of the day buffers and the hour arrays (once the hours are written)."""
        self.buffers = _State.buffers
        self.late_buffers = _State.late_buffers
        self.hours = tuple(np.zeros((0, 0), a.dtype) for a in self.hours)

    def late(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the late-readings buffers, ``n // 64`` long at least."""
        if len(self.late_buffers[1]) < n // 64:
            size = n // 32
            self.late_buffers = (np.empty((size, 3), np.int64), np.empty(size))
        return self.late_buffers

    @classmethod
    def empty(cls, n_meters: int, n_days: int, n_streams: int) -> _State:
        sti = np.zeros((n_meters, 7), np.int64)
        sti[:, _DAY] = -2
        hours_shape = (n_streams, n_days * 24)
        return cls(
            stf=np.full((n_meters, 9), np.nan), sti=sti,
            cand=np.zeros((n_meters, MAX_PENDING, 3)),
            cand_h=np.zeros((n_meters, MAX_PENDING), np.int64),
            cnt=np.zeros((n_meters, n_days, len(COUNTS)), np.int32),
            qty=np.zeros((n_meters, n_days)), qn=np.zeros((n_meters, n_days), np.int32),
            filled=np.zeros((n_meters, n_days)),
            hours=(np.zeros(hours_shape), np.zeros(hours_shape, np.int32),
                   np.zeros(hours_shape, np.bool_)))

    def settled_before(self, day: int) -> int:
        """Return the first day whose spikes may still change (all before are final)."""
        waiting = self.sti[self.sti[:, _PEND] == 1, _DAY]
        return min(day, int(waiting.min())) if len(waiting) else day


@dataclass(frozen=True)
class _Fleet:
    """The meters as the kernels index them: by unit, in blocks of whole units."""

    meters: pd.DataFrame     # the registry, sorted by unit and meter
    lookup: np.ndarray       # meter_id -> meter index, -1 for unknown
    blocks: np.ndarray       # first meter index of each block, and the count
    stream: np.ndarray       # unit-carrier stream of each meter
    streams: pd.DataFrame    # unit_id, carrier, use, origin of each stream
    to_cu: np.ndarray        # [carrier unit / uom]
    is_register: np.ndarray  # cumulative register (else interval quantities)
    register_max: np.ndarray  # where a register rolls over [uom]

    @classmethod
    def of(cls, meters: pd.DataFrame, n_blocks: int = 256) -> _Fleet:
        reg = meters.sort_values(["unit_id", "meter_id"]).reset_index(drop=True)
        ids = reg["meter_id"].to_numpy(np.int64)
        lookup = np.full(int(ids.max()) + 1, -1, np.int32)
        lookup[ids] = np.arange(len(ids), dtype=np.int32)
        units = reg["unit_id"].to_numpy()
        unit_starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
        targets = np.linspace(0, len(reg), n_blocks + 1)[1:-1]
        cuts = unit_starts[np.minimum(np.searchsorted(unit_starts, targets),
                                      len(unit_starts) - 1)]
        blocks = np.unique(np.r_[0, cuts, len(reg)]).astype(np.int64)
        keys = ["unit_id", "carrier", "use", "origin"]
        stream = reg.groupby(keys, sort=True).ngroup().to_numpy(np.int64)
        streams = reg.assign(stream=stream).drop_duplicates("stream").sort_values(
            "stream")[keys].reset_index(drop=True)
        return cls(reg, lookup, blocks, stream, streams,
                   reg["to_carrier_unit"].to_numpy(np.float64),
                   (reg["kind"] == "register").to_numpy(),
                   reg["register_max"].to_numpy(np.float64))


def _label_day(batches: list[tuple[np.ndarray, ...]], d: int, counted: bool, day: date,
               fleet: _Fleet, params: np.ndarray, n_days: int, as_of_us: int,
               state: _State, path: Path) -> int:
    """Label one partition's readings into ``state``; return the readings counted."""
    n_meters = len(fleet.meters)
    day_lo = _epoch_us(datetime(day.year, day.month, day.day))
    day_hi = day_lo + US_PER_DAY
    n = sum(len(batch[0]) for batch in batches)
    g_ts, g_rd, g_sq = state.grouped(n)
    lo_of = np.full(n_meters, -1, np.int64)
    hi_of = np.full(n_meters, -1, np.int64)
    unsorted = np.zeros(n_meters, np.bool_)
    future = np.zeros(n_meters, np.int32)
    late, late_rd = state.late(n)
    late_n = np.zeros(n_meters, np.int64)
    # position, current meter, known readings, status, late readings, room for them
    cursor = np.array([0, -1, 0, _OK, 0, 1], np.int64)
    for ids, ts, reading, seq in batches:
        _append(ids, ts, reading, seq, fleet.lookup, as_of_us, day_lo, day_hi, future,
                g_ts, g_rd, g_sq, lo_of, hi_of, unsorted, late, late_rd, late_n, cursor)
        if not cursor[5]:
            break
    grouped = bool(cursor[5]) and _regroup(g_ts, g_rd, g_sq, lo_of, hi_of, unsorted,
                                           late, late_rd, late_n, cursor)
    if grouped:
        known, status = int(cursor[2]), int(cursor[3])
        if counted:
            state.cnt[:, d, _ROWS] += future
            state.cnt[:, d, _FUTURE] += future
    else:  # too many late readings: group the day by counting sort
        live = np.zeros(n_meters + 1, np.int64)
        known, status = 0, _OK
        for ids, ts, _, _ in batches:
            k, batch_status = _count(ids, ts, fleet.lookup, as_of_us, day_lo, day_hi,
                                     live, state.cnt, d, counted)
            known += k
            status = max(status, batch_status)
        starts = np.cumsum(live)
        lo_of, hi_of = starts[:-1].copy(), starts[1:]
        unsorted[:] = False
        pos = lo_of.copy()
        for ids, ts, reading, seq in batches:
            _gather(ids, ts, reading, seq, fleet.lookup, as_of_us, starts, pos, g_ts,
                    g_rd, g_sq, unsorted)
    if status == _MISPLACED:
        raise ScanDeclined(f"readings outside their day partition in {path}")
    status = _scan_day(d, n_days, counted, fleet.blocks, lo_of, hi_of, unsorted, g_ts,
                       g_rd, g_sq, fleet.is_register, fleet.register_max, params,
                       state.stf, state.sti, state.cand, state.cand_h, state.cnt,
                       state.qty, state.qn, state.filled, fleet.stream, fleet.to_cu,
                       *state.hours)
    if status == _OVERFLOW:
        raise ScanDeclined(f"more than {MAX_PENDING} spike candidates in a meter-day of "
                           f"{day}")
    return known if counted else 0


def scan_month(readings_dir: Path, meters: pd.DataFrame, units: pd.DataFrame,
               first: date, last: date, *, as_of: datetime, rule: Rules | None = None,
               fill_gaps: bool = False, hourly_path: Path | None = None,
               threads: int | None = None,
               progress: Callable[[int, int], None] | None = None) -> ScanResult:
    """Return the meter-day aggregates of days ``first``..``last``.

    Parameters
    ----------
    readings_dir : Path
        The ``readings`` directory of a data set (``day=YYYY-MM-DD/*.parquet``).
    meters, units : DataFrame
        Registries of :func:`~.schema.prepare_meters` and :func:`~.schema.prepare_units`;
        readings of meters not in the registry are left out, as the window path's join
        leaves them out.
    first, last : date
        The days to report; the day before and after are read as neighbours.
    as_of : datetime
        Time of the run; later readings are ``future``.
    hourly_path : Path, optional
        Write the quantity per unit-carrier stream and hour [carrier unit] to
        ``hourly_path / "part-0000.parquet"``, each day once its spikes are settled.
    threads : int, optional
        Threads of the labelling kernel (blocks of meters are labelled in parallel).
    progress : callable, optional
        Called with the days labelled and the days to read, after each day.

    Raises
    ------
    ScanDeclined
        Where the scan cannot follow :mod:`.quality` exactly (see the module).
    """
    r = rule or rules()
    if threads:
        nb.set_num_threads(min(int(threads), nb.config.NUMBA_NUM_THREADS))
    n_days = (last - first).days + 1
    unit_ids = units["unit_id"]
    fleet = _Fleet.of(meters[meters["unit_id"].between(unit_ids.min(), unit_ids.max())])
    month_start = datetime(first.year, first.month, first.day)
    params = np.array([r.interval_minutes * 60, r.timestamp_tolerance_s,
                       r.stuck_min_readings, r.spike_robust_z * r.mad_scale,
                       r.reset_max_fraction, r.rollover_high_fraction,
                       r.rollover_low_fraction, 1.0 if fill_gaps else 0.0,
                       _epoch_us(month_start) // US_PER_HOUR], dtype=np.float64)
    zc = float(params[3])
    state = _State.empty(len(fleet.meters), n_days,
                         len(fleet.streams) if hourly_path is not None else 0)
    as_of_us = _epoch_us(as_of)
    partitions = day_directories(readings_dir)
    days = [first + timedelta(days=offset) for offset in range(-1, n_days + 1)]
    days = [day for day in days if day in partitions]
    hours = _HourWriter(hourly_path, fleet.streams, month_start, state.hours)
    total = 0
    # the next day is read (Arrow's own threads, no GIL) while this one is labelled
    with ThreadPoolExecutor(max_workers=1) as reader, hours:
        coming = reader.submit(_read_day, partitions[days[0]]) if days else None
        for i, day in enumerate(days):
            batches = coming.result()
            if i + 1 < len(days):
                coming = reader.submit(_read_day, partitions[days[i + 1]])
            offset = (day - first).days
            counted = 0 <= offset < n_days
            d = offset if counted else (-1 if offset < 0 else n_days)
            total += _label_day(batches, d, counted, day, fleet, params, n_days, as_of_us,
                                state, partitions[day])
            del batches
            hours.write_until(state.settled_before(min(max(d, 0), n_days)))
            if progress:
                progress(i + 1, len(days))
        _finish(n_days, zc, state.stf, state.sti, state.cand, state.cand_h, state.cnt,
                state.qty, state.qn, fleet.stream, fleet.to_cu, state.hours[0],
                state.hours[1])
        hours.write_until(n_days)
    state.release()
    return ScanResult(_meter_day_table(fleet.meters, first, state), total)


class _HourWriter:
    """Writes the hourly stream quantities day by day, in a thread of its own."""

    def __init__(self, out: Path | None, streams: pd.DataFrame, month_start: datetime,
                 hours: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        self.out, self.hours, self.month_start = out, hours, month_start
        self.done = 0
        self.writer: pq.ParquetWriter | None = None
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending: list = []
        # each key as a dictionary of its distinct values and each stream's code in it
        # (a dictionary with a value per stream, repeats and all, doubles the writer's work)
        self.keys: dict[str, tuple[np.ndarray, pa.Array]] = {}
        for key in streams:
            codes, values = pd.factorize(streams[key])
            self.keys[key] = (codes.astype(np.int32), pa.array(np.asarray(values)))

    def __enter__(self) -> _HourWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        for job in self.pending:
            job.result()
        self.pool.shutdown()
        if self.writer is not None:
            self.writer.close()
        self.hours = ()

    def write_until(self, day: int) -> None:
        """Write the days before ``day`` not written yet (their quantities are final)."""
        if self.out is None:
            return
        while self.done < day:
            if self.writer is None:
                self.out.mkdir(parents=True, exist_ok=True)
                # the keys as dictionaries, the hours and quantities plain; statistics
                # for the columns readers filter on; without the Arrow schema the keys
                # read back as plain columns, as the window path writes them
                schema = pa.schema(
                    [pa.field(key, pa.dictionary(pa.int32(), values.type))
                     for key, (_, values) in self.keys.items()]
                    + [pa.field("period", pa.timestamp("us")),
                       pa.field("quantity_carrier_unit", pa.float64())])
                self.writer = pq.ParquetWriter(self.out / "part-0000.parquet", schema,
                                               store_schema=False, use_dictionary=[*self.keys],
                                               write_statistics=["unit_id", "period"])
            # the day's table is built in the writer's thread too: the scan no longer
            # changes the hours of a settled day
            self.pending.append(self.pool.submit(self._write_day, self.done))
            self.done += 1

    def _write_day(self, d: int) -> None:
        assert self.writer is not None
        self.writer.write_table(self._day_table(d))

    def _day_table(self, d: int) -> pa.Table:
        s_idx, h_idx, quantity, none = _hour_cells(*self.hours, d * 24, (d + 1) * 24)
        columns = {key: pa.DictionaryArray.from_arrays(codes[s_idx], values, safe=False)
                   for key, (codes, values) in self.keys.items()}
        first_us = _epoch_us(self.month_start + timedelta(days=d))
        columns["period"] = pa.array(first_us + h_idx * US_PER_HOUR,
                                     pa.int64()).cast(pa.timestamp("us"))
        columns["quantity_carrier_unit"] = pa.array(quantity, mask=none)
        return pa.table(columns)


def _epoch_us(moment: datetime) -> int:
    """Microseconds since 1970-01-01 of a naive local (China Standard) time, as stored."""
    return int((pd.Timestamp(moment) - pd.Timestamp(0)) // pd.Timedelta(microseconds=1))


def _meter_day_table(meters: pd.DataFrame, first: date, state: _State) -> pa.Table:
    """Return the meter-day aggregates: ``meter_id``, ``day`` and the columns of
    :func:`~dualcontrol.monitoring.rollup.meter_day_counts`."""
    n_days = state.cnt.shape[1]
    flat = state.cnt.reshape(-1, len(COUNTS))
    present = np.flatnonzero(flat[:, _ROWS] > 0)
    # one gather, then each count column contiguous (int32, as counted; the roll-ups
    # cast to int64)
    counts = np.ascontiguousarray(flat[present].T)
    columns = {
        "meter_id": pa.array(meters["meter_id"].to_numpy()[present // n_days]),
        "day": pa.array(np.datetime64(first, "D") + (present % n_days)),
    }
    for i, column in enumerate(COUNTS):
        columns[column] = pa.array(counts[i])
    columns["quantity"] = pa.array(state.qty.reshape(-1)[present],
                                   mask=state.qn.reshape(-1)[present] == 0)
    columns["filled_quantity"] = pa.array(state.filled.reshape(-1)[present])
    return pa.table(columns)
