"""Run the Alembic migrations from code (CLI, tests, `make run`)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from alembic import command, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from civicpoints.kit.db import make_engine, normalize_url


def _migrations_dir() -> Path:
    """The Alembic scripts: inside the installed package (a wheel, pyproject.toml's
    force-include), else the repository's migrations/ (a checkout, `uv sync`)."""
    packaged = Path(__file__).resolve().parents[1] / "migrations"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[3] / "migrations"


MIGRATIONS = _migrations_dir()


def alembic_config(url: str) -> Config:
    """An Alembic config for the database at `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


# Held by `db upgrade` on PostgreSQL while it migrates: a second upgrader waits, then finds
# the database at head and does nothing.
MIGRATE_LOCK = zlib.crc32(b"civicpoints.migrate")


class NotAtHead(Exception):
    """The database is not at the migrations' head: `civicpoints db upgrade` first."""

    def __init__(self, current: str | None, head: str) -> None:
        self.current, self.head = current, head
        super().__init__(
            f"数据库版本 {current or '空 / empty'} 不是最新 {head}，请先运行 "
            f"`civicpoints db upgrade` / the database is at revision {current or '(empty)'}, "
            f"not {head}: run `civicpoints db upgrade` (one process) before serving"
        )


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` up to `revision`; on PostgreSQL one upgrader at a time."""
    engine = make_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            command.upgrade(alembic_config(url), revision)
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATE_LOCK})
            try:
                command.upgrade(alembic_config(url), revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATE_LOCK})
    finally:
        engine.dispose()


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def known_revision(revision: str) -> bool:
    """True when this code's migrations hold `revision` (so it is this head or older)."""
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(url: str) -> str | None:
    """The revision the database at `url` is at (None: never migrated)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def require_head(url: str) -> None:
    """Raise NotAtHead unless the database is at this code's head (serve and worker check)."""
    current, head = current_revision(url), head_revision()
    if current != head:
        raise NotAtHead(current, head)


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
