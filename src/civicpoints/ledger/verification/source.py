"""The snapshot `ledger verify` reads, and how it streams rows out of it.

Bulk rows go through the raw DBAPI cursor (server-side on PostgreSQL): SQLAlchemy's row
processing would cost more than the checks themselves. Statements are written with `?`
placeholders.

SQLite: a connection of its own, read-only (`PRAGMA query_only`) with a deferred `BEGIN`, so
the run reads one WAL snapshot without ever taking the write lock (the application's own
transactions all start with `BEGIN IMMEDIATE`). PostgreSQL: one REPEATABLE READ, read-only
transaction, whose snapshot other processes can share (`pg_export_snapshot`).
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

BATCH = 5_000  # rows per fetch and per progress tick
MMAP_BYTES = 1 << 31  # SQLite reads the file through a memory map: no read() per page
_cursor_names = itertools.count()


class Reader:
    """Raw, streamed reads inside the verification's snapshot."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.pg = self.dialect == "postgresql"
        if self.pg:
            # Every cursor here is read to its end. PostgreSQL plans a cursor for its first
            # tenth by default (cursor_tuple_fraction = 0.1), and for a bucket log's leaves
            # joined to their entries on `e.id::text = l.ref` it then chose a nested loop
            # comparing every leaf with every entry of the bucket: quadratic, 1,900 entries/s
            # at 20,000 residents and 583 at 200,000 (bench/notes.md). Planned for all rows,
            # it is a hash join.
            conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1")

    def chunks(self, sql: str, params: Sequence[Any] = ()) -> Iterator[list[Any]]:
        """The rows of `sql` (`?` placeholders) as lists of up to BATCH tuples."""
        dbapi: Any = self.conn.connection.dbapi_connection
        if self.pg:  # a named cursor: the server keeps the result, we fetch BATCH at a time
            cur = dbapi.cursor(name=f"verify_{next(_cursor_names)}")
            cur.itersize = BATCH
            cur.execute(sql.replace("?", "%s"), tuple(params))
        else:
            cur = dbapi.execute(sql, tuple(params))
        try:
            while rows := cur.fetchmany(BATCH):
                yield rows
        finally:
            with contextlib.suppress(Exception):  # the connection may be gone already
                cur.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> Iterator[Any]:
        """The rows of `sql`, one tuple at a time."""
        return itertools.chain.from_iterable(self.chunks(sql, params))

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row of `sql`."""
        return next(self.rows(sql, params), (None,))[0]

    def count(self, table: str) -> int:
        """How many rows a table holds (a progress bar's total)."""
        return int(self.scalar(f"SELECT count(*) FROM {table}") or 0)


def sqlite_path(engine: Engine) -> str | None:
    """The file of a SQLite engine, None for other engines and in-memory databases."""
    if engine.dialect.name != "sqlite":
        return None
    path = engine.url.database
    return path if path and path != ":memory:" and not path.startswith("file:") else None


def read_only_engine(path: str) -> Engine:
    """An engine on a SQLite file whose transactions are deferred and may not write."""

    def connect() -> sqlite3.Connection:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        return conn

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
    # A plain BEGIN takes no lock; the first read fixes the snapshot for the whole run.
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


@contextmanager
def snapshot(session: Session) -> Iterator[Connection]:
    """The connection to verify through, inside one consistent read-only snapshot."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    path = sqlite_path(engine)
    if session.in_transaction() or (engine.dialect.name == "sqlite" and path is None):
        yield session.connection()  # the caller's transaction (and its uncommitted rows)
        return
    if path is None:  # PostgreSQL
        yield session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )
        return
    own = read_only_engine(path)
    try:
        with own.connect() as conn, conn.begin():
            yield conn
    finally:
        own.dispose()


@contextmanager
def worker_snapshot(url: str, snapshot_id: str | None) -> Iterator[Connection]:
    """In another process: the same snapshot (PostgreSQL) or a read-only one of its own."""
    if url.startswith("sqlite"):
        own = read_only_engine(url.split("///", 1)[1])
        opts: dict[str, Any] = {}
    else:
        own = create_engine(url, poolclass=NullPool)
        opts = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    try:
        with own.connect() as conn:
            conn = conn.execution_options(**opts)
            with conn.begin():
                if snapshot_id is not None:
                    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot_id}'")
                yield conn
    finally:
        own.dispose()


def export_snapshot(conn: Connection) -> str | None:
    """An id other PostgreSQL sessions can read this transaction's snapshot by; None on SQLite."""
    if conn.dialect.name != "postgresql":
        return None
    return str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())
