"""The demo's 爱心积分池: neighbours of the first community give points (some on the 爱心榜),
the 民政专干 marks two older residents low-income and passes part of the pool on to them."""

from __future__ import annotations

import uuid
from random import Random

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import City
from civicpoints.community import DonationService
from civicpoints.identity import Resident
from civicpoints.kit.db import transaction
from civicpoints.ledger import HoldService, pool_of, wallet_of

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
        givers = [r for r in residents if holds.available(wallet_of(r.id)) >= 60][:DONORS]
        families = [r for r in residents if r not in givers][:FAMILIES]
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


def _residents(s: Session, ids: list[uuid.UUID]) -> list[Resident]:
    """The residents of `ids`, in that order."""
    rows = {r.id: r for r in s.scalars(select(Resident).where(Resident.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]
