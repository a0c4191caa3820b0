"""All SQL of clawbacks and restores."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpoints.ledger.debts import DebtEvent, LotShare
from civicpoints.ledger.models import Clawback, Entry, Lot, LotUse, Restore, Transfer

CLAWBACK_REF = "clawback:"  # the ref of a clawback's debt entry and of its forgiving


class ClawbackRepository:
    """Reads and writes clawback and restore rows and the entries they build on; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage a new row and write it now."""
        self.session.add(row)
        self.session.flush()

    def clawback(self, bucket: int, clawback_id: uuid.UUID) -> Clawback | None:
        """One clawback."""
        return self.session.get(Clawback, (bucket, clawback_id))

    def clawback_by_key(self, bucket: int, key: str) -> Clawback | None:
        """The clawback recorded under an idempotency key."""
        stmt = select(Clawback).where(Clawback.bucket == bucket, Clawback.idempotency_key == key)
        return self.session.scalars(stmt).one_or_none()

    def restore_of(self, bucket: int, clawback_id: uuid.UUID) -> Restore | None:
        """The restore of a clawback, if any."""
        return self.session.get(Restore, (bucket, clawback_id))

    def restore_by_key(self, bucket: int, key: str) -> Restore | None:
        """The restore recorded under an idempotency key."""
        stmt = select(Restore).where(Restore.bucket == bucket, Restore.idempotency_key == key)
        return self.session.scalars(stmt).one_or_none()

    def award_lot(self, bucket: int, wallet: uuid.UUID, transfer_id: uuid.UUID) -> Lot | None:
        """The lot that a transfer's credit to `wallet` opened (locked), None if it opened none."""
        stmt = (
            select(Lot)
            .join(Entry, (Entry.bucket == Lot.bucket) & (Entry.id == Lot.entry_id))
            .where(
                Entry.bucket == bucket,
                Entry.account_id == wallet,
                Entry.transfer_id == transfer_id,
                Lot.account_id == wallet,
            )
            .with_for_update(of=Lot)
            .execution_options(populate_existing=True)
        )
        return self.session.scalars(stmt).one_or_none()

    def clawed(self, bucket: int, award: uuid.UUID) -> tuple[int, int]:
        """(amount, lapsed) summed over the award's clawbacks that were not restored."""
        stmt = (
            select(
                func.coalesce(func.sum(Clawback.amount), 0),
                func.coalesce(func.sum(Clawback.lapsed), 0),
            )
            .outerjoin(
                Restore,
                (Restore.bucket == Clawback.bucket) & (Restore.clawback_id == Clawback.id),
            )
            .where(
                Clawback.bucket == bucket,
                Clawback.award_transfer_id == award,
                Restore.clawback_id.is_(None),
            )
        )
        amount, lapsed = self.session.execute(stmt).one()
        return int(amount), int(lapsed)

    def expired_from(self, bucket: int, lot_id: uuid.UUID) -> int:
        """Points the expiry job wrote off from a lot (its EXPIRE transfer, keyed by the lot)."""
        stmt = select(Transfer.amount).where(
            Transfer.bucket == bucket, Transfer.idempotency_key == f"expire:{lot_id}"
        )
        return int(self.session.scalar(stmt) or 0)

    def lots(self, bucket: int, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Lot]:
        """Lots by id, locked and read afresh."""
        if not ids:
            return {}
        stmt = (
            select(Lot)
            .where(Lot.bucket == bucket, Lot.id.in_(sorted(set(ids))))
            .order_by(Lot.expires_at, Lot.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {lot.id: lot for lot in self.session.scalars(stmt)}

    def debt_events(self, bucket: int, debt: uuid.UUID, wallet: uuid.UUID) -> list[DebtEvent]:
        """A debt account's entries in chain order, each repayment with the lots it took."""
        stmt = (
            select(Entry.kind, Entry.amount, Entry.ref, Entry.transfer_id)
            .where(Entry.bucket == bucket, Entry.account_id == debt)
            .order_by(Entry.seq)
        )
        uses = self.repay_uses(bucket, wallet)
        events = []
        for kind, amount, ref, transfer_id in self.session.execute(stmt).all():
            if kind == "repay":
                events.append(DebtEvent("repay", amount, uses=tuple(uses.get(transfer_id, ()))))
            elif ref.startswith(CLAWBACK_REF):  # a debt (−) or its forgiving (+)
                clawback = uuid.UUID(ref.removeprefix(CLAWBACK_REF))
                events.append(DebtEvent(kind, abs(amount), clawback))
        return events

    def repay_uses(self, bucket: int, wallet: uuid.UUID) -> dict[uuid.UUID, list[LotShare]]:
        """The lots each repayment of a wallet took, by repayment transfer, in the order taken."""
        stmt = (
            select(Entry.transfer_id, LotUse.lot_id, LotUse.amount)
            .join(LotUse, (LotUse.bucket == Entry.bucket) & (LotUse.entry_id == Entry.id))
            .join(Lot, (Lot.bucket == LotUse.bucket) & (Lot.id == LotUse.lot_id))
            .where(Entry.bucket == bucket, Entry.account_id == wallet, Entry.kind == "repay")
            .order_by(Entry.seq, Lot.expires_at, Lot.id)
        )
        out: dict[uuid.UUID, list[LotShare]] = {}
        for transfer_id, lot_id, amount in self.session.execute(stmt).all():
            out.setdefault(transfer_id, []).append((lot_id, int(amount)))
        return out
