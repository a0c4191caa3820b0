"""为您推荐: each resident's top-N upcoming activities with a reason (docs/insights.md).

The nightly job fits the model (recs_rules.py) on the last year's participations of every
resident who may be computed, ranks the activities of the next two weeks for each of them in
pages of residents, and stores the top N. The home page reads the stored rows that are still
valid (published, not started, not joined since). A resident never computed (new, or just
turned it back on) is computed once on the spot from a bounded sample: popular nearby, for
their age (the cold start). Turned off, consent withdrawn or erased: nothing is computed and
their rows are deleted (PIPL). Services never commit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicpoints.activities import Activity, Circle, geofence_from_dict
from civicpoints.insights.errors import InvalidChoice
from civicpoints.insights.privacy import band_of
from civicpoints.insights.recs_repository import PastRow, RecsRepository, Someone
from civicpoints.insights.recs_rules import (
    Item,
    Model,
    Person,
    Point,
    Reason,
    Slate,
    Taken,
    slot_of,
)
from civicpoints.kit.clock import BUSINESS_TZ, local_date
from civicpoints.kit.errors import DomainError

TOP_N = 10  # stored per resident
SHOWN = 5  # on the home page (长辈模式: 3)
WINDOW = timedelta(days=14)  # how far ahead activities are recommended
HISTORY = timedelta(days=365)  # participations the nightly model learns from
CANDIDATES = 2000  # upcoming activities ranked at most
SAMPLE = 20_000  # participations the on-the-spot model learns from
PLACES = 300  # activities whose places make a region's point (on the spot)


@dataclass(frozen=True)
class Suggestion:
    """One recommended activity as the home page shows it."""

    rank: int
    activity: Activity
    reason: Reason


@dataclass
class Ground:
    """What every resident's ranking of one run shares: the model, the candidates (also
    prepared as a slate), the points of regions (path → centroid of their activities')."""

    model: Model
    items: tuple[Item, ...]
    places: Mapping[str, Point]
    slate: Slate = field(init=False)

    def __post_init__(self) -> None:
        self.slate = Slate.of(self.items, self.model)


class RecsService:
    """Recommendations of residents: the setting, the lists, the runs."""

    def __init__(self, session: Session) -> None:
        self.repo = RecsRepository(session)

    def enabled(self, resident_id: uuid.UUID) -> bool:
        """Whether the resident has recommendations on (on unless turned off)."""
        row = self.repo.setting(resident_id)
        return row is None or row.enabled

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
        """The resident's stored list still valid now (computed first if never computed)."""
        row = self.repo.setting(resident_id)
        if row is not None and not row.enabled:
            return []
        if row is None or row.computed_at is None:
            self.compute_one(resident_id, now)
        return [
            Suggestion(r.rank, a, Reason(r.reason, r.reason_arg))
            for r, a in self.repo.shown(resident_id, now, limit)
        ]

    def compute_one(self, resident_id: uuid.UUID, now: datetime) -> int:
        """Rank for one resident from a bounded sample; 0 (rows deleted) if not eligible."""
        who = self.repo.resident(resident_id)
        if who is None:
            self.repo.forget([resident_id])
            return 0
        model = Model.fit(_histories(self.repo.past_recent(now, SAMPLE), local_date(now)))
        places = self._places_of(who[2])
        ground = Ground(model, self.items(now), places)
        return self.rank_page(ground, [who], now)

    def ground(self, now: datetime) -> Ground:
        """The nightly run's shared part: fitted on the last year, every region's point."""
        rows = self.repo.past_all(now - HISTORY, now)
        model = Model.fit(_histories(rows, local_date(now)))
        return Ground(model, self.items(now), _centroids(self.repo.places(now - HISTORY)))

    def items(self, now: datetime) -> tuple[Item, ...]:
        """The activities anyone may join in the window, as the model sees them."""
        return tuple(_item(a) for a in self.repo.upcoming(now, now + WINDOW, CANDIDATES))

    def rank_page(self, ground: Ground, people: Sequence[Someone], now: datetime) -> int:
        """Rank and store the lists of (id, birth date, community path) residents."""
        ids = [p[0] for p in people]
        past: dict[uuid.UUID, list[Taken]] = defaultdict(list)
        for row in self.repo.past_of(ids, now):
            past[row[0]].append(_taken(row))
        joined: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for r, a in self.repo.joined(ids, [it.key for it in ground.items]):  # type: ignore[misc]
            joined[r].add(a)
        today, lists = local_date(now), {}  # resident → rows of Recommendation
        for rid, birth, path in people:
            person = Person(band_of(birth, today), _home(path, ground.places), tuple(past[rid]))
            picks = ground.model.rank(person, ground.slate, TOP_N, exclude=joined[rid])
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

    def page_of_residents(self, after: uuid.UUID | None, limit: int) -> Sequence[tuple[Any, ...]]:
        """The next page of eligible residents (id, birth date, community path)."""
        return [tuple(r) for r in self.repo.residents_page(after, limit)]

    def forget_ineligible(self) -> int:
        """Delete the rows of residents who may no longer be computed."""
        return self.repo.forget_ineligible()

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
    return Taken(
        f"{org}|{category}|{place}", category, slot_of(starts.astimezone(BUSINESS_TZ)), title
    )


def _item(a: Activity) -> Item:
    local = a.starts_at.astimezone(BUSINESS_TZ)
    return Item(
        a.id,
        f"{a.organization_id}|{a.category}|{a.place_name}",
        a.category,
        slot_of(local),
        _centre(a.geofence),
        a.title,
    )


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
