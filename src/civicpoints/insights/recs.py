"""为您推荐: each resident's top-N upcoming activities with a reason (docs/insights.md).

The nightly job fits the model (recs_rules.py) on counts the database aggregates over the
last year (no participation row is held in Python), stores it, and ranks the residents who
signed in or took part in the last 30 days, in pages; everyone else is ranked at their first
look at home with the stored model. Candidates are the activities of the next two weeks,
those of the resident's own district first. The home page reads the stored rows that are
still valid (published, not started, not joined since). Turned off, consent withdrawn or
erased: nothing is computed and their rows are deleted (PIPL). Services never commit.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicpoints.activities import Activity, Circle, geofence_from_dict
from civicpoints.insights.errors import InvalidChoice
from civicpoints.insights.privacy import band_of
from civicpoints.insights.recs_repository import ActivityRow, PastRow, RecsRepository, Someone
from civicpoints.insights.recs_rules import (
    CAP,
    Counts,
    Item,
    Model,
    Person,
    Point,
    Reason,
    Slate,
    Taken,
    slot_of,
)
from civicpoints.kit.clock import BUSINESS_TZ, as_utc, local_date
from civicpoints.kit.errors import DomainError
from civicpoints.kit.ids import new_id

TOP_N = 10  # stored per resident
SHOWN = 5  # on the home page (长辈模式: 3)
WINDOW = timedelta(days=14)  # how far ahead activities are recommended
HISTORY = timedelta(days=365)  # participations the nightly model learns from
ACTIVE = timedelta(days=30)  # the nightly job ranks who signed in or took part within this
REFRESH = timedelta(hours=36)  # an older list (not ranked last night) is ranked at the look
CANDIDATES = 2000  # upcoming activities ranked at most (the resident's district's first)
SAMPLE = 20_000  # participations a model learns from when none is stored yet
PLACES = 300  # activities whose places make a region's point (when no model is stored)
KEPT = 2  # decoded stored models kept per process (by id: a stored model never changes)
SLATE_TTL = 60.0  # seconds a first look's prepared candidates serve the next first looks


@dataclass(frozen=True)
class Suggestion:
    """One recommended activity as the home page shows it."""

    rank: int
    activity: Activity
    reason: Reason


@dataclass
class Ground:
    """What the rankings of one run share: the model, the points of regions (path →
    centroid of their activities'), and a slate of candidates per district, prepared at
    its first use."""

    model: Model
    places: Mapping[str, Point]
    slates: dict[str, Slate] = field(default_factory=dict)

    def slate(self, community_path: str, items_near: Callable[[str], Iterable[Item]]) -> Slate:
        """The prepared candidates of the resident's district (`items_near`: a district's
        path → its candidates, read in the caller's transaction)."""
        district = _district(community_path)
        got = self.slates.get(district)
        if got is None:
            got = self.slates[district] = Slate.of(tuple(items_near(district)), self.model)
        return got

    def candidates(self) -> int:
        """How many distinct activities the slates prepared so far hold."""
        return len({it.key for s in self.slates.values() for it in s.items})


@dataclass(frozen=True)
class Stored:
    """A stored model, decoded: the model and the regions' points of its night, and the
    slates first looks prepared with it in this process (district → (when, slate))."""

    model: Model
    places: dict[str, Point]
    slates: dict[str, tuple[float, Slate]] = field(default_factory=dict)

    def slate(self, district: str, items: Callable[[], Iterable[Item]]) -> Slate:
        """The district's slate prepared in the last `SLATE_TTL` seconds, else a new one."""
        got = self.slates.get(district)
        if got is None or time.monotonic() - got[0] > SLATE_TTL:
            got = self.slates[district] = (time.monotonic(), Slate.of(tuple(items()), self.model))
        return got[1]


_kept: dict[uuid.UUID, Stored] = {}  # decoded stored models of this process, by id


class RecsService:
    """Recommendations of residents: the setting, the lists, the runs."""

    def __init__(self, session: Session) -> None:
        self.repo = RecsRepository(session)

    def enabled(self, resident_id: uuid.UUID) -> bool:
        """Whether the resident has recommendations on (on unless turned off)."""
        row = self.repo.setting(resident_id)
        return row is None or row.enabled

    def export(self, resident_id: uuid.UUID) -> dict[str, Any]:
        """The resident's choice and their stored list (rank, activity, reason, score), for
        their own copy of their data."""
        row = self.repo.setting(resident_id)
        return {
            "enabled": row is None or row.enabled,
            "list": [
                {
                    "rank": r.rank,
                    "activity_id": r.activity_id,
                    "activity": title,
                    "reason": r.reason,
                    "reason_arg": r.reason_arg,
                    "score": r.score,
                    "computed_at": r.computed_at,
                }
                for r, title in self.repo.listed(resident_id)
            ],
        }

    def turn(self, resident_id: uuid.UUID, choice: str, now: datetime) -> bool:
        """Turn recommendations on ("1": computed now) or off ("0": their rows deleted now);
        InvalidChoice otherwise, nothing written. Returns the new state."""
        if choice not in ("0", "1"):
            raise InvalidChoice("on")
        on = choice == "1"
        self.repo.set_enabled(resident_id, on, now)
        if on:
            self.compute_one(resident_id, now)
        else:
            self.repo.forget([resident_id])
        return on

    def forget(self, resident_id: uuid.UUID) -> int:
        """Delete the resident's stored list (consent withdrawn); the rows deleted."""
        return self.repo.forget([resident_id])

    def suggestions(
        self, resident_id: uuid.UUID, now: datetime, limit: int = SHOWN
    ) -> list[Suggestion]:
        """The resident's stored list still valid now (ranked first if never ranked, or not
        since the night before: the nightly job ranks only recently active residents)."""
        row = self.repo.setting(resident_id)
        if row is not None and not row.enabled:
            return []
        if row is None or row.computed_at is None or as_utc(row.computed_at) < now - REFRESH:
            self.compute_one(resident_id, now)
        return [
            Suggestion(r.rank, a, Reason(r.reason, r.reason_arg))
            for r, a in self.repo.shown(resident_id, now, limit)
        ]

    def compute_one(self, resident_id: uuid.UUID, now: datetime) -> int:
        """Rank for one resident with the stored model (fitted from a bounded sample if
        none is stored yet); 0 (rows deleted) if not eligible."""
        who = self.repo.resident(resident_id)
        if who is None:
            self.repo.forget([resident_id])
            return 0
        stored = self.stored()
        if stored is None:
            model = Model.fit(_histories(self.repo.past_recent(now, SAMPLE), local_date(now)))
            return self.rank_page(Ground(model, self._places_of(who[2])), [who], now)
        district = _district(who[2])
        slate = stored.slate(district, lambda: self.items(now, district))
        return self.rank_page(Ground(stored.model, stored.places, {district: slate}), [who], now)

    def stored(self) -> Stored | None:
        """The newest stored model (decoded once per process), None if none is stored."""
        model_id = self.repo.latest_model_id()
        if model_id is None:
            return None
        got = _kept.get(model_id)
        if got is None:
            payload = self.repo.model_payload(model_id)
            if payload is None:  # replaced since: the next look reads the new one
                return None
            data = json.loads(zlib.decompress(payload))
            got = Stored(Model.from_dict(data["model"]), _points(data["places"]))
            while len(_kept) >= KEPT:
                _kept.pop(next(iter(_kept)))
            _kept[model_id] = got
        return got

    def ground(self, now: datetime) -> Ground:
        """The nightly run's shared part: fitted on the last year's counts (aggregated by
        the database), every region's point; the model and points stored for first looks."""
        since, today = now - HISTORY, local_date(now)
        counts = Counts()
        for org, category, place, starts, band, n in self.repo.counts(since, now, today):
            counts.add(band, _series(org, category, place), category, _slot(starts), n)
        for org, category, place, n in self.repo.series_users(since, now, CAP):
            counts.users[_series(org, category, place)] = n
        pairs = (
            (_series(*a), _series(*b), n) for a, b, n in self.repo.series_pairs(since, now, CAP)
        )
        model = Model.of(counts, pairs)
        places = _centroids(self.repo.places(since))
        data = {"model": model.to_dict(), "places": places}
        payload = zlib.compress(json.dumps(data, ensure_ascii=False).encode(), 6)
        self.repo.save_model(new_id(), now, payload)
        return Ground(model, places)

    def items(self, now: datetime, district: str) -> list[Item]:
        """The activities anyone may join in the window, the district's first, as the model
        sees them."""
        return [_item(r) for r in self.repo.upcoming(now, now + WINDOW, CANDIDATES, district)]

    def rank_page(self, ground: Ground, people: Sequence[Someone], now: datetime) -> int:
        """Rank and store the lists of (id, birth date, community path) residents."""
        ids = [p[0] for p in people]
        past: dict[uuid.UUID, list[Taken]] = defaultdict(list)
        for row in self.repo.past_of(ids, now):
            past[row[0]].append(_taken(row))
        slates = {p[2]: ground.slate(p[2], lambda d: self.items(now, d)) for p in people}
        keys = list({it.key for s in slates.values() for it in s.items})
        joined: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for r, a in self.repo.joined(ids, keys):  # type: ignore[arg-type]
            joined[r].add(a)
        today, lists = local_date(now), {}  # resident → rows of Recommendation
        for rid, birth, path in people:
            person = Person(band_of(birth, today), _home(path, ground.places), tuple(past[rid]))
            picks = ground.model.rank(person, slates[path], TOP_N, exclude=joined[rid])
            lists[rid] = [
                {
                    "resident_id": rid,
                    "rank": i,
                    "activity_id": p.key,
                    "score": p.score,
                    "reason": p.reason.code,
                    "reason_arg": p.reason.arg[:200],
                    "computed_at": now,
                }
                for i, p in enumerate(picks, start=1)
            ]
        self.repo.replace(lists, now)
        return sum(len(v) for v in lists.values())

    def active_ids(self, now: datetime) -> Iterator[uuid.UUID]:
        """Eligible residents who signed in or took part in the last `ACTIVE`, by id."""
        return self.repo.active_ids(now - ACTIVE, now)

    def residents(self, ids: Sequence[uuid.UUID]) -> list[Someone]:
        """(id, birth date, community path) of these residents, those still eligible."""
        return self.repo.residents(ids)

    def forget_ineligible(self, now: datetime) -> int:
        """Delete the rows of residents who may no longer be computed, and the lists
        computed before the window (every activity in them has started)."""
        return self.repo.forget_ineligible() + self.repo.forget_expired(now - WINDOW)

    def _places_of(self, community_path: str) -> dict[str, Point]:
        """The point of the resident's community, else of the nearest ancestor with
        activities (a bounded read per level)."""
        parts = community_path.strip("/").split("/")
        for i in range(len(parts), 0, -1):
            path = "/".join(parts[:i]) + "/"
            got = _centroids((path, f) for f in self.repo.places_under(path, PLACES))
            if path in got:
                return {path: got[path]}
        return {}


def _histories(rows: Iterable[PastRow], today: date) -> Iterable[tuple[str, list[Taken]]]:
    """(age band, past participations) per resident from rows sorted or not by resident."""
    by: dict[uuid.UUID, tuple[str, list[Taken]]] = {}
    for row in rows:
        by.setdefault(row[0], (band_of(row[1], today), []))[1].append(_taken(row))
    return list(by.values())


def _taken(row: PastRow) -> Taken:
    _, _, org, category, place, title, starts = row
    return Taken(_series(org, category, place), category, _slot(starts), title)


def _district(community_path: str) -> str:
    """The path of the district a community is in."""
    return "/".join(community_path.strip("/").split("/")[:2]) + "/"


def _series(org: uuid.UUID, category: str, place: str) -> str:
    """What recurs: one organizer's activities of one category at one place."""
    return f"{org}|{category}|{place}"


def _slot(starts: datetime) -> int:
    return slot_of(as_utc(starts).astimezone(BUSINESS_TZ))


def _item(row: ActivityRow) -> Item:
    key, org, category, place, starts, fence, title = row
    return Item(key, _series(org, category, place), category, _slot(starts), _centre(fence),
                title)  # fmt: skip


def _points(data: Mapping[str, Sequence[float]]) -> dict[str, Point]:
    return {path: (float(p[0]), float(p[1])) for path, p in data.items()}


def _centre(fence: dict[str, Any]) -> Point | None:
    """The centre of a stored geofence (a polygon's mean vertex), None if unreadable."""
    try:
        shape = geofence_from_dict(fence)
    except DomainError:  # a stored fence is valid; an unreadable one only loses its distance
        return None
    if isinstance(shape, Circle):
        return shape.lat, shape.lon
    lats, lons = zip(*shape.points, strict=True)
    return sum(lats) / len(lats), sum(lons) / len(lons)


def _centroids(rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, Point]:
    """path → mean centre of the activities held in the region or below it."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for path, fence in rows:
        c = _centre(fence)
        if c is None:
            continue
        parts = path.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            s = sums["/".join(parts[:i]) + "/"]
            s[0], s[1], s[2] = s[0] + c[0], s[1] + c[1], s[2] + 1
    return {p: (s[0] / s[2], s[1] / s[2]) for p, s in sums.items()}


def _home(community_path: str, places: Mapping[str, Point]) -> Point | None:
    """The point of the community, else of its nearest ancestor that has one."""
    parts = community_path.strip("/").split("/")
    for i in range(len(parts), 0, -1):
        got = places.get("/".join(parts[:i]) + "/")
        if got is not None:
            return got
    return None
