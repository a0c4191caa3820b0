"""Two-phase holds on the ledger: pending → posted | voided, same lots back, timeout, verify."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import holds as holds_module
from civicpoints.ledger.errors import HoldNotPending, InsufficientPoints
from civicpoints.ledger.holds import HoldRequest, HoldService, Resolution
from civicpoints.ledger.keys import generate_signer
from civicpoints.ledger.models import Hold, Lot, LotUse
from civicpoints.ledger.service import LedgerService, Movement
from civicpoints.ledger.tasks import sequence_once
from civicpoints.ledger.verify import verify_ledger
from tests.integration.test_scale_shape import touched_buckets

WHY = Resolution("测试 / test", "staff:test")


def fund(sessions: sessionmaker[Session], owner: str, lots: list[tuple[int, int]]) -> None:
    """Credit `owner` one lot per (points, days valid from now)."""
    now = utcnow()
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        for i, (points, days) in enumerate(lots):
            move = Movement("award", points, f"r{i}", "t", "t", now, f"{owner}:{i}")
            ledger.credit(owner, move, now + timedelta(days=days))


def place(s: Session, owner: str, amount: int, key: str, sink: str = "city") -> Hold:
    """Hold `amount` of `owner`'s points for a day."""
    req = HoldRequest(
        owner, amount, f"test:{key}", "兑换 / redeem", "t", key, utcnow() + timedelta(days=1), sink
    )
    return HoldService(s).place(req)


def remainders(s: Session, owner: str) -> list[tuple[int, datetime]]:
    """(remaining, expires_at) of each lot, earliest expiry first."""
    return [(x.remaining, x.expires_at) for x in LedgerService(s).lots(owner)]


def assert_verifies(sessions: sessionmaker[Session], settings: Settings) -> None:
    """`ledger verify` finds nothing wrong after a sequencer pass."""
    signer = generate_signer(settings.ledger_origin)
    sequence_once(sessions, signer, settings.ledger_origin)
    with sessions() as s:
        report = verify_ledger(s, [signer.verifier])
    assert report.ok, [str(f) for f in report.faults]


def test_hold_then_post_takes_earliest_expiry_first(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """60 of (30 due in 10 days, 50 in 300, 40 in 100): the 10- and 100-day lots go first."""
    fund(sessions, "wallet:w", [(30, 10), (50, 300), (40, 100)])
    with transaction(sessions) as s:
        hold = place(s, "wallet:w", 60, "k1")
        assert LedgerService(s).balance("wallet:w") == 60
        assert [r for r, _ in remainders(s, "wallet:w")] == [0, 10, 50]
        assert HoldService(s).available("wallet:w") == 60
    with transaction(sessions) as s:
        posted = HoldService(s).post(hold.bucket, hold.id, WHY)
        assert posted.status == "posted"
        assert LedgerService(s).balance("system:redemption:city") == 0  # not a user account
        sink = LedgerService(s).system(hold.bucket, "redemption:city")
        assert sink.balance == 60
        assert LedgerService(s).system(hold.bucket, "hold").balance == 0
    with transaction(sessions) as s, pytest.raises(HoldNotPending):
        HoldService(s).void(hold.bucket, hold.id, WHY)
    assert_verifies(sessions, settings)


def test_void_returns_the_same_lots_with_their_expiry(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """After a void every lot is back as it was; the lot uses net to zero."""
    fund(sessions, "wallet:v", [(30, 10), (50, 300)])
    with transaction(sessions) as s:
        before = remainders(s, "wallet:v")
        hold = place(s, "wallet:v", 45, "k2")
    with transaction(sessions) as s:
        voided = HoldService(s).void(hold.bucket, hold.id, WHY)
        assert voided.status == "voided" and voided.expired_points == 0
        assert remainders(s, "wallet:v") == before
        assert LedgerService(s).balance("wallet:v") == 80
        uses = s.scalars(select(LotUse.amount)).all()
        assert sorted(uses) == [-30, -15, 15, 30]
    with transaction(sessions) as s, pytest.raises(HoldNotPending):
        HoldService(s).post(hold.bucket, hold.id, WHY)
    assert_verifies(sessions, settings)


def test_void_after_a_lot_expired_sends_that_part_to_the_expiry_sink(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A held part of a lot that expired while held is expired, not returned."""
    fund(sessions, "wallet:x", [(30, 10), (50, 300)])
    with transaction(sessions) as s:
        hold = place(s, "wallet:x", 40, "k3")
    later = utcnow() + timedelta(days=20)
    monkeypatch.setattr(holds_module, "utcnow", lambda: later)
    with transaction(sessions) as s:
        voided = HoldService(s).void(hold.bucket, hold.id, WHY)
        assert voided.expired_points == 30
        assert [r for r, _ in remainders(s, "wallet:x")] == [0, 50]
        assert LedgerService(s).balance("wallet:x") == 50
        assert LedgerService(s).system(hold.bucket, "expiry").balance == 30
    assert_verifies(sessions, settings)


def test_expired_lots_cannot_be_held_and_nothing_changes(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Points past their expiry (not yet written off) are not available."""
    fund(sessions, "wallet:y", [(30, 10), (50, 300)])
    monkeypatch.setattr(holds_module, "utcnow", lambda: utcnow() + timedelta(days=20))
    with transaction(sessions) as s, pytest.raises(InsufficientPoints) as caught:
        place(s, "wallet:y", 60, "k4")
    assert caught.value.message("en") == "insufficient points: 50 available, 60 needed"
    with transaction(sessions) as s:
        assert [r for r, _ in remainders(s, "wallet:y")] == [30, 50]
        assert s.scalars(select(Hold)).all() == []


def test_retry_returns_the_first_hold(sessions: sessionmaker[Session]) -> None:
    """The same key holds once."""
    fund(sessions, "wallet:r", [(100, 30)])
    with transaction(sessions) as s:
        first = place(s, "wallet:r", 20, "same")
        again = place(s, "wallet:r", 20, "same")
        assert again.id == first.id
        assert LedgerService(s).balance("wallet:r") == 80


def test_stale_holds_are_voided_by_the_job(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its timeout a pending hold is voided and its points come back."""
    fund(sessions, "wallet:t", [(100, 300)])
    with transaction(sessions) as s:
        hold = place(s, "wallet:t", 20, "k5")
    with transaction(sessions) as s:
        assert HoldService(s).void_stale(utcnow()) == 0
    with transaction(sessions) as s:
        assert HoldService(s).void_stale(utcnow() + timedelta(days=2)) == 1
    with transaction(sessions) as s:
        stored = HoldService(s).get(hold.bucket, hold.id)
        assert stored is not None and stored.status == "voided"
        assert LedgerService(s).balance("wallet:t") == 100


def test_hold_post_and_void_each_touch_one_bucket(sessions: sessionmaker[Session]) -> None:
    """Citus shape: every row a hold, a post or a void writes is in the wallet's bucket."""
    fund(sessions, "wallet:shape-a", [(100, 300)])
    fund(sessions, "wallet:shape-b", [(100, 300)])
    seen: dict[str, Hold] = {}

    def hold(owner: str, key: str) -> Callable[[Session], object]:
        return lambda s: seen.setdefault(key, place(s, owner, 10, key))

    for key, owner in (("p", "wallet:shape-a"), ("v", "wallet:shape-b")):
        assert len(touched_buckets(sessions, hold(owner, key))) == 1
    p, v = seen["p"], seen["v"]
    assert touched_buckets(sessions, lambda s: HoldService(s).post(p.bucket, p.id, WHY)) == {
        p.bucket
    }
    assert touched_buckets(sessions, lambda s: HoldService(s).void(v.bucket, v.id, WHY)) == {
        v.bucket
    }


def test_outstanding_counts_wallets_and_pending_holds(sessions: sessionmaker[Session]) -> None:
    """The liability base: points in wallets plus points held, not points posted."""
    fund(sessions, "wallet:o1", [(100, 300)])
    fund(sessions, "wallet:o2", [(50, 300)])
    with transaction(sessions) as s:
        h1 = place(s, "wallet:o1", 30, "o1")
        place(s, "wallet:o2", 20, "o2")
        HoldService(s).post(h1.bucket, h1.id, WHY)
    with transaction(sessions) as s:
        assert HoldService(s).outstanding() == 120
        # 70 left in o1's lots, 30 in o2's: the 20 held are out of the lots until voided.
        lots = s.scalars(select(Lot)).all()
        assert sorted((x.amount, x.remaining) for x in lots) == [(50, 30), (100, 70)]
