"""`chain.canonical_bytes`, rebuilt from the text the database stores: the verifier's hot path.

`chain.canonical_bytes` goes through `json.dumps`, `datetime.strftime` and `str(UUID)`, which
cost several times the SHA-256 itself. Here each entry is read with its ids as 32 lowercase hex
digits and its times as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (how SQLite stores them; PostgreSQL
is asked for the same text), and the bytes are assembled by slicing, the strings quoted by the
encoder `json.dumps` itself uses. The result is byte-identical to `chain.canonical_bytes` for
every row `canonical_from_stored` admits (tests/integration/test_verify_encode.py checks it on
both engines with hypothesis). A row it refuses (a value of another type, an id or a time in
another form) or whose hash does not match is hashed again by `chain.entry_hash` over the
values SQLAlchemy reads, so a fault is only ever reported on the reference encoding's word.
An entry with an expiry (`cp-entry-v2`) is the v1 text under the v2 tag, the expiry appended.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import lru_cache
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) quotes with
from typing import Any

from sqlalchemy import String, select, type_coerce
from sqlalchemy.engine import Connection

from civicpoints.ledger import chain
from civicpoints.ledger.models import Entry

# SQLAlchemy's SQLite storage form of a UTC time, with a real month, day (1-31) and time of
# day; [0-9], not \d, which would take other scripts' digits too.
_TIME = re.compile(
    r"[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]) "
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}"
)


@lru_cache(maxsize=4096)
def _real_date(text: str) -> bool:
    """Whether 'YYYY-MM-DD' is a day of the calendar (Feb 30 is not)."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


_V2 = "expires_at"  # the field cp-entry-v2 adds, read after the row's ok


def _pg_columns() -> list[str]:
    """PostgreSQL: ids and times asked for in SQLite's stored form (years 1000-9999 only)."""

    def hex_id(col: str) -> str:
        return f"replace({col}::text, '-', '')"

    def utc_text(col: str) -> str:
        return f"to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"

    def year_ok(col: str) -> str:
        return f"extract(year FROM {col} AT TIME ZONE 'UTC') BETWEEN 1000 AND 9999"

    guard = f"{year_ok('occurred_at')} AND {year_ok('recorded_at')} AND " + (
        f"({_V2} IS NULL OR {year_ok(_V2)})"
    )
    return [
        "bucket", hex_id("account_id"), "seq", hex_id("transfer_id"), "kind", "amount",
        "balance_after", hex_id("counterparty_id"), "ref", "reason", "actor",
        utc_text("occurred_at"), utc_text("recorded_at"), "prev_hash", "entry_hash", "id",
        f"({guard})", utc_text(_V2),
    ]  # fmt: skip


def entry_columns(dialect: str) -> str:
    """The select list every entry is read with: the 14 hashed fields of cp-entry-v1
    (EntryFields order) in stored form, entry_hash, id (raw), ok (PostgreSQL's guard;
    SQLite's is in Python), then expires_at (NULL, or hashed as cp-entry-v2)."""
    if dialect == "postgresql":
        return ", ".join(_pg_columns())
    hashed = ", ".join(name for name in chain.EntryFields.__dataclass_fields__ if name != _V2)
    return f"{hashed}, entry_hash, id, 1, {_V2}"


def canonical_from_stored(row: Any) -> bytes:
    """The canonical bytes of a row read with `entry_columns` (only valid when its `ok` holds).

    Raises TypeError or ValueError for a row it cannot reproduce: a number that is not an int
    (a float or text in SQLite's dynamic typing), an id that is not 32 lowercase hex digits
    (`str(UUID)` would normalise it), a time in another form or not of the calendar (the
    reference would parse and reformat it, or fail), a quoted field that is not text.
    """
    b, a, s, t, k, am, ba, c, ref, rs, ac, oc, rc, pv = row[:14]
    if not (type(b) is int and type(s) is int and type(am) is int and type(ba) is int):
        raise ValueError("a number stored as another type")
    ids = a + t + c  # TypeError unless all three are text
    if not len(a) == len(t) == len(c) == 32 or bytes.fromhex(ids).hex() != ids:
        raise ValueError("not three ids of 32 lowercase hex digits")
    _check_time(oc)
    _check_time(rc)
    ex = row[17]
    if ex is None:
        tag, tail = chain.V1, "]"
    else:
        _check_time(ex)
        tag, tail = chain.V2, f',"{ex[:10]}T{ex[11:]}Z"]'
    q = encode_basestring
    text = (
        f'["{tag}",{b},"{a[:8]}-{a[8:12]}-{a[12:16]}-{a[16:20]}-{a[20:]}",{s},'
        f'"{t[:8]}-{t[8:12]}-{t[12:16]}-{t[16:20]}-{t[20:]}",{q(k)},{am},{ba},'
        f'"{c[:8]}-{c[8:12]}-{c[12:16]}-{c[16:20]}-{c[20:]}",{q(ref)},{q(rs)},{q(ac)},'
        f'"{oc[:10]}T{oc[11:]}Z","{rc[:10]}T{rc[11:]}Z",{q(pv)}{tail}'
    )
    return text.encode()


def _check_time(text: str) -> None:
    """Refuse a time not in storage form (TypeError unless text) or not of the calendar."""
    if not _TIME.fullmatch(text):
        raise ValueError("a time not in storage form")
    if text[8:10] > "28" and not _real_date(text[:10]):
        raise ValueError("a day that is not in the calendar")


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
