"""Clawback and debt on both engines: own lots first, debt for what was spent, repayment by the
next award on both credit paths, restore after an appeal, idempotent repeats, verify passes."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.identity.models import Resident
from civicpoints.kit.clock import as_utc, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.months import recent_months
from civicpoints.kit.settings import Settings
from civicpoints.ledger import (
    AlreadyRestored,
    AwardNotFound,
    ClawbackRequest,
    ClawbackResult,
    ClawbackTooLarge,
    IdempotencyConflict,
    LedgerService,
    Movement,
    Posting,
    RestoreRequest,
    RestoreResult,
    wallet_of,
)
from civicpoints.ledger.holds import HoldRequest, HoldService, Resolution
from civicpoints.ledger.models import Lot
from civicpoints.scoring import points_summary, rules
from civicpoints.scoring.service import AwardRequest, ScoringService
from tests.integration.ledger_checks import assert_books
from tests.integration.test_holds import assert_verifies

WHY = Resolution("兑换 / redeem", "staff:test")


def award(s: Session, owner: str, points: int, days: int, key: str) -> Posting:
    """Credit one lot of `points` valid for `days` from now (through `LedgerService.credit`)."""
    now = utcnow()
    move = Movement("award", points, f"participation:{key}", "志愿服务", "staff:t", now, key)
    return LedgerService(s).credit(owner, move, now + timedelta(days=days))


def spend(s: Session, owner: str, points: int, key: str) -> None:
    """Redeem `points`: a hold, posted."""
    holds = HoldService(s)
    hold = holds.place(
        HoldRequest(owner, points, f"r:{key}", "兑换", "t", key, utcnow() + timedelta(days=1))
    )
    holds.post(hold.bucket, hold.id, WHY)


def claw(s: Session, owner: str, posting: Posting, amount: int, key: str) -> ClawbackResult:
    """Claw back `amount` of an award."""
    req = ClawbackRequest(
        owner,
        posting.transfer_id,
        amount,
        f"review:{key}",
        "照片重复 / reused photo",
        "auditor",
        key,
    )
    return LedgerService(s).claw_back(req)


def restore(s: Session, owner: str, clawback_id: uuid.UUID, key: str) -> RestoreResult:
    """Restore a clawback after an upheld appeal."""
    req = RestoreRequest(owner, clawback_id, f"appeal:{key}", "申诉成立 / upheld", "reviewer", key)
    return LedgerService(s).restore(req)


def lots(s: Session, owner: str) -> list[tuple[int, int, datetime]]:
    """(amount, remaining, expires_at) of each lot, earliest expiry first."""
    return [(x.amount, x.remaining, as_utc(x.expires_at)) for x in LedgerService(s).lots(owner)]


def kinds(s: Session, owner: str) -> list[tuple[str, int]]:
    """(kind, amount) of the wallet's entries, oldest first."""
    return [(e.kind, e.amount) for e in reversed(LedgerService(s).entries(owner, 100))]


def test_clawback_of_an_unspent_award_takes_its_own_lot_first(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The award's own lot goes first, although another lot expires sooner."""
    with transaction(sessions) as s:
        soon = award(s, "wallet:a", 30, 10, "soon")
        mine = award(s, "wallet:a", 50, 300, "mine")
    with transaction(sessions) as s:
        result = claw(s, "wallet:a", mine, 50, "c1")
    assert (result.taken, result.lapsed, result.debt) == (50, 0, 0)
    assert result.debt_transfer_id is None and not result.replayed
    with transaction(sessions) as s:
        assert LedgerService(s).balance("wallet:a") == 30
        assert [(a, r) for a, r, _ in lots(s, "wallet:a")] == [(30, 30), (50, 0)]
        assert LedgerService(s).debt("wallet:a") == 0
        assert kinds(s, "wallet:a")[-1] == ("clawback", -50)
        assert soon.transfer_id != result.take_transfer_id
        assert_books(s)
    assert_verifies(sessions, settings)


def test_partly_spent_award_leaves_a_debt_and_a_zero_balance(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """100 awarded, 90 spent: the 10 left of its lot and the 20 of another lot are taken, 70
    becomes debt; the balance is 0, never below."""
    with transaction(sessions) as s:
        mine = award(s, "wallet:b", 100, 100, "mine")
        award(s, "wallet:b", 20, 300, "other")
        spend(s, "wallet:b", 90, "h1")  # FIFO: all from the award's own lot
    with transaction(sessions) as s:
        result = claw(s, "wallet:b", mine, 100, "c1")
    assert (result.taken, result.lapsed, result.debt, result.amount) == (30, 0, 70, 100)
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        assert ledger.balance("wallet:b") == 0 and ledger.debt("wallet:b") == 70
        assert HoldService(s).available("wallet:b") == 0
        assert_books(s)
    assert_verifies(sessions, settings)


def test_next_awards_repay_first_on_both_credit_paths(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A debt of 70 is repaid by an award_many batch (20 + 20, one wallet twice) and then by a
    credit of 100 (30 of it): each repayment is an entry of its own after its award."""
    resident = uuid.uuid4()
    owner = wallet_of(resident)
    with transaction(sessions) as s:
        mine = award(s, owner, 100, 100, "mine")
        spend(s, owner, 70, "h1")
    with transaction(sessions) as s:
        assert claw(s, owner, mine, 100, "c1").debt == 70
    with transaction(sessions) as s:
        done = ScoringService(s).award_many([session_of(resident, 1), session_of(resident, 2)])
    assert [a.awarded for a in done] == [20, 20]
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        assert ledger.balance(owner) == 0 and ledger.debt(owner) == 30
        assert kinds(s, owner)[-4:] == [
            ("award", 20),
            ("repay", -20),
            ("award", 20),
            ("repay", -20),
        ]
        assert_books(s)
    with transaction(sessions) as s:
        award(s, owner, 100, 200, "later")
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        assert ledger.balance(owner) == 70 and ledger.debt(owner) == 0
        assert kinds(s, owner)[-2:] == [("award", 100), ("repay", -30)]
        assert (100, 70) in [(a, r) for a, r, _ in lots(s, owner)]
        assert_books(s)
    assert_verifies(sessions, settings)


def session_of(resident: uuid.UUID, hour: int) -> AwardRequest:
    """An approved two-hour volunteer session (20 points)."""
    return AwardRequest(
        participation_id=uuid.uuid4(),
        resident_id=resident,
        wallet=wallet_of(resident),
        region_ids=[],
        facts=rules.Facts(rules.Category.VOLUNTEER_SERVICE, 120, False, False),
        occurred_at=utcnow() - timedelta(hours=hour),
        actor="staff:test",
    )


def test_restore_gives_points_back_with_their_expiry_and_forgives_the_debt(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """After an upheld appeal: the lots taken get their points back (same lots, same expiry),
    the 20 repaid from a later award go back to that award's lot, the unpaid 50 is forgiven."""
    with transaction(sessions) as s:
        mine = award(s, "wallet:c", 100, 100, "mine")
        award(s, "wallet:c", 10, 300, "other")
        spend(s, "wallet:c", 70, "h1")
        before = lots(s, "wallet:c")
    with transaction(sessions) as s:
        cut = claw(s, "wallet:c", mine, 100, "c1")
    assert (cut.taken, cut.debt) == (40, 60)
    with transaction(sessions) as s:
        award(s, "wallet:c", 10, 50, "later")  # repays 10 of the 60
    with transaction(sessions) as s:
        back = restore(s, "wallet:c", cut.clawback_id, "a1")
    assert (back.returned, back.expired, back.forgiven, back.repaid) == (50, 0, 50, 10)
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        assert ledger.balance("wallet:c") == 50 and ledger.debt("wallet:c") == 0
        later = [x for x in lots(s, "wallet:c") if x[0] == 10 and x not in before]
        assert [r for _, r, _ in later] == [10]  # the repaid points are back in their own lot
        assert [x for x in lots(s, "wallet:c") if x not in later] == before
        assert kinds(s, "wallet:c")[-1] == ("restore", 50)
        assert_books(s)
    assert_verifies(sessions, settings)


def test_restore_of_points_whose_lot_expired_meanwhile_expires_them(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lot that expired while clawed back does not come back to life: its part expires."""
    with transaction(sessions) as s:
        mine = award(s, "wallet:d", 40, 5, "mine")
        award(s, "wallet:d", 20, 300, "long")
    with transaction(sessions) as s:
        cut = claw(s, "wallet:d", mine, 40, "c1")
    later = utcnow() + timedelta(days=10)
    monkeypatch.setattr("civicpoints.ledger.clawback.utcnow", lambda: later)
    with transaction(sessions) as s:
        back = restore(s, "wallet:d", cut.clawback_id, "a1")
    assert (back.returned, back.expired, back.forgiven) == (0, 40, 0)
    with transaction(sessions) as s:
        assert LedgerService(s).balance("wallet:d") == 20
        assert [(a, r) for a, r, _ in lots(s, "wallet:d")] == [(40, 0), (20, 20)]
        assert_books(s)
    assert_verifies(sessions, settings)


def test_points_of_the_award_that_expired_unspent_are_not_owed(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """An award whose lot expired unspent, written off before the clawback: nothing is owed
    for those points (the same as clawing back before the expiry run took them)."""
    with transaction(sessions) as s:
        now = utcnow()
        move = Movement("award", 40, "participation:x", "t", "t", now - timedelta(days=9), "x")
        mine = LedgerService(s).credit("wallet:e", move, now - timedelta(days=1))
        spend_from_expired = LedgerService(s).expire_due(now)
    assert spend_from_expired.points == 40
    with transaction(sessions) as s:
        result = claw(s, "wallet:e", mine, 40, "c1")
    assert (result.taken, result.lapsed, result.debt) == (0, 40, 0)
    with transaction(sessions) as s:
        assert LedgerService(s).debt("wallet:e") == 0
        assert_books(s)
    assert_verifies(sessions, settings)


def test_repeats_replay_and_mistakes_are_refused(sessions: sessionmaker[Session]) -> None:
    """Same key: the first result, nothing new written; a different request under it: 409;
    more than the award: 409; not an award of this wallet: 404; a second restore: 409."""
    with transaction(sessions) as s:
        mine = award(s, "wallet:f", 50, 100, "mine")
        other = award(s, "wallet:g", 50, 100, "other")
    with transaction(sessions) as s:
        first = claw(s, "wallet:f", mine, 30, "c1")
    with transaction(sessions) as s:
        again = claw(s, "wallet:f", mine, 30, "c1")
        assert again == ClawbackResult(**{**vars(first), "replayed": True})
        assert LedgerService(s).balance("wallet:f") == 20
    with transaction(sessions) as s, pytest.raises(IdempotencyConflict):
        claw(s, "wallet:f", mine, 31, "c1")
    with transaction(sessions) as s, pytest.raises(ClawbackTooLarge):
        claw(s, "wallet:f", mine, 21, "c2")
    with transaction(sessions) as s, pytest.raises(AwardNotFound):
        claw(s, "wallet:f", other, 1, "c3")
    with transaction(sessions) as s:
        back = restore(s, "wallet:f", first.clawback_id, "a1")
    with transaction(sessions) as s:
        assert restore(s, "wallet:f", first.clawback_id, "a1") == RestoreResult(
            **{**vars(back), "replayed": True}
        )
        assert LedgerService(s).balance("wallet:f") == 50
    with transaction(sessions) as s, pytest.raises(AlreadyRestored):
        restore(s, "wallet:f", first.clawback_id, "a2")
    with transaction(sessions) as s:  # restored: the whole award may be clawed back again
        assert claw(s, "wallet:f", mine, 50, "c4").taken == 50
        assert_books(s)


def test_held_points_become_debt_and_a_void_repays_it(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A pending redemption keeps its points (it can still post); they count as spent. Voided
    later, they come back to their lot and repay the debt first."""
    with transaction(sessions) as s:
        mine = award(s, "wallet:h", 50, 100, "mine")
        hold = HoldService(s).place(
            HoldRequest("wallet:h", 30, "r", "兑换", "t", "h1", utcnow() + timedelta(days=1))
        )
    with transaction(sessions) as s:
        assert claw(s, "wallet:h", mine, 50, "c1").debt == 30
    with transaction(sessions) as s:
        HoldService(s).void(hold.bucket, hold.id, WHY)
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        assert ledger.balance("wallet:h") == 0 and ledger.debt("wallet:h") == 0
        assert kinds(s, "wallet:h")[-2:] == [("void", 30), ("repay", -30)]
        assert s.scalars(select(Lot.remaining)).all() == [0]
        assert_books(s)
    assert_verifies(sessions, settings)


def test_the_points_summary_shows_what_is_owed(
    sessions: sessionmaker[Session], ctx: Context, make_resident: Callable[..., Resident]
) -> None:
    """The resident's points summary (GET /me/points, the home page) says what is owed."""
    resident = make_resident()
    owner = wallet_of(resident.id)
    with transaction(sessions) as s:
        mine = award(s, owner, 60, 100, "mine")
        spend(s, owner, 45, "h1")
    with transaction(sessions) as s:
        claw(s, owner, mine, 60, "c1")
    with transaction(sessions) as s:
        summary = points_summary(s, ctx, resident.id, utcnow())
    assert (summary.balance, summary.owed) == (0, 45)


def test_monthly_flows_count_clawbacks_repayments_and_restores(
    sessions: sessionmaker[Session],
) -> None:
    """Outstanding points follow the wallets through a clawback, a repayment and a restore;
    `clawed_back` is what clawbacks and repayments took, less what restores gave back."""
    month = recent_months(local_date(utcnow()), 1)
    with transaction(sessions) as s:
        mine = award(s, "wallet:m", 100, 100, "mine")
        spend(s, "wallet:m", 40, "h1")
    with transaction(sessions) as s:
        cut = claw(s, "wallet:m", mine, 100, "c1")
        award(s, "wallet:m", 20, 100, "later")
        (flows,) = LedgerService(s).flows_by_month(month)
    assert (flows.issued, flows.redeemed, flows.clawed_back, flows.outstanding) == (120, 40, 80, 0)
    with transaction(sessions) as s:
        restore(s, "wallet:m", cut.clawback_id, "a1")
        (flows,) = LedgerService(s).flows_by_month(month)
        assert flows.outstanding == LedgerService(s).balance("wallet:m") == 80
    assert (flows.clawed_back, flows.expired) == (0, 0)


def test_a_lot_closed_by_an_expiry_run_is_never_revived(sessions: sessionmaker[Session]) -> None:
    """An expiry run whose clock ran ahead closed a lot that is, by this clock, still valid:
    a void and a restore send its points to expiry instead of back into it, and the next
    expiry run has nothing to do (it once met its own idempotency key with another amount)."""
    ahead = utcnow() + timedelta(days=10)
    with transaction(sessions) as s:
        mine = award(s, "wallet:k", 40, 5, "mine")
        hold = HoldService(s).place(
            HoldRequest("wallet:k", 20, "r", "兑换", "t", "h1", utcnow() + timedelta(days=1))
        )
        cut = claw(s, "wallet:k", mine, 10, "c1")
    with transaction(sessions) as s:
        assert LedgerService(s).expire_due(ahead).points == 10
    with transaction(sessions) as s:
        voided = HoldService(s).void(hold.bucket, hold.id, WHY)
        back = restore(s, "wallet:k", cut.clawback_id, "a1")
    assert voided.expired_points == 20 and (back.returned, back.expired) == (0, 10)
    with transaction(sessions) as s:
        assert LedgerService(s).expire_due(ahead).points == 0
        assert LedgerService(s).balance("wallet:k") == 0
        assert_books(s)
