"""Alembic migrations shipped in the package, run on every open."""

from __future__ import annotations

import logging
from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from dualcontrol.store import Store, schema

logger = logging.getLogger(__name__)


def alembic_config(store: Store) -> Config:
    """Return an Alembic configuration pointing at the package's migrations."""
    config = Config()
    config.set_main_option("script_location",
                           str(resources.files("dualcontrol.store").joinpath("migrations")))
    config.attributes["store"] = store
    return config


def current_revision(store: Store) -> str | None:
    """Return the schema revision the store is at (None if empty)."""
    with store.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(store: Store) -> str:
    """Return the newest schema revision shipped with the package."""
    head = ScriptDirectory.from_config(alembic_config(store)).get_current_head()
    assert head is not None
    return head


def upgrade_to_head(store: Store) -> str:
    """Migrate the store to the newest schema revision and return it.

    After migrating, the region hierarchy of the shipped reference table is loaded
    if the store does not have it yet.
    """
    head = head_revision(store)
    if current_revision(store) != head:
        logger.info("migrating %s to %s", store.backend, head)
        command.upgrade(alembic_config(store), "head")
    sync_regions(store)
    return head


def sync_regions(store: Store) -> int:
    """Insert the divisions of ``data/regions.csv`` missing from the store; return how many."""
    from dualcontrol.regions import regions as region_table

    with store.begin() as conn:
        have = {r[0] for r in conn.execute(sa.select(schema.regions.c.code))}
        rows = [
            {k: (r[k] or None) for k in ("code", "name_zh", "name_en", "level", "parent_code",
                                         "league_code", "power_grid")} | {
                "source": f"{r['source']} ({r['edition']})"}
            for r in region_table().to_dict("records") if r["code"] not in have
        ]
        if rows:
            conn.execute(schema.regions.insert(), rows)
    return len(rows)
