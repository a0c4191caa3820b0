"""The SQL of the credit hot path: a few set-based statements per batch, on the DBAPI cursor.

One batch (one award, or a whole import chunk) costs: one upsert that creates-or-locks every
account it touches, one read of idempotency keys, and the writes — one statement per table on
SQLite (executemany), one statement in all on PostgreSQL (data-modifying CTEs). Measured in
bench/ (docs/performance.md); the ORM path it replaced sent 16 statements per award.

The upsert returns each wallet's `owed` (its unpaid clawback debt), so a batch learns whether
any wallet must repay without another statement; only when one does is its debt account
locked (one more upsert) and lot uses written (one more insert on SQLite).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from civicpoints.kit import dbapi
from civicpoints.kit.dbapi import Columns, Raw, records
from civicpoints.ledger import chain
from civicpoints.ledger.accounts import DEBT, debt_owner
from civicpoints.ledger.journal import CreditPlan, Head
from civicpoints.ledger.models import Account, Entry, LogQueue, Lot, LotUse, Transfer

# The columns of each table, from its model (a column added there is written here too).
ACCOUNT, TRANSFER = Columns(Account), Columns(Transfer)
ENTRY, LOT, QUEUE = Columns(Entry), Columns(Lot), Columns(LogQueue)
LOT_USE = Columns(LotUse)
# Creates an account on first use and locks it in the same statement (no race between a
# SELECT that finds nothing and the INSERT after it); the no-op update takes the row lock.
_LOCK_ACCOUNTS = (
    f"INSERT INTO ledger_account ({ACCOUNT.text}) {{values}} "
    "ON CONFLICT (bucket, id) DO UPDATE SET balance = ledger_account.balance "
    "RETURNING bucket, id, may_go_negative, balance, entry_count, head_hash, owed"
)
_KEYS = (
    "SELECT bucket, idempotency_key FROM ledger_transfer "
    "WHERE bucket {buckets} AND idempotency_key {keys}"
)


def _from_json(table: Columns, key: str) -> str:
    """INSERT INTO `table` the rows under `key` of the statement's one JSON parameter.

    One parameter for any number of rows: psycopg prepares the statement once and keeps it,
    and PostgreSQL parses the rows in C (measured faster than VALUES lists or arrays).
    """
    cols = table.text
    return (
        f"INSERT INTO {table.table} ({cols}) SELECT {cols} FROM "
        f"jsonb_populate_recordset(NULL::{table.table}, (SELECT j->'{key}' FROM d))"
    )


class AccountSpec:
    """An account to lock (and open if new)."""

    __slots__ = ("bucket", "id", "kind", "may_go_negative", "owner")

    def __init__(
        self, bucket: int, account_id: uuid.UUID, owner: str, kind: str, may_go_negative: bool
    ) -> None:
        self.bucket, self.id, self.owner = bucket, account_id, owner
        self.kind, self.may_go_negative = kind, may_go_negative


def debt_spec(bucket: int, wallet: uuid.UUID, wallet_owner: str) -> AccountSpec:
    """A wallet's debt account, to lock (or open): in the wallet's bucket, may go negative."""
    return AccountSpec(bucket, chain.debt_account_for(wallet), debt_owner(wallet_owner), DEBT, True)


class CreditRepository:
    """Locks accounts and writes planned credits; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def lock_accounts(self, specs: Iterable[AccountSpec], now: datetime) -> dict[Any, Head]:
        """Lock every account (creating missing ones), in key order; their heads by key."""
        raw = dbapi.raw(self.session)
        unique = {(s.bucket, s.id): s for s in specs}
        ordered = [unique[k] for k in sorted(unique)]
        opened = {
            "balance": 0,
            "entry_count": 0,
            "head_hash": chain.GENESIS,
            "owed": 0,
            "created_at": now,
        }
        rows = [ACCOUNT.row(raw, s, **opened) for s in ordered]
        values, params = raw.rowset(ACCOUNT.table, ACCOUNT.text, rows)
        sql = _LOCK_ACCOUNTS.format(values=values)
        heads = {}
        for bucket, aid, _neg, balance, count, head_hash, owed in raw.rows(sql, params):
            account_id = raw.to_uuid(aid)
            heads[(bucket, account_id)] = Head(bucket, account_id, balance, count, head_hash, owed)
        return heads

    def used_keys(self, pairs: Sequence[tuple[int, str]]) -> set[tuple[int, str]]:
        """Which (bucket, idempotency key) pairs already name a transfer."""
        if not pairs:
            return set()
        raw = dbapi.raw(self.session)
        buckets = sorted({b for b, _ in pairs})
        keys = sorted({k for _, k in pairs})
        wanted = set(pairs)
        in_buckets, p1 = raw.any_of(buckets)
        in_keys, p2 = raw.any_of(keys)
        sql = _KEYS.format(buckets=in_buckets, keys=in_keys)
        return {(b, k) for b, k in raw.rows(sql, [*p1, *p2]) if (b, k) in wanted}

    def write(self, plan: CreditPlan, queued_at: datetime) -> None:
        """Insert the plan's transfers, entries, lots and log-queue rows; move the heads."""
        raw = dbapi.raw(self.session)
        rows: dict[Columns, list[tuple[Any, ...]]] = {
            TRANSFER: [TRANSFER.row(raw, t) for t in plan.transfers],
            ENTRY: [ENTRY.row(raw, e, e.fields) for e in plan.entries],
            LOT: [LOT.row(raw, x) for x in plan.lots],
            QUEUE: [
                QUEUE.row(raw, bucket=e.fields.bucket, entry_id=e.id, queued_at=queued_at)
                for e in plan.entries
            ],
        }
        if plan.uses:  # repayments only: a batch without debt writes no lot use
            rows[LOT_USE] = [LOT_USE.row(raw, u) for u in plan.uses]
        heads = [
            (h.bucket, raw.uuid(h.id), h.balance, h.entry_count, h.head_hash, h.owed)
            for h in plan.heads.values()
        ]
        if raw.postgres:
            self._write_pg(raw, rows, heads)
        else:
            for table, params in rows.items():
                raw.many(table.insert(), params)
            raw.many(
                "UPDATE ledger_account SET balance = ?, entry_count = ?, head_hash = ?, "
                "owed = ? WHERE bucket = ? AND id = ?",
                [(b, c, h, o, bucket, i) for bucket, i, b, c, h, o in heads],
            )
        self.forget(plan.heads.keys())

    def _write_pg(
        self,
        raw: Raw,
        rows: dict[Columns, list[tuple[Any, ...]]],
        heads: list[tuple[Any, ...]],
    ) -> None:
        """Everything in one statement: each CTE inserts one table, the final UPDATE the heads.

        Foreign keys between the CTEs hold: PostgreSQL checks them at the end of the statement.
        The lot-use CTE is there only when a repayment needs it, so the statement a batch
        without debt sends stays one text (prepared once).
        """
        keys = {TRANSFER: "t", ENTRY: "e", LOT: "l", QUEUE: "q", LOT_USE: "u"}
        keys = {table: k for table, k in keys.items() if table in rows}
        ctes = ", ".join(f"{k} AS ({_from_json(table, k)})" for table, k in keys.items())
        sql = (
            f"WITH d AS (SELECT CAST(? AS jsonb) AS j), {ctes} "
            "UPDATE ledger_account AS a SET balance = v.balance, entry_count = v.entry_count, "
            "head_hash = v.head_hash, owed = v.owed "
            "FROM jsonb_populate_recordset(NULL::ledger_account, "
            "(SELECT j->'a' FROM d)) AS v WHERE a.bucket = v.bucket AND a.id = v.id"
        )
        doc = {k: records(table.text, rows[table]) for table, k in keys.items()}
        doc["a"] = records("bucket, id, balance, entry_count, head_hash, owed", heads)
        raw.run(sql, [json.dumps(doc, default=str, ensure_ascii=False)])

    def forget(self, keys: Iterable[tuple[int, uuid.UUID]]) -> None:
        """Expire ORM copies of accounts written here, so the session reads them afresh."""
        imap = self.session.identity_map
        for key in keys:
            obj = imap.get(identity_key(Account, key))
            if obj is not None:
                self.session.expire(obj)
