"""Real concurrency on PostgreSQL for the 爱心积分池: two staff allocating its last points, a
donation racing a redemption of the same points, a saving racing an expiry run, a donor racing
their own monthly limit — nothing negative, nothing lost, and the ledger verifies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.community import DonationService, OverMonthlyLimit, SavingsService
from civicpoints.community.donation_models import Allocation, Donation
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import (
    CarryRequest,
    InsufficientPoints,
    LedgerService,
    Movement,
    pool_of,
    savings_of,
    wallet_of,
)
from civicpoints.ledger.models import Account, Lot
from civicpoints.rewards.service import RedemptionService
from tests.integration.test_carry import Verifies
from tests.integration.test_concurrency import race
from tests.integration.test_rewards_races import add_item

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def assert_nothing_negative(sessions: sessionmaker[Session]) -> None:
    """No user account and no lot below zero."""
    with sessions() as s:
        users = s.scalars(select(Account.balance).where(Account.may_go_negative.is_(False)))
        assert min(users.all()) >= 0
        assert min(s.scalars(select(Lot.remaining)).all()) >= 0


def resident(sessions: sessionmaker[Session], resident_id: uuid.UUID) -> Resident:
    """A resident row, detached."""
    with sessions() as s:
        row = s.get(Resident, resident_id)
        assert row is not None
        return row


def donate_committed(
    sessions: sessionmaker[Session], who: Resident, amount: int, key: str
) -> uuid.UUID:
    """One donation on its own connection, committed."""
    with transaction(sessions) as s:
        return DonationService(s).donate(who, who.community_id, amount, key).id


def test_two_staff_allocate_the_last_pool_points_at_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    city: City,
    make_resident: Callable[..., Resident],
    staff: Callable[[str], Principal],
    fund: Callable[..., None],
) -> None:
    """50 in the pool, 民政专干 and 民政助理 each give 50 (to two families): exactly one does."""
    donor, a, b = make_resident(), make_resident("王建国"), make_resident("李桂兰")
    fund(donor.id, 50)
    donate_committed(sessions, donor, 50, "d")
    civil, civil2 = staff("civil"), staff("civil2")
    with transaction(sessions) as s:
        for family in (a, b):
            DonationService(s).set_low_income(civil, family, True, "低保")
    home = donor.community_id

    def give(i: int) -> uuid.UUID:
        who, family = (civil, a) if i == 0 else (civil2, b)
        with transaction(sessions) as s:
            return DonationService(s).allocate(who, home, family, 50, "帮扶", f"k{i}").id

    results = race(2, give)
    lost = [r for r in results if not isinstance(r, uuid.UUID)]
    assert len(lost) == 1 and isinstance(lost[0], InsufficientPoints), results
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(pool_of(home)) == 0
        assert ledger.balance(wallet_of(a.id)) + ledger.balance(wallet_of(b.id)) == 50
        assert s.scalar(select(func.count()).select_from(Allocation)) == 1
    assert_nothing_negative(sessions)
    Verifies(sessions, settings)()


def test_a_donation_races_a_redemption_of_the_same_points(
    sessions: sessionmaker[Session],
    ctx: Context,
    settings: Settings,
    city: City,
    rewards: Rewards,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
) -> None:
    """100 points; a 100-point donation and a 100-point redemption at once: exactly one."""
    item = add_item(sessions, price=100, stock=10, limit=10)
    zhang = make_resident()
    fund(zhang.id, 100)

    def act(i: int) -> uuid.UUID:
        if i == 0:
            return donate_committed(sessions, zhang, 100, "gift")
        with transaction(sessions) as s:
            return RedemptionService(s, ctx).redeem(zhang.id, item, 1, "buy").id

    results = race(2, act)
    lost = [r for r in results if not isinstance(r, uuid.UUID)]
    assert len(lost) == 1 and isinstance(lost[0], InsufficientPoints), results
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(wallet_of(zhang.id)) == 0
        donated = ledger.balance(pool_of(zhang.community_id))
        assert donated in (0, 100)
        assert s.scalar(select(func.count()).select_from(Donation)) == donated // 100
    assert_nothing_negative(sessions)
    Verifies(sessions, settings)()


def test_one_donor_races_their_own_monthly_limit(
    sessions: sessionmaker[Session],
    settings: Settings,
    city: City,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
) -> None:
    """Limit 500 a month, 1,000 points, four 200-point gifts at once: exactly two go through."""
    zhang = make_resident()
    fund(zhang.id, 1000)
    results = race(4, lambda i: donate_committed(sessions, zhang, 200, f"g{i}"))
    lost = [r for r in results if not isinstance(r, uuid.UUID)]
    assert len(lost) == 2 and all(isinstance(e, OverMonthlyLimit) for e in lost), results
    with sessions() as s:
        assert LedgerService(s).balance(wallet_of(zhang.id)) == 600
        assert LedgerService(s).balance(pool_of(zhang.community_id)) == 400
    assert_nothing_negative(sessions)
    Verifies(sessions, settings)()


def test_a_saving_races_an_expiry_run(
    sessions: sessionmaker[Session],
    settings: Settings,
) -> None:
    """A lot due tomorrow: a move into savings (24 months from earning) and an expiry run as of
    the day after, at once. Either the points are saved (then nothing expires) or they expire
    (then the saving is refused): never both, never neither, nothing negative."""
    now = utcnow()
    with transaction(sessions) as s:
        move = Movement("award", 80, "t", "测试", "t", now, "a1")
        LedgerService(s).credit("wallet:z", move, now + timedelta(days=1))

    def act(i: int) -> object:
        with transaction(sessions) as s:
            ledger = LedgerService(s)
            if i == 0:
                m = Movement("save", 80, "savings", "存入积分银行", "resident:z", utcnow(), "s1")
                return ledger.carry(CarryRequest("wallet:z", "savings:z", "savings", m, 24))
            return ledger.expire_due(now + timedelta(days=2)).points

    results = race(2, act)
    with sessions() as s:
        ledger = LedgerService(s)
        saved, left = ledger.balance("savings:z"), ledger.balance("wallet:z")
        expired = 80 - saved - left
    assert left == 0 and (saved, expired) in ((80, 0), (0, 80)), results
    if saved:
        assert results[1] == 0
    else:
        assert isinstance(results[0], InsufficientPoints)
    assert savings_of(uuid.UUID(int=0)).startswith("savings:")
    assert_nothing_negative(sessions)
    Verifies(sessions, settings)()


def test_a_residents_saving_races_an_expiry_run(
    sessions: sessionmaker[Session],
    settings: Settings,
    city: City,
    make_resident: Callable[..., Resident],
    fund: Callable[..., None],
) -> None:
    """The same race through the points bank's own use case (cap check, lock, re-check): 80
    points due tomorrow, saved by the resident while the expiry run of the day after runs.
    Either saved (24 months from earning, nothing expires) or expired (the saving refused):
    never both, never neither, nothing negative, the cap check never counts a vanished lot."""
    zhang = make_resident()
    fund(zhang.id, 80, days=1)
    now = utcnow()

    def act(i: int) -> object:
        with transaction(sessions) as s:
            if i == 0:
                return SavingsService(s).save(zhang, 80, "race")
            return LedgerService(s).expire_due(now + timedelta(days=2)).points

    results = race(2, act)
    with sessions() as s:
        ledger = LedgerService(s)
        saved, left = ledger.balance(savings_of(zhang.id)), ledger.balance(wallet_of(zhang.id))
        lots = [x for x in ledger.lots(savings_of(zhang.id)) if x.remaining]
    assert left == 0 and (saved, 80 - saved) in ((80, 0), (0, 80)), results
    if saved:
        assert results[1] == 0
        assert all(x.expires_at.year >= now.year + 1 for x in lots)  # 24 months from earning
    else:
        assert isinstance(results[0], InsufficientPoints), results
    assert_nothing_negative(sessions)
    Verifies(sessions, settings)()
