"""The labelled city of `civicpoints fraud simulate`, planned before anything is written.

Pure: a seed and a head count in, every visit, photo and paper slip out, each labelled honest
or with its fraud type. Honest residents behave as real ones do (GPS noise, GCJ-02 phones,
photos with and without EXIF, late check-outs, back-to-back sessions, families sharing a
phone, busy volunteers); fraudsters commit one kind of fraud each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from random import Random

from civicpoints.fraud import HONEST, wgs84_to_gcj02
from civicpoints.kit.clock import BUSINESS_TZ, as_utc

WEEKS = 4
FAR_AWAY = [
    (31.2400, 121.4900),
    (30.1850, 120.4200),
    (30.4200, 120.3000),
]  # Bund, Xiaoshan, Linping
# (place, lat, lon, photo evidence, far from the city centre)
SITES = [
    ("北山一社区垃圾分类投放点", 30.2600, 120.1425, False, False),
    ("宝石山登山步道（保俶塔）", 30.2628, 120.1440, True, False),
    ("断桥残雪", 30.2593, 120.1516, True, False),
    ("北山三社区居家养老服务照料中心", 30.2655, 120.1405, False, False),
    ("南宋御街（鼓楼段）", 30.2440, 120.1680, True, False),
    ("古荡湾河绿道", 30.2760, 120.1330, True, False),
    ("萧山瓜沥镇社区服务中心", 30.2000, 120.4300, False, True),  # 28 km east
]
SLOTS = [(time(9), 120), (time(11), 90)]  # back-to-back sessions each day at each site


@dataclass(frozen=True)
class Site:
    """Where sessions are held."""

    name: str
    lat: float
    lon: float
    photo: bool
    far: bool


@dataclass(frozen=True)
class Slot:
    """One session of a site, in UTC."""

    index: int
    site: Site
    starts: datetime
    ends: datetime


@dataclass(frozen=True)
class Phone:
    """A phone as it behaves: device id, accuracy it claims, GCJ-02 output, EXIF on photos."""

    device: str | None
    accuracy: float | None
    gcj: bool
    exif: bool


@dataclass
class Shot:
    """A photo to upload: a scene's seed, where EXIF says it was taken (None: no EXIF), and
    for a re-used photo the seed of the earlier one and the edit made to it."""

    seed: int
    taken: datetime
    exif_at: tuple[float, float] | None
    copy_of: int | None = None
    edit: str = ""


@dataclass
class Visit:
    """A resident's check-in and check-out at a session, as planned, and its label."""

    who: int
    slot: Slot
    label: str
    arrive: datetime
    leave: datetime
    at_in: tuple[float, float]
    at_out: tuple[float, float]
    accuracy: float | None
    device: str | None
    shot: Shot | None = None


@dataclass(frozen=True)
class Slip:
    """A paper slip an organizer enters for a resident."""

    who: int
    slot: Slot
    label: str
    starts: datetime
    ends: datetime


@dataclass
class Plan:
    """Everything the simulation will do."""

    residents: int
    slots: list[Slot]
    visits: list[Visit] = field(default_factory=list)
    slips: list[Slip] = field(default_factory=list)


def jitter(rng: Random, lat: float, lon: float, low: float, high: float) -> tuple[float, float]:
    """A point `low`–`high` metres from (lat, lon), to 6 decimals as phones report."""
    angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(low, high)
    d_lat = dist * math.cos(angle) / 111_320
    d_lon = dist * math.sin(angle) / (111_320 * math.cos(math.radians(lat)))
    return round(lat + d_lat, 6), round(lon + d_lon, 6)


def schedule(today: date) -> list[Slot]:
    """Every session of the last WEEKS weeks (ending two days ago), by start."""
    sites = [Site(*s) for s in SITES]
    out: list[tuple[datetime, Site, int]] = []
    for back in range(WEEKS * 7 + 1, 1, -1):
        day = today - timedelta(days=back)
        for site in sites:
            for start, minutes in SLOTS:
                out.append((datetime.combine(day, start, BUSINESS_TZ), site, minutes))
    out.sort(key=lambda item: item[0])
    return [
        Slot(i, site, as_utc(begins), as_utc(begins + timedelta(minutes=minutes)))
        for i, (begins, site, minutes) in enumerate(out)
    ]


def _km(a: Site, b: Site) -> float:
    """Kilometres between two sites (flat-earth, fine at city scale)."""
    dy = (a.lat - b.lat) * 111.32
    dx = (a.lon - b.lon) * 111.32 * math.cos(math.radians(a.lat))
    return math.hypot(dx, dy)


def _round(point: tuple[float, float]) -> tuple[float, float]:
    """A position to 6 decimals, as phones report it."""
    return round(point[0], 6), round(point[1], 6)


def local_hour(slot: Slot) -> int:
    """The hour (Beijing time) a session starts."""
    return slot.starts.astimezone(BUSINESS_TZ).hour


def local_day(slot: Slot) -> date:
    """The day (Beijing time) of a session."""
    return slot.starts.astimezone(BUSINESS_TZ).date()


class Planner:
    """Draws who does what, honest or not; the fraud is drawn in fraud_sim_fraud.py."""

    def __init__(self, rng: Random, residents: int, today: date) -> None:
        self.rng, self.plan = rng, Plan(residents, schedule(today))
        self.city = [s for s in self.plan.slots if not s.site.far]
        self.far = [s for s in self.plan.slots if s.site.far]
        self.days: dict[int, set[date]] = {}  # days a resident already serves
        self.phones: dict[int, Phone] = {}
        self.photos: list[tuple[datetime, int, int]] = []  # honest photos: (start, who, seed)
        self.seeds = 0
        self.pool = list(range(residents))
        rng.shuffle(self.pool)

    # -- residents and phones -------------------------------------------------------

    def take(self, n: int) -> list[int]:
        """`n` residents set aside for one role."""
        if len(self.pool) < n:
            raise ValueError("too few residents for every role")
        taken, self.pool = self.pool[:n], self.pool[n:]
        return taken

    def phone(self, who: int) -> Phone:
        """The resident's phone (made on first use)."""
        if who not in self.phones:
            rng = self.rng
            self.phones[who] = Phone(
                f"phone-{who:06d}" if rng.random() < 0.8 else None,
                None if rng.random() < 0.1 else round(rng.uniform(5, 50), 1),
                rng.random() < 0.25,
                rng.random() < 0.6,
            )
        return self.phones[who]

    def _families(self, honest: list[int]) -> None:
        """Families of 2–3 sharing one phone (15 % of honest residents)."""
        members = honest[: int(len(honest) * 0.15)]
        while len(members) >= 2:
            size = min(self.rng.randint(2, 3), len(members))
            family, members = members[:size], members[size:]
            shared = self.phone(family[0])
            for who in family[1:]:
                mine = self.phone(who)
                self.phones[who] = Phone(shared.device, mine.accuracy, mine.gcj, mine.exif)

    # -- honest behaviour -----------------------------------------------------------

    def _honest_life(self, who: int) -> None:
        """Most serve 2–5 times in the four weeks, some 6–10; busy volunteers 12–20, often
        twice in a row; a few live 28 km east and serve there."""
        pick = self.rng.random()
        count = self.rng.randint(2, 5) if pick < 0.7 else self.rng.randint(6, 10)
        busy = pick >= 0.92
        count = self.rng.randint(12, 20) if busy else count
        area = self.far if self.rng.random() < 0.08 else self.city
        for _ in range(count):
            slot = self._free_slot(who, area)
            if busy and area is self.city and local_hour(slot) == 9 and self.rng.random() < 0.5:
                self._back_to_back(who, slot)
            else:
                self.visit(who, slot)

    def _some_honest(self, who: int, count: int) -> None:
        """A fraudster's ordinary visits."""
        for _ in range(count):
            self.visit(who, self._free_slot(who, self.city))

    def _free_slot(self, who: int, area: list[Slot]) -> Slot:
        """A session on a day the resident does not serve yet."""
        taken = self.days.setdefault(who, set())
        while True:
            slot = self.rng.choice(area)
            day = local_day(slot)
            if day not in taken:
                taken.add(day)
                return slot

    def _next_to(self, slot: Slot, far: bool = False) -> Slot:
        """The session starting as `slot` ends, at a site within 3 km (or the far site)."""
        after = [
            s
            for s in self.plan.slots
            if s.starts == slot.ends and s.site.far == far and (far or _km(s.site, slot.site) < 3)
        ]
        return self.rng.choice(after)

    def _back_to_back(self, who: int, first: Slot) -> None:
        """Two sessions in a row: out on time, a short walk or ride, in a little late."""
        a = self.visit(who, first, leave=first.ends + timedelta(minutes=self.rng.randint(0, 3)))
        second = self._next_to(first)
        self.visit(who, second, arrive=a.leave + timedelta(minutes=self.rng.randint(6, 15)))

    def visit(
        self,
        who: int,
        slot: Slot,
        label: str = HONEST,
        arrive: datetime | None = None,
        leave: datetime | None = None,
    ) -> Visit:
        """An honest-looking visit: GPS noise, the phone's accuracy and map datum, a late
        check-out now and then, an early one rarely; a photo where the session asks."""
        rng, phone, site = self.rng, self.phone(who), slot.site
        arrive = arrive or slot.starts - timedelta(minutes=rng.randint(0, 25))
        if leave is None:
            early = rng.random() < 0.05
            delta = -rng.randint(5, 15) if early else rng.randint(0, 40)
            leave = slot.ends + timedelta(minutes=delta)
        at_in, at_out = (jitter(rng, site.lat, site.lon, 5, 30) for _ in range(2))
        if phone.gcj:
            at_in, at_out = (_round(wgs84_to_gcj02(*p)) for p in (at_in, at_out))
        v = Visit(who, slot, label, arrive, leave, at_in, at_out, phone.accuracy, phone.device)
        if site.photo:
            where = jitter(rng, site.lat, site.lon, 5, 30) if phone.exif else None
            v.shot = Shot(self._seed(), arrive + (leave - arrive) / 2, where)
            if label == HONEST:
                self.photos.append((slot.starts, who, v.shot.seed))
        self.plan.visits.append(v)
        return v

    def _seed(self) -> int:
        """A new scene."""
        self.seeds += 1
        return self.seeds
