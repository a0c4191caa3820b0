"""The demo's 教育积分: a parent (a verified resident of the first street born 1975–1995 if
there is one, else the nearest fit) links their daughter 小雨; the street's education officer
confirms; the parent tutored at an after-school 教育支持 session and chose her education
account, so its points are hers, valid to the end of the enrolment year (31 August)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import (
    ActivityCreate,
    ActivityService,
    EducationCredit,
    OfflineRecordCreate,
    OfflineService,
)
from civicpoints.cli.city import City
from civicpoints.cli.demo_data import with_check_char
from civicpoints.identity import GuardianService, IdentityService, Resident
from civicpoints.kit.clock import BUSINESS_TZ, as_utc, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

CHILD_GIVEN_NAME = "小雨"  # the parent's surname first
CHILD_ID = with_check_char("33010520180901102")  # born 1 Sep 2018, a girl
DAYS_AGO = 40  # an evening when the parent served nowhere else


def load_education(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    principals: dict[str, Principal],
    candidates: list[uuid.UUID],
    free: Callable[[uuid.UUID, datetime, datetime], bool],
) -> uuid.UUID | None:
    """Link, confirm, and one two-hour tutoring session credited to the child; the parent."""
    day = local_date(utcnow()) - timedelta(days=DAYS_AGO)
    start = datetime.combine(day, time(19), BUSINESS_TZ)
    street = {c.id for c in city.communities if c.path.startswith(city.streets[0].path)}
    with transaction(sessions) as s:
        rows = s.scalars(select(Resident).where(Resident.id.in_(candidates))).all()
        order = {r: i for i, r in enumerate(candidates)}
        able = [
            r
            for r in rows
            if r.verification == "verified"
            and 1950 <= r.birth_date.year <= 2000
            and free(r.id, start, start + timedelta(hours=2))
        ]
        if not able:
            return None
        # A parent's age in the first street (the education officer's) first; then anyone.
        parent = min(
            able,
            key=lambda r: (
                r.community_id not in street,
                not 1975 <= r.birth_date.year <= 1995,
                order[r.id],
            ),
        )
        decider = principals["edu_officer" if parent.community_id in street else "admin"]
        guardian_id = parent.id
        guardians = GuardianService(s, ctx)
        relation = "mother" if parent.sex == "F" else "father"
        if parent.birth_date.year < 1975:
            relation = "guardian"  # a grandparent
        link = guardians.link(parent, parent.name[0] + CHILD_GIVEN_NAME, CHILD_ID, relation)
        guardians.decide(link.id, True, "户口簿核对无误", decider)
        child_id = link.child_id
    community = city.communities[0]
    with transaction(sessions) as s:
        activity = ActivityService(s).create(
            ActivityCreate(
                organization_id=city.committees[0].id,
                region_id=community.id,
                title="四点半课堂·作业辅导",
                description="社区四点半课堂，为双职工家庭的小学生辅导作业（教育支持）。",
                category="education_support",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place_name="北山一社区四点半课堂",
                geofence={"type": "circle", "lat": 30.2600, "lon": 120.1425, "radius_m": 150},
                capacity=20,
                evidence="none",
            ),
            principals["organizer"],
        )
        guardian = IdentityService(s, ctx).resident(guardian_id)
        EducationCredit(s, ctx).choose(activity.id, guardian, child_id)
        offline = OfflineService(s, ctx)
        slip = OfflineRecordCreate(
            resident=guardian.public_no,
            activity_id=activity.id,
            started_at=as_utc(start),
            ended_at=as_utc(start) + timedelta(hours=2),
            slip_no=f"JY{day:%Y%m%d}-01",
            note="四点半课堂签到表 / after-school class sign-in sheet",
        )
        record = offline.record(slip, principals["organizer"])
        offline.decide(record.id, True, "签到表核对无误", principals["reviewer"])
    return guardian_id
