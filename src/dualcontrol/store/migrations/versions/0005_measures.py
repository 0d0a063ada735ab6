"""The "1+N+X" measures registry, kept as revisions (issue 22)

Revision ID: 0005_measures
Revises: 0004
Create Date: 2026-12-02 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_measures"
down_revision = "0004"
branch_labels = None
depends_on = None

SEQUENCE = "measure_revisions_id_seq"


def upgrade() -> None:
    # DuckDB has no SERIAL: the surrogate key comes from an explicit sequence
    op.execute(sa.schema.CreateSequence(sa.Sequence(SEQUENCE)))
    op.create_table(
        "measure_revisions",
        sa.Column("id", sa.BigInteger(), server_default=sa.text(f"nextval('{SEQUENCE}')"),
                  nullable=False),
        sa.Column("measure_id", sa.String(length=64), nullable=False,
                  comment="key of the measure, kept across revisions"),
        sa.Column("revision", sa.Integer(), nullable=False, comment="1, 2, ... per measure"),
        sa.Column("level", sa.String(length=16), nullable=False,
                  comment="document|sector_plan|measure"),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False,
                  comment="league|department|enterprise"),
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("enterprise_code", sa.String(length=18), nullable=True),
        sa.Column("indicators", sa.Text(), nullable=False, comment="|-separated"),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=True),
        sa.Column("product", sa.String(length=64), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("effect_tce", sa.Double(), nullable=False, comment="[tce/a]"),
        sa.Column("effect_co2_t", sa.Double(), nullable=False, comment="[t CO2/a]"),
        sa.Column("effect_water_m3", sa.Double(), nullable=False, comment="[m3/a]"),
        sa.Column("effect_basis", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("probability", sa.Double(), nullable=False, comment="of delivery [-]"),
        sa.Column("delay_years", sa.Integer(), nullable=False, comment="longest delay [a]"),
        sa.Column("wedge_group", sa.String(length=64), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=True, comment="the file it came from"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("measure_id", "revision", name="uq_measure_revision"),
    )


def downgrade() -> None:
    op.drop_table("measure_revisions")
    op.execute(sa.schema.DropSequence(sa.Sequence(SEQUENCE)))
