"""Project pipeline: the states of a fixed-asset project and the CO2 it reserves.

A project passes ``reviewed -> approved -> under_construction -> in_operation``; it may
be ``rejected`` after review or ``withdrawn`` before it runs. Each state is entered on a
date (``reviewed_on``, ``approved_on``, ...).

Reservation rule (no double counting)
-------------------------------------
From its approval until it goes into operation a project *reserves* its annual CO2
[t CO2 / a] in the carbon budget of its league (and of the county, park and region
holding it): the budget shows it as ``reserved``. On the day it goes into operation
the reservation is released, because from then on its emissions are reported by its
enterprise and appear in the accounts (``actual``). A project therefore counts once:
reserved while approved or under construction, actual once it runs, nothing when
rejected or withdrawn. The reservation is the full annual CO2 in every budget year
from the year of approval (a conservative reading: the plant is taken to run at its
design output); a project running part of a year shows only its months in the
accounts. A project without a county (or park) reserves in its league and the region
only, so the counties' remaining budgets do not show it.

References
----------
国家发展改革委令第31号 固定资产投资项目节能审查和碳排放评价办法 (2025-07-25, in force
2025-09-01): review and carbon evaluation before approval. 国办发〔2024〕39号: carbon
budgets net of the projects approved.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date

import pandas as pd

from dualcontrol.errors import InputError, Problem

logger = logging.getLogger(__name__)

#: The states of a project, in pipeline order.
STATUSES: tuple[str, ...] = ("reviewed", "approved", "under_construction", "in_operation",
                             "rejected", "withdrawn")
#: The states each state may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reviewed": ("approved", "rejected", "withdrawn"),
    "approved": ("under_construction", "withdrawn"),
    "under_construction": ("in_operation", "withdrawn"),
    "in_operation": (),
    "rejected": (),
    "withdrawn": (),
}
#: Column holding the date each state was entered.
DATE_COLUMNS: dict[str, str] = {status: f"{status}_on" for status in STATUSES}
#: States in which a project reserves its CO2 in the budget (approved, not yet running).
RESERVING: tuple[str, ...] = ("approved", "under_construction")


def check_status(status: str, *, field: str = "status") -> str:
    """Return ``status`` if it is a pipeline state, else raise InputError naming them."""
    if status not in STATUSES:
        raise InputError(Problem("unknown project status", field=field, value=status,
                                 accepted=STATUSES))
    return status


def check_transition(current: str, new: str, *, project: str | None = None) -> None:
    """Raise InputError unless a project in ``current`` may move to ``new``.

    The error names the project, both states and the states ``current`` may move to
    (none from ``in_operation``, ``rejected`` or ``withdrawn``).
    """
    check_status(current, field="current status")
    check_status(new, field="new status")
    allowed = TRANSITIONS[current]
    if new not in allowed:
        where = f"project {project}: " if project else ""
        ends = "" if allowed else f" ({current} is final)"
        raise InputError(Problem(f"{where}cannot move from {current} to {new}{ends}",
                                 field="status", value=new, accepted=allowed))


def check_date_order(dates: Mapping[str, date | None], new: str, on: date, *,
                     project: str | None = None) -> None:
    """Raise InputError if ``on`` (the date of entering ``new``) precedes an earlier state's."""
    latest = max((d for d in dates.values() if d is not None), default=None)
    if latest is not None and on < latest:
        where = f"project {project}: " if project else ""
        raise InputError(Problem(f"{where}{new} on {on} is before the previous step "
                                 f"({latest})", field="on", value=str(on)))


def status_on(project: Mapping[str, object], day: date) -> str | None:
    """Return the state a project was in on ``day`` from its transition dates (None: not
    yet reviewed)."""
    state = None
    best: date | None = None
    for status, column in DATE_COLUMNS.items():
        when = project.get(column)
        if when is None or (isinstance(when, float) and pd.isna(when)) or when is pd.NaT:
            continue
        when = pd.Timestamp(when).date()
        if when <= day and (best is None or when >= best):
            state, best = status, when
    return state


def reservations(projects: pd.DataFrame, *, year: int, as_of: date) -> pd.Series:
    """Return the CO2 each project reserves in the budget of ``year`` [t CO2 / a].

    A project reserves its ``co2_t`` when, on ``as_of``, it is approved or under
    construction and it was approved in or before ``year``; else 0 (see the module's
    reservation rule).

    Parameters
    ----------
    projects : DataFrame
        One row per project with ``co2_t`` [t CO2 / a] and the ``*_on`` dates.
    year : int
        Budget year [a].
    as_of : date
        Day the pipeline is read on.
    """
    if projects.empty:
        return pd.Series(dtype=float)
    out = []
    for record in projects.to_dict("records"):
        state = status_on(record, as_of)
        approved = record.get("approved_on")
        reserves = (state in RESERVING and approved is not None and not pd.isna(approved)
                    and pd.Timestamp(approved).year <= year)
        out.append(float(record["co2_t"]) if reserves else 0.0)
    return pd.Series(out, index=projects.index, dtype=float)
