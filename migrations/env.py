"""Alembic environment: one linear history for SQLite and PostgreSQL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from civicpoints.kit.db import make_engine
from civicpoints.models import metadata

config = context.config


def run(connection: Connection) -> None:
    """Run migrations on one connection (batch mode lets SQLite alter tables)."""
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    if sqlite:
        # Batch mode rebuilds a table by drop-and-rename, which enforced foreign keys refuse
        # when other rows point at it; the keys are checked once, before commit, instead.
        _sqlite_foreign_keys(connection, "OFF")
    with context.begin_transaction():
        context.run_migrations()
        if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
            raise RuntimeError("migration left rows pointing at missing rows; rolled back")
    if sqlite:
        _sqlite_foreign_keys(connection, "ON")


def _sqlite_foreign_keys(connection: Connection, state: str) -> None:
    """Switch SQLite's foreign-key enforcement (only possible outside a transaction)."""
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={state}")  # type: ignore[union-attr]


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
