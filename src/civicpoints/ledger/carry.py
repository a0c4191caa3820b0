"""Transfers that keep lots: points move between two user accounts with the expiry they have.

A donation to a community pool, an allocation from it, a move into savings and back: points
never gain life by moving (DESIGN.md §5). Each source lot a carry takes becomes one slice: a
transfer from the source to its bucket's transit account (consuming that lot) and one from the
target bucket's transit account to the target, opening a lot with the same expiry (hashed with
the credit entry). The two buckets may differ; the transit accounts of all buckets sum to zero.
A slice may end later than its source lot only under a named rule (`extends`, e.g. the points
bank's "months:24" from when the points were first earned), never beyond it; the `ledger_carry`
row records the rule so `ledger verify` can recompute the expiry. Never commits.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.ids import new_id
from civicpoints.ledger import lifetimes
from civicpoints.ledger.accounts import TRANSIT
from civicpoints.ledger.bulk import AccountSpec
from civicpoints.ledger.errors import IdempotencyConflict, InsufficientPoints, InvalidAmount
from civicpoints.ledger.journal import Movement
from civicpoints.ledger.models import Account, Carry, Entry, Lot

if TYPE_CHECKING:  # the service imports this module
    from civicpoints.ledger.service import LedgerService


@dataclass(frozen=True)
class CarryRequest:
    """Move `move.amount` points from `source` to `target` (owner names), keeping lots.

    `target_kind` names the target account's kind when it is opened ("pool", "wallet",
    "savings"). `extend_months`: slices end `extend_months` after the points were first earned
    when that is later than their own expiry (the points bank); 0 keeps every expiry.
    """

    source: str
    target: str
    target_kind: str
    move: Movement
    extend_months: int = 0
    # An education account (教育积分): every slice ends with the enrolment year it was first
    # earned in, the year ending on this "MM-DD" (a region setting); "" for other carries.
    year_end: str = ""


@dataclass(frozen=True)
class CarriedLot:
    """One slice: points of one source lot, now in the target's lot `lot_id`."""

    lot_id: uuid.UUID
    from_lot_id: uuid.UUID
    amount: int
    earned_at: datetime
    expires_at: datetime
    in_entry_id: uuid.UUID  # the target's credit entry (its receipt)
    out_entry_id: uuid.UUID  # the source's debit entry (its receipt)


@dataclass(frozen=True)
class CarryResult:
    """What a carry moved; `replayed` when an idempotent retry returned the first one."""

    amount: int
    bucket: int
    slices: list[CarriedLot]
    replayed: bool = False


def _digest(source: uuid.UUID, target: uuid.UUID, req: CarryRequest) -> str:
    """What makes two carry requests 'the same' for idempotency."""
    m = req.move
    text = f"carry|{source}|{target}|{m.kind}|{m.amount}|{m.ref}|{req.extend_months}"
    if req.year_end:
        text += f"|{req.year_end}"
    return hashlib.sha256(text.encode()).hexdigest()


class CarryService:
    """Carries inside the caller's transaction."""

    def __init__(self, ledger: LedgerService, session: Session) -> None:
        self.ledger, self.session = ledger, session

    def carry(self, req: CarryRequest) -> CarryResult:
        """Move points keeping their lots (earliest expiry first); all or nothing."""
        if req.move.amount <= 0:
            raise InvalidAmount(amount=req.move.amount)
        src_bucket, src_id = self.ledger.locate(req.source)
        dst_bucket, dst_id = self.ledger.locate(req.target)
        if src_id == dst_id:
            raise InvalidAmount(amount=req.move.amount)
        digest = _digest(src_id, dst_id, req)
        earlier = self._replay(dst_bucket, req.move.idempotency_key, digest)
        if earlier is not None:
            return earlier
        source, target = self._lock(req, (src_bucket, src_id), (dst_bucket, dst_id))
        now = utcnow()
        lots = self.ledger.open_lots(src_bucket, src_id, lock=True) if source else []
        lots = [x for x in lots if as_utc(x.expires_at) > now]
        available = sum(x.remaining for x in lots)
        if source is None or available < req.move.amount:
            raise InsufficientPoints(available=available, needed=req.move.amount)
        out_transit = self.ledger.system(src_bucket, TRANSIT)
        in_transit = self.ledger.system(dst_bucket, TRANSIT)
        slices, left = [], req.move.amount
        for n, lot in enumerate(lots, start=1):
            take = min(lot.remaining, left)
            if take <= 0:
                break
            accounts = (source, out_transit, in_transit, target)
            slices.append(self._slice(req, digest, n, (lot, take), accounts))
            left -= take
        self.session.flush()
        return CarryResult(req.move.amount, dst_bucket, slices)

    def _lock(
        self, req: CarryRequest, src: tuple[int, uuid.UUID], dst: tuple[int, uuid.UUID]
    ) -> tuple[Account | None, Account]:
        """Lock both user accounts in key order (the target opened on first use)."""
        spec = AccountSpec(dst[0], dst[1], req.target, req.target_kind, False)
        locked: dict[tuple[int, uuid.UUID], Account | None] = {}
        for key in sorted([src, dst]):
            if key == dst:
                locked[key] = self.ledger.lock_account(spec)
            else:
                locked[key] = self.ledger.account(key[0], key[1], lock=True)
        target = locked[dst]
        assert target is not None
        return locked[src], target

    def _slice(
        self,
        req: CarryRequest,
        digest: str,
        n: int,
        part: tuple[Lot, int],
        accounts: tuple[Account, Account, Account, Account],
    ) -> CarriedLot:
        """One source lot's part: out to transit, in from transit with the kept expiry."""
        source, out_transit, in_transit, target = accounts
        lot, take = part
        key = req.move.idempotency_key
        earned = self._origin_earned(lot)
        if req.year_end:
            rule = lifetimes.year_end_rule(req.year_end)
            expiry = lifetimes.rule_expiry(rule, as_utc(lot.expires_at), as_utc(earned))
        else:
            expiry = lifetimes.carried_expiry(
                as_utc(lot.expires_at), as_utc(earned), req.extend_months
            )
            rule = f"months:{req.extend_months}" if expiry > as_utc(lot.expires_at) else ""
        out = replace(req.move, amount=take, idempotency_key=f"{key}#{n}:out")
        sent = self.ledger.transfer(source, out_transit, out, lots=[lot])
        inward = replace(req.move, amount=take, idempotency_key=f"{key}#{n}:in")
        got = self.ledger.transfer(in_transit, target, inward, expires_at=expiry)
        opened = self.session.scalars(
            select(Lot).where(Lot.bucket == target.bucket, Lot.entry_id == got.credit_entry_id)
        ).one()
        self.session.add(
            Carry(
                bucket=target.bucket, id=new_id(), idempotency_key=key, slice=n,
                request_hash=digest, account_id=target.id, lot_id=opened.id,
                in_transfer_id=got.transfer_id, from_bucket=source.bucket,
                from_account_id=source.id, from_lot_id=lot.id, out_transfer_id=sent.transfer_id,
                amount=take, earned_at=earned, expires_at=expiry, extends=rule,
            )
        )  # fmt: skip
        return CarriedLot(
            opened.id, lot.id, take, earned, expiry, got.credit_entry_id, sent.debit_entry_id
        )

    def _origin_earned(self, lot: Lot) -> datetime:
        """When the lot's points were first earned: its own earned_at, or (a carried lot) the
        earned_at its carry recorded."""
        earned = self.session.scalar(
            select(Carry.earned_at).where(Carry.bucket == lot.bucket, Carry.lot_id == lot.id)
        )
        return earned if earned is not None else lot.earned_at

    def _out_entry(self, row: Carry) -> uuid.UUID:
        """The source's debit entry of a slice's out-transfer."""
        found = self.session.scalar(
            select(Entry.id).where(
                Entry.bucket == row.from_bucket,
                Entry.transfer_id == row.out_transfer_id,
                Entry.account_id == row.from_account_id,
            )
        )
        assert found is not None
        return found

    def _replay(self, bucket: int, key: str, digest: str) -> CarryResult | None:
        """The first result of a retried carry, or 409 for a different request."""
        rows = self.session.scalars(
            select(Carry)
            .where(Carry.bucket == bucket, Carry.idempotency_key == key)
            .order_by(Carry.slice)
        ).all()
        if not rows:
            return None
        if rows[0].request_hash != digest:
            raise IdempotencyConflict()
        entries = dict(
            self.session.execute(
                select(Lot.id, Lot.entry_id).where(
                    Lot.bucket == bucket, Lot.id.in_([r.lot_id for r in rows])
                )
            ).all()
        )
        slices = [
            CarriedLot(
                r.lot_id,
                r.from_lot_id,
                r.amount,
                r.earned_at,
                r.expires_at,
                entries[r.lot_id],
                self._out_entry(r),
            )
            for r in rows
        ]
        return CarryResult(sum(r.amount for r in rows), bucket, slices, replayed=True)
