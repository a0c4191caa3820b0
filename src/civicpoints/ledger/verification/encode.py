"""`chain.canonical_bytes`, rebuilt from the text the database stores: the verifier's hot path.

`chain.canonical_bytes` goes through `json.dumps`, `datetime.strftime` and `str(UUID)`, which
cost several times the SHA-256 itself. Here each entry is read with its ids as 32 lowercase hex
digits and its times as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (how SQLite stores them; PostgreSQL
is asked for the same text), and the bytes are assembled by slicing, the strings quoted by the
encoder `json.dumps` itself uses. The result is byte-identical to `chain.canonical_bytes` for
every row the SQL guard `ok` admits (tests/integration/test_verify_encode.py checks it on both
engines with hypothesis). A row the guard refuses (a value of another type, an id or a time in
another form) or whose hash does not match is hashed again by `chain.entry_hash` over the
values SQLAlchemy reads, so a fault is only ever reported on the reference encoding's word.
"""

from __future__ import annotations

import hashlib
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) quotes with
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection

from civicpoints.ledger import chain
from civicpoints.ledger.models import Entry

_SQLITE_TIME = (
    "[1-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]"
    ".[0-9][0-9][0-9][0-9][0-9][0-9]"
)
_INT_COLUMNS = ("bucket", "seq", "amount", "balance_after")


def _sqlite_time_guard(col: str) -> list[str]:
    """SQL conditions: `col` is text in SQLAlchemy's storage form, a real date and time of day."""
    return [
        f"typeof({col}) = 'text'",
        f"{col} GLOB '{_SQLITE_TIME}'",
        f"substr({col}, 6, 2) BETWEEN '01' AND '12'",
        f"substr({col}, 9, 2) BETWEEN '01' AND '31'",
        f"substr({col}, 12, 2) < '24'",
        # Days 29-31 exist in some months only: through a day number, the others come out as
        # another date (date() alone echoes them). Costs only those rows.
        f"CASE WHEN substr({col}, 9, 2) <= '28' THEN 1 "
        f"ELSE date(julianday(substr({col}, 1, 10))) = substr({col}, 1, 10) END",
    ]


def _sqlite_guard() -> str:
    """SQL true for a row whose stored values the fast encoder reproduces exactly.

    The ids and quoted strings are checked in Python, where it is cheaper (`canonical_from_stored`
    refuses what it cannot reproduce; a refused row goes to the reference encoder).
    """
    return " AND ".join(
        [
            *(f"typeof({c}) = 'integer'" for c in _INT_COLUMNS),
            *_sqlite_time_guard("occurred_at"),
            *_sqlite_time_guard("recorded_at"),
        ]
    )


def _pg_columns() -> list[str]:
    """PostgreSQL: ids and times asked for in SQLite's stored form (years 1000-9999 only)."""

    def hex_id(col: str) -> str:
        return f"replace({col}::text, '-', '')"

    def utc_text(col: str) -> str:
        return f"to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"

    guard = " AND ".join(
        f"extract(year FROM {c} AT TIME ZONE 'UTC') BETWEEN 1000 AND 9999"
        for c in ("occurred_at", "recorded_at")
    )
    return [
        "bucket", hex_id("account_id"), "seq", hex_id("transfer_id"), "kind", "amount",
        "balance_after", hex_id("counterparty_id"), "ref", "reason", "actor",
        utc_text("occurred_at"), utc_text("recorded_at"), "prev_hash", "entry_hash", "id",
        f"({guard})",
    ]  # fmt: skip


def entry_columns(dialect: str) -> str:
    """The select list every entry is read with: the 14 hashed fields (EntryFields order) in
    stored form, entry_hash, id (raw), ok (the guard)."""
    if dialect == "postgresql":
        return ", ".join(_pg_columns())
    hashed = ", ".join(chain.EntryFields.__dataclass_fields__)
    return f"{hashed}, entry_hash, id, ({_sqlite_guard()})"


def canonical_from_stored(row: Any) -> bytes:
    """The canonical bytes of a row read with `entry_columns` (only valid when its `ok` holds).

    Raises TypeError or ValueError for a row it cannot reproduce: an id that is not 32 lowercase
    hex digits (`str(UUID)` would normalise it), a quoted field that is not text.
    """
    b, a, s, t, k, am, ba, c, ref, rs, ac, oc, rc, pv = row[:14]
    ids = a + t + c  # TypeError unless all three are text
    if not len(a) == len(t) == len(c) == 32 or bytes.fromhex(ids).hex() != ids:
        raise ValueError("not three ids of 32 lowercase hex digits")
    q = encode_basestring
    text = (
        f'["cp-entry-v1",{b},"{a[:8]}-{a[8:12]}-{a[12:16]}-{a[16:20]}-{a[20:]}",{s},'
        f'"{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:]}",{q(k)},{am},{ba},'
        f'"{c[:8]}-{c[8:12]}-{c[12:16]}-{c[16:20]}-{c[20:]}",{q(ref)},{q(rs)},{q(ac)},'
        f'"{oc[:10]}T{oc[11:]}Z","{rc[:10]}T{rc[11:]}Z",{q(pv)}]'
    )
    return text.encode()


def fast_hash(row: Any) -> str | None:
    """The hex SHA-256 of a row's canonical bytes by the fast encoder; None when not admitted."""
    if not row[16]:
        return None
    try:
        return hashlib.sha256(canonical_from_stored(row)).hexdigest()
    except (TypeError, ValueError):  # an id or a quoted field in another form: reference decides
        return None


_REFERENCE = select(*(getattr(Entry, name) for name in chain.EntryFields.__dataclass_fields__))


def reference_hash(conn: Connection, bucket: Any, raw_id: Any) -> str | None:
    """`chain.entry_hash` of one entry as SQLAlchemy reads it; None if it cannot be read so."""
    if conn.dialect.name == "postgresql":
        where = (Entry.bucket == bucket, Entry.id == raw_id)
    else:
        where = (type_coerce(Entry.bucket, String()) == bucket, _raw_id() == raw_id)
    try:
        row = conn.execute(_REFERENCE.where(*where)).one()
        return chain.entry_hash(chain.EntryFields(*row))
    except Exception:  # a value no entry could hold: it cannot hash to anything stored
        return None


def _raw_id() -> Any:
    """Entry.id compared as the driver stores it (SQLite: whatever text or blob is there)."""
    return type_coerce(Entry.id, String())
