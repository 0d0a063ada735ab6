"""Audit log: a hash chain over its rows and the writer's operating-system account (issue 19)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 16:00:00

Adds ``os_user``, ``chain_seq``, ``prev_hash`` and ``row_hash`` to ``audit_log`` and
the one-row table ``audit_chain`` (the chain's head), then seals the rows already
there in id order (see ``dualcontrol/store/audit.py``), so an upgraded store's whole
history is covered. Self-contained: it touches only these two tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = (
    ("os_user", sa.String(length=64),
     "operating-system account of the process that wrote the row"),
    ("chain_seq", sa.BigInteger(), "position in the hash chain (1, 2, ...)"),
    ("prev_hash", sa.String(length=64), "row_hash of the row before in the chain"),
    ("row_hash", sa.String(length=64),
     "SHA-256 over prev_hash and this row's fields (store/audit.py)"),
)


def upgrade() -> None:
    from dualcontrol.store.audit import seal_pending

    bind = op.get_bind()
    have = {r[0] for r in bind.execute(sa.text(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'audit_log'"))}
    for name, type_, comment in COLUMNS:
        if name not in have:
            op.add_column("audit_log", sa.Column(name, type_, nullable=True, comment=comment))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False,
                  comment="always 1: the chain's head"),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    seal_pending(bind, who="migration 0007")
    if bind.dialect.name == "postgresql":
        # each write seals the rows without a hash: find them without scanning the log
        # (DuckDB has no partial indexes; its column scan of row_hash is fast anyway)
        op.execute("CREATE INDEX ix_audit_log_unsealed ON audit_log (id) "
                   "WHERE row_hash IS NULL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_audit_log_unsealed")
    op.drop_table("audit_chain")
    for name, _, _ in reversed(COLUMNS):
        op.drop_column("audit_log", name)
