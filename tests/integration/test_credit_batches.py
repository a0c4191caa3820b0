"""The set-based credit path: batches, repeats inside a batch, retries, and the ORM beside it."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import transaction
from civicpoints.ledger import wallet_of
from civicpoints.ledger.errors import IdempotencyConflict, InvalidAmount
from civicpoints.ledger.models import Account, Transfer
from civicpoints.ledger.service import CreditRequest, LedgerService, Movement
from civicpoints.scoring import rules
from civicpoints.scoring.models import AwardRow, MonthUsage
from civicpoints.scoring.service import AwardRequest, ScoringService
from tests.integration.ledger_checks import assert_books

T0 = datetime(2026, 5, 10, 2, 0, tzinfo=UTC)
EXPIRES = T0 + timedelta(days=365)


def credit(owner: str, amount: int, key: str) -> CreditRequest:
    """A credit request for a batch."""
    return CreditRequest(owner, Movement("award", amount, key, "测试", "test", T0, key), EXPIRES)


def transfers(s: Session) -> int:
    """How many transfers the ledger holds."""
    return int(s.scalar(select(func.count()).select_from(Transfer)) or 0)


def test_batch_chains_each_account_in_order(sessions: sessionmaker[Session]) -> None:
    """A batch crediting some wallets several times chains their entries in batch order."""
    batch = [credit(f"wallet:{i % 7}", 1 + i, f"k{i}") for i in range(40)]
    with transaction(sessions) as s:
        postings = LedgerService(s).credit_many(batch)
    assert [p.amount for p in postings] == list(range(1, 41))
    assert not any(p.replayed for p in postings)
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        for w in range(7):
            assert ledger.balance(f"wallet:{w}") == sum(1 + i for i in range(40) if i % 7 == w)
        assert transfers(s) == 40
        assert_books(s)


def test_repeated_key_in_a_batch_posts_once(sessions: sessionmaker[Session]) -> None:
    """The same request twice in one batch is one transfer; the second copy says replayed."""
    with transaction(sessions) as s:
        first, again = LedgerService(s).credit_many(
            [credit("wallet:a", 5, "k"), credit("wallet:a", 5, "k")]
        )
    assert again.replayed and again.transfer_id == first.transfer_id
    with transaction(sessions) as s:
        assert LedgerService(s).balance("wallet:a") == 5 and transfers(s) == 1


def test_conflicting_key_in_a_batch_writes_nothing(sessions: sessionmaker[Session]) -> None:
    """Two different requests under one key → 409 for the whole batch, and nothing written."""
    with transaction(sessions) as s, pytest.raises(IdempotencyConflict):
        LedgerService(s).credit_many([credit("wallet:a", 5, "k"), credit("wallet:a", 6, "k")])
    with transaction(sessions) as s:
        assert transfers(s) == 0


def test_bad_amount_anywhere_refuses_the_batch(sessions: sessionmaker[Session]) -> None:
    """A zero amount in the middle of a batch is refused before anything is written."""
    with transaction(sessions) as s, pytest.raises(InvalidAmount):
        LedgerService(s).credit_many([credit("wallet:a", 5, "a"), credit("wallet:b", 0, "b")])
    with transaction(sessions) as s:
        assert transfers(s) == 0 and s.scalar(select(func.count()).select_from(Account)) == 0


def test_batch_retried_later_replays_every_posting(sessions: sessionmaker[Session]) -> None:
    """A whole batch retried in a later transaction returns the first postings."""
    batch = [credit(f"wallet:{i}", 3, f"k{i}") for i in range(5)]
    with transaction(sessions) as s:
        first = LedgerService(s).credit_many(batch)
    with transaction(sessions) as s:
        again = LedgerService(s).credit_many(batch)
    assert all(p.replayed for p in again)
    assert [p.transfer_id for p in again] == [p.transfer_id for p in first]
    assert [p.credit_entry_id for p in again] == [p.credit_entry_id for p in first]


def test_orm_reads_see_credits_in_the_same_session(sessions: sessionmaker[Session]) -> None:
    """An account the ORM already loaded is read afresh after the credit path wrote it."""
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        ledger.credit("wallet:a", Movement("award", 5, "r", "t", "t", T0, "k1"), EXPIRES)
        assert ledger.balance("wallet:a") == 5  # loads the Account into the identity map
        ledger.credit("wallet:a", Movement("award", 7, "r", "t", "t", T0, "k2"), EXPIRES)
        assert ledger.balance("wallet:a") == 12
        assert len(ledger.lots("wallet:a")) == 2
        assert_books(s)


def request(resident: uuid.UUID, minutes: int = 120, at: datetime = T0) -> AwardRequest:
    """An approved volunteer session of `minutes` (10 points an hour by default)."""
    return AwardRequest(
        participation_id=uuid.uuid4(),
        resident_id=resident,
        wallet=wallet_of(resident),
        region_ids=[],
        facts=rules.Facts(rules.Category.VOLUNTEER_SERVICE, minutes, False, False),
        occurred_at=at,
        actor="test",
    )


def test_award_many_consumes_the_cap_in_order(sessions: sessionmaker[Session]) -> None:
    """30 two-hour sessions in one month, awarded as one import batch: exactly the 500 cap,
    25 full awards, then nothing — the same decisions one-by-one awarding would make."""
    resident = uuid.uuid4()
    reqs = [request(resident, at=T0 + timedelta(hours=i)) for i in range(30)]
    with transaction(sessions) as s:
        awards = ScoringService(s).award_many(reqs)
    assert [a.awarded for a in awards] == [20] * 25 + [0] * 5
    assert all(a.cut == 20 for a in awards[25:])
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(resident)) == 500
        assert s.get(MonthUsage, (resident, "2026-05")).points == 500  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(AwardRow)) == 30
        assert_books(s)


def test_award_many_repeats_return_the_first_decision(sessions: sessionmaker[Session]) -> None:
    """A participation twice in a batch, and again later, is decided and credited once."""
    resident = uuid.uuid4()
    req = request(resident)
    with transaction(sessions) as s:
        a, b = ScoringService(s).award_many([req, req])
    assert a is b and a.awarded == 20
    with transaction(sessions) as s:
        (c,) = ScoringService(s).award_many([req])
        assert c.id == a.id and c.transfer_id == a.transfer_id
        assert LedgerService(s).balance(wallet_of(resident)) == 20


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_first_credits_to_a_new_wallet_race_safely(sessions: sessionmaker[Session]) -> None:
    """Eight first credits at once to one new wallet (and a new bucket issuer) all land: the
    account is created and locked in one statement, so no racer trips over the primary key."""
    barrier, errors = threading.Barrier(8), []

    def work(i: int) -> None:
        barrier.wait()
        try:
            with transaction(sessions) as s:
                LedgerService(s).credit(
                    "wallet:new", Movement("award", 1, "r", "t", "t", T0, f"k{i}"), EXPIRES
                )
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(sessions) as s:
        assert LedgerService(s).balance("wallet:new") == 8
        assert_books(s)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_first_credits_race_safely_round_after_round(sessions: sessionmaker[Session]) -> None:
    """Round after round, eight racers open the same new wallet: none fails. An account is
    unique by id and by owner; PostgreSQL's upsert treats only its arbiter (the id) as a
    conflict, so a racer's insert once tripped over the owner's unique index instead (seen in
    CI: UniqueViolation on uq_ledger_account_bucket_owner). That index is checked at commit."""
    rounds, racers = 40, 6
    errors: list[Exception] = []

    def work(barrier: threading.Barrier, owner: str, i: int) -> None:
        barrier.wait()
        try:
            with transaction(sessions) as s:
                LedgerService(s).credit(
                    owner, Movement("award", 1, "r", "t", "t", T0, f"{owner}/{i}"), EXPIRES
                )
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    for r in range(rounds):
        barrier = threading.Barrier(racers)
        threads = [
            threading.Thread(target=work, args=(barrier, f"wallet:round{r}", i))
            for i in range(racers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    with transaction(sessions) as s:
        assert [LedgerService(s).balance(f"wallet:round{r}") for r in range(rounds)] == [
            racers
        ] * rounds
        assert_books(s)


def test_a_second_account_for_one_owner_is_still_refused(sessions: sessionmaker[Session]) -> None:
    """Checking the owner's uniqueness at commit (PostgreSQL) still refuses a duplicate."""
    with transaction(sessions) as s:
        LedgerService(s).credit(
            "wallet:dup", Movement("award", 1, "r", "t", "t", T0, "d1"), EXPIRES
        )
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        first = s.scalars(select(Account).where(Account.owner == "wallet:dup")).one()
        s.add(
            Account(
                bucket=first.bucket,
                id=uuid.uuid4(),
                owner="wallet:dup",
                kind=first.kind,
                may_go_negative=False,
                balance=0,
                entry_count=0,
                head_hash=first.head_hash,
                created_at=T0,
            )
        )
