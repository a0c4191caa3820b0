"""Known answers for the entry encoding and hash chain (DESIGN.md §5), pinned byte for byte.

Every expected value here was written out by hand (the JSON text) and hashed with hashlib
outside `chain.py`: nothing is computed by the module under test. A change to any field's
place, form or presence, to the version tags, the time zone handling or the genesis hash
changes one of these literals.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from civicpoints.ledger import chain

GENESIS_HEX = "0000000000000000000000000000000000000000000000000000000000000000"

# ["cp-entry-v1",3,"0a1b2c3d-0000-4000-8000-000000000001",7,"0a1b2c3d-…-000000000002","award",
#  -25,175,"0a1b2c3d-…-000000000003","ref:活动/42","志愿服务 \"2\" 小时","staff:王",
#  "2026-03-01T02:30:00.123456Z","2026-03-01T02:30:01.000000Z","000…000"]
V1_BYTES = bytes.fromhex(
    "5b2263702d656e7472792d7631222c332c2230613162326333642d303030302d343030302d383030"
    "302d303030303030303030303031222c372c2230613162326333642d303030302d343030302d3830"
    "30302d303030303030303030303032222c226177617264222c2d32352c3137352c22306131623263"
    "33642d303030302d343030302d383030302d303030303030303030303033222c227265663ae6b4bb"
    "e58aa82f3432222c22e5bf97e684bfe69c8de58aa1205c22325c2220e5b08fe697b6222c22737461"
    "66663ae78e8b222c22323032362d30332d30315430323a33303a30302e3132333435365a222c2232"
    "3032362d30332d30315430323a33303a30312e3030303030305a222c223030303030303030303030"
    "30303030303030303030303030303030303030303030303030303030303030303030303030303030"
    "30303030303030303030303030225d"
)
V1_SHA256 = "db4d7d328e2722db4f6c11660da5e1fe090cb230740dee1a07a84dab94f89ea7"

# ["cp-entry-v2",3,"0a1b2c3d-…-000000000001",8,"0a1b2c3d-…-000000000004","award",40,215,
#  "0a1b2c3d-…-000000000003","r","","a","1999-12-31T23:59:59.999999Z",
#  "2000-01-01T00:00:00.000001Z","db4d7d32…f89ea7","2027-03-01T16:00:00.000000Z"]
V2_BYTES = bytes.fromhex(
    "5b2263702d656e7472792d7632222c332c2230613162326333642d303030302d343030302d383030"
    "302d303030303030303030303031222c382c2230613162326333642d303030302d343030302d3830"
    "30302d303030303030303030303034222c226177617264222c34302c3231352c2230613162326333"
    "642d303030302d343030302d383030302d303030303030303030303033222c2272222c22222c2261"
    "222c22313939392d31322d33315432333a35393a35392e3939393939395a222c22323030302d3031"
    "2d30315430303a30303a30302e3030303030315a222c226462346437643332386532373232646234"
    "66366331313636306461356531666530393063623233303734306465653161303761383464616239"
    "34663839656137222c22323032372d30332d30315431363a30303a30302e3030303030305a225d"
)
V2_SHA256 = "6a4bb209f80850fce5a5975fb53cf565333360fc68437678442d22e9e533d985"


def uid(n: int) -> uuid.UUID:
    """A fixed id whose text form the vectors spell out."""
    return uuid.UUID(f"0a1b2c3d-0000-4000-8000-{n:012d}")


FIRST = chain.EntryFields(
    bucket=3,
    account_id=uid(1),
    seq=7,
    transfer_id=uid(2),
    kind="award",
    amount=-25,
    balance_after=175,
    counterparty_id=uid(3),
    ref="ref:活动/42",
    reason='志愿服务 "2" 小时',
    actor="staff:王",
    # Given at +08:00: encoded in UTC, microseconds kept.
    occurred_at=datetime(2026, 3, 1, 10, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8))),
    recorded_at=datetime(2026, 3, 1, 2, 30, 1, tzinfo=UTC),
    prev_hash=GENESIS_HEX,
)
# The next entry of the same account (bucket, account, kind and counterparty as FIRST's).
SECOND = replace(
    FIRST,
    seq=8,
    transfer_id=uid(4),
    amount=40,
    balance_after=215,
    ref="r",
    reason="",
    actor="a",
    # -09:30 crosses the year boundary in UTC; one microsecond either side of midnight.
    occurred_at=datetime(1999, 12, 31, 14, 29, 59, 999999, tzinfo=timezone(-timedelta(hours=9.5))),
    recorded_at=datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    prev_hash=V1_SHA256,
    expires_at=datetime(2027, 3, 2, tzinfo=ZoneInfo("Asia/Shanghai")),
)


def test_vectors_are_what_they_say() -> None:
    """The literals agree with each other (hashlib, not chain.py, hashes them)."""
    assert hashlib.sha256(V1_BYTES).hexdigest() == V1_SHA256
    assert hashlib.sha256(V2_BYTES).hexdigest() == V2_SHA256
    assert V1_BYTES.startswith(b'["cp-entry-v1",') and V2_BYTES.startswith(b'["cp-entry-v2",')


def test_genesis_hash() -> None:
    """A chain starts from 64 zero digits."""
    assert chain.GENESIS == GENESIS_HEX


def test_v1_entry_encoding_and_hash() -> None:
    """An entry without an expiry: cp-entry-v1, every field in place, UTF-8 unescaped."""
    assert chain.canonical_bytes(FIRST) == V1_BYTES
    assert chain.entry_hash(FIRST) == V1_SHA256


def test_v2_entry_encoding_and_hash() -> None:
    """A credit carrying its lot's expiry: cp-entry-v2, the expiry after prev_hash, in UTC."""
    assert chain.canonical_bytes(SECOND) == V2_BYTES
    assert chain.entry_hash(SECOND) == V2_SHA256


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("bucket", 4),
        ("account_id", uid(9)),
        ("seq", 6),
        ("transfer_id", uid(9)),
        ("kind", "awarD"),
        ("amount", -24),
        ("balance_after", 176),
        ("counterparty_id", uid(9)),
        ("ref", "ref:活动/43"),
        ("reason", "志愿服务"),
        ("actor", "staff:玉"),
        ("occurred_at", datetime(2026, 3, 1, 2, 30, 0, 123457, tzinfo=UTC)),
        ("recorded_at", datetime(2026, 3, 1, 2, 30, 1, 1, tzinfo=UTC)),
        ("prev_hash", V1_SHA256),
        ("expires_at", datetime(2027, 3, 1, tzinfo=UTC)),
    ],
)
def test_every_field_is_hashed(name: str, value: object) -> None:
    """Changing any one field by the least amount changes the hash."""
    changed = chain.EntryFields(**{**vars(FIRST), name: value})
    assert chain.entry_hash(changed) != V1_SHA256


def test_account_ids_and_buckets() -> None:
    """Account ids are uuid5 in a fixed namespace; the bucket is crc32(id bytes) mod the count."""
    namespace = chain.ACCOUNT_NAMESPACE
    assert namespace == uuid.UUID("6f1c2b9e-4a57-4c0e-9a53-2d3b7c1e8f10")
    a = chain.account_id_for("wallet:a")
    b = chain.account_id_for("resident:42")
    assert a == uuid.UUID("6d7505a2-e9c8-51b7-950a-050a94615ba9")
    assert b == uuid.UUID("a6ade7dc-a9fe-50a5-875c-deaee3738083")
    # crc32: wallet:a 4263167480, resident:42 968346409.
    assert [chain.bucket_of(a, n) for n in (1, 7, 16)] == [0, 5, 8]
    assert [chain.bucket_of(b, n) for n in (1, 7, 16)] == [0, 2, 9]
