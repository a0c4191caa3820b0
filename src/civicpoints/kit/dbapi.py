"""Hand-written SQL on the session's own DBAPI connection, for the measured hot paths.

The award path runs thousands of times a second; going through the ORM unit of work costs
about 8 ms of CPU per award (bench/notes.md). Repositories on that path send their few
statements here instead: same connection, same transaction (the caller still owns it), values
stored exactly as SQLAlchemy's column types store them, so the ORM reads these rows back as
its own.

Statements are written once with `?` placeholders; PostgreSQL gets them as `%s`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

from psycopg.types.json import Json
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

_MISSING = object()


@lru_cache(maxsize=512)
def _pg_text(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (no statement here contains a literal `?` or `%`)."""
    return sql.replace("?", "%s")


def records(cols: str, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as JSON-ready objects keyed by column name (`cols` as in the INSERT)."""
    names = cols.split(", ")
    return [dict(zip(names, row, strict=True)) for row in rows]


def marks(n: int) -> str:
    """`?, ?, ?`: n placeholders."""
    return ", ".join(["?"] * n)


def values_list(columns: int, rows: int) -> str:
    """`(?, ?), (?, ?)` for a multi-row VALUES of `rows` rows."""
    return ", ".join([f"({marks(columns)})"] * rows)


def raw(session: Session) -> Raw:
    """The session's DBAPI connection for this transaction (made once per transaction).

    The ORM's pending writes are flushed first, so rows written here follow them in order.
    """
    if session.dirty or session.new or session.deleted:
        session.flush()
    tx = session.get_transaction()
    cached = session.info.get("kit.raw")
    if cached is None or tx is None or cached.tx is not tx:
        conn = session.connection()  # begins the transaction (BEGIN IMMEDIATE on SQLite)
        cached = session.info["kit.raw"] = Raw(conn, session.get_transaction())
    return cached


class Raw:
    """The DBAPI connection under a session, with parameter adaptation per engine."""

    def __init__(self, conn: Connection, tx: object) -> None:
        self.tx = tx
        self.postgres = conn.dialect.name == "postgresql"
        self.dbapi: Any = conn.connection.driver_connection

    # -- statements ---------------------------------------------------------------------

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return its rows."""
        cur = self.dbapi.cursor()
        try:
            cur.execute(_pg_text(sql) if self.postgres else sql, params)
            return list(cur.fetchall()) if cur.description else []
        finally:
            cur.close()

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement without rows."""
        cur = self.dbapi.cursor()
        try:
            cur.execute(_pg_text(sql) if self.postgres else sql, params)
        finally:
            cur.close()

    def many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement per parameter row (psycopg pipelines them; sqlite3 loops in C)."""
        cur = self.dbapi.cursor()
        try:
            cur.executemany(_pg_text(sql) if self.postgres else sql, list(rows))
        finally:
            cur.close()

    def rowset(self, table: str, cols: str, rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
        """Rows for `INSERT INTO table (cols) <rowset>`: a VALUES list on SQLite; on PostgreSQL
        one JSON parameter expanded by jsonb_populate_recordset, so the statement text and
        its single parameter are the same for any number of rows (psycopg prepares it once,
        and converts a query with more than 50 parameters afresh on every call)."""
        if not self.postgres:
            return "VALUES " + values_list(len(cols.split(", ")), len(rows)), [
                x for row in rows for x in row
            ]
        doc = json.dumps(records(cols, rows), default=str, ensure_ascii=False)
        sql = f"SELECT {cols} FROM jsonb_populate_recordset(NULL::{table}, CAST(? AS jsonb))"
        return sql, [doc]

    def any_of(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """`IN (?, ?, …)` on SQLite, `= ANY(?)` with one array parameter on PostgreSQL."""
        if self.postgres:
            return "= ANY(?)", [list(values)]
        return f"IN ({marks(len(values))})", list(values)

    # -- values, as SQLAlchemy's types store them ----------------------------------------

    def uuid(self, value: UUID) -> Any:
        """`Uuid()`: native on PostgreSQL, 32 hex digits on SQLite."""
        return value if self.postgres else value.hex

    def to_uuid(self, value: Any) -> UUID:
        """A UUID read back from either engine."""
        return value if isinstance(value, UUID) else UUID(hex=value)

    def ts(self, value: datetime) -> Any:
        """`UTCDateTime`: timestamptz on PostgreSQL, naive UTC text on SQLite."""
        if self.postgres:
            return value
        v = value.astimezone(UTC)
        return (
            f"{v.year:04d}-{v.month:02d}-{v.day:02d} "
            f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}"
        )

    def json(self, value: Any) -> Any:
        """`JSON`: a json parameter on PostgreSQL, text on SQLite."""
        return Json(value) if self.postgres else json.dumps(value)

    def flag(self, value: bool) -> Any:
        """`Boolean`: native on PostgreSQL, 0/1 on SQLite."""
        return value if self.postgres else int(value)


class Columns:
    """A table's columns as the fast path writes them, read from its model: never listed twice.

    A column added to the model is written here too; a value nobody supplies fails loudly
    with the column's name instead of being left out.
    """

    def __init__(self, model: type) -> None:
        table = model.__table__  # type: ignore[attr-defined]
        self.table: str = table.name
        self.names: tuple[str, ...] = tuple(c.name for c in table.columns)
        self.text = ", ".join(self.names)
        self.kinds: tuple[str, ...] = tuple(_kind(c.type) for c in table.columns)

    def values(self, *sources: object, **given: Any) -> list[Any]:
        """Each column's value: from `given`, else the first source with that attribute."""
        out = []
        for name in self.names:
            if name in given:
                out.append(given[name])
                continue
            for source in sources:
                value = getattr(source, name, _MISSING)
                if value is not _MISSING:
                    out.append(value)
                    break
            else:
                raise AttributeError(f"no value for {self.table}.{name}")
        return out

    def row(self, raw: Raw, *sources: object, **given: Any) -> tuple[Any, ...]:
        """A parameter row for `INSERT … (self.text) VALUES (…)`, stored as the types store it."""
        values = self.values(*sources, **given)
        return tuple(_store(raw, k, v) for k, v in zip(self.kinds, values, strict=True))

    def record(self, raw: Raw, *sources: object, **given: Any) -> dict[str, Any]:
        """A row as an object for a JSON document (JSON columns stay values, not text)."""
        values = self.values(*sources, **given)
        return {
            n: v if k == "json" else _store(raw, k, v)
            for n, k, v in zip(self.names, self.kinds, values, strict=True)
        }

    def insert(self) -> str:
        """`INSERT INTO table (cols) VALUES (?, …)` for executemany."""
        return f"INSERT INTO {self.table} ({self.text}) VALUES ({marks(len(self.names))})"


def _kind(sql_type: Any) -> str:
    """How a column's values are passed to the driver (see `Raw`)."""
    name = type(sql_type).__name__
    if name == "Uuid":
        return "uuid"
    if name in ("UTCDateTime", "DateTime"):
        return "ts"
    return {"JSON": "json", "Boolean": "flag"}.get(name, "plain")


def _store(raw: Raw, kind: str, value: Any) -> Any:
    """One value as SQLAlchemy's column type would store it (None stays NULL)."""
    if value is None or kind == "plain":
        return value
    if kind == "uuid":
        return raw.uuid(value)
    if kind == "ts":
        return raw.ts(value)
    return raw.json(value) if kind == "json" else raw.flag(value)
