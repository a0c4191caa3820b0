"""The stamp a finished city-year carries (COMMENT ON DATABASE): the generator's fingerprint
and what was built, so a benchmark reuses a cached `city_<N>` only when the generator that
would build it now is the one that built it (bench/cityscale.py)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from civicpoints.kit.migrate import MIGRATIONS

HERE = Path(__file__).resolve().parent
KIND = "civicpoints-city-year"


def fingerprint() -> str:
    """SHA-256 (16 hex digits) of the generator's sources (not its command line or this file)
    and the migration scripts: any change to what the generator writes, or to the schema it
    writes into, changes it."""
    h = hashlib.sha256()
    files = sorted(p for p in HERE.glob("*.py") if p.name not in ("__main__.py", "stamp.py"))
    for path in [*files, *sorted(MIGRATIONS.glob("versions/*.py"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def write(conn: psycopg.Connection[Any], db: str, facts: dict[str, Any]) -> dict[str, Any]:
    """Stamp database `db` as a finished city-year built by this generator, now (Unix time:
    the generator records a year's rows at build time, bench/cityscale.py waits them out)."""
    doc = {"kind": KIND, "generator": fingerprint(), "finished": time.time()} | facts
    body = json.dumps(doc, sort_keys=True)
    statement = sql.SQL("COMMENT ON DATABASE {} IS {}")
    conn.execute(statement.format(sql.Identifier(db), sql.Literal(body)))
    return doc


def read(conn: psycopg.Connection[Any], db: str) -> dict[str, Any] | None:
    """The stamp of database `db`, or None when it has none (unfinished, or not a city)."""
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (db,),
    ).fetchone()
    if not row or not row[0]:
        return None
    try:
        doc = json.loads(row[0])
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and doc.get("kind") == KIND else None
