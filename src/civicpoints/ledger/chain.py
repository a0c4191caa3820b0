"""Pure hashing of journal entries: the per-account SHA-256 chain (DESIGN.md §5)."""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

GENESIS = "0" * 64
# The canonical encoding's version tags. v2 is v1 with the lot's expiry appended: a credit that
# opens a lot carries it, so the chain covers every value that decides a point's life.
V1 = "cp-entry-v1"
V2 = "cp-entry-v2"


@dataclass(frozen=True)
class EntryFields:
    """Exactly the fields an entry hash covers, in canonical form."""

    bucket: int
    account_id: uuid.UUID
    seq: int
    transfer_id: uuid.UUID
    kind: str
    amount: int
    balance_after: int
    counterparty_id: uuid.UUID
    ref: str
    reason: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: str
    expires_at: datetime | None = None  # the expiry of the lot this credit opens


def _ts(value: datetime) -> str:
    """Microsecond UTC timestamp text, independent of the engine's datetime handling."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(f: EntryFields) -> bytes:
    """Canonical encoding: JSON array in a fixed order, UTF-8, no spaces (version-tagged).

    An entry without an expiry is encoded as `cp-entry-v1` (so every entry written before v2
    keeps its hash); one with an expiry as `cp-entry-v2`, the expiry after `prev_hash`.
    """
    values: list[object] = [
        V1 if f.expires_at is None else V2,
        f.bucket,
        str(f.account_id),
        f.seq,
        str(f.transfer_id),
        f.kind,
        f.amount,
        f.balance_after,
        str(f.counterparty_id),
        f.ref,
        f.reason,
        f.actor,
        _ts(f.occurred_at),
        _ts(f.recorded_at),
        f.prev_hash,
    ]
    if f.expires_at is not None:
        values.append(_ts(f.expires_at))
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(f: EntryFields) -> str:
    """The SHA-256 hex of an entry's canonical bytes."""
    return hashlib.sha256(canonical_bytes(f)).hexdigest()


def bucket_of(account_id: uuid.UUID, buckets: int) -> int:
    """The bucket of an account: a stable hash of its id modulo the bucket count."""
    return zlib.crc32(account_id.bytes) % buckets


ACCOUNT_NAMESPACE = uuid.UUID("6f1c2b9e-4a57-4c0e-9a53-2d3b7c1e8f10")


def account_id_for(owner: str) -> uuid.UUID:
    """The deterministic id of the account named `owner` (so its bucket needs no lookup)."""
    return uuid.uuid5(ACCOUNT_NAMESPACE, owner)


def debt_account_for(wallet_id: uuid.UUID) -> uuid.UUID:
    """The id of a wallet's debt account (in the wallet's bucket): what it owes after a
    clawback took more than it held."""
    return uuid.uuid5(ACCOUNT_NAMESPACE, f"debt:{wallet_id}")
