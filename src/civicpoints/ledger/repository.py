"""All SQL of the ledger."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session, aliased

from civicpoints.kit.months import month_of_instant
from civicpoints.ledger.models import Account, Entry, LedgerMeta, Lot, Transfer

FLOWS = ("issued", "redeemed", "expired", "clawed", "restored")


def _flows() -> tuple[ColumnElement[str | None], Select[Any]]:
    """Transfers by what they do to points in circulation: issued (from an issuance account),
    redeemed (to a redemption sink), expired (to the expiry sink), clawed (out of a wallet to
    the clawback sink or to its debt account: a clawback, a repayment) or restored (from the
    clawback sink back to a wallet); others (holds, debts, forgiving) are left out."""
    debit, credit = aliased(Account), aliased(Account)
    flow: Any = flow_case(debit, credit)  # typed as the columns it is selected with
    stmt = (
        select(flow, func.sum(Transfer.amount))
        .join(debit, (debit.bucket == Transfer.bucket) & (debit.id == Transfer.debit_account_id))
        .join(
            credit, (credit.bucket == Transfer.bucket) & (credit.id == Transfer.credit_account_id)
        )
        .where(flow.is_not(None))
    )
    return flow, stmt


def flow_case(debit: type[Account], credit: type[Account]) -> ColumnElement[str | None]:
    """SQL: the flow of a transfer between the accounts `debit` and `credit` (aliases), or
    NULL for transfers that leave circulation as it is (see `_flows`)."""
    from_clawback = debit.owner == "system:clawback"
    return case(
        (debit.owner.like("system:issuance:%"), "issued"),
        (credit.owner.like("system:redemption:%"), "redeemed"),
        (from_clawback & (credit.kind == "wallet"), "restored"),
        # What a restore sends to expiry had left circulation when it was clawed back.
        (from_clawback, None),
        (credit.owner == "system:expiry", "expired"),
        ((debit.kind == "wallet") & (credit.owner == "system:clawback"), "clawed"),
        ((debit.kind == "wallet") & (credit.kind == "debt"), "clawed"),
        else_=None,
    )


class LedgerRepository:
    """Reads and writes ledger rows; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def meta(self, key: str) -> str | None:
        """A ledger constant, or None."""
        row = self.session.get(LedgerMeta, key)
        return row.value if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a ledger constant (only at creation)."""
        self.session.add(LedgerMeta(key=key, value=value))

    def account(self, bucket: int, account_id: uuid.UUID, lock: bool = False) -> Account | None:
        """An account, optionally locked FOR UPDATE until the transaction ends."""
        stmt = select(Account).where(Account.bucket == bucket, Account.id == account_id)
        if lock:  # and read afresh: the credit path writes accounts beside the ORM
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(stmt).one_or_none()

    def add(self, row: object) -> None:
        """Stage a new row."""
        self.session.add(row)

    def flush(self) -> None:
        """Send staged rows, so constraint violations surface here."""
        self.session.flush()

    def transfer_by_key(self, bucket: int, key: str) -> Transfer | None:
        """The transfer recorded under an idempotency key."""
        stmt = select(Transfer).where(Transfer.bucket == bucket, Transfer.idempotency_key == key)
        return self.session.scalars(stmt).one_or_none()

    def entries_of_transfer(self, bucket: int, transfer_id: uuid.UUID) -> Sequence[Entry]:
        """The two entries of a transfer."""
        stmt = select(Entry).where(Entry.bucket == bucket, Entry.transfer_id == transfer_id)
        return self.session.scalars(stmt).all()

    def entries(
        self, bucket: int, account_id: uuid.UUID, limit: int, before_seq: int | None = None
    ) -> Sequence[Entry]:
        """An account's entries, newest first, before `before_seq` if given."""
        stmt = select(Entry).where(Entry.bucket == bucket, Entry.account_id == account_id)
        if before_seq is not None:
            stmt = stmt.where(Entry.seq < before_seq)
        return self.session.scalars(stmt.order_by(Entry.seq.desc()).limit(limit)).all()

    def open_lots(self, bucket: int, account_id: uuid.UUID, lock: bool = False) -> Sequence[Lot]:
        """Lots with points left, earliest expiry first (the FIFO order of debits)."""
        stmt = (
            select(Lot)
            .where(Lot.bucket == bucket, Lot.account_id == account_id, Lot.remaining > 0)
            .order_by(Lot.expires_at, Lot.id)
        )
        if lock:  # and read afresh: another transaction may have used them since
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(stmt).all()

    def lots(self, bucket: int, account_id: uuid.UUID) -> Sequence[Lot]:
        """Every lot of an account, earliest expiry first."""
        stmt = (
            select(Lot)
            .where(Lot.bucket == bucket, Lot.account_id == account_id)
            .order_by(Lot.expires_at, Lot.id)
        )
        return self.session.scalars(stmt).all()

    def due_lots(self, as_of: datetime, limit: int) -> Sequence[tuple[int, uuid.UUID, uuid.UUID]]:
        """(bucket, account, lot) of lots expired by `as_of` that still hold points."""
        stmt = (
            select(Lot.bucket, Lot.account_id, Lot.id)
            .where(Lot.expires_at <= as_of, Lot.remaining > 0)
            .order_by(Lot.bucket, Lot.account_id, Lot.expires_at)
            .limit(limit)
        )
        return [(b, a, i) for b, a, i in self.session.execute(stmt).all()]

    def count_due_lots(self, as_of: datetime) -> int:
        """How many lots the expiry job has to close."""
        stmt = select(func.count()).where(Lot.expires_at <= as_of, Lot.remaining > 0)
        return int(self.session.scalar(stmt) or 0)

    def lot(self, bucket: int, lot_id: uuid.UUID, lock: bool = False) -> Lot | None:
        """One lot."""
        stmt = select(Lot).where(Lot.bucket == bucket, Lot.id == lot_id)
        if lock:
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        return self.session.scalars(stmt).one_or_none()

    def flows_by_month(self, months: list[date]) -> dict[tuple[str, str], int]:
        """Each flow's points in each Beijing month, by (flow, 'YYYY-MM')."""
        month = month_of_instant(Transfer.occurred_at, months)
        flow, stmt = _flows()
        stmt = stmt.add_columns(month).where(month.is_not(None)).group_by(flow, month)
        return {(str(f), str(m)): int(n or 0) for f, n, m in self.session.execute(stmt).all()}

    def flows_before(self, instant: datetime) -> dict[str, int]:
        """Each flow's points before `instant`."""
        flow, stmt = _flows()
        stmt = stmt.where(Transfer.occurred_at < instant).group_by(flow)
        return {str(f): int(n or 0) for f, n in self.session.execute(stmt).all()}
