"""The measures registry in the store: revisions, never overwrites, each change audited.

A measure is the rows of ``measure_revisions`` with its ``measure_id``; the highest
``revision`` counts and the earlier ones stay readable. Saving a registry adds a
revision only for a measure that is new or whose content changed, and writes one
``audit_log`` row per revision with the user, the time (UTC) and the state before
and after, all in one transaction: a file that fails leaves the store untouched.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from dualcontrol.store import Store
from dualcontrol.store.audit import seal_pending

logger = logging.getLogger(__name__)

#: Columns of a revision that carry the measure (the rest say who changed it and when).
CONTENT: tuple[str, ...] = (
    "level", "parent_id", "title", "owner_kind", "owner", "region_code", "enterprise_code",
    "indicators", "action", "unit_id", "product", "deadline", "effect_tce", "effect_co2_t",
    "effect_water_m3", "effect_basis", "status", "completed_on", "evidence", "probability",
    "delay_years", "wedge_group", "source",
)
_TEXT_OPTIONAL = ("parent_id", "region_code", "enterprise_code", "unit_id", "product",
                  "effect_basis", "evidence", "wedge_group")

_LATEST = """
    SELECT r.* FROM measure_revisions r
    JOIN (SELECT measure_id, MAX(revision) AS revision FROM measure_revisions
          GROUP BY measure_id) m
      ON m.measure_id = r.measure_id AND m.revision = r.revision
"""


@dataclass(frozen=True)
class SaveResult:
    """What saving a registry did: measures created, revised and left unchanged."""

    created: int
    revised: int
    unchanged: int


def _plain(value: Any) -> Any:
    """Return a JSON- and SQL-ready value (dates as ISO text, blanks as None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def _content(rec: dict[str, Any]) -> dict[str, Any]:
    """Return a measure's content as compared and audited (blanks as None)."""
    out = {c: _plain(rec.get(c)) for c in CONTENT}
    for c in _TEXT_OPTIONAL:
        out[c] = out[c] or None
    out["delay_years"] = int(out["delay_years"] or 0)
    for c in ("effect_tce", "effect_co2_t", "effect_water_m3", "probability"):
        out[c] = float(out[c]) if out[c] is not None else 0.0
    return out


def _latest(conn: sa.Connection, ids: list[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = conn.execute(sa.text(_LATEST + " WHERE r.measure_id IN :ids")
                        .bindparams(sa.bindparam("ids", expanding=True)), {"ids": ids})
    return {r["measure_id"]: dict(r) for r in rows.mappings()}


def known_ids(store: Store) -> set[str]:
    """Return the ids of every measure in the store."""
    with store.connect() as conn:
        return {r[0] for r in conn.execute(sa.text(
            "SELECT DISTINCT measure_id FROM measure_revisions"))}


def save_measures(store: Store, measures: pd.DataFrame, *, user: str,
                  file_name: str | None = None, now: dt.datetime | None = None,
                  ) -> SaveResult:
    """Store checked registry rows as new revisions where they changed, audited.

    Parameters
    ----------
    store : Store
        The open store.
    measures : pandas.DataFrame
        Rows of :func:`dualcontrol.measures.parse_measures` (or generated ones).
    user : str
        Who makes the change (named in every revision and audit row).
    file_name : str, optional
        The file the rows came from.
    now : datetime, optional
        Time of the change (UTC now by default).
    """
    now = now or dt.datetime.now(dt.UTC)
    created = revised = unchanged = 0
    with store.begin() as conn:
        before = _latest(conn, [str(k) for k in measures["measure_id"]])
        for rec in measures.to_dict("records"):
            key = str(rec["measure_id"])
            content = _content(rec)
            old = before.get(key)
            if old is not None and _content(old) == content:
                unchanged += 1
                continue
            number = 1 if old is None else int(old["revision"]) + 1
            conn.execute(sa.text(
                f"INSERT INTO measure_revisions (measure_id, revision, {', '.join(CONTENT)}, "
                "changed_by, changed_at, file_name) VALUES (:measure_id, :revision, "
                f"{', '.join(':' + c for c in CONTENT)}, :user, :now, :file)"),
                {**content, "deadline": rec.get("deadline") or None,
                 "completed_on": rec.get("completed_on") or None, "measure_id": key,
                 "revision": number, "user": user, "now": now, "file": file_name})
            conn.execute(sa.text(
                "INSERT INTO audit_log (changed_at, username, action, entity, entity_key, "
                "before_json, after_json, submission_id) VALUES (:now, :user, :action, "
                "'measure_revisions', :key, :before, :after, NULL)"),
                {"now": now, "user": user, "action": "create" if old is None else "revise",
                 "key": f"{key} r{number}",
                 "before": None if old is None else json.dumps(
                     {"revision": int(old["revision"]), **_content(old)}, ensure_ascii=False),
                 "after": json.dumps({"revision": number, "file": file_name, **content},
                                     ensure_ascii=False)})
            created += old is None
            revised += old is not None
        seal_pending(conn)  # the audit rows join the hash chain (store/audit.py)
    logger.info("measures: %d created, %d revised, %d unchanged", created, revised, unchanged)
    return SaveResult(created, revised, unchanged)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Return stored rows with the registry's types (dates, floats, text blanks)."""
    out = frame.copy()
    for c in ("deadline", "completed_on"):
        out[c] = pd.Series([None if v is None or pd.isna(v) else
                            (v.date() if isinstance(v, dt.datetime) else v)
                            for v in out[c]], index=out.index, dtype=object)
    for c in ("effect_tce", "effect_co2_t", "effect_water_m3", "probability",
              "delay_years"):
        out[c] = out[c].astype(float)
    for c in _TEXT_OPTIONAL:
        out[c] = out[c].fillna("").astype(str)
    return out


def load_measures(store: Store) -> pd.DataFrame:
    """Return the latest revision of every measure, with ``revision``, ``changed_by``
    and ``changed_at``, ordered by id."""
    from dualcontrol.measures import COLUMNS

    columns = [*COLUMNS, "revision", "changed_by", "changed_at"]
    frame = store.read_sql(_LATEST + " ORDER BY r.measure_id")
    if frame.empty:
        return pd.DataFrame(columns=columns)
    return _typed(frame)[columns].reset_index(drop=True)


def measure_history(store: Store, measure_id: str) -> pd.DataFrame:
    """Return every revision of one measure, oldest first."""
    frame = store.read_sql("SELECT * FROM measure_revisions WHERE measure_id = :key "
                           "ORDER BY revision", {"key": measure_id})
    return _typed(frame.drop(columns=["id"])) if len(frame) else frame


__all__ = ["CONTENT", "SaveResult", "known_ids", "load_measures", "measure_history",
           "save_measures"]
