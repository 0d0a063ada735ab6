"""Web authentication: user scope and state, hashed API tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('scope_level', sa.String(length=16), nullable=True,
                                     comment='region|league|county|park|enterprise'))
    op.add_column('users', sa.Column('scope_key', sa.String(length=64), nullable=True,
                                     comment='code of the node the user is scoped to'))
    op.add_column('users', sa.Column('active', sa.Boolean(), nullable=True,
                                     server_default=sa.true()))
    op.create_table('api_tokens',
    sa.Column('digest', sa.String(length=64), nullable=False, comment='SHA-256 of the token'),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('digest')
    )


def downgrade() -> None:
    op.drop_table('api_tokens')
    op.drop_column('users', 'active')
    op.drop_column('users', 'scope_key')
    op.drop_column('users', 'scope_level')
