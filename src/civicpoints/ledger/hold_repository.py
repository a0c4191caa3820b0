"""All SQL of ledger holds."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpoints.kit.clock import as_utc
from civicpoints.ledger.models import Account, Hold, Lot, LotUse, Transfer


class HoldRepository:
    """Reads and locks holds and the lot uses they recorded; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, hold: Hold) -> None:
        """Stage a new hold and write it now (its keys may be read in this transaction)."""
        self.session.add(hold)
        self.session.flush()

    def flush(self) -> None:
        """Write pending changes to the open transaction (no commit)."""
        self.session.flush()

    def by_key(self, bucket: int, key: str) -> Hold | None:
        """The hold placed under an idempotency key."""
        stmt = select(Hold).where(Hold.bucket == bucket, Hold.idempotency_key == key)
        return self.session.scalars(stmt).one_or_none()

    def get(self, bucket: int, hold_id: uuid.UUID, lock: bool = False) -> Hold | None:
        """One hold, optionally locked (read afresh) until the transaction ends."""
        stmt = select(Hold).where(Hold.bucket == bucket, Hold.id == hold_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(stmt).one_or_none()

    def taken_lots(self, bucket: int, entry_id: uuid.UUID) -> list[tuple[Lot, int]]:
        """(lot, points) that a debit entry took, lots locked, earliest expiry first."""
        stmt = (
            select(Lot, LotUse.amount)
            .join(LotUse, (LotUse.bucket == Lot.bucket) & (LotUse.lot_id == Lot.id))
            .where(LotUse.bucket == bucket, LotUse.entry_id == entry_id)
            .order_by(Lot.expires_at, Lot.id)
            .with_for_update(of=Lot)
            .execution_options(populate_existing=True)
        )
        return [(lot, int(amount)) for lot, amount in self.session.execute(stmt).all()]

    def alive(
        self, bucket: int, shares: list[tuple[Lot, int]], now: datetime
    ) -> list[tuple[Lot, int]]:
        """The (lot, points) that may go back into their lot: not past its expiry at `now`, and
        not closed by an expiry run already (whose clock may have been ahead): a lot is never
        revived once expired."""
        closed = self.written_off(bucket, [lot.id for lot, _ in shares])
        return [(x, n) for x, n in shares if as_utc(x.expires_at) > now and x.id not in closed]

    def written_off(self, bucket: int, lot_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these lots an expiry run has already closed (their `expire:<lot>` transfer)."""
        if not lot_ids:
            return set()
        keys = {f"expire:{lot_id}": lot_id for lot_id in lot_ids}
        stmt = select(Transfer.idempotency_key).where(
            Transfer.bucket == bucket, Transfer.idempotency_key.in_(sorted(keys))
        )
        return {keys[key] for key in self.session.scalars(stmt)}

    def stale(self, now: datetime, limit: int) -> Sequence[tuple[int, uuid.UUID]]:
        """(bucket, id) of pending holds whose timeout has passed."""
        stmt = (
            select(Hold.bucket, Hold.id)
            .where(Hold.status == "pending", Hold.timeout_at <= now)
            .order_by(Hold.bucket, Hold.timeout_at)
            .limit(limit)
        )
        return [(b, i) for b, i in self.session.execute(stmt).all()]

    def outstanding(self) -> int:
        """Points residents still own: every wallet balance plus every pending hold."""
        wallets = select(func.coalesce(func.sum(Account.balance), 0)).where(
            Account.kind == "wallet"
        )
        held = select(func.coalesce(func.sum(Hold.amount), 0)).where(Hold.status == "pending")
        return int(self.session.scalar(wallets) or 0) + int(self.session.scalar(held) or 0)
