"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Uuid, create_engine, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.ids import new_id
from civicpoints.kit.settings import Settings

# Named constraints, so migrations are reproducible on both engines (DESIGN.md §4).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamptz that always comes back aware in UTC, also from SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes: every stored time must know its zone."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a timestamptz column")
        out = as_utc(value)
        return out.replace(tzinfo=None) if dialect.name == "sqlite" else out

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC."""
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    """Declarative base with the naming convention."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), uuid.UUID: Uuid()}


def id_column() -> Mapped[uuid.UUID]:
    """A UUIDv7 primary key column."""
    return mapped_column(Uuid(), primary_key=True, default=new_id)


def created_at_column() -> Mapped[datetime]:
    """A `created_at` column set by the application clock."""
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# WAL for concurrent readers, enforced foreign keys, wait instead of failing on a lock. A 64 MiB
# page cache per connection (the default 2 MiB re-reads index pages on every award) and a
# checkpoint every 10,000 WAL pages (not 1,000: hot pages are copied back once, not ten times)
# gave +15% awards/s on 20,000 wallets (bench/notes.md).
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",
    "PRAGMA wal_autocheckpoint=10000",
)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Set SQLITE_PRAGMAS on a new connection."""
    # Let SQLAlchemy's "begin" event issue BEGIN itself (the documented pysqlite recipe).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    for pragma in SQLITE_PRAGMAS:
        cur.execute(pragma)
    cur.close()


# Execution option of read-only sessions (see `make_read_session_factory`).
READ_ONLY = "civicpoints_read_only"


def _sqlite_begin(conn: Connection) -> None:
    """Take the write lock at BEGIN, except in read-only sessions (they never write)."""
    # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN
    # instead so read-then-write transactions cannot deadlock (SQLAlchemy docs, pysqlite).
    # A read-only transaction needs no lock: WAL gives it a snapshot, so it neither waits
    # for the writer nor holds it up.
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, configured for the engine it names."""
    url = normalize_url(url)
    # Errors never quote a statement's parameters: they hold password hashes and phone numbers.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that do not expire objects on commit (responses read them after)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def sessions_of(settings: Settings) -> sessionmaker[Session]:
    """A session factory on the database `settings` name (CLI commands and jobs)."""
    return make_session_factory(make_engine(settings.resolved_database_url()))


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for work that only reads: a deferred BEGIN on SQLite, READ ONLY on PostgreSQL.

    On SQLite they read a WAL snapshot without waiting for a writer (a sequencer pass, an
    award); on PostgreSQL a write attempted through them fails instead of committing.
    """
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    return sessionmaker(
        bind=engine.execution_options(**options), expire_on_commit=False, autoflush=False
    )


def make_snapshot_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Read-only sessions whose every statement sees one snapshot: REPEATABLE READ on
    PostgreSQL (READ COMMITTED takes a new one per statement); on SQLite a deferred read
    transaction is a WAL snapshot already. For reports whose figures must agree."""
    options: dict[str, Any] = {READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options.update(postgresql_readonly=True, isolation_level="REPEATABLE READ")
    return sessionmaker(
        bind=engine.execution_options(**options), expire_on_commit=False, autoflush=False
    )


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error (the caller owns it)."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
