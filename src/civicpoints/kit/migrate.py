"""Run the Alembic migrations from code (CLI, tests, `make run`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from civicpoints.kit.db import normalize_url

MIGRATIONS = Path(__file__).resolve().parents[3] / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config for the database at `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Take the database at `url` down to `revision` ("base" empties it)."""
    command.downgrade(alembic_config(url), revision)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The revisions this code's migrations end at (read once from migrations/)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return frozenset(ScriptDirectory.from_config(cfg).get_heads())


def database_revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database at `connection` is at (empty: never migrated)."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def refuse_changes(tables: Sequence[str], truncate: bool = True) -> None:
    """Inside a migration: triggers that refuse UPDATE and DELETE on `tables` (append-only).

    On PostgreSQL they call `civicpoints_refuse_change()` from migration 0001 and, with
    `truncate`, refuse TRUNCATE too; SQLite has no TRUNCATE.
    """
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in tables:
        if postgres:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION civicpoints_refuse_change()"
            )
            if truncate:
                op.execute(
                    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION civicpoints_refuse_change()"
                )
            continue
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only: {verb} on {table} is refused'); END"
            )
