"""The project pipeline in the store: add projects, move them between states, read them.

Every change is one transaction that also writes the audit log (user, UTC time, state
before and after). The states and the moves allowed are those of
:mod:`dualcontrol.pipeline`; an illegal move is refused with an
:class:`~dualcontrol.errors.InputError` and nothing is written.
"""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dualcontrol.errors import InputError, Problem
from dualcontrol.pipeline import DATE_COLUMNS, STATUSES, check_date_order, check_transition
from dualcontrol.store import Store, schema
from dualcontrol.store.audit import seal_pending

logger = logging.getLogger(__name__)

_P = schema.projects
#: Fields a new project needs.
REQUIRED: tuple[str, ...] = ("code", "name", "league_code", "energy_tce", "co2_t")


def _audit(conn: sa.Connection, *, username: str, action: str, code: str,
           before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    conn.execute(schema.audit_log.insert().values(
        changed_at=datetime.now(UTC), username=username, action=action, entity="projects",
        entity_key=code,
        before_json=None if before is None else json.dumps(before, default=str,
                                                           ensure_ascii=False),
        after_json=None if after is None else json.dumps(after, default=str,
                                                         ensure_ascii=False)))
    seal_pending(conn)  # the audit row joins the hash chain (store/audit.py)


def _check_new(fields: dict[str, Any]) -> list[Problem]:
    problems = [Problem("field is missing", field=k, accepted=list(REQUIRED))
                for k in REQUIRED if fields.get(k) in (None, "")]
    for key, column in _P.c.items():
        longest = getattr(column.type, "length", None)
        value = fields.get(key)
        if longest and isinstance(value, str) and len(value) > longest:
            problems.append(Problem(f"longer than {longest} characters", field=key,
                                    value=value[:40]))
    for key in ("energy_tce", "co2_t"):
        value = fields.get(key)
        if value in (None, ""):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not math.isfinite(number) or number < 0:
            problems.append(Problem("must be a number >= 0", field=key, value=value))
    return problems


def add_project(store: Store, *, code: str, name: str, league_code: str, energy_tce: float,
                co2_t: float, reviewed_on: date, username: str, county_code: str | None = None,
                park_code: str | None = None, industry: str | None = None,
                product: str | None = None, source: str | None = None,
                note: str | None = None) -> dict[str, Any]:
    """Store a reviewed project and return its row; audited as ``project_added``.

    Raises
    ------
    InputError
        For a missing or negative figure, an unknown league, county or park, or a code
        already used.
    """
    fields = {"code": code, "name": name, "league_code": league_code,
              "energy_tce": energy_tce, "co2_t": co2_t, "county_code": county_code,
              "park_code": park_code, "industry": industry, "product": product}
    problems = _check_new(fields)
    with store.begin() as conn:
        regions = {r.code: r for r in conn.execute(sa.select(
            schema.regions.c.code, schema.regions.c.level, schema.regions.c.parent_code))}
        league = regions.get(str(league_code))
        if league is None or league.level != "league":
            problems.append(Problem("unknown league", field="league_code", value=league_code,
                                    accepted=sorted(c for c, r in regions.items()
                                                    if r.level == "league")))
        if county_code and (county_code not in regions
                            or regions[county_code].parent_code != str(league_code)):
            problems.append(Problem("county is not in the league", field="county_code",
                                    value=county_code))
        if park_code:
            park = conn.execute(sa.select(schema.parks.c.county_code).where(
                schema.parks.c.code == park_code)).first()
            if park is None or (county_code and park.county_code != county_code):
                problems.append(Problem("unknown park, or not in the county",
                                        field="park_code", value=park_code))
        taken = conn.execute(sa.select(_P.c.id).where(_P.c.code == code)).first()
        if taken is not None:
            problems.append(Problem("project code already used", field="code", value=code))
        if problems:
            raise InputError(problems)
        now = datetime.now(UTC)
        row = {"code": code, "name": name, "league_code": str(league_code),
               "county_code": county_code or None, "park_code": park_code or None,
               "industry": industry, "product": product, "energy_tce": float(energy_tce),
               "co2_t": float(co2_t), "status": "reviewed", "reviewed_on": reviewed_on,
               "created_at": now, "created_by": username, "updated_at": now,
               "source": source, "note": note}
        conn.execute(_P.insert().values(**row))
        _audit(conn, username=username, action="project_added", code=code, before=None,
               after={k: row[k] for k in ("status", "reviewed_on", "league_code",
                                          "energy_tce", "co2_t")})
    logger.info("project %s added by %s", code, username)
    return get_project(store, code)


def get_project(store: Store, code: str) -> dict[str, Any]:
    """Return the stored project ``code``; InputError naming the codes held if unknown."""
    with store.connect() as conn:
        row = conn.execute(sa.select(_P).where(_P.c.code == code)).mappings().first()
        if row is None:
            held = [r[0] for r in conn.execute(sa.select(_P.c.code).order_by(_P.c.code))]
            raise InputError(Problem("unknown project", field="code", value=code,
                                     accepted=held))
        return dict(row)


def transition(store: Store, *, code: str, status: str, on: date, username: str,
               note: str | None = None) -> dict[str, Any]:
    """Move project ``code`` to ``status`` on day ``on``; audited as ``project_<status>``.

    Raises
    ------
    InputError
        For an unknown project, a move :data:`dualcontrol.pipeline.TRANSITIONS` does not
        allow (e.g. ``reviewed -> in_operation``, anything from ``in_operation``), or a
        day before the previous step's. Nothing is written then.
    """
    with store.begin() as conn:
        row = conn.execute(sa.select(_P).where(_P.c.code == code)).mappings().first()
        if row is None:
            raise InputError(Problem("unknown project", field="code", value=code))
        check_transition(row["status"], status, project=code)
        check_date_order({c: row[c] for c in DATE_COLUMNS.values()}, status, on, project=code)
        values: dict[str, Any] = {"status": status, DATE_COLUMNS[status]: on,
                                  "updated_at": datetime.now(UTC)}
        if note:
            values["note"] = note if not row["note"] else f"{row['note']}; {note}"
        # the state read must still be the state written over (a concurrent move loses)
        done = conn.execute(_P.update().where(_P.c.code == code,
                                              _P.c.status == row["status"]).values(**values))
        if done.rowcount != 1:
            raise InputError(Problem(f"project {code} changed state meanwhile: read it again",
                                     field="status", value=status))
        _audit(conn, username=username, action=f"project_{status}", code=code,
               before={"status": row["status"]},
               after={"status": status, DATE_COLUMNS[status]: on, "note": note})
    logger.info("project %s -> %s on %s by %s", code, status, on, username)
    return get_project(store, code)


def list_projects(store: Store, *, status: str | None = None,
                  league_code: str | None = None) -> pd.DataFrame:
    """Return the stored projects (optionally of one state or league), oldest first.

    Columns as the ``projects`` table; the ``*_on`` dates as ``datetime.date``.
    """
    query = sa.select(_P).order_by(_P.c.id)
    if status is not None:
        if status not in STATUSES:
            raise InputError(Problem("unknown project status", field="--status",
                                     value=status, accepted=STATUSES))
        query = query.where(_P.c.status == status)
    if league_code is not None:
        query = query.where(_P.c.league_code == str(league_code))
    with store.connect() as conn:
        result = conn.execute(query)
        frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for column in DATE_COLUMNS.values():
        frame[column] = [None if v is None or pd.isna(v) else pd.Timestamp(v).date()
                         for v in frame[column]] if len(frame) else frame[column]
    return frame
