"""Two officers confirm two reports of one hazard at the same moment, on PostgreSQL with real
commits: the reports' window is locked in id order, so the decisions queue, exactly one is
confirmed and paid, and the other is told to merge (never a deadlock, never two payments)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.cli.city import City
from civicpoints.community import HazardCategory, HazardDecision, HazardReportCreate, HazardService
from civicpoints.community.hazard_errors import AlreadyConfirmed
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.ledger import wallet_of
from civicpoints.ledger.service import LedgerService

from .conftest import WEST_LAKE
from .ledger_checks import assert_books
from .test_api import jpeg
from .test_concurrency import race

pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
ROUNDS = 6


def test_two_confirmations_of_one_hazard_pay_once(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable[..., object],
    staff: Callable[[str], Principal],
) -> None:
    rng = random.Random(11)
    police = staff("police_officer")
    for r in range(ROUNDS):
        people = [make_resident().id, make_resident().id]  # type: ignore[attr-defined]
        ids: list[uuid.UUID] = []
        for k, who in enumerate(people):
            data = HazardReportCreate(
                category=HazardCategory.SAFETY,
                community_id=city.communities[0].id,
                address=f"第 {r} 轮 保俶路 12 号",
                description="井盖缺失",
                lat=WEST_LAKE[0] + 0.0001 * k + r * 0.01,  # a hazard per round, 11 m apart
                lon=WEST_LAKE[1],
            )
            with transaction(sessions) as s:
                photo = jpeg(data.lat, data.lon)
                ids.append(HazardService(s, ctx).report(who, data, photo, utcnow()).id)

        def confirm(i: int, ids: list[uuid.UUID] = ids) -> str:
            time.sleep(rng.random() * 0.01)
            with transaction(sessions) as s:
                body = HazardDecision(decision="confirm")
                return HazardService(s, ctx).decide(ids[i], body, police, utcnow()).status

        results = race(2, confirm)
        assert sorted(map(str, results)) == sorted(
            ["confirmed", str(AlreadyConfirmed("decision"))]
        ), results
        with transaction(sessions) as s:
            paid = [LedgerService(s).balance(wallet_of(p)) for p in people]
            assert sorted(paid) == [0, 20]
            assert_books(s)
