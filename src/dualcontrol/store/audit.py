"""The audit log's hash chain: who changed what, and proof that no row was altered.

Every audit row is *sealed* in the transaction that writes it: it gets the next
position in the chain (``chain_seq``), the hash of the row before it
(``prev_hash``) and its own hash (``row_hash``): a SHA-256 over ``prev_hash``, its
position, the writer's account and a digest of all its fields, so each hash covers
every row before it. The chain's head (last
position and hash) is kept in ``audit_chain``. :func:`verify_chain` recomputes the
chain: a row changed, deleted or inserted directly in the store file or database
breaks it at that row, and rows cut from the end no longer meet the head.

A writer with the code can recompute a consistent chain after tampering; the head
hash that ``dualcontrol db check`` prints, noted outside the store (a bulletin, the
operations log), is what makes a rewritten history detectable too.

``os_user`` records the operating-system account of the process that wrote the row,
beside ``username`` (the web's authenticated user or the CLI's ``--user`` claim).
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

#: prev_hash of the first row of a chain.
GENESIS = "0" * 64

#: Fields of a row covered by its content digest, in this order.
CONTENT = ("id", "changed_at", "username", "action", "entity", "entity_key", "before_json",
           "after_json", "submission_id")


def os_user() -> str:
    """Return the operating-system account running this process ("unknown" if none)."""
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):
        return "unknown"


def _content_sql(dialect: str) -> str:
    """Return the SQL of each row's content digest: SHA-256 (hex) of its fields.

    Each field is written as ``<bytes>:<text>`` (``~`` for NULL; ``changed_at`` as
    microseconds since 1970-01-01 UTC) and the fields joined with ``|``, so the
    digest is the same on DuckDB and PostgreSQL and no two rows' fields run together.
    """
    if dialect == "duckdb":
        micros, size = "CAST(epoch_us(changed_at) AS VARCHAR)", "strlen"
        digest = "sha256({})"
    else:
        micros = "CAST(CAST(EXTRACT(EPOCH FROM changed_at) * 1000000 AS BIGINT) AS VARCHAR)"
        size, digest = "octet_length", "encode(sha256(convert_to({}, 'UTF8')), 'hex')"
    parts = []
    for name in CONTENT:
        value = micros if name == "changed_at" else f"CAST({name} AS VARCHAR)"
        parts.append(f"CASE WHEN {name} IS NULL THEN '~' ELSE "
                     f"CAST({size}({value}) AS VARCHAR) || ':' || {value} END")
    return digest.format(" || '|' || ".join(parts))


def chain_hash(prev_hash: str, seq: int, account: str | None, content: str) -> str:
    """Return a row's hash: SHA-256 (hex) of the previous row's hash, the row's position,
    the writer's operating-system account and the row's content digest."""
    text = f"{prev_hash}|{seq}|{'~' if account is None else account}|{content}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rows(conn: Connection, where: str, order: str) -> pd.DataFrame:
    """Return id, chain_seq, os_user, content digest, prev_hash, row_hash of audit rows."""
    sql = (f"SELECT id, chain_seq, os_user, {_content_sql(conn.dialect.name)} AS content, "
           f"prev_hash, row_hash FROM audit_log {where} ORDER BY {order}")
    if conn.dialect.name == "duckdb":
        return conn.connection.dbapi_connection.execute(sql).df()
    result = conn.execute(sa.text(sql))
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _values(series: pd.Series) -> list[Any]:
    return [None if v is None or (isinstance(v, float) and pd.isna(v)) else v
            for v in series.tolist()]


def _head(conn: Connection) -> tuple[int, str]:
    # taking the head row's lock first: on PostgreSQL a concurrent sealer waits here
    # until this transaction ends; on DuckDB the second writer fails with a conflict
    updated = conn.execute(sa.text(
        "UPDATE audit_chain SET last_seq = last_seq WHERE id = 1")).rowcount
    if not updated:
        conn.execute(sa.text("INSERT INTO audit_chain (id, last_seq, last_hash) "
                             "VALUES (1, 0, :g)"), {"g": GENESIS})
    seq, last = conn.execute(sa.text(
        "SELECT last_seq, last_hash FROM audit_chain WHERE id = 1")).one()
    return int(seq), str(last)


def seal_pending(conn: Connection, *, who: str | None = None) -> int:
    """Seal the audit rows of this transaction (those without a hash); return how many.

    Call it in the transaction that wrote the rows, after the last of them. The rows
    are chained in id order after the current head, and ``os_user`` is set to
    ``who`` (default: this process's operating-system account) where it is empty.
    """
    seq, last = _head(conn)
    rows = _rows(conn, "WHERE row_hash IS NULL", "id")
    if rows.empty:
        return 0
    account = (who or os_user())[:64]
    ids, prevs, hashes, accounts, seqs = [], [], [], [], []
    for row_id, given, content in zip(rows["id"].tolist(), _values(rows["os_user"]),
                                      rows["content"].tolist(), strict=True):
        seq += 1
        writer = given or account
        digest = chain_hash(last, seq, writer, content)
        ids.append(int(row_id))
        seqs.append(seq)
        prevs.append(last)
        hashes.append(digest)
        accounts.append(writer)
        last = digest
    updates = pd.DataFrame({"id": ids, "chain_seq": seqs, "prev_hash": prevs,
                            "row_hash": hashes, "os_user": accounts})
    _write_seals(conn, updates)
    conn.execute(sa.text("UPDATE audit_chain SET last_seq = :s, last_hash = :h, "
                         "sealed_at = :t WHERE id = 1"),
                 {"s": seq, "h": last, "t": dt.datetime.now(dt.UTC)})
    return len(updates)


def _write_seals(conn: Connection, frame: pd.DataFrame) -> None:
    assignments = ("chain_seq = s.chain_seq, prev_hash = s.prev_hash, row_hash = s.row_hash, "
                   "os_user = s.os_user")
    if conn.dialect.name == "duckdb":
        raw = conn.connection.dbapi_connection
        raw.register("_audit_seals", frame)
        try:
            raw.execute(f"UPDATE audit_log SET {assignments} FROM _audit_seals s "
                        "WHERE audit_log.id = s.id")
        finally:
            raw.unregister("_audit_seals")
        return
    conn.execute(sa.text("CREATE TEMPORARY TABLE _audit_seals (id BIGINT, chain_seq BIGINT, "
                         "prev_hash VARCHAR(64), row_hash VARCHAR(64), os_user VARCHAR(64))"))
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy("COPY _audit_seals (id, chain_seq, prev_hash, row_hash, os_user) "
                     "FROM STDIN") as copy:
        for row in frame.itertuples(index=False, name=None):
            copy.write_row(row)
    conn.execute(sa.text(f"UPDATE audit_log SET {assignments} FROM _audit_seals s "
                         "WHERE audit_log.id = s.id"))
    conn.execute(sa.text("DROP TABLE _audit_seals"))


@dataclass
class ChainCheck:
    """What :func:`verify_chain` found: rows checked, the head, and every break."""

    rows: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """True if every row is sealed, unchanged, in place, and the head matches."""
        return not self.problems


def verify_chain(conn: Connection, *, max_problems: int = 50) -> ChainCheck:
    """Recompute the audit chain and return where it breaks (nothing found = intact).

    Breaks reported: a row whose fields no longer give its hash (changed), a row whose
    ``prev_hash`` is not the hash of the row before it or a gap in the positions
    (a row deleted or inserted), a row without a seal (written outside dualcontrol),
    and a head that the last row does not meet (rows cut from the end).
    """
    check = ChainCheck()
    head = conn.execute(sa.text(
        "SELECT last_seq, last_hash FROM audit_chain WHERE id = 1")).first()
    if head is not None:
        check.head_seq, check.head_hash = int(head[0]), str(head[1])
    rows = _rows(conn, "", "chain_seq NULLS LAST, id")
    expected_seq, last = 0, GENESIS

    def report(text: str) -> None:
        if len(check.problems) < max_problems:
            check.problems.append(text)
        elif len(check.problems) == max_problems:
            check.problems.append("... more problems not listed")

    for row_id, seq_value, account, content, prev, stored in zip(
            rows["id"].tolist(), _values(rows["chain_seq"]), _values(rows["os_user"]),
            rows["content"].tolist(), _values(rows["prev_hash"]), _values(rows["row_hash"]),
            strict=True):
        check.rows += 1
        if stored is None or seq_value is None:
            report(f"audit row {row_id} has no seal: written outside dualcontrol, or by a "
                   "command that did not seal it")
            continue
        seq = int(seq_value)
        if seq != expected_seq + 1:
            report(f"positions {expected_seq + 1}..{seq - 1} of the chain are missing "
                   f"(rows deleted) before audit row {row_id}")
        elif prev != last:
            report(f"audit row {row_id} (position {seq}) does not follow the row before "
                   "it: a row was deleted or inserted there")
        if chain_hash(str(prev), seq, account, content) != stored:
            report(f"audit row {row_id} (position {seq}) was changed after it was written")
        expected_seq, last = seq, str(stored)
    if (expected_seq, last) != (check.head_seq, check.head_hash):
        report(f"the chain ends at position {expected_seq} but its head says "
               f"{check.head_seq}: rows were removed from the end (or the head altered)")
    return check


__all__ = ["CONTENT", "GENESIS", "ChainCheck", "chain_hash", "os_user", "seal_pending",
           "verify_chain"]
