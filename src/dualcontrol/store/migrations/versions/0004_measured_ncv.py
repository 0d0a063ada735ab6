"""Energy reports: the measured net calorific value of a row (issue 15)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

COMMENT = "measured net calorific value [GJ/t]; NULL = the carrier default"


def upgrade() -> None:
    bind = op.get_bind()
    for table in ("energy_reports", "staging_energy_reports"):
        present = bind.execute(sa.text(
            "SELECT COUNT(*) FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = :t "
            "AND column_name = 'ncv_gj_per_t'"), {"t": table}).scalar()
        if present:
            continue  # a store made from the current schema already has it
        op.add_column(table, sa.Column("ncv_gj_per_t", sa.Double(), nullable=True,
                                       comment=COMMENT))


def downgrade() -> None:
    for table in ("energy_reports", "staging_energy_reports"):
        op.drop_column(table, "ncv_gj_per_t")
