"""`civicpoints demo`: a synthetic Hangzhou pilot city with three months of history.

Everything goes through the services as the app would (registration, enrollment, GPS check-in
and check-out, photo upload, paper slips), so the demo shows real points, hours and review
queues. Names, ID numbers, phones and who-did-what are deterministic from the seed; row ids and
platform numbers are random by design.
"""

from __future__ import annotations

import math
import time as timer
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from random import Random

import typer
from PIL import Image, ImageDraw
from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities import (
    Activity,
    ActivityCreate,
    ActivityService,
    CertificateDesk,
    CertificateRequest,
    ListingService,
    OfflineRecordCreate,
    OfflineService,
    Phone,
    PhotoService,
    RecordService,
)
from civicpoints.cli.city import STAFF, City, build_city
from civicpoints.cli.demo_data import (
    BATCH,
    DEMO_PASSWORD,
    EPOCH_MONDAY,
    FUTURE_DAYS,
    GIVEN,
    ID_REGIONS,
    LI,
    LI_PHONE,
    LI_PLAN,
    MOBILE_PREFIXES,
    PAST_DAYS,
    PLANS,
    RIVER_PLAN,
    SHANGHAI_BUND,
    SURNAMES,
    ZHANG,
    ZHANG_PHONE,
    ZHANG_PLAN,
    E,
    Person,
    Plan,
    with_check_char,
)
from civicpoints.cli.demo_donations import load_donations, star_gives_and_saves
from civicpoints.cli.demo_education import load_education
from civicpoints.cli.demo_hazards import load_hazards
from civicpoints.cli.demo_outcomes import load_outcomes
from civicpoints.cli.demo_rewards import load_rewards
from civicpoints.cli.demo_surveys import load_surveys
from civicpoints.cli.demo_teams import load_teams
from civicpoints.cli.fraud_sim_images import with_exif
from civicpoints.hours import Kind
from civicpoints.identity import IdentityService, Resident, ResidentCreate, hash_password
from civicpoints.insights import Rollup
from civicpoints.kit.clock import BUSINESS_TZ, as_utc, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.regions import Region, RegionService

FARM_DAYS_AGO = 12  # the farm's evening: its records wait on the second-look list
WARNED_DAYS_AGO = 9  # within the 15 days to appeal: the demo's appeal form is open


@dataclass
class Demo:
    """What the loading phases share."""

    ctx: Context
    rng: Random
    city: City
    principals: dict[str, Principal]
    people: dict[str, uuid.UUID] = field(default_factory=dict)  # phone → resident id
    pool: list[uuid.UUID] = field(default_factory=list)  # synthetic residents who take part
    elders: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (id, platform number)
    roster: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    slips: list[Activity] = field(default_factory=list)  # sessions elders attend on paper
    records: int = 0
    # When each resident is already serving: nobody is in two places at once (the fraud
    # checks would rightly flag an overlap).
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = field(default_factory=dict)

    def free(self, resident_id: uuid.UUID, starts: datetime, ends: datetime) -> bool:
        """Whether the resident has no session overlapping [starts, ends) yet."""
        return all(e <= starts or ends <= s for s, e in self.busy.get(resident_id, []))

    def book(self, resident_id: uuid.UUID, starts: datetime, ends: datetime) -> None:
        """Note that the resident serves in [starts, ends)."""
        self.busy.setdefault(resident_id, []).append((starts, ends))


def load_demo(
    sessions: sessionmaker[Session],
    ctx: Context,
    residents: int = 3000,
    seed: int = 20260101,
    if_empty: bool = False,
    console: Console | None = None,
) -> bool:
    """Load the pilot city, residents and three months of activity; False if already loaded."""
    with transaction(sessions) as s:
        loaded = s.scalars(select(Region.id).limit(1)).first() is not None
    if loaded and if_empty:
        return False
    if loaded:
        _say(console, "数据库已有数据，请用 --if-empty / the database is not empty: use --if-empty")
        raise typer.Exit(1)
    began = timer.perf_counter()
    demo = _build(sessions, ctx, Random(seed))
    with Progress(console=console, disable=console is None, transient=False) as progress:
        _register_all(sessions, demo, residents, progress)
        _run_sessions(sessions, demo, progress)
    _record_slips(sessions, demo)
    load_rewards(sessions, ctx, demo.city, demo.pool)
    load_donations(sessions, demo.city, demo.principals["civil"], demo.pool, Random(seed))
    _li_was_warned(sessions, demo)
    _farm_found_later(sessions, demo)
    _hazards(sessions, demo)
    star = _star_volunteer(sessions, demo)
    if star is not None:
        star_gives_and_saves(sessions, demo.city, star)
    load_education(sessions, ctx, demo.city, demo.principals, demo.pool, demo.free)
    load_teams(sessions, ctx, demo.city, demo.principals, demo.pool, demo.free, demo.book)
    district = demo.city.streets[0].parent_id  # 西湖区: 成效指标 before and after it joined
    assert district is not None
    load_outcomes(sessions, district, demo.principals, utcnow())
    zhang = demo.people.get(ZHANG_PHONE)
    load_surveys(sessions, demo.city, demo.principals, demo.pool, zhang, Random(seed))
    with transaction(sessions) as s:  # the dashboards' figures (/admin/insights) at once
        Rollup(s).run(utcnow())
    _say(
        console,
        f"演示数据已加载 / demo loaded in {timer.perf_counter() - began:.1f} s: "
        f"{residents + 2} residents, {demo.records} service records",
    )
    return True


def _say(console: Console | None, text: str) -> None:
    """Print when there is a console (the tests load quietly)."""
    if console is not None:
        console.print(text)


def _build(sessions: sessionmaker[Session], ctx: Context, rng: Random) -> Demo:
    """The city structure in its own transaction, and the staff who act in the demo."""
    with transaction(sessions) as s:
        city = build_city(s, ctx)
    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        principals = {u: identity.staff_principal(city.staff[u]) for u in city.staff}
    return Demo(ctx, rng, city, principals)


def _regions(s: Session) -> list[object]:
    """Load the region tree and organizations into the session and hold them for its life.

    The session's identity map holds rows only weakly: without these references every
    service's look-up of the same community would go back to the database.
    """
    regions = RegionService(s)
    return [*regions.tree(), *regions.organizations()]


# -- residents -------------------------------------------------------------------------


def _register_all(
    sessions: sessionmaker[Session], demo: Demo, count: int, progress: Progress
) -> None:
    """Register the two named residents and `count` synthetic ones, in batches."""
    people = [ZHANG, LI, *_people(demo.rng, count, len(demo.city.communities))]
    # argon2 costs ~50 ms by design; one shared hash keeps thousands of residents fast.
    digest = hash_password(DEMO_PASSWORD)
    task = progress.add_task("居民实名注册 / residents", total=len(people))
    for first in range(0, len(people), BATCH):
        with transaction(sessions) as s:
            _warm = _regions(s)
            for person in people[first : first + BATCH]:
                _register(s, demo, person, digest)
        progress.advance(task, len(people[first : first + BATCH]))


def _register(s: Session, demo: Demo, person: Person, digest: str) -> None:
    """Register (and mostly verify) one resident, remembering who may take part."""
    identity = IdentityService(s, demo.ctx)
    community = demo.city.communities[person.community]
    data = ResidentCreate(
        name=person.name,
        id_number=person.id_number,
        phone=person.phone,
        password=DEMO_PASSWORD,
        community_id=community.id,
        consent=True,
    )
    resident = identity.register(data, password_hash=digest)
    if person.verified:
        identity.verify(resident, "demo")
    demo.people[person.phone] = resident.id
    if person not in (ZHANG, LI):
        demo.pool.append(resident.id)
        if resident.birth_date.year < 1956:
            demo.elders.append((resident.id, resident.public_no))


def _people(rng: Random, count: int, communities: int) -> Iterator[Person]:
    """`count` residents with unique valid ID numbers and phones; many are elderly."""
    ids, phones = {ZHANG.id_number, LI.id_number}, {ZHANG_PHONE, LI_PHONE}
    while len(phones) < count + 2:
        person = _person(rng, communities)
        if person.id_number not in ids and person.phone not in phones:
            ids.add(person.id_number)
            phones.add(person.phone)
            yield person


def _person(rng: Random, communities: int) -> Person:
    """One synthetic resident."""
    born = _birth_date(rng)
    sex = "F" if rng.random() < 0.52 else "M"
    era = "old" if born.year < 1960 else "mid" if born.year < 1985 else "young"
    weights = range(len(SURNAMES), 0, -1)  # common surnames first
    name = rng.choices(SURNAMES, weights)[0] + rng.choice(GIVEN[era, sex].split())
    serial = f"{rng.randrange(100):02d}{rng.randrange(0, 10, 2) + (sex == 'M')}"
    number = with_check_char(f"{rng.choice(ID_REGIONS)}{born:%Y%m%d}{serial}")
    phone = rng.choice(MOBILE_PREFIXES.split()) + f"{rng.randrange(10**8):08d}"
    return Person(name, number, phone, rng.randrange(communities), rng.random() < 0.9)


def _birth_date(rng: Random) -> date:
    """Born 1940–2005, weighted to the retired: they have the time to serve."""
    pick = rng.random()
    low, high = (1940, 1959) if pick < 0.4 else (1960, 1984) if pick < 0.75 else (1985, 2005)
    return date(rng.randint(low, high), 1, 1) + timedelta(days=rng.randrange(365))


# -- activities and participation --------------------------------------------------------


def _schedule(today: date) -> list[tuple[Plan, datetime]]:
    """Every session from 12 weeks ago to two weeks ahead (today itself left out), by start."""
    out = []
    for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        for plan in PLANS:
            if offset and _meets(plan, day, offset):
                out.append((plan, datetime.combine(day, plan.start, BUSINESS_TZ)))
    return sorted(out, key=lambda item: item[1])


def _meets(plan: Plan, day: date, offset: int) -> bool:
    """Whether `plan` has a session on `day`."""
    if plan.days:
        return offset in plan.days
    week = (day - EPOCH_MONDAY).days // 7
    return day.weekday() in plan.weekdays and week % plan.every == 0


def _run_sessions(sessions: sessionmaker[Session], demo: Demo, progress: Progress) -> None:
    """Publish every session; past ones get their participants, upcoming ones enrollments."""
    now = utcnow()
    schedule = _schedule(local_date(now))
    task = progress.add_task("活动与服务记录 / activities", total=len(schedule))
    for plan, start in schedule:
        with transaction(sessions) as s:
            _warm = _regions(s)
            activity = _publish(s, demo, plan, start)
            if start < now:
                _history(s, demo, plan, activity)
            else:
                _enrollments(s, demo, plan, activity)
        progress.advance(task)


def _publish(s: Session, demo: Demo, plan: Plan, start: datetime) -> Activity:
    """Create one session of `plan` as its organizer."""
    city = demo.city
    environmental = plan.category == E
    org = city.departments["HB"] if plan.by == "env_officer" else city.committees[plan.community]
    fence = {"type": "circle", "lat": plan.at[0], "lon": plan.at[1], "radius_m": plan.radius_m}
    data = ActivityCreate(
        organization_id=org.id,
        region_id=city.communities[plan.community].id,
        title=plan.title,
        description=f"{plan.title}（{plan.place}），欢迎报名。",
        category=plan.category,
        starts_at=start,
        ends_at=start + timedelta(minutes=plan.minutes),
        place_name=plan.place,
        geofence=fence,
        capacity=max(20, plan.crowd + 10),
        evidence="photo_gps" if environmental else "none",
    )
    return ActivityService(s).create(data, demo.principals[plan.by])


def _history(s: Session, demo: Demo, plan: Plan, activity: Activity) -> None:
    """Who came to a past session: sampled residents, and the named ones in their stories."""
    start, end = as_utc(activity.starts_at), as_utc(activity.ends_at)
    crowd = demo.rng.sample(demo.pool, _crowd(plan, len(demo.pool)))
    # Whoever is already serving then is replaced by the first free resident of the pool.
    spare = (r for r in demo.pool if r not in crowd and demo.free(r, start, end))
    crowd = [r if demo.free(r, start, end) else next(spare, r) for r in crowd]
    for resident_id in crowd:
        demo.book(resident_id, start, end)
        # A few leave half an hour early; one-off events are kept whole (200 h on the river).
        early = 30 if not plan.days and demo.rng.random() < 0.08 else 0
        _attend(s, demo, activity, resident_id, early=early)
    if plan is ZHANG_PLAN:
        _attend(s, demo, activity, demo.people[ZHANG_PHONE])
        demo.slips.append(activity)
    if plan is LI_PLAN:
        _attend(s, demo, activity, demo.people[LI_PHONE], photo_at=SHANGHAI_BUND)
    demo.roster[activity.id] = set(crowd)


def _crowd(plan: Plan, pool: int) -> int:
    """How many come: at most 1 in 25 residents, so that a small demo (tests) loads in seconds.

    The river clean-up keeps the seed's 50 whenever there are that many residents.
    """
    share = pool if plan is RIVER_PLAN else max(1, pool // 25)
    return min(plan.crowd, share, pool)


def _attend(
    s: Session,
    demo: Demo,
    activity: Activity,
    resident_id: uuid.UUID,
    early: int = 0,
    photo_at: tuple[float, float] | None = None,
    phone: Phone | None = None,
) -> None:
    """Enrol, check in on site a little early, check out, and upload a photo if required."""
    rng, actor = demo.rng, f"resident:{resident_id}"
    start, end = as_utc(activity.starts_at), as_utc(activity.ends_at)
    ActivityService(s).enroll(
        activity.id, resident_id, now=start - timedelta(days=rng.randint(1, 6))
    )
    lat, lon = _jitter(rng, activity.geofence["lat"], activity.geofence["lon"], 60)
    records = RecordService(s, demo.ctx)
    arrived = start - timedelta(minutes=rng.randint(0, 20))
    records.check_in(activity.id, resident_id, lat, lon, now=arrived, phone=phone)
    left = end - timedelta(minutes=early) if early else end + timedelta(minutes=rng.randint(0, 15))
    record = records.check_out(
        activity.id, resident_id, lat, lon, now=left, actor=actor, phone=phone
    )
    demo.records += 1
    if activity.evidence != "none":
        where = _jitter(rng, *photo_at, 80) if photo_at else (lat, lon)
        photo = _photo(rng, where, start + (min(left, end) - start) / 2)
        PhotoService(s, demo.ctx).upload(record.id, resident_id, photo, actor)


def _enrollments(s: Session, demo: Demo, plan: Plan, activity: Activity) -> None:
    """Places taken on an upcoming session; the named residents keep taking part."""
    service = ActivityService(s)
    for resident_id in demo.rng.sample(demo.pool, _crowd(plan, len(demo.pool)) // 2):
        service.enroll(activity.id, resident_id)
    if plan is ZHANG_PLAN:
        service.enroll(activity.id, demo.people[ZHANG_PHONE])
    if plan.title.startswith("青年环保挑战赛"):
        service.enroll(activity.id, demo.people[LI_PHONE])


def _jitter(rng: Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    """A point within `metres` of (lat, lon), as a phone's GPS scatters."""
    angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0, metres)
    d_lat = dist * math.cos(angle) / 111_320
    d_lon = dist * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + d_lat, 6), round(lon + d_lon, 6)


def _photo(rng: Random, where: tuple[float, float], taken: datetime) -> bytes:
    """A small JPEG whose EXIF says where and when (Beijing time) it was taken; a scene of
    its own (random shapes), so no two residents' photos look alike to the fraud checks."""
    image = Image.new("RGB", (240, 180), (rng.randrange(40, 90), rng.randrange(110, 170), 70))
    draw = ImageDraw.Draw(image)
    for _ in range(8):
        x, y = rng.randrange(0, 200), rng.randrange(0, 150)
        box = (x, y, x + rng.randrange(20, 120), y + rng.randrange(20, 90))
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return with_exif(image, where, taken, make="CivicPoints demo", quality=70)


def _record_slips(sessions: sessionmaker[Session], demo: Demo) -> None:
    """Paper slips from the community service centre, entered by the organizer for review."""
    sessions_back = demo.slips[-6:]
    with transaction(sessions) as s:
        offline = OfflineService(s, demo.ctx)
        for n, activity in enumerate(sessions_back, start=1):
            elder = _elder_not_in(demo, demo.roster.get(activity.id, set()))
            if elder is None:
                continue
            start = as_utc(activity.starts_at)
            data = OfflineRecordCreate(
                resident=elder[1],
                activity_id=activity.id,
                started_at=start,
                ended_at=as_utc(activity.ends_at),
                slip_no=f"BS{start.astimezone(BUSINESS_TZ):%Y%m%d}-{n:02d}",
                note="社区服务中心纸质签到单 / paper sign-in sheet",
            )
            offline.record(data, demo.principals["organizer"])


def _li_was_warned(sessions: sessionmaker[Session], demo: Demo) -> None:
    """An earlier challenge whose photo 李先生 took somewhere else: a reviewer confirmed the
    record false (a warning, the first step of the ladder) and he may still appeal."""
    today = local_date(utcnow())
    plan = replace(LI_PLAN, title="青年环保挑战赛·北山街净街", days=(-WARNED_DAYS_AGO,))
    start = datetime.combine(today - timedelta(days=WARNED_DAYS_AGO), plan.start, BUSINESS_TZ)
    li = demo.people[LI_PHONE]
    with transaction(sessions) as s:
        _warm = _regions(s)
        activity = _publish(s, demo, plan, start)
        _attend(s, demo, activity, li, photo_at=SHANGHAI_BUND)
        record = ListingService(s).record_of(activity.id, li)
        assert record is not None
        reason = "照片拍摄地点在上海外滩，与活动地点不符"
        OfflineService(s, demo.ctx).decide(
            record.id, False, reason, demo.principals["reviewer"], fraud=True
        )


def _farm_found_later(sessions: sessionmaker[Session], demo: Demo) -> None:
    """Four accounts served one evening patrol from one phone. The first three looked like a
    family's and were approved; the fourth showed the phone to be a farm's, so it waits for
    review and the three wait on the reviewers' second-look list (复查)."""
    plan = replace(PLANS[3], title="社区夜间巡逻·周末加岗", days=(-FARM_DAYS_AGO,))
    day = local_date(utcnow()) - timedelta(days=FARM_DAYS_AGO)
    start = datetime.combine(day, plan.start, BUSINESS_TZ)
    end = start + timedelta(minutes=plan.minutes)
    farm = [r for r in demo.pool if demo.free(r, start, end)][:4]
    with transaction(sessions) as s:
        _warm = _regions(s)
        activity = _publish(s, demo, plan, start)
        for resident_id in farm:
            demo.book(resident_id, start, end)
            _attend(s, demo, activity, resident_id, phone=Phone(15.0, "demo-farm-phone"))


def _hazards(sessions: sessionmaker[Session], demo: Demo) -> None:
    """隐患随手拍 reports in every state, around 北山街道's first community."""
    load_hazards(
        sessions,
        demo.ctx,
        demo.pool[-5:],  # not the farm's accounts (the first of the pool)
        demo.people[ZHANG_PHONE],
        demo.principals,
        demo.city.communities[0].id,
        lambda where, taken: _photo(demo.rng, where, taken),
    )


STAR_WEEKS = 40  # a year's weekly 3-hour shifts before the demo's three months: 120 h, 一星


def _star_volunteer(sessions: sessionmaker[Session], demo: Demo) -> str | None:
    """A resident of the organizer's street (an elder if one lives there) served the
    community's 长者食堂 every week for most of last year (paper slips, approved): 120 hours,
    one star. The committee issued a 志愿服务记录证明 and named them 优秀志愿者; both
    certificates open at /verify/{number}."""
    street = demo.city.streets[0].path  # the organizer's street: found in their search
    with transaction(sessions) as s:
        regions = RegionService(s)
        near = [
            (home.community_id != demo.city.communities[0].id, home.public_no)
            for rid in [r for r, _ in demo.elders] + demo.pool  # an elder if one lives there
            if (home := s.get(Resident, rid)) is not None
            and regions.get(home.community_id).path.startswith(street)
        ]
    if not near:
        return None
    # of the first community (the demo pool's) if one lives there: the stable sort keeps the
    # elder-first order within each group
    platform_no = sorted(near, key=lambda n: n[0])[0][1]
    plan = replace(ZHANG_PLAN, title="长者食堂助餐", place="北山一社区长者食堂", minutes=180)
    today = local_date(utcnow())
    organizer, reviewer = demo.principals["organizer"], demo.principals["reviewer"]
    with transaction(sessions) as s:
        _warm = _regions(s)
        offline = OfflineService(s, demo.ctx)
        for week in range(STAR_WEEKS):
            day = today - timedelta(days=PAST_DAYS + 14 + 7 * week)
            start = datetime.combine(day, time(11), BUSINESS_TZ)
            activity = _publish(s, demo, plan, start)
            slip = OfflineRecordCreate(
                resident=platform_no,
                activity_id=activity.id,
                started_at=as_utc(start),
                ended_at=as_utc(start) + timedelta(minutes=plan.minutes),
                slip_no=f"SC{day:%Y%m%d}-01",
                note="长者食堂纸质签到单 / paper sign-in sheet",
            )
            record = offline.record(slip, organizer)
            offline.decide(record.id, True, "纸质签到单核对无误", reviewer)
        desk = CertificateDesk(s, demo.ctx)
        committee = demo.city.committees[0].id
        for kind, honour in ((Kind.RECORD, ""), (Kind.HONOUR, f"{today.year - 1}年度优秀志愿者")):
            request = CertificateRequest(
                platform_no,
                committee,
                "北山一社区居委会主任 林芳",
                "0571-87961234",
                kind=kind,
                honour=honour,
            )
            desk.issue(organizer, request, today)
    return platform_no


def _elder_not_in(demo: Demo, taken: set[uuid.UUID]) -> tuple[uuid.UUID, str] | None:
    """An elderly resident (no smartphone) without a record on the session."""
    candidates = [e for e in demo.elders if e[0] not in taken]
    return demo.rng.choice(candidates) if candidates else None


# -- logins ------------------------------------------------------------------------------


ROLE_LABELS = {
    "admin": "管理员 admin",
    "auditor": "审计 auditor",
    "organizer": "组织者 organizer",
    "reviewer": "审核员 reviewer",
    "merchant_clerk": "核销员 clerk",
    "verifier": "实名核验员 verifier",
    "civil_affairs": "民政专干 civil affairs",
    "education": "教育专干 education",
}


def print_logins(console: Console, base_url: str) -> None:
    """Print one demo login per role, where each starts, and the address really served."""
    rows = [
        (ZHANG_PHONE, "市民 resident", "张女士（退休）480 分", "/"),
        (LI_PHONE, "市民 resident", "李先生（白领）照片待审核", "/"),
    ]
    seen: set[str] = set()
    for username, name, role, _scope in STAFF:
        if role not in seen:  # one login per role; the others are in cli/city.py
            seen.add(role)
            rows.append((username, ROLE_LABELS.get(role, role), name, START.get(role, "/staff")))
    console.print(f"演示账号 / demo logins — 密码 / password: {DEMO_PASSWORD}", soft_wrap=True)
    for login, label, who, start in rows:
        console.print(f"  {login:<12} {label:<16} {base_url}{start:<8}  {who}", soft_wrap=True)
    console.print(
        f"网页 / web app: {base_url}/   API 文档 / API docs: {base_url}/docs", soft_wrap=True
    )


START = {
    "admin": "/admin",
    "auditor": "/admin",
    "merchant_clerk": "/merchant",
    "civil_affairs": "/staff/pool",
    "education": "/staff/education",
}
