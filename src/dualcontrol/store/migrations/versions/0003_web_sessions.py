"""Web sessions kept in the store, so that logout and revocation end them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column(
            "digest",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the random session id (the id itself is only in the cookie)",
        ),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column(
            "csrf",
            sa.String(length=64),
            nullable=False,
            comment="CSRF token of the session's forms",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("client", sa.String(length=64), nullable=True, comment="client address at login"),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_index("ix_web_sessions_username", "web_sessions", ["username"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_username", table_name="web_sessions")
    op.drop_table("web_sessions")
