"""Clawback and debt: reverse an award, record what cannot be taken as debt, restore on appeal.

A clawback takes back the award's own lot first (whatever remains of it), counts the part of
it that already expired unspent as owed by nobody (`lapsed`), then takes the wallet's other
unexpired lots, earliest expiry first. What is still missing was spent — or is held by a
pending redemption, which may still post — and becomes debt: a `debt` transfer from the
wallet's debt account (which may go negative) to the bucket's clawback sink. Points that come
into a wallet that owes (awards, voided holds, restores) repay first, as `repay` transfers
from the wallet to its debt account. A restore gives back what the clawback took and what was
repaid on its account, to the very lots with their expiry (parts whose lots expired meanwhile
go to the expiry sink), and forgives the rest of its debt. All are ordinary chained transfers.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.ids import new_id
from civicpoints.ledger import chain
from civicpoints.ledger.accounts import CLAWBACK, EXPIRY
from civicpoints.ledger.bulk import debt_spec
from civicpoints.ledger.clawback_repository import CLAWBACK_REF, ClawbackRepository
from civicpoints.ledger.debts import Take, attribute, plan_take
from civicpoints.ledger.errors import (
    AlreadyRestored,
    AwardNotFound,
    ClawbackNotFound,
    ClawbackTooLarge,
    IdempotencyConflict,
    InvalidAmount,
)
from civicpoints.ledger.hold_repository import HoldRepository
from civicpoints.ledger.journal import Movement, Posting, TransferLike, repay_movement
from civicpoints.ledger.models import Account, Clawback, Lot, Restore

if TYPE_CHECKING:  # the service builds on this module; only its type is needed here
    from civicpoints.ledger.service import LedgerService

DEBT_REASON = "追回时积分已用，记为欠分 / already spent when clawed back: owed"
FORGIVE_REASON = "申诉成立，免除欠分 / appeal upheld: debt forgiven"
EXPIRED_REASON = "追回期间积分到期 / points expired while clawed back"


@dataclass(frozen=True)
class ClawbackRequest:
    """Take back `amount` of the award `award_transfer_id` credited to `owner`."""

    owner: str
    award_transfer_id: uuid.UUID
    amount: int
    ref: str
    reason: str
    actor: str
    idempotency_key: str


@dataclass(frozen=True)
class ClawbackResult:
    """What a clawback did: amount = taken + lapsed + debt."""

    clawback_id: uuid.UUID
    bucket: int
    amount: int
    taken: int
    lapsed: int
    debt: int
    take_transfer_id: uuid.UUID | None
    debt_transfer_id: uuid.UUID | None
    replayed: bool


@dataclass(frozen=True)
class RestoreRequest:
    """Undo the clawback `clawback_id` of `owner`'s wallet (an upheld appeal)."""

    owner: str
    clawback_id: uuid.UUID
    ref: str
    reason: str
    actor: str
    idempotency_key: str


@dataclass(frozen=True)
class RestoreResult:
    """What a restore did: returned + expired = taken + repaid; forgiven = debt − repaid."""

    clawback_id: uuid.UUID
    bucket: int
    returned: int
    expired: int
    forgiven: int
    repaid: int
    back_transfer_id: uuid.UUID | None
    expire_transfer_id: uuid.UUID | None
    forgive_transfer_id: uuid.UUID | None
    replayed: bool


class ClawbackService:
    """Clawbacks, repayments and restores on a LedgerService, in the caller's transaction."""

    def __init__(self, ledger: LedgerService, session: Session) -> None:
        self.ledger = ledger
        self.repo = ClawbackRepository(session)
        self.holds = HoldRepository(session)

    def debt(self, owner: str) -> int:
        """Points `owner` still owes (the negated balance of their debt account)."""
        bucket, wallet_id = self.ledger.locate(owner)
        account = self.ledger.account(bucket, chain.debt_account_for(wallet_id))
        return -account.balance if account else 0

    def claw_back(self, req: ClawbackRequest) -> ClawbackResult:
        """Take back (part of) an award; idempotent by key."""
        if req.amount <= 0:
            raise InvalidAmount(amount=req.amount)
        bucket, wallet_id = self.ledger.locate(req.owner)
        wallet = self.ledger.account(bucket, wallet_id, lock=True)  # first, like every writer
        if wallet is None:
            raise AwardNotFound()
        digest = _digest(wallet_id, req.award_transfer_id, f"{req.amount}|{req.ref}")
        earlier = self.repo.clawback_by_key(bucket, req.idempotency_key)
        if earlier is not None:
            if earlier.request_hash != digest:
                raise IdempotencyConflict()
            return _clawback_result(earlier, replayed=True)
        own = self.repo.award_lot(bucket, wallet_id, req.award_transfer_id)
        if own is None:
            raise AwardNotFound()
        take, lots = self._plan(wallet, own, req)
        row = self._record(wallet, req, take, lots)
        row.request_hash = digest
        self.repo.add(row)
        return _clawback_result(row, replayed=False)

    def _plan(self, wallet: Account, own: Lot, req: ClawbackRequest) -> tuple[Take, list[Lot]]:
        """What to take from which lots (own first), and what had lapsed; refuses too much."""
        clawed, lapsed_before = self.repo.clawed(wallet.bucket, req.award_transfer_id)
        if clawed + req.amount > own.amount:
            raise ClawbackTooLarge(amount=req.amount, left=own.amount - clawed)
        now = utcnow()
        others = [
            x
            for x in self.ledger.open_lots(wallet.bucket, wallet.id, lock=True)
            if x.id != own.id and as_utc(x.expires_at) > now
        ]
        lapsable = self.repo.expired_from(wallet.bucket, own.id) - lapsed_before
        take = plan_take(
            req.amount, (own.id, own.remaining), lapsable, [(x.id, x.remaining) for x in others]
        )
        by_id = {x.id: x for x in [own, *others]}
        return take, [by_id[lot_id] for lot_id, _ in take.uses]

    def _record(
        self, wallet: Account, req: ClawbackRequest, take: Take, lots: list[Lot]
    ) -> Clawback:
        """Write the clawback's transfers; the row that indexes them."""
        bucket, cid, now = wallet.bucket, new_id(), utcnow()
        sink = self.ledger.system(bucket, CLAWBACK)
        took = owed = None
        if take.taken:
            move = Movement(
                "clawback", take.taken, req.ref, req.reason, req.actor, now, f"clawback:{cid}"
            )
            took = self.ledger.transfer(wallet, sink, move, lots=lots)
        if take.debt:
            ref, key = f"{CLAWBACK_REF}{cid}", f"debt:{cid}"
            move = Movement("debt", take.debt, ref, DEBT_REASON, req.actor, now, key)
            owed = self.ledger.transfer(self._debt_account(wallet), sink, move)
            wallet.owed += take.debt
        return Clawback(
            bucket=bucket,
            id=cid,
            account_id=wallet.id,
            award_transfer_id=req.award_transfer_id,
            amount=req.amount,
            taken=take.taken,
            lapsed=take.lapsed,
            debt=take.debt,
            take_transfer_id=took.transfer_id if took else None,
            take_entry_id=took.debit_entry_id if took else None,
            debt_transfer_id=owed.transfer_id if owed else None,
            idempotency_key=req.idempotency_key,
            request_hash="",
            ref=req.ref,
            reason=req.reason,
            actor=req.actor,
            created_at=now,
        )

    def repay(self, wallet: Account, credit: TransferLike, amount: int) -> None:
        """Pay a locked wallet's debt out of the `amount` a credit just brought in."""
        now = utcnow()
        # Its unexpired lots: while it owes, a wallet holds no others (a clawback took them).
        lots = [
            x
            for x in self.ledger.open_lots(wallet.bucket, wallet.id, lock=True)
            if as_utc(x.expires_at) > now
        ]
        move = repay_movement(wallet.owed, credit, min(amount, sum(x.remaining for x in lots)), now)
        if move.amount > 0:
            self.ledger.transfer(wallet, self._debt_account(wallet), move, lots=lots)
            wallet.owed -= move.amount

    def restore(self, req: RestoreRequest) -> RestoreResult:
        """Give back what a clawback took and what was repaid on it; forgive the rest."""
        bucket, wallet_id = self.ledger.locate(req.owner)
        wallet = self.ledger.account(bucket, wallet_id, lock=True)
        clawback = self.repo.clawback(bucket, req.clawback_id)
        if wallet is None or clawback is None or clawback.account_id != wallet_id:
            raise ClawbackNotFound()
        digest = _digest(wallet_id, clawback.id, f"restore|{req.ref}")
        done = self.repo.restore_of(bucket, clawback.id)
        if done is not None:
            if done.idempotency_key != req.idempotency_key or done.request_hash != digest:
                raise AlreadyRestored()
            return _restore_result(done, replayed=True)
        if self.repo.restore_by_key(bucket, req.idempotency_key) is not None:
            raise IdempotencyConflict()
        row = self._give_back(wallet, clawback, req)
        row.request_hash = digest
        self.repo.add(row)
        return _restore_result(row, replayed=False)

    def _give_back(self, wallet: Account, clawback: Clawback, req: RestoreRequest) -> Restore:
        """Write the restore's transfers: forgive first, so the points given back repay only
        other clawbacks' debts."""
        bucket, now = wallet.bucket, utcnow()
        portions, unpaid, repaid = self._portions(wallet, clawback)
        live = self.holds.alive(bucket, portions, now)
        returned = sum(n for _, n in live)
        expired = sum(n for _, n in portions) - returned
        sink = self.ledger.system(bucket, CLAWBACK)
        forgive = lapse = back = None
        if unpaid:
            ref = f"{CLAWBACK_REF}{clawback.id}"
            move = Movement(
                "forgive", unpaid, ref, FORGIVE_REASON, req.actor, now, f"forgive:{clawback.id}"
            )
            forgive = self.ledger.transfer(sink, self._debt_account(wallet), move)
            wallet.owed -= unpaid
        if expired:
            key = f"restore-expire:{clawback.id}"
            move = Movement("expire", expired, req.ref, EXPIRED_REASON, req.actor, now, key)
            lapse = self.ledger.transfer(sink, self.ledger.system(bucket, EXPIRY), move)
        if returned:
            key = f"restore:{clawback.id}"
            move = Movement("restore", returned, req.ref, req.reason, req.actor, now, key)
            back = self.ledger.transfer(sink, wallet, move, self.ledger.give_back(live))
        return Restore(
            bucket=bucket,
            clawback_id=clawback.id,
            returned=returned,
            expired=expired,
            forgiven=unpaid,
            repaid=repaid,
            back_transfer_id=_id(back),
            expire_transfer_id=_id(lapse),
            forgive_transfer_id=_id(forgive),
            idempotency_key=req.idempotency_key,
            request_hash="",
            ref=req.ref,
            reason=req.reason,
            actor=req.actor,
            created_at=now,
        )

    def _portions(
        self, wallet: Account, clawback: Clawback
    ) -> tuple[list[tuple[Lot, int]], int, int]:
        """(lot, points) to give back — taken, then repaid on this clawback's account, all
        locked — with its debt still unpaid and the debt already repaid."""
        bucket = wallet.bucket
        entry = clawback.take_entry_id
        taken = self.holds.taken_lots(bucket, entry) if entry else []
        debt_id = chain.debt_account_for(wallet.id)
        shares = attribute(self.repo.debt_events(bucket, debt_id, wallet.id))
        repaid = shares.repaid.get(clawback.id, [])
        lots = self.repo.lots(bucket, [lot_id for lot_id, _ in repaid])
        portions = taken + [(lots[lot_id], n) for lot_id, n in repaid]
        return portions, shares.unpaid.get(clawback.id, 0), sum(n for _, n in repaid)

    def _debt_account(self, wallet: Account) -> Account:
        """The wallet's debt account, locked (opened on first use)."""
        return self.ledger.lock_account(debt_spec(wallet.bucket, wallet.id, wallet.owner))


def _digest(wallet: uuid.UUID, subject: uuid.UUID, rest: str) -> str:
    """What makes two clawback (or restore) requests 'the same' for idempotency."""
    return hashlib.sha256(f"{wallet}|{subject}|{rest}".encode()).hexdigest()


def _id(posting: Posting | None) -> uuid.UUID | None:
    """A posting's transfer id, if there is one."""
    return posting.transfer_id if posting else None


def _clawback_result(row: Clawback, replayed: bool) -> ClawbackResult:
    """The result a clawback row records."""
    return ClawbackResult(
        row.id,
        row.bucket,
        row.amount,
        row.taken,
        row.lapsed,
        row.debt,
        row.take_transfer_id,
        row.debt_transfer_id,
        replayed,
    )


def _restore_result(row: Restore, replayed: bool) -> RestoreResult:
    """The result a restore row records."""
    return RestoreResult(
        row.clawback_id,
        row.bucket,
        row.returned,
        row.expired,
        row.forgiven,
        row.repaid,
        row.back_transfer_id,
        row.expire_transfer_id,
        row.forgive_transfer_id,
        replayed,
    )
