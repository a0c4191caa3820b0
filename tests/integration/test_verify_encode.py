"""The verifier's fast encoder is byte-identical to `chain.canonical_bytes`, on both engines.

`ledger verify` rebuilds each entry's canonical bytes from the text the database stores
(`verification.encode`). Hypothesis writes entries with awkward values through SQLAlchemy, as
the application stores them, reads them back as the verifier does, and compares the bytes with
the reference encoding of the values written. Rows the fast encoder cannot reproduce must be
refused by its guard, so that the reference encoder decides them.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import transaction
from civicpoints.ledger import chain
from civicpoints.ledger.models import Account, Entry, Transfer
from civicpoints.ledger.verification.encode import (
    canonical_from_stored,
    entry_columns,
    fast_hash,
    reference_hash,
)

AWKWARD = [
    "",
    "志愿服务 2.0 小时 × 10 分/小时 = 20 分；本月剩余 500 分 → 实得 20 分",
    '"quoted" and \\backslashed\\',
    "\\u0041 is not A",
    "tab\tnewline\nreturn\rbell\x07escape\x1bdelete\x7f",
    "\x08\x0c\x1f",
    "emoji 🎉👩‍👩‍👧 and 𠮷",
    "\u2028line\u2029para",
    "</script>&<>'",
    " leading and trailing ",
]
ZONES = [UTC, ZoneInfo("Asia/Shanghai"), timezone(timedelta(hours=-9, minutes=-30))]
INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)


def texts(size: int, nul: bool) -> st.SearchStrategy[str]:
    """Any text of at most `size` characters (no NUL on PostgreSQL), or an awkward one."""
    chars = st.characters(blacklist_categories=["Cs"], blacklist_characters="" if nul else "\x00")
    return st.one_of(st.sampled_from([a[:size] for a in AWKWARD]), st.text(chars, max_size=size))


def instants() -> st.SearchStrategy[datetime]:
    """Aware datetimes in several zones, often on a whole second (microsecond 0)."""
    naive = st.datetimes(min_value=datetime(1001, 1, 1), max_value=datetime(9998, 12, 31))
    aware = st.builds(lambda d, z: d.replace(tzinfo=z), naive, st.sampled_from(ZONES))
    return st.one_of(aware, aware.map(lambda d: d.replace(microsecond=0)))


def entries(nul: bool) -> st.SearchStrategy[dict[str, Any]]:
    """The hashed fields of an entry, ids left out (fresh ones are given per example)."""
    return st.fixed_dictionaries(
        {
            "bucket": st.integers(min_value=-(2**31), max_value=2**31 - 1),
            "seq": INT64,
            "kind": texts(24, nul),
            "amount": INT64,
            "balance_after": INT64,
            "ref": texts(200, nul),
            "reason": texts(500, nul),
            "actor": texts(120, nul),
            "occurred_at": instants(),
            "recorded_at": instants(),
            "prev_hash": st.one_of(st.just(chain.GENESIS), texts(64, nul)),
            "expires_at": st.one_of(st.none(), instants()),  # cp-entry-v1, or v2
        }
    )


def store(sessions: sessionmaker[Session], values: dict[str, Any]) -> chain.EntryFields:
    """Write an entry (with its account and transfer) as the application does; its fields."""
    bucket, now = values["bucket"], datetime.now(UTC)
    account, transfer, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    fields = chain.EntryFields(
        account_id=account, transfer_id=transfer, counterparty_id=other, **values
    )
    with transaction(sessions) as s:
        s.execute(
            insert(Account).values(
                bucket=bucket, id=account, owner=str(account), kind="wallet",
                may_go_negative=False, balance=0, entry_count=0, head_hash=chain.GENESIS,
            )
        )  # fmt: skip
        s.execute(
            insert(Transfer).values(
                bucket=bucket, id=transfer, kind="award", amount=1, debit_account_id=other,
                credit_account_id=account, idempotency_key=str(transfer), request_hash="0" * 64,
                ref="r", reason="r", actor="a", occurred_at=now, recorded_at=now,
            )
        )  # fmt: skip
        s.execute(
            insert(Entry).values(
                id=uuid.uuid4(), entry_hash=chain.entry_hash(fields), **vars(fields)
            )
        )
    return fields


def read_back(sessions: sessionmaker[Session], fields: chain.EntryFields) -> Any:
    """The stored row as the verifier reads it (`entry_columns`), and the reference hash."""
    with sessions() as s:
        conn = s.connection()
        sql = (
            f"SELECT {entry_columns(conn.dialect.name)} FROM ledger_entry "
            "WHERE bucket = :b AND account_id = :a"
        )
        account = fields.account_id if conn.dialect.name == "postgresql" else fields.account_id.hex
        row = conn.execute(text(sql), {"b": fields.bucket, "a": account}).one()
        return tuple(row), reference_hash(conn, row[0], row[15])


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fast_encoder_is_byte_identical(sessions: sessionmaker[Session], data: Any) -> None:
    """Whatever the values, the bytes rebuilt from storage are those of chain.canonical_bytes."""
    with sessions() as s:
        sqlite = s.get_bind().dialect.name == "sqlite"
    fields = store(sessions, data.draw(entries(nul=sqlite)))
    row, reference = read_back(sessions, fields)
    expected = chain.canonical_bytes(fields)
    assert row[16], "the guard must admit every value the application writes"
    assert canonical_from_stored(row) == expected  # raises if the guard refuses it
    assert fast_hash(row) == reference == chain.entry_hash(fields) == row[14]


def test_out_of_range_years_go_to_the_reference(sessions: sessionmaker[Session]) -> None:
    """Years before 1000: strftime would not pad them as stored text is, so the guard refuses."""
    values = {
        "bucket": 0, "seq": 1, "kind": "award", "amount": 1, "balance_after": 1, "ref": "r",
        "reason": "r", "actor": "a", "prev_hash": chain.GENESIS,
        "occurred_at": datetime(999, 12, 31, 23, 59, tzinfo=UTC),
        "recorded_at": datetime(2026, 3, 1, tzinfo=UTC),
    }  # fmt: skip
    fields = store(sessions, values)
    row, reference = read_back(sessions, fields)
    assert fast_hash(row) is None
    assert reference == chain.entry_hash(fields) == row[14]


def test_sqlite_rows_in_other_forms_are_refused(tmp_path: Any) -> None:
    """Stored text the application never writes cannot pass for canonical (SQLite, raw SQL)."""
    from civicpoints.kit.migrate import upgrade

    path = tmp_path / "raw.db"
    upgrade(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    ids = [uuid.uuid4().hex for _ in range(3)]
    good: dict[str, Any] = {
        "bucket": 0, "id": uuid.uuid4().hex, "account_id": ids[0], "seq": 1,
        "transfer_id": ids[1], "kind": "award", "amount": 5, "balance_after": 5,
        "counterparty_id": ids[2], "ref": "r", "reason": "r", "actor": "a",
        "occurred_at": "2026-03-01 02:30:00.000000", "recorded_at": "2026-03-01 02:30:00.000001",
        "prev_hash": chain.GENESIS, "entry_hash": "x",
    }  # fmt: skip
    variants: list[dict[str, Any]] = [
        {},  # the controls: admitted (cp-entry-v1, then v2)
        {"expires_at": "2027-03-01 02:30:00.000000"},
        {"account_id": ids[0].upper()},
        {"transfer_id": ids[1][:31] + "g"},
        {"counterparty_id": " " + ids[2][1:]},
        {"account_id": ids[0][:-1], "transfer_id": ids[1] + "0"},
        {"account_id": bytes.fromhex(ids[0])},
        {"amount": "five"},
        {"amount": 5.5},
        {"seq": "one"},
        {"occurred_at": "2026-02-30 02:30:00.000000"},
        {"occurred_at": "2025-02-29 02:30:00.000000"},
        {"occurred_at": "2026-04-31 02:30:00.000000"},
        {"occurred_at": "2026-13-01 02:30:00.000000"},
        {"occurred_at": "2026-03-01 24:00:00.000000"},
        {"occurred_at": "2026-03-01 02:60:00.000000"},
        {"occurred_at": "2026-03-01T02:30:00.000000"},
        {"occurred_at": "2026-03-01 02:30:00"},
        {"occurred_at": "2026-03-01 10:30:00.000000+08:00"},
        {"recorded_at": "0999-03-01 02:30:00.000000"},
        {"recorded_at": b"2026-03-01 02:30:00.000000"},
        {"reason": b"r"},
        {"expires_at": "2027-02-29 02:30:00.000000"},
        {"expires_at": "2027-03-01 02:30:00"},
        {"expires_at": b"2027-03-01 02:30:00.000000"},
    ]
    admitted = []
    for n, change in enumerate(variants):
        row = good | {"bucket": n, "id": uuid.uuid4().hex} | change
        cols = ", ".join(row)
        conn.execute(f"INSERT INTO ledger_entry ({cols}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))  # fmt: skip
        read = conn.execute(
            f"SELECT {entry_columns('sqlite')} FROM ledger_entry WHERE bucket = ?", (n,)
        ).fetchone()
        admitted.append(fast_hash(read) is not None)
    conn.close()
    assert admitted == [True, True] + [False] * (len(variants) - 2)
