"""All SQL of 为您推荐: the settings and stored lists, and the reads of other domains' public
tables (residents, activities, enrolments, participations, regions) the model needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, exists, func, insert, or_, select, tuple_, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpoints.activities import (
    Activity,
    ActivityStatus,
    EnrollmentStatus,
    Participation,
    RecordStatus,
)
from civicpoints.activities import Enrollment as Enrolment
from civicpoints.identity import ERASED, Resident, signed_in_since
from civicpoints.insights.recs_models import RecModel, Recommendation, RecSetting
from civicpoints.insights.repository import band_case
from civicpoints.regions import Region

CHUNK = 500  # ids per IN list
NOT_TAKEN = (RecordStatus.REJECTED, RecordStatus.REVOKED)  # records that did not happen
# Past rows: (resident, birth date, organization, category, place, title, start).
PastRow = tuple[uuid.UUID, date, uuid.UUID, str, str, str, datetime]
Someone = tuple[uuid.UUID, date, str]  # (resident, birth date, community path)
# (organization, category, place, start, age band, participations) per activity and band.
CountRow = tuple[uuid.UUID, str, str, datetime, str, int]
UsersRow = tuple[uuid.UUID, str, str, int]  # (organization, category, place, residents)
SeriesKey = tuple[uuid.UUID, str, str]
PairRow = tuple[SeriesKey, SeriesKey, int]
# (id, organization, category, place, start, geofence, title) of an upcoming activity.
ActivityRow = tuple[uuid.UUID, uuid.UUID, str, str, datetime, dict[str, Any], str]


class RecsRepository:
    """Reads and writes of recommendations; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- who may be computed ----------------------------------------------------------------

    def _turned_off(self) -> Any:
        return exists().where(RecSetting.resident_id == Resident.id, RecSetting.enabled.is_(False))

    def _eligible(self) -> Any:
        """Residents whose data may be used: consent in force, not erased, not turned off."""
        return and_(
            Resident.consent_withdrawn_at.is_(None),
            Resident.verification != ERASED,
            ~self._turned_off(),
        )

    def residents_page(self, after: uuid.UUID | None, limit: int) -> list[Someone]:
        """(id, birth date, community path) of eligible residents after `after`, by id."""
        stmt = (
            select(Resident.id, Resident.birth_date, Region.path)
            .join(Region, Region.id == Resident.community_id)
            .where(self._eligible())
            .order_by(Resident.id)
            .limit(limit)
        )
        if after is not None:
            stmt = stmt.where(Resident.id > after)
        return [(r, b, p) for r, b, p in self.session.execute(stmt)]

    def resident(self, resident_id: uuid.UUID) -> Someone | None:
        """(id, birth date, community path) of one resident, if eligible."""
        stmt = (
            select(Resident.id, Resident.birth_date, Region.path)
            .join(Region, Region.id == Resident.community_id)
            .where(Resident.id == resident_id, self._eligible())
        )
        row = self.session.execute(stmt).first()
        return None if row is None else (row[0], row[1], row[2])

    # -- what they did, what is on ---------------------------------------------------------

    def _past(self) -> Any:
        return (
            select(
                Participation.resident_id,
                Resident.birth_date,
                Activity.organization_id,
                Activity.category,
                Activity.place_name,
                Activity.title,
                Activity.starts_at,
            )
            .join(Activity, Activity.id == Participation.activity_id)
            .join(Resident, Resident.id == Participation.resident_id)
            .where(Participation.status.not_in(NOT_TAKEN), self._eligible())
        )

    def past_recent(self, until: datetime, limit: int) -> Sequence[PastRow]:
        """The latest `limit` eligible participations before `until` (a bounded sample)."""
        stmt = self._past().where(Activity.starts_at < until)
        stmt = stmt.order_by(Activity.starts_at.desc(), Participation.id).limit(limit)
        return [_past_row(r) for r in self.session.execute(stmt)]

    def past_of(self, resident_ids: Sequence[uuid.UUID], until: datetime) -> list[PastRow]:
        """These residents' participations in activities started before `until`."""
        out: list[PastRow] = []
        for part in _chunks(resident_ids):
            stmt = self._past().where(
                Participation.resident_id.in_(part), Activity.starts_at < until
            )
            out += [_past_row(r) for r in self.session.execute(stmt.order_by(Activity.starts_at))]
        return out

    # -- the model's counts, aggregated in SQL (the nightly fit holds no participation row) --

    def _took_part(self, since: datetime, until: datetime) -> tuple[Any, ...]:
        """Conditions: an eligible resident's participation in an activity that started in
        [since, until) (joins Activity and Resident)."""
        return (
            Participation.status.not_in(NOT_TAKEN),
            self._eligible(),
            Activity.starts_at >= since,
            Activity.starts_at < until,
        )

    def counts(self, since: datetime, until: datetime, on: date) -> Iterator[CountRow]:
        """(organization, category, place, start, age band on `on`, participations) per
        activity and band, streamed: one row per activity and band, not per participation."""
        band = band_case(on)
        stmt = (
            select(
                Activity.organization_id,
                Activity.category,
                Activity.place_name,
                Activity.starts_at,
                band,
                func.count(),
            )
            .select_from(Participation)
            .join(Activity, Activity.id == Participation.activity_id)
            .join(Resident, Resident.id == Participation.resident_id)
            .where(*self._took_part(since, until))
            .group_by(Activity.id, band)
        )
        for o, c, p, t, b, n in self.session.execute(stmt.execution_options(yield_per=5000)):
            yield o, c, p, t, b, int(n)

    def _capped(self, since: datetime, until: datetime, cap: int) -> Any:
        """(resident, series) of each eligible resident's latest `cap` distinct series, by
        their first participation in it (what `Model.fit` keeps in memory)."""
        series = (Activity.organization_id, Activity.category, Activity.place_name)
        first = (
            select(
                Participation.resident_id.label("rid"),
                *series,
                func.min(Activity.starts_at).label("first"),
            )
            .select_from(Participation)
            .join(Activity, Activity.id == Participation.activity_id)
            .join(Resident, Resident.id == Participation.resident_id)
            .where(*self._took_part(since, until))
            .group_by(Participation.resident_id, *series)
            .subquery()
        )
        order = func.row_number().over(
            partition_by=first.c.rid,
            order_by=(first.c.first.desc(), first.c.organization_id, first.c.category,
                      first.c.place_name),
        )  # fmt: skip
        ranked = select(first, order.label("n")).subquery()
        return (
            select(ranked.c.rid, ranked.c.organization_id, ranked.c.category, ranked.c.place_name)
            .where(ranked.c.n <= cap)
            .cte("capped")
        )

    def series_users(self, since: datetime, until: datetime, cap: int) -> Iterator[UsersRow]:
        """(organization, category, place, residents) per series, of the capped series."""
        c = self._capped(since, until, cap)
        stmt = select(c.c.organization_id, c.c.category, c.c.place_name, func.count()).group_by(
            c.c.organization_id, c.c.category, c.c.place_name
        )
        for o, cat, p, n in self.session.execute(stmt.execution_options(yield_per=5000)):
            yield o, cat, p, int(n)

    def series_pairs(self, since: datetime, until: datetime, cap: int) -> Iterator[PairRow]:
        """Every pair of series that share a resident, once: (series a as organization,
        category, place; series b alike; residents in both), streamed."""
        c = self._capped(since, until, cap)
        a, b = c.alias("a"), c.alias("b")
        ka = (a.c.organization_id, a.c.category, a.c.place_name)
        kb = (b.c.organization_id, b.c.category, b.c.place_name)
        stmt = (
            select(*ka, *kb, func.count())
            .join(b, and_(b.c.rid == a.c.rid, tuple_(*ka) < tuple_(*kb)))
            .group_by(*ka, *kb)
        )
        for row in self.session.execute(stmt.execution_options(yield_per=5000)):
            yield (row[0], row[1], row[2]), (row[3], row[4], row[5]), int(row[6])

    # -- who is ranked nightly -----------------------------------------------------------------

    def active_ids(self, since: datetime, until: datetime) -> Iterator[uuid.UUID]:
        """Eligible residents who registered, signed in, enrolled or took part in an
        activity in [since, until), by id, streamed (the nightly job ranks them; the others
        are ranked at their first look)."""
        took_part = (
            select(Participation.resident_id)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(Activity.starts_at >= since, Activity.starts_at < until)
        )
        enrolled = select(Enrolment.resident_id).where(Enrolment.created_at >= since)
        recent = union(took_part, enrolled, signed_in_since(since)).subquery()
        stmt = (
            select(Resident.id)
            .where(
                or_(Resident.created_at >= since, Resident.id.in_(select(recent.c[0]))),
                self._eligible(),
            )
            .order_by(Resident.id)
        )
        for (rid,) in self.session.execute(stmt.execution_options(yield_per=10_000)):
            yield rid

    def residents(self, ids: Sequence[uuid.UUID]) -> list[Someone]:
        """(id, birth date, community path) of these residents if still eligible, by id."""
        stmt = (
            select(Resident.id, Resident.birth_date, Region.path)
            .join(Region, Region.id == Resident.community_id)
            .where(Resident.id.in_(ids), self._eligible())
            .order_by(Resident.id)
        )
        return [(r, b, p) for r, b, p in self.session.execute(stmt)]

    def upcoming(
        self, after: datetime, until: datetime, limit: int, near: str = ""
    ) -> Sequence[ActivityRow]:
        """(id, organization, category, place, start, geofence, title) of published
        activities starting in (after, until] that anyone may join (team challenges are for
        their team only): those held under the region `near` first, then soonest first."""
        local = case((Region.path.startswith(near, autoescape=True), 0), else_=1)
        stmt = (
            select(Activity.id, Activity.organization_id, Activity.category,
                   Activity.place_name, Activity.starts_at, Activity.geofence, Activity.title)
            .join(Region, Region.id == Activity.region_id)
            .where(
                Activity.status == ActivityStatus.PUBLISHED,
                Activity.team_id.is_(None),
                Activity.starts_at > after,
                Activity.starts_at <= until,
            )
            .order_by(local, Activity.starts_at, Activity.id)
            .limit(limit)
        )  # fmt: skip
        return [tuple(r) for r in self.session.execute(stmt)]

    def joined(
        self, resident_ids: Sequence[uuid.UUID], activity_ids: Sequence[uuid.UUID]
    ) -> set[tuple[uuid.UUID, uuid.UUID]]:
        """(resident, activity) pairs already enrolled (not cancelled) or recorded, among
        `activity_ids`. Every pair of the residents is read and filtered here: a resident has
        a few dozen at most, while the candidates are thousands, whose list as a parameter
        cost a first look 23 ms (converting and planning the query) on the 200k city."""
        out: set[tuple[uuid.UUID, uuid.UUID]] = set()
        wanted = set(activity_ids)
        if not wanted:
            return out
        for part in _chunks(resident_ids):
            for model, alive in (
                (Enrolment, Enrolment.status != EnrollmentStatus.CANCELLED),
                (Participation, Participation.status.is_not(None)),
            ):
                stmt = select(model.resident_id, model.activity_id).where(
                    model.resident_id.in_(part), alive
                )
                out.update((r, a) for r, a in self.session.execute(stmt) if a in wanted)
        return out

    def places(self, since: datetime) -> Iterator[tuple[str, dict[str, Any]]]:
        """(region path, geofence) of every activity not a draft that starts from `since`."""
        stmt = (
            select(Region.path, Activity.geofence)
            .join(Region, Region.id == Activity.region_id)
            .where(Activity.status != ActivityStatus.DRAFT, Activity.starts_at >= since)
        )
        for row in self.session.execute(stmt.execution_options(yield_per=2000)):
            yield str(row[0]), dict(row[1])

    def places_under(self, path: str, limit: int) -> list[dict[str, Any]]:
        """Geofences of the latest `limit` activities (not drafts) held under a region."""
        stmt = (
            select(Activity.geofence)
            .join(Region, Region.id == Activity.region_id)
            .where(
                Activity.status != ActivityStatus.DRAFT,
                Region.path.startswith(path, autoescape=True),
            )
            .order_by(Activity.starts_at.desc())
            .limit(limit)
        )
        return list(self.session.scalars(stmt))

    # -- the setting and the stored lists ---------------------------------------------------

    def setting(self, resident_id: uuid.UUID) -> RecSetting | None:
        """A resident's setting row (None: on, never computed)."""
        return self.session.get(RecSetting, resident_id)

    def set_enabled(self, resident_id: uuid.UUID, on: bool, now: datetime) -> None:
        """Store the choice (a row made where none was)."""
        row = self.setting(resident_id)
        if row is None:
            row = RecSetting(resident_id=resident_id, changed_at=now)
            self.session.add(row)
        row.enabled, row.changed_at = on, now
        if not on:
            row.computed_at = None
        self.session.flush()

    def replace(self, lists: dict[uuid.UUID, list[dict[str, Any]]], now: datetime) -> None:
        """Store each resident's new list (rows of `Recommendation`'s columns) in place of the
        old, and when it was computed. A racing writer of the same resident (two first looks
        at once, or one during the nightly run) makes the first try fail on the primary key
        once it commits; the second try replaces what it stored."""
        for attempt in (1, 2):
            try:
                with self.session.begin_nested():
                    self._replace(lists, now)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def _replace(self, lists: dict[uuid.UUID, list[dict[str, Any]]], now: datetime) -> None:
        ids = list(lists)
        self.forget(ids)
        rows = [r for part in lists.values() for r in part]
        if rows:
            self.session.execute(insert(Recommendation), rows)
        known: set[uuid.UUID] = set()
        for part in _chunks(ids):
            stmt = update(RecSetting).where(RecSetting.resident_id.in_(part))
            self.session.execute(stmt.values(computed_at=now))
            got = select(RecSetting.resident_id).where(RecSetting.resident_id.in_(part))
            known.update(self.session.scalars(got))
        fresh = [
            {"resident_id": r, "enabled": True, "changed_at": now, "computed_at": now}
            for r in ids
            if r not in known
        ]
        if fresh:
            self.session.execute(insert(RecSetting), fresh)

    def listed(self, resident_id: uuid.UUID) -> list[tuple[Recommendation, str]]:
        """The resident's stored list as it is (valid now or not), with each activity's title,
        by rank (the data export)."""
        stmt = (
            select(Recommendation, Activity.title)
            .join(Activity, Activity.id == Recommendation.activity_id)
            .where(Recommendation.resident_id == resident_id)
            .order_by(Recommendation.rank)
        )
        return [(r, t) for r, t in self.session.execute(stmt).all()]

    def forget(self, resident_ids: Sequence[uuid.UUID]) -> int:
        """Delete these residents' stored recommendations."""
        n = 0
        for part in _chunks(resident_ids):
            stmt = delete(Recommendation).where(Recommendation.resident_id.in_(part))
            n += self.session.execute(stmt).rowcount or 0  # type: ignore[attr-defined]
        return n

    def forget_ineligible(self) -> int:
        """Delete the stored lists of residents who turned it off, withdrew consent or were
        erased since."""
        gone = select(Resident.id).where(
            or_(
                Resident.consent_withdrawn_at.is_not(None),
                Resident.verification == ERASED,
                self._turned_off(),
            )
        )
        stmt = delete(Recommendation).where(Recommendation.resident_id.in_(gone))
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def forget_expired(self, before: datetime) -> int:
        """Delete the lists computed before `before` (every activity in them has started)."""
        stmt = delete(Recommendation).where(Recommendation.computed_at < before)
        return int(self.session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    def save_model(self, model_id: uuid.UUID, fitted_at: datetime, payload: bytes) -> None:
        """Store a fitted model; older ones are deleted (the newest is the one in use)."""
        self.session.execute(delete(RecModel))
        self.session.add(RecModel(id=model_id, fitted_at=fitted_at, payload=payload))
        self.session.flush()

    def latest_model_id(self) -> uuid.UUID | None:
        """The id of the newest stored model, if any."""
        stmt = select(RecModel.id).order_by(RecModel.fitted_at.desc()).limit(1)
        return self.session.scalar(stmt)

    def model_payload(self, model_id: uuid.UUID) -> bytes | None:
        """A stored model's payload (None if it was replaced since)."""
        return self.session.scalar(select(RecModel.payload).where(RecModel.id == model_id))

    def shown(
        self, resident_id: uuid.UUID, now: datetime, limit: int
    ) -> list[tuple[Recommendation, Activity]]:
        """The resident's stored list, still valid now: (recommendation, activity) of
        published activities not started yet that they have not joined since, by rank."""
        enrolled = exists().where(
            Enrolment.activity_id == Activity.id,
            Enrolment.resident_id == resident_id,
            Enrolment.status != EnrollmentStatus.CANCELLED,
        )
        recorded = exists().where(
            Participation.activity_id == Activity.id, Participation.resident_id == resident_id
        )
        stmt = (
            select(Recommendation, Activity)
            .join(Activity, Activity.id == Recommendation.activity_id)
            .where(
                Recommendation.resident_id == resident_id,
                Activity.status == ActivityStatus.PUBLISHED,
                Activity.starts_at > now,
                ~enrolled,
                ~recorded,
            )
            .order_by(Recommendation.rank)
            .limit(limit)
        )
        return [(r, a) for r, a in self.session.execute(stmt)]

    def stored(self, resident_id: uuid.UUID) -> Sequence[Recommendation]:
        """Every stored row of a resident (tests), by rank."""
        stmt = select(Recommendation).where(Recommendation.resident_id == resident_id)
        return self.session.scalars(stmt.order_by(Recommendation.rank)).all()


def _past_row(row: Any) -> PastRow:
    return row[0], row[1], row[2], row[3], row[4], row[5], row[6]


def _chunks(ids: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]
