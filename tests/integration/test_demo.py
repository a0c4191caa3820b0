"""`civicpoints demo`: the pilot city tells the seed's stories, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities.models import Activity, Participation, RecordStatus, Source
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.recheck import Rechecks
from civicpoints.activities.service import ActivityService
from civicpoints.cli.city import STAFF
from civicpoints.cli.demo import LI_PHONE, ZHANG_PHONE, load_demo
from civicpoints.community import HazardReport, HazardService
from civicpoints.fraud import CaseService, Sanction
from civicpoints.hours import CertificateService, Standing, StarPolicyService
from civicpoints.hours.models import Certificate
from civicpoints.hours.service import HoursService
from civicpoints.identity.models import Resident, Staff
from civicpoints.identity.service import IdentityService
from civicpoints.kit.clock import as_utc, local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.ledger import wallet_of
from civicpoints.ledger.models import Entry
from civicpoints.ledger.service import LedgerService
from civicpoints.regions.models import Region
from civicpoints.scoring.rules import Category

ALL_CATEGORIES = {c.value for c in Category}


def _resident(s: Session, ctx: Context, phone: str) -> uuid.UUID:
    """The id of the resident who signs in with `phone`."""
    resident = IdentityService(s, ctx).find_resident(phone)
    assert resident is not None
    return resident.id


def _records_of(s: Session, resident_id: uuid.UUID) -> list[tuple[Participation, Activity]]:
    """A resident's records with their activities."""
    stmt = (
        select(Participation, Activity)
        .join(Activity, Activity.id == Participation.activity_id)
        .where(Participation.resident_id == resident_id)
    )
    return [(p, a) for p, a in s.execute(stmt).all()]


def _counts(s: Session) -> tuple[int, ...]:
    """Row counts of the tables the demo fills."""
    return tuple(
        int(s.scalar(select(func.count()).select_from(t)) or 0)
        for t in (Region, Resident, Staff, Activity, Participation, Entry)
    )


def test_demo_tells_the_seed_stories(sessions: sessionmaker[Session], ctx: Context) -> None:
    """张女士 480 points / 48 h, 李先生 flagged, five categories, the river, the review queue."""
    assert load_demo(sessions, ctx, residents=60, seed=7) is True
    with transaction(sessions) as s:
        assert len(s.scalars(select(Resident.id)).all()) == 62
        _zhang_earned_480_in_48_hours(s, ctx)
        _li_waits_for_review(s, ctx)
        _li_was_warned_and_may_appeal(s, ctx)
        _every_category_published_and_upcoming(s)
        _fifty_on_the_river(s)
        _review_queue_has_slips_and_li(s, ctx)
        _a_farm_waits_for_a_second_look(s, ctx)
        _hazard_reports_in_every_state(s, ctx)
        _a_star_volunteer_with_certificates(s, ctx)
        _a_pool_with_donations_and_allocations(s)
        _the_pool_has_points_expiring_soon_and_savings_last_longer(s)
        _xihu_after_joining(s)


def _zhang_earned_480_in_48_hours(s: Session, ctx: Context) -> None:
    """Garbage-sorting guidance twice a week, 2 h each, for 12 weeks."""
    zhang = _resident(s, ctx, ZHANG_PHONE)
    assert LedgerService(s).balance(wallet_of(zhang)) == 480
    assert HoursService(s).summary(zhang).total_minutes == 48 * 60
    records = _records_of(s, zhang)
    assert len(records) == 24
    assert {a.title for _, a in records} == {"垃圾分类指导"}
    assert {a.category for _, a in records} == {"volunteer_service"}


def _li_waits_for_review(s: Session, ctx: Context) -> None:
    """李先生's photo was taken in Shanghai: flagged, and no points until a reviewer decides."""
    li = _resident(s, ctx, LI_PHONE)
    records = _records_of(s, li)
    [(record, activity)] = [(r, a) for r, a in records if r.status != RecordStatus.REJECTED]
    assert activity.category == "environmental"
    assert record.status == RecordStatus.PENDING_REVIEW
    assert "photo_far_from_site" in record.flags
    assert LedgerService(s).balance(wallet_of(li)) == 0


def _li_was_warned_and_may_appeal(s: Session, ctx: Context) -> None:
    """An earlier record of his was confirmed false: a warning, still open to appeal."""
    li = _resident(s, ctx, LI_PHONE)
    [(record, _activity)] = [(r, a) for r, a in _records_of(s, li) if r.status == "rejected"]
    [view] = CaseService(s).cases_of(li, utcnow())
    assert view.case.participation_id == record.id
    assert view.case.sanction == Sanction.WARNING and view.appeal is None
    assert view.appeal_closes > utcnow()
    CaseService(s).require_may_earn(li, utcnow())  # a warning does not stop earning


def _every_category_published_and_upcoming(s: Session) -> None:
    """The activity list shows all five categories, also among the coming two weeks."""
    now = utcnow()
    published, _ = ActivityService(s).page(limit=1000, cursor=None)
    upcoming, _ = ActivityService(s).page(limit=1000, cursor=None, ends_after=now)
    assert {a.category for a in published} == ALL_CATEGORIES
    assert {a.category for a in upcoming} == ALL_CATEGORIES
    assert max(a.starts_at for a in upcoming) < now + timedelta(days=15)
    assert min(a.starts_at for a in published) < now - timedelta(days=80)


def _fifty_on_the_river(s: Session) -> None:
    """The river clean-up of the seed: 50 residents, 4 h each (hours count unverified too)."""
    river = s.scalars(select(Activity).where(Activity.title.contains("河道清理"))).one()
    records = s.scalars(select(Participation).where(Participation.activity_id == river.id)).all()
    assert [r.status for r in records] == [RecordStatus.APPROVED] * 50
    spans = [r.ended_at - r.started_at for r in records if r.ended_at and r.started_at]
    assert sum(spans, timedelta()) == timedelta(hours=200)


def _review_queue_has_slips_and_li(s: Session, ctx: Context) -> None:
    """Paper slips entered by the organizer, and 李先生's record, wait for the reviewer."""
    identity = IdentityService(s, ctx)
    member = identity.repo.staff_by_username("reviewer")
    assert member is not None
    queue = OfflineService(s, ctx).queue(identity.staff_principal(member), 100, None)
    sources = [r.source for r in queue]
    assert sources.count(Source.OFFLINE) >= 3
    assert sources.count(Source.APP) == 2  # 李先生's, and the fourth account on a farm's phone


def test_second_load_if_empty_writes_nothing(sessions: sessionmaker[Session], ctx: Context) -> None:
    """`demo --if-empty` on a loaded database returns False; plain `demo` refuses. No writes."""
    assert load_demo(sessions, ctx, residents=0, seed=1)
    with transaction(sessions) as s:
        before = _counts(s)
    assert load_demo(sessions, ctx, residents=0, seed=1, if_empty=True) is False
    with pytest.raises(typer.Exit):
        load_demo(sessions, ctx, residents=0, seed=1)
    with transaction(sessions) as s:
        assert _counts(s) == before
    assert before[:3] == (44, 2, len(STAFF))


def _hazard_reports_in_every_state(s: Session, ctx: Context) -> None:
    """隐患随手拍: open, confirmed (20 points), merged and rejected; 张女士 follows hers."""
    rows = s.scalars(select(HazardReport)).all()
    assert {r.status for r in rows} == {"open", "confirmed", "merged", "rejected"}
    assert [r.points for r in rows if r.status == "confirmed"] == [20]
    zhang = _resident(s, ctx, ZHANG_PHONE)
    assert [r.status for r in rows if r.resident_id == zhang] == ["open"]
    member = IdentityService(s, ctx).repo.staff_by_username("police_officer")
    assert member is not None
    police = IdentityService(s, ctx).staff_principal(member)
    waiting = HazardService(s, ctx).queue(police)
    assert len(waiting) == 2  # the loose manhole cover, twice: duplicate candidates
    assert [c.report.id for c in HazardService(s, ctx).candidates(waiting[1])] == [waiting[0].id]


def _a_farm_waits_for_a_second_look(s: Session, ctx: Context) -> None:
    """Four accounts on one phone: the first three, approved, wait on the recheck list."""
    identity = IdentityService(s, ctx)
    member = identity.repo.staff_by_username("reviewer")
    assert member is not None
    waiting = Rechecks(s, ctx).waiting(identity.staff_principal(member), 100, None)
    assert len(waiting) == 3
    assert all("shared_device" in r.flags and r.status == "approved" for r in waiting)


def _a_star_volunteer_with_certificates(s: Session, ctx: Context) -> None:
    """An elder's year at the 长者食堂: one star, a service record and an honour, genuine."""
    certs = s.scalars(select(Certificate).order_by(Certificate.kind.desc())).all()
    assert [c.kind for c in certs] == ["record", "honour"]
    record = certs[0]
    assert (
        record.total_minutes >= 120 * 60 and record.content["lines"][0]["content"] == "长者食堂助餐"
    )
    service = CertificateService(s, ctx.settings)
    assert {service.check(c.number).standing for c in certs} == {Standing.GENUINE}
    home = s.get(Resident, record.resident_id)
    assert home is not None
    stars = StarPolicyService(s).level_of(home.id, home.community_id, local_date(utcnow()))
    assert stars.level >= 1


def _a_pool_with_donations_and_allocations(s: Session) -> None:
    """Neighbours of the first community gave to its 爱心积分池; two families received an equal
    share (30 each in the full demo)."""
    from civicpoints.community.donation_models import Allocation, Donation
    from civicpoints.ledger import pool_of

    donations = s.scalars(select(Donation)).all()
    allocations = s.scalars(select(Allocation)).all()
    assert donations and len(allocations) == 2
    assert allocations[0].amount == allocations[1].amount > 0
    home = donations[0].community_id
    given = sum(d.amount for d in donations)
    assert LedgerService(s).balance(pool_of(home)) == given - 2 * allocations[0].amount


def _the_pool_has_points_expiring_soon_and_savings_last_longer(s: Session) -> None:
    """The star volunteer's oldest points (last winter's shifts) went to the pool, so the pool
    page has something to allocate first; they saved more in the 积分银行, where it lasts 24
    months from earning."""
    from civicpoints.community.donation_models import Donation
    from civicpoints.ledger import pool_of
    from civicpoints.ledger.models import Account

    now = utcnow()
    home = s.scalars(select(Donation.community_id)).first()
    assert home is not None
    pool = [x for x in LedgerService(s).lots(pool_of(home)) if x.remaining]
    assert any(as_utc(x.expires_at) < now + timedelta(days=30) for x in pool)
    saved = s.scalars(select(Account.owner).where(Account.owner.startswith("savings:"))).all()
    assert saved
    lots = [x for o in saved for x in LedgerService(s).lots(o) if x.remaining]
    assert lots and max(as_utc(x.expires_at) for x in lots) > now + timedelta(days=366)


def _xihu_after_joining(s: Session) -> None:
    """西湖区 joined twelve months ago: 垃圾分类执行率 65% → 82%, hazard reports +25% (the
    seed's 成效); one mistyped value was corrected and its history kept."""
    from civicpoints.insights import OutcomeService

    outcomes = OutcomeService(s)
    xihu = s.scalars(select(Region).where(Region.code == "330106")).one()
    _, waste = outcomes.comparison(outcomes.indicator("waste_sorting_rate"), xihu)
    _, hazards = outcomes.comparison(outcomes.indicator("hazard_reports"), xihu)
    assert waste is not None and (waste.before, waste.after) == (65.0, 82.0)
    assert hazards is not None and hazards.change_pct == 25.0
