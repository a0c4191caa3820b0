"""Real concurrency on PostgreSQL for a team pool: the community's two civil-affairs staff pay
the pool's last points at once — exactly one does, the other is refused (409), the stock and
the sponsor's booking count one, nothing goes negative, the ledger verifies."""

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
from civicpoints.community import TeamService
from civicpoints.community.team_models import TeamRedemption
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import (
    CreditRequest,
    InsufficientPoints,
    LedgerService,
    Movement,
    team_pool_of,
)
from civicpoints.rewards.models import Booking, Item
from tests.integration.test_carry import Verifies
from tests.integration.test_concurrency import race
from tests.integration.test_donation_races import assert_nothing_negative

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def test_two_staff_pay_the_pools_last_points_at_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    city: City,
    rewards: Rewards,
    make_resident: Callable[..., Resident],
    staff: Callable[[str], Principal],
) -> None:
    """100 in the pool, the 民政专干 and the 民政助理 each pay one unit (100): exactly one."""
    captain = make_resident("陈河清")
    with transaction(sessions) as s:
        team = TeamService(s).create(staff("organizer"), captain.community_id, "护河队", "",
                                     captain.id).id  # fmt: skip
    now = utcnow()
    move = Movement("award", 100, "test", "测试 / test", "test", now, f"pool:{team}")
    with transaction(sessions) as s:
        LedgerService(s).credit_many(
            [
                CreditRequest(
                    team_pool_of(team), move, now + timedelta(days=300), "general", "team_pool"
                )
            ]
        )
    item = rewards.items["COMMUNITY-FUND"]
    civil, civil2 = staff("civil"), staff("civil2")

    def pay(i: int) -> uuid.UUID:
        who = civil if i == 0 else civil2
        with transaction(sessions) as s:
            return TeamService(s).redeem(who, team, item.id, 1, "装修", f"k{i}").id

    results = race(2, pay)
    lost = [r for r in results if not isinstance(r, uuid.UUID)]
    assert len(lost) == 1 and isinstance(lost[0], InsufficientPoints), results
    with sessions() as s:
        assert LedgerService(s).balance(team_pool_of(team)) == 0
        assert s.scalar(select(func.count()).select_from(TeamRedemption)) == 1
        booked = s.scalars(select(Booking).where(Booking.redemption_id.is_(None))).all()
        assert [b.points for b in booked] == [100]
        left = s.get(Item, item.id)
        assert left is not None and left.stock_remaining == item.stock_remaining - 1
    assert_nothing_negative(sessions)
    Verifies(sessions, settings)()
