"""Clawbacks racing redemptions, expiry runs and awards on PostgreSQL: real threads, commits.

Every racer locks the wallet before its lots (the expiry run too), so they queue instead of
deadlocking, and each sees the others' committed work. Whatever order they run in, nothing goes
negative, nothing is lost (every point is in a wallet, a sink or owed), each operation happens
once, and the outcome for the resident is the same given whether the redemption got through.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import InsufficientPoints, LedgerService, Posting, wallet_of
from civicpoints.ledger.holds import HoldRequest, HoldService, Resolution
from civicpoints.ledger.models import Clawback, Hold, Lot, Transfer
from civicpoints.scoring.service import ScoringService
from tests.integration.ledger_checks import assert_books
from tests.integration.test_clawback import award, claw, session_of, spend
from tests.integration.test_concurrency import race
from tests.integration.test_holds import assert_verifies

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
ROUNDS = 16


def jitter(rng: random.Random) -> None:
    """Up to 20 ms at random, so the racers meet in many orders over the rounds."""
    time.sleep(rng.random() * 0.02)


def redeem(sessions: sessionmaker[Session], owner: str, points: int, key: str) -> str:
    """Hold in one transaction, post in the next, as a redemption does."""
    with transaction(sessions) as s:
        hold = HoldService(s).place(
            HoldRequest(owner, points, f"r:{key}", "兑换", "t", key, utcnow() + timedelta(days=1))
        )
    with transaction(sessions) as s:
        HoldService(s).post(hold.bucket, hold.id, Resolution("兑换 / redeem", "clerk"))
    return "posted"


def test_a_clawback_races_a_redemption_and_an_expiry_run_on_the_same_lots(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Round after round: award A (100, its lot due in 5 days, 40 already spent) and B (50) in
    one wallet; then at once: claw back A whole, redeem 50, and an expiry run whose cut-off
    takes A's lot. However they interleave: the hold posts or is refused, the clawback and the
    expiry each happen once, and balance − debt = 10 − (50 if the redemption went through)."""
    rng, seen = random.Random(10), set()
    for r in range(ROUNDS):
        owner = f"wallet:race{r}"
        with transaction(sessions) as s:
            mine = award(s, owner, 100, 5, f"{owner}:a")
            award(s, owner, 50, 300, f"{owner}:b")
            spend(s, owner, 40, f"{owner}:spent")
        results = race(3, lambda i, o=owner, m=mine: racer(sessions, rng, i, o, m))  # type: ignore[misc]
        assert isinstance(results[0], uuid.UUID), results
        assert results[1] == "posted" or isinstance(results[1], InsufficientPoints), results
        assert isinstance(results[2], int), results
        posted = results[1] == "posted"
        with transaction(sessions) as s:
            ledger = LedgerService(s)
            balance, debt = ledger.balance(owner), ledger.debt(owner)
            assert balance >= 0 and debt >= 0
            assert balance - debt == 10 - (50 if posted else 0)
            assert once(s, owner, mine, posted, results[2])
            seen.add(outcome(s, results[0], posted))
    with transaction(sessions) as s:
        assert min(s.scalars(select(Lot.remaining)).all()) >= 0
        assert_books(s)
    assert_verifies(sessions, settings)
    print(f"outcomes seen (taken, lapsed, debt, posted): {sorted(seen)}")


def racer(
    sessions: sessionmaker[Session], rng: random.Random, i: int, owner: str, mine: Posting
) -> Any:
    """0: the clawback (its id); 1: the redemption; 2: the expiry run (points expired)."""
    jitter(rng)
    if i == 0:
        with transaction(sessions) as s:
            return claw(s, owner, mine, 100, f"{owner}:claw").clawback_id
    if i == 1:
        return redeem(sessions, owner, 50, f"{owner}:redeem")
    with transaction(sessions) as s:
        return LedgerService(s).expire_due(utcnow() + timedelta(days=10)).points


def once(s: Session, owner: str, mine: Posting, posted: bool, expired: int) -> bool:
    """One clawback; the raced hold posted or never placed; A's lot expired by this run alone,
    by exactly the points the run reports."""
    wallet = LedgerService(s).locate(owner)[1]
    clawbacks = s.scalar(select(func.count()).where(Clawback.account_id == wallet))
    holds = s.scalars(select(Hold.status).where(Hold.account_id == wallet)).all()
    spent_and_raced = ["posted", "posted"] if posted else ["posted"]
    lot = s.scalars(select(Lot).where(Lot.entry_id == mine.credit_entry_id)).one()
    expiry = s.scalars(
        select(Transfer.amount).where(Transfer.idempotency_key == f"expire:{lot.id}")
    ).all()
    return (
        clawbacks == 1
        and sorted(holds) == spent_and_raced
        and sum(expiry) == expired
        and lot.remaining == 0
    )


def outcome(s: Session, clawback_id: uuid.UUID, posted: bool) -> tuple[int, int, int, bool]:
    """What the clawback did, for the record of orders seen."""
    row = s.scalars(select(Clawback).where(Clawback.id == clawback_id)).one()
    return row.taken, row.lapsed, row.debt, posted


def test_an_award_racing_a_clawback_repays_or_is_taken(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A resident who spent 80 of a 100 award; at once: the award is clawed back and a new
    20-point award arrives (the bulk path). Either the new points are taken by the clawback or
    they repay the debt it left: the resident ends with nothing and owes 60 either way."""
    rng = random.Random(20)
    for _ in range(ROUNDS):
        resident = uuid.uuid4()
        owner = wallet_of(resident)
        with transaction(sessions) as s:
            mine = award(s, owner, 100, 100, f"{owner}:a")
            spend(s, owner, 80, f"{owner}:spent")

        def work(i: int, o: str = owner, m: Posting = mine, who: uuid.UUID = resident) -> Any:
            jitter(rng)
            with transaction(sessions) as s:
                if i == 0:
                    return claw(s, o, m, 100, f"{o}:claw").debt
                return ScoringService(s).award_many([session_of(who, 1)])[0].awarded

        results = race(2, work)
        assert results[1] == 20 and results[0] in (60, 80), results
        with transaction(sessions) as s:
            ledger = LedgerService(s)
            assert (ledger.balance(owner), ledger.debt(owner)) == (0, 60)
    with transaction(sessions) as s:
        assert_books(s)
    assert_verifies(sessions, settings)
