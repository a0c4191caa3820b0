"""One worker's ledger writer: transfers, their two chained entries (`chain.entry_hash`), lots,
lot uses and log-queue rows, shaped exactly as `LedgerService.transfer` and `credit_many`
write them; and the heads of the system accounts the worker's buckets touched."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from civicpoints.ledger import chain

Rows = dict[str, list[tuple]]


@dataclass
class Head:
    """An account's chain state while generating."""

    balance: int = 0
    count: int = 0
    head: str = chain.GENESIS


Side = tuple[uuid.UUID, Head]  # an account's id and its head


def system_id(bucket: int, name: str) -> uuid.UUID:
    """The per-bucket system account `name`, as `ledger.service._system_id` names it."""
    return uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"system:{name}#{bucket}")


class Books:
    """Writes ledger rows into `out` (set per community), recorded at `now`."""

    def __init__(self, new_id: Callable[[], uuid.UUID]) -> None:
        self.new_id = new_id
        self.system: dict[tuple[int, str], Side] = {}
        self.out: Rows = {}
        self.now = datetime.min

    def account(self, bucket: int, name: str) -> Side:
        """A system account of `bucket` (opened on first use, as `LedgerService.system`)."""
        key = (bucket, name)
        found = self.system.get(key)
        if found is None:
            found = self.system[key] = (system_id(bucket, name), Head())
        return found

    def transfer(
        self,
        bucket: int,
        kind: str,
        amount: int,
        debit: Side,
        credit: Side,
        what: tuple[str, str, str, datetime, str],
        expires: datetime | None = None,
        tid: uuid.UUID | None = None,
    ) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        """One transfer (ref, reason, actor, occurred in UTC, idempotency key: `what`) and its
        two entries; returns (transfer, debit entry, credit entry) ids."""
        ref, reason, actor, occurred, key = what
        tid = tid or self.new_id()
        (debit_id, debit_head), (credit_id, credit_head) = debit, credit
        text = f"{debit_id}|{credit_id}|{kind}|{amount}|{ref}"  # journal.request_hash
        self.out["ledger_transfer"].append((
            bucket, tid, kind, amount, debit_id, credit_id, key,
            hashlib.sha256(text.encode()).hexdigest(), ref, reason, actor, occurred, self.now,
        ))  # fmt: skip
        common = (tid, kind, ref, reason, actor, occurred)
        d = self.entry(bucket, debit_id, debit_head, -amount, credit_id, common, None)
        c = self.entry(bucket, credit_id, credit_head, amount, debit_id, common, expires)
        return tid, d, c

    def entry(
        self,
        bucket: int,
        account: uuid.UUID,
        head: Head,
        amount: int,
        other: uuid.UUID,
        common: tuple,
        expires: datetime | None,
    ) -> uuid.UUID:
        """One chained entry (`chain.entry_hash`) and its log-queue row."""
        tid, kind, ref, reason, actor, occurred = common
        recorded = self.now
        fields = chain.EntryFields(
            bucket=bucket, account_id=account, seq=head.count + 1, transfer_id=tid,
            kind=kind, amount=amount, balance_after=head.balance + amount,
            counterparty_id=other, ref=ref, reason=reason, actor=actor, occurred_at=occurred,
            recorded_at=recorded, prev_hash=head.head, expires_at=expires,
        )  # fmt: skip
        eid, digest = self.new_id(), chain.entry_hash(fields)
        self.out["ledger_entry"].append((
            bucket, eid, account, fields.seq, tid, kind, amount, fields.balance_after, other,
            ref, reason, actor, occurred, recorded, head.head, digest, expires,
        ))  # fmt: skip
        self.out["ledger_log_queue"].append((bucket, eid, recorded))
        head.balance, head.count, head.head = fields.balance_after, fields.seq, digest
        return eid

    def use(self, bucket: int, lot_id: uuid.UUID, entry_id: uuid.UUID, points: int) -> None:
        """A `ledger_lot_use`: `entry_id` took `points` from the lot."""
        self.out["ledger_lot_use"].append((bucket, self.new_id(), lot_id, entry_id, points))
