"""Reconciliation of metered monthly energy with the enterprise's statistical report.

The online monitoring system and the monthly energy statistics report (能源统计报表) of
the same enterprise should agree. For every enterprise, month and carrier the metered
quantity is compared with the reported one; a relative difference beyond the tolerance
(default ``daily_monthly_deviation_max_fraction``, 5 % in 发改环资〔2017〕1711号, which
sets it between daily and monthly data) or a carrier present on one side only is
flagged.
"""

from __future__ import annotations

import logging

import ibis
import ibis.expr.types as ir

from dualcontrol.monitoring.schema import rules

logger = logging.getLogger(__name__)

#: Values of the ``status`` column.
STATUSES: tuple[str, ...] = ("ok", "beyond_tolerance", "not_metered", "not_reported")
_KEYS = ["enterprise", "year", "month", "carrier"]


def _by_carrier(accounted: ir.Table) -> ir.Table:
    return accounted.group_by(_KEYS).aggregate(
        quantity=accounted.quantity_carrier_unit.sum(), tce=accounted.energy_tce.sum())


def reconcile(metered: ir.Table, reported: ir.Table, *,
              tolerance: float | None = None) -> ir.Table:
    """Return metered against reported energy per enterprise, month and carrier.

    Parameters
    ----------
    metered, reported : ibis Table
        Monthly rows of :func:`dualcontrol.accounting.account_rows` (``enterprise``,
        ``year``, ``month``, ``carrier``, ``quantity_carrier_unit``, ``energy_tce``).
    tolerance : float, optional
        Largest accepted ``|metered - reported| / reported`` [1].

    Returns
    -------
    ibis Table
        ``metered_quantity`` and ``reported_quantity`` [carrier unit],
        ``difference`` [carrier unit] = metered - reported, ``relative_difference`` [1],
        ``metered_tce``, ``reported_tce`` [tce] and ``status`` (:data:`STATUSES`).

    References
    ----------
    发改环资〔2017〕1711号 technical specification (deviation of daily from monthly
    data at most 5 %).
    """
    tol = rules().daily_monthly_deviation_max_fraction if tolerance is None else tolerance
    m = _by_carrier(metered).rename(metered_quantity="quantity", metered_tce="tce")
    r = _by_carrier(reported).rename(reported_quantity="quantity", reported_tce="tce")
    joined = m.outer_join(r, _KEYS)
    keys = {k: ibis.coalesce(joined[k], joined[f"{k}_right"]) for k in _KEYS}
    joined = joined.mutate(**keys).drop(*[f"{k}_right" for k in _KEYS])
    difference = joined.metered_quantity - joined.reported_quantity
    relative = ibis.ifelse(joined.reported_quantity != 0,
                           difference / joined.reported_quantity, ibis.null("float64"))
    status = ibis.cases(
        (joined.metered_quantity.isnull(), "not_metered"),
        (joined.reported_quantity.isnull(), "not_reported"),
        (relative.isnull() & (difference != 0), "beyond_tolerance"),
        (relative.abs() > tol, "beyond_tolerance"),
        else_="ok",
    )
    return joined.mutate(difference=difference, relative_difference=relative,
                         status=status).select(
        *_KEYS, "metered_quantity", "reported_quantity", "difference",
        "relative_difference", "metered_tce", "reported_tce", "status",
    ).order_by(_KEYS)
