"""Fixtures for integration tests: the pilot city, residents, activities."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal, Role
from civicpoints.activities.schemas import ActivityCreate
from civicpoints.activities.service import ActivityService
from civicpoints.cli.city import City, build_city
from civicpoints.cli.demo_rewards import Rewards, build_rewards
from civicpoints.identity.idcard import id_check_char
from civicpoints.identity.models import Resident
from civicpoints.identity.schemas import ResidentCreate
from civicpoints.identity.service import IdentityService
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import wallet_of
from civicpoints.ledger.service import LedgerService, Movement
from civicpoints.web.app import create_app

WEST_LAKE = (30.2590, 120.1388)


def id_number(serial: int, birth: str = "19580315", sex_digit: int = 2) -> str:
    """A valid Hangzhou ID number (sex digit even = female)."""
    body = f"330106{birth}{serial % 100:02d}{sex_digit}"
    return body + id_check_char(body)


@pytest.fixture
def city(sessions: sessionmaker[Session], ctx: Context) -> City:
    """The pilot city's regions, organizations and staff."""
    with transaction(sessions) as s:
        return build_city(s, ctx)


@pytest.fixture
def staff(sessions: sessionmaker[Session], ctx: Context, city: City) -> Callable[[str], Principal]:
    """The principal of a demo staff member by username."""

    def get(username: str) -> Principal:
        with transaction(sessions) as s:
            return IdentityService(s, ctx).staff_principal(city.staff[username])

    return get


@pytest.fixture
def make_resident(
    sessions: sessionmaker[Session], ctx: Context, city: City
) -> Callable[..., Resident]:
    """Register (and by default verify) a resident in the first community."""
    counter = iter(range(1, 10_000))

    def make(name: str = "张秀英", verified: bool = True, phone: str | None = None) -> Resident:
        n = next(counter)
        data = ResidentCreate(
            name=name,
            id_number=id_number(n),
            phone=phone or f"1390000{n:04d}",
            password="Qiantang-tide-1958",  # never checked here (hash given), but strong
            community_id=city.communities[0].id,
            consent=True,
        )
        with transaction(sessions) as s:
            identity = IdentityService(s, ctx)
            resident = identity.register(data, password_hash="x")
            if verified:
                identity.verify(resident, "")
            return resident

    return make


@pytest.fixture
def make_activity(
    sessions: sessionmaker[Session], city: City, staff: Callable[[str], Principal]
) -> Callable[..., uuid.UUID]:
    """Publish an activity at West Lake run by the first street's organizer."""

    def make(
        starts_at: datetime,
        hours: float = 2.0,
        category: str = "volunteer_service",
        evidence: str = "none",
        capacity: int = 100,
        flag_outside: bool = False,
        title: str = "垃圾分类指导",
    ) -> uuid.UUID:
        data = ActivityCreate(
            organization_id=city.committees[0].id,
            region_id=city.communities[0].id,
            title=title,
            category=category,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            place_name="西湖断桥",
            geofence={"type": "circle", "lat": WEST_LAKE[0], "lon": WEST_LAKE[1], "radius_m": 200},
            capacity=capacity,
            evidence=evidence,
            flag_outside=flag_outside,
        )
        with transaction(sessions) as s:
            return ActivityService(s).create(data, staff("organizer")).id

    return make


@pytest.fixture
def client(settings: Settings, city: City) -> Iterator[TestClient]:
    """The app on the test database, with the pilot city loaded."""
    with TestClient(create_app(settings)) as c:
        yield c


# -- rewards -------------------------------------------------------------------------------


@pytest.fixture
def rewards(sessions: sessionmaker[Session], city: City) -> Rewards:
    """The demo catalog, sponsors, merchants and clerks on the test database."""
    with transaction(sessions) as s:
        return build_rewards(s, city, utcnow())


@pytest.fixture
def fund(sessions: sessionmaker[Session]) -> Callable[..., None]:
    """Credit a resident one lot of points (by default valid for a year)."""
    counter = iter(range(1, 1_000_000))

    def give(resident_id: uuid.UUID, points: int, days: int = 365) -> None:
        now = utcnow()
        move = Movement(
            "award", points, "test", "测试 / test", "test", now, f"fund:{next(counter)}"
        )
        with transaction(sessions) as s:
            LedgerService(s).credit(wallet_of(resident_id), move, now + timedelta(days=days))

    return give


@pytest.fixture
def second_reviewer(sessions: sessionmaker[Session], ctx: Context, city: City) -> Principal:
    """Another reviewer of the first street, for appeals."""
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        member = identity.add_staff("reviewer_b", "北山街道审核员 马审核", None, password_hash="x")
        identity.grant(member, Role.REVIEWER, region_id=city.streets[0].id)
        return identity.staff_principal(member)
