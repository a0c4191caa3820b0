"""The city's shape before its year: the demo's Hangzhou (staff logins) plus generated
districts → streets → communities of about 2,500 residents, a committee per community, the
ledger's buckets and issuance accounts, the city's rule set, catalog and population, and each
community's activities across the year and the year before (when fewer took part)."""

from __future__ import annotations

import math
import os
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import psycopg
from sqlalchemy import insert
from sqlalchemy.orm import Session

from bench.city.policy import store_city_rules, store_population
from bench.city.shelf import Shelf, build_shelf
from civicpoints.access import Role
from civicpoints.cli.city import City, build_city
from civicpoints.community import DonationSettingService
from civicpoints.fraud import PolicyService, PolicySettings
from civicpoints.identity import IdentityService
from civicpoints.kit.clock import BUSINESS_TZ, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.ids import new_id
from civicpoints.kit.months import add_months
from civicpoints.ledger import chain
from civicpoints.ledger.models import Account
from civicpoints.ledger.service import LedgerService
from civicpoints.regions import Department, Level, OrgKind, RegionService

PER_COMMUNITY = 2_500
STREETS_PER_DISTRICT = 10
COMMUNITIES_PER_STREET = 8
ACTIVITIES_PER_MONTH = 12
UPCOMING = 12  # a community's activities of the next 30 days
HANGZHOU = (30.2741, 120.1551)
CATEGORIES = (
    ("volunteer_service", 0.60, ("社区助老志愿服务", "垃圾分类督导", "文明交通引导", "图书馆值班")),
    ("education_support", 0.15, ("四点半课堂辅导", "青少年科普讲解")),
    ("public_supervision", 0.15, ("食品安全监督巡查", "物业服务监督")),
    ("high_risk", 0.10, ("防汛抢险值守", "消防安全巡查")),
)  # fmt: skip


@dataclass(frozen=True)
class ActivityPlan:
    """What a participation needs of its activity."""

    id: uuid.UUID
    category: str
    starts_at: datetime
    lat: float
    lon: float


@dataclass
class CommunityPlan:
    """A community: where its residents' ordinals start, its ancestry and activities."""

    index: int
    id: uuid.UUID
    district_code: str
    ancestry: list[uuid.UUID]
    committee_id: uuid.UUID
    civil_id: uuid.UUID  # its 民政专干 (civil-affairs staff: low-income status, the pool)
    residents: int
    first_ordinal: int
    lat: float
    lon: float
    activities: list[ActivityPlan] = field(default_factory=list)
    earlier: list[ActivityPlan] = field(default_factory=list)  # the year before


@dataclass
class Plan:
    """Everything the workers share (picklable)."""

    buckets: int
    today: date
    year_start: datetime  # first instant of the year generated (12 full months before today)
    year_end: datetime  # first instant of today's month: the year is [year_start, year_end)
    organizer_id: uuid.UUID
    reviewer_id: uuid.UUID
    auditor_id: uuid.UUID  # the city's auditor, who takes back records found false
    donation_limit: int  # points a resident may give a month (the settings in force)
    risk_policy: PolicySettings  # the fraud policy in force city-wide
    communities: list[CommunityPlan] = field(default_factory=list)
    shelf: list[Shelf] = field(default_factory=list)  # the voucher items of the catalog
    population: int = 0

    @property
    def prior_start(self) -> datetime:
        """First instant of the year before the generated one."""
        return datetime.combine(add_months(self.year_start.date(), -12), time(0), BUSINESS_TZ)


def year_months(today: date, back: int = 12) -> list[date]:
    """The 12 full months before `today`'s month (`back` = 24: and the year before), oldest
    first."""
    first = today.replace(day=1)
    return [add_months(first, -back + i) for i in range(back)]


def build_plan(
    session: Session, ctx: Context, residents: int, buckets: int, workers: int = 2
) -> Plan:
    """Initialize the ledger, build the demo city and the generated regions, store the city's
    rule set, catalog and population; lay out residents."""
    LedgerService(session).initialize(buckets)
    city = build_city(session, ctx)
    regions = RegionService(session)
    needed = math.ceil(residents / PER_COMMUNITY)
    communities = list(city.communities[:needed])
    committees = list(city.committees[: len(communities)])
    district_i = 0
    while len(communities) < needed:
        d_code = f"3301{60 + district_i:02d}"
        district = regions.add_region(
            d_code,
            f"新区{district_i + 1}区",
            Level.DISTRICT,
            city.city,
            f"New District {district_i + 1}",
        )
        district_i += 1
        for s in range(STREETS_PER_DISTRICT):
            if len(communities) >= needed:
                break
            s_code = f"{d_code}{s + 1:03d}"
            street = regions.add_region(
                s_code, f"新区{district_i}区{s + 1}街道", Level.STREET, district,
                f"District {district_i} Street {s + 1}",
            )  # fmt: skip
            for c in range(COMMUNITIES_PER_STREET):
                if len(communities) >= needed:
                    break
                community = regions.add_region(
                    f"{s_code}{c + 1:03d}", f"{street.name}{c + 1}社区", Level.COMMUNITY, street,
                    f"{street.name_en} Community {c + 1}",
                )  # fmt: skip
                communities.append(community)
                committees.append(
                    regions.add_organization(
                        f"JW{s_code}{c + 1:03d}",
                        community.name + "居委会",
                        OrgKind.COMMITTEE,
                        Department.COMMUNITY,
                        community,
                        community.name_en + " Residents' Committee",
                    )
                )
    _issuance_accounts(session, buckets)
    today = local_date(utcnow())
    first = year_months(today)[0]
    year_start = datetime.combine(first, time(0), BUSINESS_TZ)
    store_city_rules(session, city.city, city.staff["admin"].id, first)
    donations = DonationSettingService(session).in_force(city.city.id, today)
    plan = Plan(
        buckets=buckets,
        today=today,
        year_start=year_start,
        year_end=datetime.combine(today.replace(day=1), time(0), BUSINESS_TZ),
        organizer_id=city.staff["organizer"].id,
        reviewer_id=city.staff["reviewer"].id,
        auditor_id=city.staff["auditor"].id,
        donation_limit=donations.monthly_donation_limit,
        risk_policy=PolicyService(session).in_force([city.city.id], today)[1],
    )
    # The catalog is older than the year before, and open well after today.
    until = datetime.combine(add_months(today, 12), time(0), BUSINESS_TZ)
    plan.shelf = build_shelf(session, city, plan.prior_start, until, residents, workers)
    rng = random.Random(11)
    ordinal = 0
    civil = civil_staff(session, ctx, city, communities)
    for i, (community, committee) in enumerate(zip(communities, committees, strict=True)):
        n = min(PER_COMMUNITY, residents - ordinal)
        ancestry = [r.id for r in regions.ancestry(community)]
        lat = HANGZHOU[0] + rng.uniform(-0.3, 0.3)
        lon = HANGZHOU[1] + rng.uniform(-0.4, 0.4)
        code = community.code[:6]
        plan.communities.append(
            CommunityPlan(
                i, community.id, code, ancestry, committee.id, civil[i], n, ordinal, lat, lon
            )
        )
        ordinal += n
    plan.population = store_population(session, {c.id: c.residents for c in plan.communities})
    return plan


def civil_staff(
    session: Session, ctx: Context, city: City, communities: list[Any]
) -> list[uuid.UUID]:
    """Each community's 民政专干: the demo's where it has one, else one added as the demo adds
    staff (`IdentityService.add_staff`, the demo's password hash; a civil-affairs grant on the
    community)."""
    demo = {city.communities[0].id: "civil", city.communities[1].id: "civil_other"}
    identity, out = IdentityService(session, ctx), []
    digest = city.staff["civil"].password_hash
    for community in communities:
        if community.id in demo:
            out.append(city.staff[demo[community.id]].id)
            continue
        member = identity.add_staff(
            f"mz{community.code}", f"{community.name}民政专干", None, password_hash=digest
        )
        identity.grant(member, Role.CIVIL_AFFAIRS, region_id=community.id)
        out.append(member.id)
    session.flush()
    return out


def _issuance_accounts(session: Session, buckets: int) -> None:
    """Each bucket's issuance account, opened as `LedgerService.credit_many` opens it."""
    rows = []
    for bucket in range(buckets):
        name = "system:issuance:general"
        rows.append(
            {
                "bucket": bucket,
                "id": uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"{name}#{bucket}"),
                "owner": name,
                "kind": "system",
                "may_go_negative": True,
                "balance": 0,
                "entry_count": 0,
                "head_hash": chain.GENESIS,
            }
        )
    session.execute(insert(Account), rows)


ACTIVITY_COLUMNS = (
    "id", "organization_id", "region_id", "title", "description", "category", "status",
    "starts_at", "ends_at", "place_name", "geofence", "capacity", "evidence", "flag_outside",
    "checkin_opens_min", "checkout_closes_min", "created_by", "created_at", "venue_secret",
)  # fmt: skip


def write_activities(conn: psycopg.Connection, plan: Plan, tick: Any) -> int:
    """Each community's activities over the year and the year before (COPY), kept in the plan
    for the workers; and those of the next 30 days, published, nobody enrolled yet (what the
    home page recommends, 为您推荐)."""
    months = year_months(plan.today, 24)
    weights = [w for _, w, _ in CATEGORIES]
    today = datetime.combine(plan.today, time(0), BUSINESS_TZ)  # no activity made later
    n = 0
    sql = f"COPY activity ({', '.join(ACTIVITY_COLUMNS)}) FROM STDIN"
    with conn.transaction(), conn.cursor() as cur, cur.copy(sql) as cp:
        for c in plan.communities:
            rng = random.Random(c.index)
            # (first day, days after it): the past two years' months (drawn as before the
            # upcoming ones were added), then the next 30 days
            spans = [(m, 27) for m in months for _ in range(ACTIVITIES_PER_MONTH)]
            spans += [(plan.today + timedelta(days=1), 29)] * UPCOMING
            for first, spread in spans:
                category, _, titles = rng.choices(CATEGORIES, weights)[0]
                day = first + timedelta(days=rng.randint(0, spread))
                starts = datetime.combine(day, time(rng.choice((9, 14))), BUSINESS_TZ)
                lat = c.lat + rng.uniform(-0.005, 0.005)
                lon = c.lon + rng.uniform(-0.005, 0.005)
                a = ActivityPlan(new_id(), category, starts, lat, lon)
                if starts < plan.year_start:
                    c.earlier.append(a)
                elif starts < plan.year_end:
                    c.activities.append(a)
                fence = f'{{"type": "circle", "lat": {lat:.6f}, "lon": {lon:.6f}, '
                fence += '"radius_m": 300}'
                cp.write_row((
                    a.id, c.committee_id, c.id, rng.choice(titles), "", category,
                    "published", starts, starts + timedelta(hours=4), "社区活动中心",
                    fence, 60, "none", False, 30, 60, plan.organizer_id,
                    min(starts - timedelta(days=10), today), os.urandom(32),
                ))  # fmt: skip
                n += 1
            tick(1)
    return n
