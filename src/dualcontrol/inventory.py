"""What the store holds, for those who put it there: submissions, revisions, the audit.

An energy manager asks "what did we send for July, and which version counts?"; an
analyst "which months has this league reported?"; an auditor "who changed what?".
Each function here reads the store and returns a DataFrame; none computes a figure of
its own: energy and CO2 come from :func:`dualcontrol.accounting.accounts` (through
:func:`dualcontrol.datasets.region_accounts` for a region), as everywhere else.

Report kinds and their tables are those of :data:`dualcontrol.store.schema.REPORT_TABLES`;
the revision that counts for an entity-period is the latest (highest id), as in
:func:`dualcontrol.datasets.latest_revisions_sql`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from dualcontrol import datasets
from dualcontrol.errors import InputError, Problem
from dualcontrol.store import Store, schema

#: Report kinds an enterprise submits (economic data belongs to a region).
ENTERPRISE_KINDS = ("energy", "output", "water")
#: Columns of each kind's data table that say what a row is (not revision bookkeeping).
_SKIP = {"id", "revision_id", "enterprise_uscc", "region_code", "period"}
#: Region levels of the hierarchy (``regions.level``).
REGION_LEVELS = ("region", "league", "county")
#: Longest list of candidates named when a name matches several.
MAX_CANDIDATES = 10


@dataclass(frozen=True)
class Enterprise:
    """An enterprise as registered in the store."""

    uscc: str
    name: str
    industry: str
    county_code: str
    league_code: str | None
    park_code: str | None


@dataclass(frozen=True)
class Region:
    """A division of the region's hierarchy (GB/T 2260 code)."""

    code: str
    name_zh: str
    name_en: str
    level: str


def _period_filter(period: str | None) -> str:
    """Return the period prefix asked for (``2024`` or ``2024-07``), checked."""
    if period is None:
        return ""
    text = str(period).strip()
    if not re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2]))?", text):
        raise InputError(Problem("period must be a year or a month", field="--period",
                                 value=period, accepted=["YYYY", "YYYY-MM"]))
    return text


def find_enterprise(store: Store, text: str) -> Enterprise:
    """Return the enterprise of a USCC, or the one whose name contains ``text``.

    Raises
    ------
    InputError
        No enterprise matches, or a name matches several (up to ten are named).
    """
    key = text.strip()
    sql = """
        SELECT n.uscc, n.name, n.industry, n.county_code, g.league_code, n.park_code
        FROM enterprises n LEFT JOIN regions g ON g.code = n.county_code"""
    found = datasets.read_frame(store, f"{sql} WHERE n.uscc = :key", {"key": key.upper()})
    if found.empty and key:
        found = datasets.read_frame(
            store, f"{sql} WHERE n.name LIKE :pattern ORDER BY n.uscc",
            {"pattern": f"%{key}%"})
    if len(found) == 1:
        row = found.iloc[0]
        return Enterprise(uscc=str(row["uscc"]), name=str(row["name"]),
                          industry=str(row["industry"]), county_code=str(row["county_code"]),
                          league_code=None if pd.isna(row["league_code"])
                          else str(row["league_code"]),
                          park_code=None if pd.isna(row["park_code"]) else str(row["park_code"]))
    if found.empty:
        raise InputError(Problem("no enterprise with this USCC or name in the store",
                                 field="ENTERPRISE", value=text))
    named = [f"{u} {n}" for u, n in found[["uscc", "name"]].head(MAX_CANDIDATES)
             .itertuples(index=False)]
    raise InputError(Problem(f"{len(found)} enterprises match; give the USCC",
                             field="ENTERPRISE", value=text, accepted=named))


def find_region(store: Store, text: str) -> Region:
    """Return the division of a code, Chinese or English name (exact, then contained)."""
    key = text.strip()
    frame = datasets.read_frame(store, "SELECT code, name_zh, name_en, level FROM regions")
    exact = frame[(frame["code"] == key) | (frame["name_zh"] == key)
                  | (frame["name_en"].str.lower() == key.lower())]
    if exact.empty and key:
        exact = frame[frame["name_zh"].str.contains(key, regex=False)
                      | frame["name_en"].str.lower().str.contains(key.lower(), regex=False)]
    if len(exact) == 1:
        row = exact.iloc[0]
        return Region(code=str(row["code"]), name_zh=str(row["name_zh"]),
                      name_en=str(row["name_en"]), level=str(row["level"]))
    if exact.empty:
        raise InputError(Problem("no region, league or county with this code or name",
                                 field="REGION", value=text,
                                 accepted=["a GB/T 2260 code (dualcontrol reference "
                                           "regions)", "a Chinese or English name"]))
    named = [f"{c} {n}" for c, n in exact[["code", "name_zh"]].head(MAX_CANDIDATES)
             .itertuples(index=False)]
    raise InputError(Problem(f"{len(exact)} divisions match; give the code",
                             field="REGION", value=text, accepted=named))


def _check_kind(kind: str, kinds: tuple[str, ...]) -> None:
    if kind not in kinds:
        raise InputError(Problem("unknown report kind", field="--kind", value=kind,
                                 accepted=list(kinds)))


def revisions(store: Store, entity: str, *, kind: str = "energy",
              period: str | None = None) -> pd.DataFrame:
    """Return every stored revision of an entity's reports, oldest first per period.

    Returns
    -------
    DataFrame
        ``period``, ``revision`` (1, 2, ... per period), ``current`` (True for the
        revision that counts: the latest), ``revision_id``, ``submission_id``,
        ``submitted_at`` (UTC), ``submitter``, ``file_name``, ``rows``.
    """
    _check_kind(kind, tuple(schema.REPORT_TABLES))
    prefix = _period_filter(period)
    table = schema.REPORT_TABLES[kind].name
    frame = datasets.read_frame(store, f"""
        SELECT r.period, r.id AS revision_id, r.submission_id, s.submitted_at, s.submitter,
               s.file_name, COUNT(d.revision_id) AS rows
        FROM report_revisions r
        JOIN submissions s ON s.id = r.submission_id
        LEFT JOIN {table} d ON d.revision_id = r.id
        WHERE r.kind = :kind AND r.entity = :entity
          AND SUBSTR(r.period, 1, :n) = :prefix
        GROUP BY r.period, r.id, r.submission_id, s.submitted_at, s.submitter, s.file_name
        ORDER BY r.period, r.id""",
        {"kind": kind, "entity": entity, "prefix": prefix, "n": len(prefix)})
    frame["rows"] = frame["rows"].astype("int64")
    frame.insert(1, "revision", frame.groupby("period").cumcount() + 1)
    last = frame.groupby("period")["revision"].transform("max")
    frame.insert(2, "current", frame["revision"] == last)
    return frame.reset_index(drop=True)


def stored_rows(store: Store, entity: str, *, kind: str = "energy",
                period: str | None = None, all_revisions: bool = False) -> pd.DataFrame:
    """Return the rows stored for an entity, those of the current revisions by default.

    Columns: ``period``, ``revision`` and ``current`` (as in :func:`revisions`), then
    the kind's own columns in the order of its table (for energy: ``carrier``,
    ``quantity`` [unit], ``unit``, ``use``, ``origin``, ``ncv_gj_per_t``), and the
    ``line`` of the submitted file they came from.
    """
    known = revisions(store, entity, kind=kind, period=period)
    table = schema.REPORT_TABLES[kind]
    columns = [c.name for c in table.columns if c.name not in _SKIP and c.name != "line"]
    key = "enterprise_uscc" if "enterprise_uscc" in table.c else "region_code"
    prefix = _period_filter(period)
    rows = datasets.read_frame(store, f"""
        SELECT d.revision_id, d.line, {", ".join(f"d.{c}" for c in columns)}
        FROM {table.name} d JOIN report_revisions r ON r.id = d.revision_id
        WHERE r.kind = :kind AND d.{key} = :entity AND SUBSTR(r.period, 1, :n) = :prefix
        ORDER BY d.revision_id, d.line""",
        {"kind": kind, "entity": entity, "prefix": prefix, "n": len(prefix)})
    merged = known[["period", "revision", "current", "revision_id"]].merge(
        rows, on="revision_id", how="inner")
    if not all_revisions:
        merged = merged[merged["current"]]
    return merged[["period", "revision", "current", *columns, "line"]].reset_index(drop=True)


def _month_label(frame: pd.DataFrame) -> pd.Series:
    """Return ``YYYY-MM`` of the ``year`` and ``month`` columns of monthly accounts."""
    return (frame["year"].astype(int).astype(str) + "-"
            + frame["month"].astype(int).astype(str).str.zfill(2))


def enterprise_months(store: Store, enterprise: Enterprise,
                      period: str | None = None) -> pd.DataFrame:
    """Return the energy and CO2 accounts of an enterprise's current revisions by month.

    The accounts are :func:`dualcontrol.accounting.accounts` of the stored rows (the
    same conversion as every other figure): ``month`` (YYYY-MM), ``energy_tce``,
    ``controlled_tce``, ``feedstock_tce``, ``renewable_tce``, ``supplied_tce``,
    ``co2_t``.
    """
    from dualcontrol.accounting import accounts

    rows = stored_rows(store, enterprise.uscc, kind="energy", period=period)
    out_columns = ["month", "energy_tce", "controlled_tce", "feedstock_tce",
                   "renewable_tce", "supplied_tce", "co2_t"]
    if rows.empty:
        return pd.DataFrame(columns=out_columns)
    energy = rows.assign(region="150000", league=enterprise.league_code or "",
                         county=enterprise.county_code,
                         park=enterprise.park_code or f"{enterprise.county_code}-none",
                         enterprise=enterprise.uscc)
    energy = energy.drop(columns=["revision", "current", "line"])
    datasets.apply_store_factor_years(store)  # the demo store's choice of factor years
    result = accounts(energy, level="enterprise", grain="month")
    result = result.assign(month=_month_label(result))
    return result[[c for c in out_columns if c in result.columns]].sort_values(
        "month").reset_index(drop=True)


def region_months(store: Store, region: Region, year: int) -> pd.DataFrame:
    """Return a region's months of ``year``: who reported, how often revised, energy, CO2.

    Returns
    -------
    DataFrame
        ``month``, ``enterprises_reporting`` (with a stored energy report that month),
        ``enterprises_registered`` (in the store, in the division), ``rows`` (of the
        current revisions), ``revised`` (enterprise-months with more than one
        revision), ``last_submitted_at`` (UTC), and ``energy_tce``, ``controlled_tce``,
        ``co2_t`` of :func:`dualcontrol.datasets.region_accounts` by month.
    """
    column = {"region": None, "league": "g.league_code", "county": "n.county_code"}[
        region.level]
    where = "" if column is None else f" AND {column} = :code"
    params = {"code": region.code, "prefix": f"{int(year):04d}-"}
    registered = datasets.read_frame(store, f"""
        SELECT COUNT(*) AS n FROM enterprises n JOIN regions g ON g.code = n.county_code
        WHERE 1 = 1{where}""", params)["n"].iloc[0]
    counts = datasets.read_frame(store, f"""
        SELECT r.period AS month, COUNT(DISTINCT r.entity) AS enterprises_reporting,
               SUM(CASE WHEN r.id = latest.id THEN d.rows ELSE 0 END) AS rows,
               MAX(s.submitted_at) AS last_submitted_at
        FROM report_revisions r
        JOIN submissions s ON s.id = r.submission_id
        JOIN enterprises n ON n.uscc = r.entity
        JOIN regions g ON g.code = n.county_code
        JOIN (SELECT entity, period, MAX(id) AS id FROM report_revisions
              WHERE kind = 'energy' AND SUBSTR(period, 1, 5) = :prefix
              GROUP BY entity, period) latest
          ON latest.entity = r.entity AND latest.period = r.period
        LEFT JOIN (SELECT revision_id, COUNT(*) AS rows FROM energy_reports
                   GROUP BY revision_id) d ON d.revision_id = r.id
        WHERE r.kind = 'energy' AND SUBSTR(r.period, 1, 5) = :prefix{where}
        GROUP BY r.period ORDER BY r.period""", params)
    revised = datasets.read_frame(store, f"""
        SELECT period AS month, COUNT(*) AS revised FROM (
            SELECT r.period, r.entity FROM report_revisions r
            JOIN enterprises n ON n.uscc = r.entity
            JOIN regions g ON g.code = n.county_code
            WHERE r.kind = 'energy' AND SUBSTR(r.period, 1, 5) = :prefix{where}
            GROUP BY r.period, r.entity HAVING COUNT(*) > 1) t
        GROUP BY period""", params)
    frame = counts.merge(revised, on="month", how="left")
    frame["revised"] = frame["revised"].fillna(0).astype("int64")
    frame.insert(2, "enterprises_registered", int(registered))
    accounts = datasets.region_accounts(store, level=region.level, grain="month",
                                        years=[int(year)])
    accounts = accounts[accounts["region_code"] == region.code]
    if len(accounts):
        accounts = accounts.assign(month=_month_label(accounts))
        frame = frame.merge(accounts[["month", "energy_tce", "controlled_tce", "co2_t"]],
                            on="month", how="left")
    frame["rows"] = frame["rows"].fillna(0).astype("int64")
    return frame.reset_index(drop=True)


def _revision_of(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text).get("revision_id")
    except (ValueError, AttributeError):
        return None


def _file_of(text: Any) -> Any:
    if not isinstance(text, str) or not text:
        return None
    try:
        return json.loads(text).get("file")
    except (ValueError, AttributeError):
        return None


def audit_trail(store: Store, *, user: str | None = None, key: str | None = None,
                since: str | None = None, limit: int = 50) -> pd.DataFrame:
    """Return the newest entries of the audit log: who changed what, when, from which file.

    Parameters
    ----------
    user : str, optional
        Only changes by this user name.
    key : str, optional
        Only entries whose key starts with this (a USCC, ``USCC 2024-07``, a user name).
    since : str, optional
        Only changes at or after this date (``YYYY-MM-DD``, UTC).
    limit : int
        Most entries returned (newest first).

    Returns
    -------
    DataFrame
        ``changed_at`` (UTC), ``user``, ``action``, ``table``, ``key``,
        ``revision_before``, ``revision_after``, ``file``, ``submission_id``.
    """
    if limit < 1:
        raise InputError(Problem("limit must be at least 1", field="--limit", value=limit))
    where, params = "1 = 1", {}
    if user:
        where += " AND username = :user"
        params["user"] = user
    if key:
        where += " AND SUBSTR(entity_key, 1, :n) = :key"
        params |= {"key": key, "n": len(key)}
    if since:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", since):
            raise InputError(Problem("date must be YYYY-MM-DD", field="--since",
                                     value=since, accepted=["YYYY-MM-DD"]))
        try:
            start = pd.Timestamp(since, tz="UTC")
        except ValueError:
            raise InputError(Problem("no such date", field="--since", value=since)) from None
        where += " AND changed_at >= :since"
        params["since"] = start.to_pydatetime()
    frame = store.read_sql(f"""
        SELECT changed_at, username AS "user", action, entity AS "table", entity_key AS "key",
               before_json, after_json, submission_id
        FROM audit_log WHERE {where} ORDER BY id DESC LIMIT {int(limit)}""", params)
    frame.insert(5, "revision_before",
                 frame["before_json"].map(_revision_of).astype("Int64"))
    frame.insert(6, "revision_after", frame["after_json"].map(_revision_of).astype("Int64"))
    frame.insert(7, "file", frame["after_json"].map(_file_of))
    frame["submission_id"] = frame["submission_id"].astype("Int64")
    return frame.drop(columns=["before_json", "after_json"]).reset_index(drop=True)


def contents(store: Store) -> pd.DataFrame:
    """Return what the store holds per report kind.

    Columns: ``kind``, ``submissions``, ``entities`` (enterprises or regions with a
    report), ``revisions``, ``first_period``, ``last_period``, ``last_submitted_at``
    (UTC).
    """
    frame = datasets.read_frame(store, """
        SELECT r.kind, COUNT(DISTINCT r.submission_id) AS submissions,
               COUNT(DISTINCT r.entity) AS entities, COUNT(*) AS revisions,
               MIN(r.period) AS first_period, MAX(r.period) AS last_period,
               MAX(s.submitted_at) AS last_submitted_at
        FROM report_revisions r JOIN submissions s ON s.id = r.submission_id
        GROUP BY r.kind ORDER BY r.kind""")
    order = {k: i for i, k in enumerate(schema.REPORT_TABLES)}
    return frame.sort_values("kind", key=lambda s: s.map(order)).reset_index(drop=True)


__all__ = ["ENTERPRISE_KINDS", "Enterprise", "Region", "audit_trail", "contents",
           "enterprise_months", "find_enterprise", "find_region", "region_months",
           "revisions", "stored_rows"]
