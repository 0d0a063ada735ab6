"""Tables of the dualcontrol store (SQLAlchemy Core), the same on DuckDB and PostgreSQL.

Reported data is never overwritten. Each upload is a *submission*; within it, the rows
of one entity (enterprise or region) and one period form a *report revision*; the
latest revision of an entity-period counts and earlier ones stay readable. Revision
numbers are the order of revisions by id within an entity-period, computed when read,
so concurrent submissions cannot collide on a number.

Identifiers come from sequences (DuckDB has no SERIAL); timestamps are UTC.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: Sequences of the surrogate keys, created by the migrations.
SEQUENCES = {
    name: sa.Sequence(f"{name}_id_seq", metadata=metadata)
    for name in ("production_units", "submissions", "report_revisions", "plan_targets",
                 "green_registry", "users", "audit_log", "projects")
}


def _id(table: str) -> sa.Column:
    return sa.Column("id", sa.BigInteger, SEQUENCES[table],
                     server_default=SEQUENCES[table].next_value(), primary_key=True)


def _utc(name: str, **kw: object) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


regions = sa.Table(
    "regions", metadata,
    sa.Column("code", sa.String(6), primary_key=True, comment="GB/T 2260 code"),
    sa.Column("name_zh", sa.String(64), nullable=False),
    sa.Column("name_en", sa.String(128), nullable=False),
    sa.Column("level", sa.String(16), nullable=False, comment="region|league|county"),
    sa.Column("parent_code", sa.String(6)),
    sa.Column("league_code", sa.String(6)),
    sa.Column("power_grid", sa.String(32)),
    sa.Column("source", sa.Text, nullable=False),
)

parks = sa.Table(
    "parks", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("name_zh", sa.String(128), nullable=False),
    sa.Column("name_en", sa.String(128), nullable=False),
    sa.Column("county_code", sa.String(6), nullable=False),
    sa.Column("kind", sa.String(32), comment="e.g. coal chemical, metallurgy"),
)

enterprises = sa.Table(
    "enterprises", metadata,
    sa.Column("uscc", sa.String(18), primary_key=True,
              comment="unified social credit code, GB 32100-2015"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("county_code", sa.String(6), nullable=False),
    sa.Column("park_code", sa.String(16)),
    sa.Column("industry", sa.String(64), nullable=False),
    _utc("registered_at", nullable=False),
)

production_units = sa.Table(
    "production_units", metadata,
    _id("production_units"),
    sa.Column("enterprise_uscc", sa.String(18), nullable=False),
    sa.Column("unit_code", sa.String(32), nullable=False),
    sa.Column("industry", sa.String(64), nullable=False),
    sa.Column("product", sa.String(64), nullable=False),
    sa.Column("capacity", sa.Double, nullable=False),
    sa.Column("capacity_unit", sa.String(32), nullable=False, comment="e.g. t/a, MW"),
    sa.Column("start_year", sa.Integer),
    sa.UniqueConstraint("enterprise_uscc", "unit_code", name="uq_production_unit"),
)

submissions = sa.Table(
    "submissions", metadata,
    _id("submissions"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("file_name", sa.Text, nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False),
    sa.Column("submitter", sa.String(64), nullable=False),
    _utc("submitted_at", nullable=False),
    sa.Column("rows_read", sa.Integer, nullable=False),
    sa.Column("rows_rejected", sa.Integer, nullable=False),
    sa.Column("revisions_created", sa.Integer, nullable=False),
)

report_revisions = sa.Table(
    "report_revisions", metadata,
    _id("report_revisions"),
    sa.Column("submission_id", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("entity", sa.String(18), nullable=False, comment="USCC or region code"),
    sa.Column("period", sa.String(7), nullable=False, comment="YYYY-MM or YYYY"),
    sa.Column("content_md5", sa.String(32), nullable=False,
              comment="md5 of the entity-period's sorted rows (change detection)"),
    sa.Index("ix_report_revisions_key", "kind", "entity", "period"),
    sa.Index("ix_report_revisions_submission", "submission_id"),
)

energy_reports = sa.Table(
    "energy_reports", metadata,
    sa.Column("revision_id", sa.BigInteger, nullable=False),
    sa.Column("line", sa.Integer, nullable=False, comment="row in the submitted file"),
    sa.Column("enterprise_uscc", sa.String(18), nullable=False),
    sa.Column("period", sa.String(7), nullable=False, comment="YYYY-MM"),
    sa.Column("carrier", sa.String(32), nullable=False, comment="carrier code"),
    sa.Column("quantity", sa.Double, nullable=False, comment="in `unit`"),
    sa.Column("unit", sa.String(16), nullable=False, comment="canonical unit code"),
    sa.Column("use", sa.String(24), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("ncv_gj_per_t", sa.Double,
              comment="measured net calorific value [GJ/t]; NULL = the carrier default"),
    sa.PrimaryKeyConstraint("revision_id", "line"),
)

production_output = sa.Table(
    "production_output", metadata,
    sa.Column("revision_id", sa.BigInteger, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("enterprise_uscc", sa.String(18), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("unit_code", sa.String(32), nullable=False),
    sa.Column("product", sa.String(64), nullable=False),
    sa.Column("output", sa.Double, nullable=False),
    sa.Column("output_unit", sa.String(16), nullable=False),
    sa.PrimaryKeyConstraint("revision_id", "line"),
)

water_use = sa.Table(
    "water_use", metadata,
    sa.Column("revision_id", sa.BigInteger, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("enterprise_uscc", sa.String(18), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("withdrawal_m3", sa.Double, nullable=False, comment="取水量 [m3]"),
    sa.Column("reused_m3", sa.Double, comment="重复利用水量 [m3]"),
    sa.PrimaryKeyConstraint("revision_id", "line"),
)

economic_data = sa.Table(
    "economic_data", metadata,
    sa.Column("revision_id", sa.BigInteger, nullable=False),
    sa.Column("line", sa.Integer, nullable=False),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("period", sa.String(7), nullable=False, comment="YYYY"),
    sa.Column("sector", sa.String(64), nullable=False, comment="'total' or an industry"),
    sa.Column("gdp_current_10k_yuan", sa.Double, comment="GDP or value added, current prices"),
    sa.Column("gdp_index_prev_year_100", sa.Double, comment="volume index, previous year = 100"),
    sa.Column("industrial_va_current_10k_yuan", sa.Double),
    sa.PrimaryKeyConstraint("revision_id", "line"),
)

plan_targets = sa.Table(
    "plan_targets", metadata,
    _id("plan_targets"),
    sa.Column("region_code", sa.String(6), nullable=False),
    sa.Column("plan", sa.String(16), nullable=False),
    sa.Column("indicator", sa.String(64), nullable=False),
    sa.Column("base_year", sa.Integer),
    sa.Column("target_year", sa.Integer),
    sa.Column("value", sa.Double),
    sa.Column("unit", sa.String(32)),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("edition", sa.Text),
)

green_registry = sa.Table(
    "green_registry", metadata,
    _id("green_registry"),
    sa.Column("category", sa.String(16), nullable=False,
              comment="factory|product|supply_chain|park|standard"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("enterprise_uscc", sa.String(18)),
    sa.Column("region_code", sa.String(6)),
    sa.Column("level", sa.String(16), comment="national|regional"),
    sa.Column("batch_year", sa.Integer),
    sa.Column("source", sa.Text, nullable=False),
)

users = sa.Table(
    "users", metadata,
    _id("users"),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(128)),
    sa.Column("password_hash", sa.Text, comment="argon2 hash; NULL = cannot log in"),
    sa.Column("role", sa.String(32), nullable=False, server_default="viewer"),
    _utc("created_at", nullable=False),
    sa.Column("scope_level", sa.String(16), comment="region|league|county|park|enterprise"),
    sa.Column("scope_key", sa.String(64), comment="code of the node the user is scoped to"),
    sa.Column("active", sa.Boolean, server_default=sa.true()),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("digest", sa.String(64), primary_key=True, comment="SHA-256 of the token"),
    sa.Column("username", sa.String(64), nullable=False),
    _utc("created_at", nullable=False),
    _utc("expires_at", nullable=False),
)

web_sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("digest", sa.String(64), primary_key=True,
              comment="SHA-256 of the random session id (the id itself is only in the cookie)"),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("csrf", sa.String(64), nullable=False, comment="CSRF token of the session's forms"),
    _utc("created_at", nullable=False),
    _utc("last_seen_at", nullable=False),
    _utc("expires_at", nullable=False),
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("client", sa.String(64), comment="client address at login"),
    sa.Index("ix_web_sessions_username", "username"),
)

projects = sa.Table(
    "projects", metadata,
    _id("projects"),
    sa.Column("code", sa.String(32), nullable=False, unique=True, comment="project code"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("league_code", sa.String(6), nullable=False),
    sa.Column("county_code", sa.String(6)),
    sa.Column("park_code", sa.String(16)),
    sa.Column("industry", sa.String(64)),
    sa.Column("product", sa.String(64)),
    sa.Column("energy_tce", sa.Double, nullable=False, comment="design energy [tce/a]"),
    sa.Column("co2_t", sa.Double, nullable=False, comment="design CO2, energy and process [t/a]"),
    sa.Column("status", sa.String(24), nullable=False,
              comment="reviewed|approved|under_construction|in_operation|rejected|withdrawn"),
    *(sa.Column(f"{s}_on", sa.Date, comment=f"day the project became {s}")
      for s in ("reviewed", "approved", "under_construction", "in_operation", "rejected",
                "withdrawn")),
    _utc("created_at", nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    _utc("updated_at", nullable=False),
    sa.Column("source", sa.Text, comment="where the figures come from (review, file)"),
    sa.Column("note", sa.Text),
)

audit_log = sa.Table(
    "audit_log", metadata,
    _id("audit_log"),
    _utc("changed_at", nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False, comment="table or kind"),
    sa.Column("entity_key", sa.Text, nullable=False),
    sa.Column("before_json", sa.Text, comment="state before, JSON"),
    sa.Column("after_json", sa.Text, comment="state after, JSON"),
    sa.Column("submission_id", sa.BigInteger),
    sa.Column("os_user", sa.String(64),
              comment="operating-system account of the process that wrote the row"),
    sa.Column("chain_seq", sa.BigInteger, comment="position in the hash chain (1, 2, ...)"),
    sa.Column("prev_hash", sa.String(64), comment="row_hash of the row before in the chain"),
    sa.Column("row_hash", sa.String(64),
              comment="SHA-256 over prev_hash and this row's fields (store/audit.py)"),
)

audit_chain = sa.Table(
    "audit_chain", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False,
              comment="always 1: the chain's head"),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    _utc("sealed_at"),
)

#: Data tables of each report kind.
REPORT_TABLES: dict[str, sa.Table] = {
    "energy": energy_reports,
    "output": production_output,
    "water": water_use,
    "economic": economic_data,
}


def _staging(table: sa.Table) -> sa.Table:
    columns = [sa.Column("import_id", sa.BigInteger, nullable=False)]
    columns += [sa.Column(c.name, c.type, nullable=c.nullable)
                for c in table.columns if c.name != "revision_id"]
    return sa.Table(f"staging_{table.name}", metadata, *columns,
                    sa.Index(f"ix_staging_{table.name}_import", "import_id"))


#: Staging tables an import fills inside its transaction before the rows are checked
#: as a whole (duplicates, unchanged periods) and moved to the data tables.
STAGING_TABLES: dict[str, sa.Table] = {kind: _staging(t) for kind, t in REPORT_TABLES.items()}
