# ruff: noqa: E501  (generated column definitions)
"""Initial schema: regions, enterprises, revisioned reports, registry, users, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-24 11:26:56.452839
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

SEQUENCES = ("production_units", "submissions", "report_revisions", "plan_targets",
             "green_registry", "users", "audit_log")


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # DuckDB has no SERIAL: surrogate keys come from explicit sequences
    for name in SEQUENCES:
        op.execute(sa.schema.CreateSequence(sa.Sequence(f"{name}_id_seq")))
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), server_default=sa.text("nextval('audit_log_id_seq')"), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False, comment='table or kind'),
    sa.Column('entity_key', sa.Text(), nullable=False),
    sa.Column('before_json', sa.Text(), nullable=True, comment='state before, JSON'),
    sa.Column('after_json', sa.Text(), nullable=True, comment='state after, JSON'),
    sa.Column('submission_id', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('economic_data',
    sa.Column('revision_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False, comment='YYYY'),
    sa.Column('sector', sa.String(length=64), nullable=False, comment="'total' or an industry"),
    sa.Column('gdp_current_10k_yuan', sa.Double(), nullable=True, comment='GDP or value added, current prices'),
    sa.Column('gdp_index_prev_year_100', sa.Double(), nullable=True, comment='volume index, previous year = 100'),
    sa.Column('industrial_va_current_10k_yuan', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('revision_id', 'line')
    )
    op.create_table('energy_reports',
    sa.Column('revision_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False, comment='row in the submitted file'),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False, comment='YYYY-MM'),
    sa.Column('carrier', sa.String(length=32), nullable=False, comment='carrier code'),
    sa.Column('quantity', sa.Double(), nullable=False, comment='in `unit`'),
    sa.Column('unit', sa.String(length=16), nullable=False, comment='canonical unit code'),
    sa.Column('use', sa.String(length=24), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('revision_id', 'line')
    )
    op.create_table('enterprises',
    sa.Column('uscc', sa.String(length=18), nullable=False, comment='unified social credit code, GB 32100-2015'),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('park_code', sa.String(length=16), nullable=True),
    sa.Column('industry', sa.String(length=64), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('uscc')
    )
    op.create_table('green_registry',
    sa.Column('id', sa.BigInteger(), server_default=sa.text("nextval('green_registry_id_seq')"), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False, comment='factory|product|supply_chain|park|standard'),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=True),
    sa.Column('region_code', sa.String(length=6), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True, comment='national|regional'),
    sa.Column('batch_year', sa.Integer(), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('parks',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=128), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=True, comment='e.g. coal chemical, metallurgy'),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('plan_targets',
    sa.Column('id', sa.BigInteger(), server_default=sa.text("nextval('plan_targets_id_seq')"), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('plan', sa.String(length=16), nullable=False),
    sa.Column('indicator', sa.String(length=64), nullable=False),
    sa.Column('base_year', sa.Integer(), nullable=True),
    sa.Column('target_year', sa.Integer(), nullable=True),
    sa.Column('value', sa.Double(), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('edition', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('production_output',
    sa.Column('revision_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('output', sa.Double(), nullable=False),
    sa.Column('output_unit', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('revision_id', 'line')
    )
    op.create_table('production_units',
    sa.Column('id', sa.BigInteger(), server_default=sa.text("nextval('production_units_id_seq')"), nullable=False),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('industry', sa.String(length=64), nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('capacity', sa.Double(), nullable=False),
    sa.Column('capacity_unit', sa.String(length=32), nullable=False, comment='e.g. t/a, MW'),
    sa.Column('start_year', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('enterprise_uscc', 'unit_code', name='uq_production_unit')
    )
    op.create_table('regions',
    sa.Column('code', sa.String(length=6), nullable=False, comment='GB/T 2260 code'),
    sa.Column('name_zh', sa.String(length=64), nullable=False),
    sa.Column('name_en', sa.String(length=128), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False, comment='region|league|county'),
    sa.Column('parent_code', sa.String(length=6), nullable=True),
    sa.Column('league_code', sa.String(length=6), nullable=True),
    sa.Column('power_grid', sa.String(length=32), nullable=True),
    sa.Column('source', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('report_revisions',
    sa.Column('id', sa.BigInteger(), server_default=sa.text("nextval('report_revisions_id_seq')"), nullable=False),
    sa.Column('submission_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('entity', sa.String(length=18), nullable=False, comment='USCC or region code'),
    sa.Column('period', sa.String(length=7), nullable=False, comment='YYYY-MM or YYYY'),
    sa.Column('content_md5', sa.String(length=32), nullable=False, comment="md5 of the entity-period's sorted rows (change detection)"),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_report_revisions_key', 'report_revisions', ['kind', 'entity', 'period'], unique=False)
    op.create_index('ix_report_revisions_submission', 'report_revisions', ['submission_id'], unique=False)
    op.create_table('staging_economic_data',
    sa.Column('import_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('sector', sa.String(length=64), nullable=False),
    sa.Column('gdp_current_10k_yuan', sa.Double(), nullable=True),
    sa.Column('gdp_index_prev_year_100', sa.Double(), nullable=True),
    sa.Column('industrial_va_current_10k_yuan', sa.Double(), nullable=True)
    )
    op.create_index('ix_staging_economic_data_import', 'staging_economic_data', ['import_id'], unique=False)
    op.create_table('staging_energy_reports',
    sa.Column('import_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('carrier', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Double(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('use', sa.String(length=24), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False)
    )
    op.create_index('ix_staging_energy_reports_import', 'staging_energy_reports', ['import_id'], unique=False)
    op.create_table('staging_production_output',
    sa.Column('import_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('unit_code', sa.String(length=32), nullable=False),
    sa.Column('product', sa.String(length=64), nullable=False),
    sa.Column('output', sa.Double(), nullable=False),
    sa.Column('output_unit', sa.String(length=16), nullable=False)
    )
    op.create_index('ix_staging_production_output_import', 'staging_production_output', ['import_id'], unique=False)
    op.create_table('staging_water_use',
    sa.Column('import_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('withdrawal_m3', sa.Double(), nullable=False),
    sa.Column('reused_m3', sa.Double(), nullable=True)
    )
    op.create_index('ix_staging_water_use_import', 'staging_water_use', ['import_id'], unique=False)
    op.create_table('submissions',
    sa.Column('id', sa.BigInteger(), server_default=sa.text("nextval('submissions_id_seq')"), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=False),
    sa.Column('submitter', sa.String(length=64), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows_read', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('revisions_created', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('users',
    sa.Column('id', sa.BigInteger(), server_default=sa.text("nextval('users_id_seq')"), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=True),
    sa.Column('password_hash', sa.Text(), nullable=True, comment='argon2 hash; NULL = cannot log in'),
    sa.Column('role', sa.String(length=32), server_default='viewer', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('water_use',
    sa.Column('revision_id', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('enterprise_uscc', sa.String(length=18), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('withdrawal_m3', sa.Double(), nullable=False, comment='取水量 [m3]'),
    sa.Column('reused_m3', sa.Double(), nullable=True, comment='重复利用水量 [m3]'),
    sa.PrimaryKeyConstraint('revision_id', 'line')
    )


def downgrade() -> None:
    op.drop_table('water_use')
    op.drop_table('users')
    op.drop_table('submissions')
    op.drop_index('ix_staging_water_use_import', table_name='staging_water_use')
    op.drop_table('staging_water_use')
    op.drop_index('ix_staging_production_output_import', table_name='staging_production_output')
    op.drop_table('staging_production_output')
    op.drop_index('ix_staging_energy_reports_import', table_name='staging_energy_reports')
    op.drop_table('staging_energy_reports')
    op.drop_index('ix_staging_economic_data_import', table_name='staging_economic_data')
    op.drop_table('staging_economic_data')
    op.drop_index('ix_report_revisions_key', table_name='report_revisions')
    op.drop_table('report_revisions')
    op.drop_table('regions')
    op.drop_table('production_units')
    op.drop_table('production_output')
    op.drop_table('plan_targets')
    op.drop_table('parks')
    op.drop_table('green_registry')
    op.drop_table('enterprises')
    op.drop_table('energy_reports')
    op.drop_table('economic_data')
    op.drop_table('audit_log')
    for name in SEQUENCES:
        op.execute(sa.schema.DropSequence(sa.Sequence(f"{name}_id_seq")))
