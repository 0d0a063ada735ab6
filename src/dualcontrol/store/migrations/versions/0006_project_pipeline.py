"""Project pipeline: fixed-asset projects and the day they entered each state (issue 17)

Revision ID: 0006
Revises: 0005_measures
Create Date: 2026-12-02 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005_measures"
branch_labels = None
depends_on = None

STATES = ("reviewed", "approved", "under_construction", "in_operation", "rejected",
          "withdrawn")


def upgrade() -> None:
    # DuckDB has no SERIAL: the key comes from an explicit sequence
    op.execute(sa.schema.CreateSequence(sa.Sequence("projects_id_seq")))
    op.create_table(
        "projects",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("nextval('projects_id_seq')"),
                  nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False, comment="project code"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("league_code", sa.String(length=6), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=True),
        sa.Column("park_code", sa.String(length=16), nullable=True),
        sa.Column("industry", sa.String(length=64), nullable=True),
        sa.Column("product", sa.String(length=64), nullable=True),
        sa.Column("energy_tce", sa.Double(), nullable=False, comment="design energy [tce/a]"),
        sa.Column("co2_t", sa.Double(), nullable=False,
                  comment="design CO2, energy and process [t/a]"),
        sa.Column("status", sa.String(length=24), nullable=False,
                  comment="reviewed|approved|under_construction|in_operation|rejected|withdrawn"),
        *(sa.Column(f"{s}_on", sa.Date(), nullable=True, comment=f"day the project became {s}")
          for s in STATES),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.Text(), nullable=True,
                  comment="where the figures come from (review, file)"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )


def downgrade() -> None:
    op.drop_table("projects")
    op.execute(sa.schema.DropSequence(sa.Sequence("projects_id_seq")))
