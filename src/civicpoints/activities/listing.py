"""What a resident sees of activities: nearest or closest to home first, points, places left.

The list is the API's (`ActivityService.page`: published, not ended, by start), ranked here:
by distance from the phone when it gave its position, else the resident's own community
first, then their street, then the rest; ties by start time. Never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from civicpoints.activities import geo
from civicpoints.activities.models import Activity, Enrollment, EnrollmentStatus, Participation
from civicpoints.activities.repository import ActivityRepository
from civicpoints.activities.service import ActivityService
from civicpoints.kit.clock import as_utc, local_date
from civicpoints.regions import Region, RegionService
from civicpoints.scoring import Category, ScoringService

# How many upcoming activities are ranked at most (a city's week, well within one page read).
RANKED = 200
EVIDENCE_ORDER = ("none", "photo", "photo_gps")


@dataclass(frozen=True)
class Rate:
    """What the rules in force give: `points` per hour or per participation."""

    per_hour: bool
    points: int


@dataclass(frozen=True)
class Card:
    """One activity as a resident sees it."""

    activity: Activity
    rate: Rate | None
    evidence: str  # the stronger of what the activity and the rule ask: none, photo, photo_gps
    places_left: int
    distance_m: float | None
    enrollment: str | None  # enrolled, waitlisted, or None
    region: Region


class ListingService:
    """Activities ranked for a resident, with their points and places."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = ActivityRepository(session)
        self.activities = ActivityService(session)
        self.regions = RegionService(session)

    def upcoming(
        self,
        resident_id: uuid.UUID,
        home_region_id: uuid.UUID,
        now: datetime,
        category: str | None = None,
        near: tuple[float, float] | None = None,
    ) -> list[Card]:
        """Published activities that have not ended, ranked for this resident."""
        rows, _ = self.activities.page(RANKED, None, category, ends_after=now)
        cards = self.cards(rows, resident_id, near)
        home = self.regions.get(home_region_id).path
        return sorted(cards, key=lambda c: _rank(c, home, near is not None))

    def cards(
        self,
        rows: Sequence[Activity],
        resident_id: uuid.UUID,
        near: tuple[float, float] | None = None,
    ) -> list[Card]:
        """Cards for `rows`, with places left and the resident's own enrollment."""
        ids = [a.id for a in rows]
        taken = self.repo.count_enrolled_many(ids) if ids else {}
        mine = {e.activity_id: e for e in self.repo.enrollments_of(resident_id, ids)} if ids else {}
        return [self._card(a, taken.get(a.id, 0), mine.get(a.id), near) for a in rows]

    def _card(
        self,
        activity: Activity,
        taken: int,
        mine: Enrollment | None,
        near: tuple[float, float] | None,
    ) -> Card:
        rate, rule_evidence = self.rate_of(activity)
        status = mine.status if mine and mine.status != EnrollmentStatus.CANCELLED else None
        distance = None
        if near is not None:
            distance = geo.distance_to(geo.geofence_from_dict(activity.geofence), *near)
        return Card(
            activity=activity,
            rate=rate,
            evidence=_stronger(activity.evidence, rule_evidence),
            places_left=max(activity.capacity - taken, 0),
            distance_m=distance,
            enrollment=status,
            region=self.regions.get(activity.region_id),
        )

    def rate_of(self, activity: Activity) -> tuple[Rate | None, str]:
        """The rule in force where and when the activity runs, and the evidence it asks."""
        region = self.regions.get(activity.region_id)
        ancestry = [r.id for r in self.regions.ancestry(region)]
        _, rule_set = ScoringService(self.session).rules_for(
            ancestry, local_date(activity.starts_at)
        )
        rule = rule_set.categories.get(Category(activity.category))
        if rule is None:
            return None, "none"
        return Rate(per_hour=rule.mode == "per_hour", points=rule.points), str(rule.evidence)

    def waitlist_position(self, activity_id: uuid.UUID, resident_id: uuid.UUID) -> int | None:
        """1 for the next to move up; None when the resident is not on the waitlist."""
        mine = self.activities.enrollment(activity_id, resident_id)
        if mine is None or mine.status != EnrollmentStatus.WAITLISTED:
            return None
        return self.repo.waitlisted_before(mine) + 1

    def record_of(self, activity_id: uuid.UUID, resident_id: uuid.UUID) -> Participation | None:
        """The resident's record at the activity, read without locking."""
        return self.repo.participation_of(activity_id, resident_id, lock=False)

    def by_id(self, activity_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Activity]:
        """Several activities, by id."""
        return {a.id: a for a in self.repo.activities(activity_ids)} if activity_ids else {}


def _stronger(a: str, b: str) -> str:
    """The stronger of two evidence levels."""
    return max(a, b, key=lambda e: EVIDENCE_ORDER.index(e) if e in EVIDENCE_ORDER else 0)


def _rank(card: Card, home: str, by_distance: bool) -> tuple[float, datetime]:
    """Sort key: distance, or closeness to home (own community, own street, elsewhere)."""
    starts = as_utc(card.activity.starts_at)
    if by_distance and card.distance_m is not None:
        return card.distance_m, starts
    return float(_closeness(card.region.path, home)), starts


def _closeness(path: str, home: str) -> int:
    """0 for the resident's own community, 1 for their street, 2 elsewhere."""
    if path == home:
        return 0
    street = home.rstrip("/").rsplit("/", 1)[0] + "/"
    return 1 if path.startswith(street) else 2
