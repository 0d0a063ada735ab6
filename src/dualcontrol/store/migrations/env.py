"""Alembic environment: runs on the connection of the store being opened."""

from __future__ import annotations

from alembic import context

from dualcontrol.store.schema import metadata

store = context.config.attributes["store"]
with store.engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata,
                      transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
