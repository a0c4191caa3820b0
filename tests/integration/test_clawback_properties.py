"""Hypothesis drives random awards, redemptions, holds, voids, clawbacks, restores and expiry
runs through the ledger on both engines; after every step the books hold (assert_books), and
at the end `ledger verify` finds nothing.

Beyond the books: no wallet, lot or debt below zero; a wallet that owes holds no unexpired
points (clawbacks take them all, credits repay first); each clawback adds up; a restored
clawback's debt is gone from the debt account's share of it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import (
    ClawbackRequest,
    InsufficientPoints,
    LedgerService,
    Movement,
    RestoreRequest,
)
from civicpoints.ledger.holds import HoldRequest, HoldService, Resolution
from civicpoints.ledger.models import Clawback
from tests.integration.ledger_checks import assert_books
from tests.integration.test_holds import assert_verifies

WHO = st.integers(0, 1)
AWARD = st.tuples(st.just("award"), WHO, st.integers(1, 80), st.integers(-3, 40))
SPEND = st.tuples(st.just("spend"), WHO, st.integers(1, 40), st.just(0))
WANT = st.one_of(st.just(100), st.integers(1, 100))  # 100: the whole award (awards are ≤ 80)
CLAW = st.tuples(st.just("claw"), st.integers(0, 9), WANT, st.just(0))
RESTORE = st.tuples(st.just("restore"), st.integers(0, 9), st.just(0), st.just(0))
# Awards, redemptions and a clawback first; then every operation, clawbacks and restores
# weighted up (one_of picks a branch uniformly), so most examples owe, repay and restore.
ops = st.tuples(
    st.lists(AWARD, min_size=1, max_size=3),
    st.lists(SPEND, max_size=2).map(lambda spends: [*spends, ("claw", 0, 100, 0)]),
    st.lists(
        st.one_of(
            AWARD,
            SPEND,
            st.tuples(st.just("hold"), WHO, st.integers(1, 60), st.just(0)),
            st.tuples(st.just("void"), st.integers(0, 9), st.just(0), st.just(0)),
            CLAW,
            CLAW,
            RESTORE,
            RESTORE,
            st.tuples(st.just("expire"), st.just(0), st.just(0), st.integers(0, 30)),
        ),
        min_size=2,
        max_size=14,
    ),
).map(lambda parts: parts[0] + parts[1] + parts[2])
WHY = Resolution("测试 / test", "t")


def seen(what: str) -> None:
    """Count an event for `--hypothesis-show-statistics` (outside hypothesis: nothing)."""
    if currently_in_test_context():
        event(what)


class World:
    """One example's wallets and what happened to them so far."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.owners = [f"wallet:{tag}:{i}" for i in range(2)]
        self.awards: list[tuple[str, uuid.UUID, int]] = []  # (owner, transfer, amount)
        self.holds: list[tuple[int, uuid.UUID]] = []
        self.clawbacks: list[tuple[str, uuid.UUID]] = []
        self.n = 0

    def key(self) -> str:
        """A fresh idempotency key."""
        self.n += 1
        return f"{self.owners[0]}:{self.n}"

    def step(self, s: Session, op: str, a: int, b: int, c: int) -> None:
        """Apply one operation; refusals the domain makes (not enough points) are fine."""
        ledger, now = LedgerService(s), utcnow()
        if op == "award":
            owner, key = self.owners[a], self.key()
            move = Movement("award", b, f"participation:{key}", "t", "t", now, key)
            posting = ledger.credit(owner, move, now + timedelta(days=c))
            self.awards.append((owner, posting.transfer_id, b))
        elif op in ("spend", "hold"):
            self.hold(s, self.owners[a], b, post=op == "spend")
        elif op == "void" and self.holds:
            bucket, hold_id = self.holds.pop(a % len(self.holds))
            HoldService(s).void(bucket, hold_id, WHY)
        elif op == "claw" and self.awards:
            self.claw(s, *self.awards[a % len(self.awards)], b)
        elif op == "restore" and self.clawbacks:
            owner, cid = self.clawbacks.pop(a % len(self.clawbacks))
            back = ledger.restore(RestoreRequest(owner, cid, "appeal", "upheld", "t", self.key()))
            seen("restore gave back repaid points" if back.repaid else "restore")
        elif op == "expire":
            ledger.expire_due(now + timedelta(days=c))

    def hold(self, s: Session, owner: str, amount: int, post: bool) -> None:
        """Place a hold if the points are there; post it at once for a redemption."""
        holds = HoldService(s)
        if holds.available(owner) < amount:
            return
        req = HoldRequest(owner, amount, "r", "兑换", "t", self.key(), utcnow() + timedelta(days=1))
        hold = holds.place(req)
        if post:
            holds.post(hold.bucket, hold.id, WHY)
        else:
            self.holds.append((hold.bucket, hold.id))

    def claw(self, s: Session, owner: str, award: uuid.UUID, amount: int, want: int) -> None:
        """Claw back up to `want` of an award (what is left of it)."""
        rows = s.scalars(select(Clawback).where(Clawback.award_transfer_id == award)).all()
        standing = {cid for _, cid in self.clawbacks}  # not restored
        left = amount - sum(r.amount for r in rows if r.id in standing)
        if left <= 0:
            return
        req = ClawbackRequest(owner, award, min(want, left), "review", "fraud", "t", self.key())
        result = LedgerService(s).claw_back(req)
        assert result.taken + result.lapsed + result.debt == result.amount
        seen("clawback left a debt" if result.debt else "clawback without debt")
        self.clawbacks.append((owner, result.clawback_id))

    def check(self, s: Session) -> None:
        """The invariants beyond the books."""
        ledger, now = LedgerService(s), utcnow()
        for owner in self.owners:
            debt, lots = ledger.debt(owner), ledger.lots(owner)
            assert debt >= 0 and ledger.balance(owner) >= 0
            assert all(0 <= x.remaining <= x.amount for x in lots)
            if debt:
                assert sum(x.remaining for x in lots if as_utc(x.expires_at) > now) == 0


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=ops)
def test_books_hold_for_any_sequence(
    sessions: sessionmaker[Session], ops: list[tuple[str, int, int, int]]
) -> None:
    """Any mix of the operations keeps every invariant, step after step."""
    world = World()
    for op in ops:
        with transaction(sessions) as s:
            try:
                world.step(s, *op)
            except InsufficientPoints:
                continue
        with transaction(sessions) as s:
            world.check(s)
            assert_books(s)


def test_the_ledger_verifies_after_a_long_sequence(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A fixed long sequence touching every operation, then `ledger verify`."""
    world = World()
    plan = [
        ("award", 0, 80, 40), ("award", 0, 30, 2), ("spend", 0, 70, 0), ("hold", 0, 20, 0),
        ("claw", 0, 80, 0), ("award", 0, 25, 30), ("award", 1, 40, 40), ("claw", 2, 40, 0),
        ("void", 0, 0, 0), ("expire", 0, 0, 5), ("award", 0, 60, 30), ("restore", 0, 0, 0),
        ("claw", 3, 10, 0), ("spend", 0, 5, 0), ("restore", 0, 0, 0), ("expire", 0, 0, 35),
    ]  # fmt: skip
    for op in plan:
        with transaction(sessions) as s:
            world.step(s, *op)
        with transaction(sessions) as s:
            world.check(s)
    with transaction(sessions) as s:
        assert_books(s)
        assert s.scalars(select(Clawback)).all()
    assert_verifies(sessions, settings)
