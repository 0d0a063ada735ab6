"""What a new revision changes: the energy of each enterprise-month before and after.

A correction that replaces an enterprise-month with much less energy than stored is
more often a slip (a carrier left out, 万吨 typed as 吨) than a real fall; the web's
upload page asks the uploader to confirm it. The threshold is a data row
(``data/revision_rules.csv``); the energy is the accounting core's ``energy_tce``
(:func:`dualcontrol.accounting.accounts`, calorific method), the one figure every
interface shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dualcontrol.accounting import accounts
from dualcontrol.errors import InputError, Problem, ReferenceDataError
from dualcontrol.reference import load_table


@dataclass(frozen=True)
class DropRule:
    """Below this fraction of the stored energy a replacement must be confirmed."""

    fraction: float
    source: str


def drop_rule() -> DropRule:
    """Return the confirmation threshold of ``data/revision_rules.csv``."""
    table = load_table("revision-rules").set_index("rule")
    try:
        row = table.loc["confirm_energy_drop_fraction"]
    except KeyError:
        raise ReferenceDataError("revision_rules.csv has no confirm_energy_drop_fraction row"
                                 ) from None
    return DropRule(float(row["value"]), f"{row['source']} ({row['edition']})")


_ROWS = """
    SELECT e.revision_id, e.period, e.carrier, e.quantity, e.unit, e.use, e.origin,
           e.ncv_gj_per_t
    FROM energy_reports e WHERE e.revision_id IN ({ids})"""


def _energy_tce(conn: Connection, revisions: pd.DataFrame, column: str) -> pd.Series:
    """Return the energy [tce] of each revision id in ``revisions[column]``."""
    ids = sorted({int(i) for i in revisions[column].dropna()})
    if not ids:
        return pd.Series(dtype=float)
    result = conn.execute(sa.text(_ROWS.format(ids=", ".join(map(str, ids)))))
    rows = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    frame = pd.DataFrame({
        "enterprise": rows["revision_id"].astype(str), "period": rows["period"],
        "carrier": rows["carrier"], "quantity": rows["quantity"], "unit": rows["unit"],
        "use": rows["use"], "origin": rows["origin"], "ncv_gj_per_t": rows["ncv_gj_per_t"]})
    table = accounts(frame, level="enterprise", grain="year")
    return table.set_index("enterprise")["energy_tce"].rename(index=int)


def energy_changes(conn: Connection, submission_id: int) -> pd.DataFrame:
    """Return the energy of each enterprise-month a submission revised, before and after.

    Runs inside the import's transaction, before it commits.

    Returns
    -------
    DataFrame
        ``enterprise``, ``period``, ``stored_tce`` (the revision replaced; NaN for a
        new enterprise-month), ``new_tce`` [tce] and ``fraction`` (new / stored).
    """
    result = conn.execute(sa.text("""
        SELECT r.entity AS enterprise, r.period, r.id AS new_id,
               (SELECT MAX(p.id) FROM report_revisions p WHERE p.kind = 'energy'
                  AND p.entity = r.entity AND p.period = r.period AND p.id < r.id) AS prev_id
        FROM report_revisions r WHERE r.submission_id = :sid AND r.kind = 'energy'
        ORDER BY r.entity, r.period"""), {"sid": submission_id})
    revisions = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    if revisions.empty:
        return revisions.assign(stored_tce=[], new_tce=[], fraction=[])
    new = _energy_tce(conn, revisions, "new_id")
    old = _energy_tce(conn, revisions, "prev_id")
    out = revisions[["enterprise", "period"]].copy()
    out["stored_tce"] = revisions["prev_id"].map(lambda i: old.get(int(i)) if pd.notna(i)
                                                 else float("nan")).astype(float)
    out["new_tce"] = revisions["new_id"].map(lambda i: new.get(int(i), 0.0)).astype(float)
    out["fraction"] = out["new_tce"] / out["stored_tce"]
    return out


def large_drops(changes: pd.DataFrame, rule: DropRule | None = None) -> pd.DataFrame:
    """Return the enterprise-months whose new energy is below ``rule.fraction`` of stored."""
    rule = rule or drop_rule()
    stored = changes["stored_tce"]
    return changes[(stored > 0) & (changes["new_tce"] < rule.fraction * stored)]


class LargeDropError(InputError):
    """An upload would replace enterprise-months with much less energy: confirm first.

    ``content_sha256`` identifies the file, so a confirmation applies to it only.
    """

    def __init__(self, drops: pd.DataFrame, rule: DropRule, content_sha256: str,
                 file: str | None = None) -> None:
        self.drops = drops
        self.rule = rule
        self.content_sha256 = content_sha256
        super().__init__([Problem(
            f"would replace {r.stored_tce:,.2f} tce stored for {r.enterprise} {r.period} "
            f"with {r.new_tce:,.2f} tce ({r.fraction:.0%} of it, below the "
            f"{rule.fraction:.0%} that needs a confirmation): check the file, then "
            "confirm", file=file, field="energy_tce", value=f"{r.enterprise} {r.period}",
            accepted=["confirm the replacement", "upload a corrected file"])
            for r in drops.itertuples()])


def refuse_large_drops(conn: Connection, submission_id: int, *, content_sha256: str,
                       confirmed_sha256: str | None, file: str | None = None) -> None:
    """Raise :class:`LargeDropError` if the submission drops energy beyond the rule.

    Nothing is raised when ``confirmed_sha256`` is the file's own hash (the uploader
    saw these drops for this very file and confirmed them).
    """
    if confirmed_sha256 and confirmed_sha256 == content_sha256:
        return
    rule = drop_rule()
    drops = large_drops(energy_changes(conn, submission_id), rule)
    if len(drops):
        raise LargeDropError(drops.reset_index(drop=True), rule, content_sha256, file)


__all__ = ["DropRule", "LargeDropError", "drop_rule", "energy_changes", "large_drops",
           "refuse_large_drops"]
