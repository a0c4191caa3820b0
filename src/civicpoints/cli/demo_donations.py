"""The demo's 爱心积分池: neighbours of the first community give points (some on the 爱心榜),
the 民政专干 marks two older residents low-income and passes part of the pool on to them."""

from __future__ import annotations

import uuid
from datetime import timedelta
from random import Random

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import City
from civicpoints.community import DonationService, SavingsService
from civicpoints.identity import Resident
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.db import transaction
from civicpoints.ledger import HoldService, LedgerService, pool_of, wallet_of

DONORS, FAMILIES = 6, 2


def load_donations(
    sessions: sessionmaker[Session],
    city: City,
    civil: Principal,
    pool: list[uuid.UUID],
    rng: Random,
) -> None:
    """Donations from residents of the first community, two families, two allocations."""
    home = city.communities[0].id
    with transaction(sessions) as s:
        residents = [r for r in _residents(s, pool) if r.community_id == home]
        holds = HoldService(s)
        available = {r.id: holds.available(wallet_of(r.id)) for r in residents}
        # The families first (those with the fewest points), then the givers among the rest:
        # chosen the other way round, a small demo whose community's residents all had 60
        # points on some day left one family (the points depend on the day the demo is loaded).
        by_points = sorted(residents, key=lambda r: (available[r.id], str(r.id)))
        families = by_points[:FAMILIES]
        givers = [r for r in residents if r not in families and available[r.id] >= 60][:DONORS]
    for n, giver in enumerate(givers):
        with transaction(sessions) as s:
            service = DonationService(s)
            amount = 50 if n == 0 else rng.choice((20, 30, 50))
            service.donate(giver, home, amount, f"demo-gift-{n}")
            service.set_board(giver.id, n % 2 == 0)
    with transaction(sessions) as s:
        service = DonationService(s)
        for family in families:
            service.set_low_income(civil, family, True, "低保户（民政系统核定）")
    with transaction(sessions) as s:
        each = min(30, HoldService(s).available(pool_of(home)) // max(len(families), 1))
    for n, family in enumerate(families if each > 0 else []):
        with transaction(sessions) as s:
            service = DonationService(s)
            reason = "冬季帮扶" if n == 0 else "助学帮扶"
            service.allocate(civil, home, family, each, reason, f"demo-allocation-{n}")


def star_gives_and_saves(sessions: sessionmaker[Session], city: City, platform_no: str) -> None:
    """The star volunteer's points from last winter's shifts run out within weeks: they give
    the earliest of them to their community's pool (if it is the demo's pool community), so the
    pool page has points to allocate first, and save some of the rest in the 积分银行, where
    they last 24 months from earning."""
    home = city.communities[0].id
    with transaction(sessions) as s:
        star = s.scalars(select(Resident).where(Resident.public_no == platform_no)).one()
        ledger = LedgerService(s)
        now = utcnow()
        lots = ledger.lots(wallet_of(star.id))
        due = sum(x.remaining for x in lots if now < as_utc(x.expires_at) < now + timedelta(30))
    gift = min(due, 60)
    if gift > 0 and star.community_id == home:
        with transaction(sessions) as s:
            DonationService(s).donate(star, home, gift, "demo-star-gift")
    with transaction(sessions) as s:
        left = HoldService(s).available(wallet_of(star.id))
        if left >= 100:
            SavingsService(s).save(star, min(200, left // 2), "demo-star-savings")


def _residents(s: Session, ids: list[uuid.UUID]) -> list[Resident]:
    """The residents of `ids`, in that order."""
    rows = {r.id: r for r in s.scalars(select(Resident).where(Resident.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]
