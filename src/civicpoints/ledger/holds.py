"""Two-phase transfers (TigerBeetle's pending → post | void) on the points ledger.

A hold moves points from a wallet to the bucket's `hold` system account, taking lots earliest
expiry first (recorded as lot uses of the hold's debit entry). Posting moves them on to the
bucket's redemption sink. Voiding gives the same lots back with their original expiry; parts of
lots that expired meanwhile go to the expiry sink instead. Every step is an ordinary chained
transfer of `LedgerService`, so it is hashed, queued for the Merkle log and verified like any
other, and each touches the single bucket of its wallet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.ids import new_id
from civicpoints.ledger.accounts import EXPIRY
from civicpoints.ledger.errors import HoldNotPending, InsufficientPoints, InvalidAmount
from civicpoints.ledger.hold_repository import HoldRepository
from civicpoints.ledger.models import Hold
from civicpoints.ledger.service import LedgerService, Movement

HOLD = "hold"
REDEMPTION = "redemption"


@dataclass(frozen=True)
class HoldRequest:
    """What to hold: `amount` of `owner`'s points for `ref`, until `timeout_at` at the latest."""

    owner: str
    amount: int
    ref: str
    reason: str
    actor: str
    idempotency_key: str
    timeout_at: datetime
    sink: str = "general"  # which redemption sink a post pays into (e.g. the sponsor)


@dataclass(frozen=True)
class Resolution:
    """Why a hold is posted or voided, and by whom."""

    reason: str
    actor: str


class HoldService:
    """Place, post and void holds inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.ledger = LedgerService(session)
        self.repo = HoldRepository(session)

    def available(self, owner: str, now: datetime | None = None) -> int:
        """Points `owner` can hold now: the unexpired remainders of their lots."""
        now = now or utcnow()
        return sum(x.remaining for x in self.ledger.lots(owner) if as_utc(x.expires_at) > now)

    def place(self, req: HoldRequest) -> Hold:
        """Hold points (pending); a retry with the same key returns the first hold."""
        if req.amount <= 0:
            raise InvalidAmount(amount=req.amount)
        bucket, wallet_id = self.ledger.locate(req.owner)
        earlier = self.repo.by_key(bucket, req.idempotency_key)
        if earlier is not None:
            return earlier
        wallet = self.ledger.account(bucket, wallet_id, lock=True)
        if wallet is None:
            raise InsufficientPoints(available=0, needed=req.amount)
        now = utcnow()
        lots = [
            x
            for x in self.ledger.open_lots(bucket, wallet_id, lock=True)
            if as_utc(x.expires_at) > now
        ]
        available = sum(x.remaining for x in lots)
        if available < req.amount:
            raise InsufficientPoints(available=available, needed=req.amount)
        hold_id = new_id()
        move = Movement("hold", req.amount, req.ref, req.reason, req.actor, now, f"hold:{hold_id}")
        posting = self.ledger.transfer(wallet, self.ledger.system(bucket, HOLD), move, lots=lots)
        hold = Hold(
            bucket=bucket,
            id=hold_id,
            account_id=wallet_id,
            amount=req.amount,
            status="pending",
            sink=req.sink,
            idempotency_key=req.idempotency_key,
            ref=req.ref,
            hold_transfer_id=posting.transfer_id,
            hold_entry_id=posting.debit_entry_id,
            resolve_transfer_id=None,
            expired_transfer_id=None,
            expired_points=0,
            timeout_at=req.timeout_at,
        )
        self.repo.add(hold)
        return hold

    def get(self, bucket: int, hold_id: uuid.UUID) -> Hold | None:
        """One hold."""
        return self.repo.get(bucket, hold_id)

    def post(self, bucket: int, hold_id: uuid.UUID, why: Resolution) -> Hold:
        """Complete a pending hold: its points go to the bucket's redemption sink."""
        hold = self._pending(bucket, hold_id)
        now = utcnow()
        move = Movement(
            "post", hold.amount, hold.ref, why.reason, why.actor, now, f"post:{hold.id}"
        )
        source = self.ledger.system(bucket, HOLD)
        sink = self.ledger.system(bucket, f"{REDEMPTION}:{hold.sink}")
        posting = self.ledger.transfer(source, sink, move)
        return self._resolve(hold, "posted", posting.transfer_id, now)

    def void(self, bucket: int, hold_id: uuid.UUID, why: Resolution) -> Hold:
        """Cancel a pending hold: the same lots come back; parts expired meanwhile expire."""
        hold = self._pending(bucket, hold_id)
        now = utcnow()
        wallet = self.ledger.account(bucket, hold.account_id, lock=True)
        assert wallet is not None  # a hold's wallet exists: the hold debited it
        source = self.ledger.system(bucket, HOLD)
        taken = self.repo.taken_lots(bucket, hold.hold_entry_id)
        live = self.repo.alive(bucket, taken, now)
        dead = sum(n for _, n in taken) - sum(n for _, n in live)
        back = hold.amount - dead
        resolved = None
        if back:
            move = Movement("void", back, hold.ref, why.reason, why.actor, now, f"void:{hold.id}")
            resolved = self.ledger.transfer(source, wallet, move, self.ledger.give_back(live))
        if dead:
            reason = "冻结期间积分到期 / points expired while held"
            move = Movement(
                "expire", dead, hold.ref, reason, why.actor, now, f"void-expire:{hold.id}"
            )
            expired = self.ledger.transfer(source, self.ledger.system(bucket, EXPIRY), move)
            hold.expired_transfer_id, hold.expired_points = expired.transfer_id, dead
        return self._resolve(hold, "voided", resolved.transfer_id if resolved else None, now)

    def void_stale(self, now: datetime, batch: int = 200) -> int:
        """Void pending holds past their timeout (the caller commits between batches)."""
        why = Resolution("冻结超时自动解冻 / hold timed out", "system:ledger.void_stale_holds")
        stale = self.repo.stale(now, batch)
        for bucket, hold_id in stale:
            self.void(bucket, hold_id, why)
        return len(stale)

    def outstanding(self) -> int:
        """Points residents still own, held ones included (the base of the liability)."""
        return self.repo.outstanding()

    # -- internals ---------------------------------------------------------------------

    def _pending(self, bucket: int, hold_id: uuid.UUID) -> Hold:
        """The hold, locked, refusing one already posted or voided."""
        hold = self.repo.get(bucket, hold_id, lock=True)
        if hold is None or hold.status != "pending":
            raise HoldNotPending(status=hold.status if hold else "missing")
        return hold

    def _resolve(
        self, hold: Hold, status: str, transfer_id: uuid.UUID | None, now: datetime
    ) -> Hold:
        """Record how the hold ended."""
        hold.status, hold.resolve_transfer_id, hold.resolved_at = status, transfer_id, now
        self.repo.flush()
        return hold
