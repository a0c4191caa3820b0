"""李先生's whole story (the seed): his re-used photo is caught, an award of his approved last
week is found by an auditor and taken back after he spent part of it (debt, never a negative
balance), he is warned and notified, his appeal goes to another reviewer and is refused, and a
second offence suspends his earning with a clear message. The ledger verifies throughout."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.errors import ParticipationNotFound
from civicpoints.activities.fraud_desk import FraudDesk
from civicpoints.activities.models import Participation
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.records import RecordService
from civicpoints.activities.service import ActivityService
from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.fraud import CaseService, EarningSuspended, NotClawable, Sanction
from civicpoints.hours import HoursService
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.ledger.verify import verify_ledger
from civicpoints.rewards import RedemptionService
from tests import fraud_images
from tests.integration.ledger_checks import assert_books

from .conftest import WEST_LAKE


def books_hold(sessions: sessionmaker[Session]) -> None:
    """Every chain, balance and lot adds up, and `ledger verify` finds no fault."""
    with sessions() as s:
        assert_books(s)
        report = verify_ledger(s, [])
        assert report.ok, [str(f) for f in report.faults]


def serve_with_photo(
    sessions: sessionmaker[Session],
    ctx: Context,
    activity_id: uuid.UUID,
    resident_id: uuid.UUID,
    photo: bytes,
) -> Participation:
    """Enrol, check in and out on site, upload a photo; the record as it then stands."""
    with transaction(sessions) as s:
        activity = ActivityService(s).get(activity_id)
        start, end = activity.starts_at, activity.ends_at
        ActivityService(s).enroll(activity_id, resident_id, now=start - timedelta(days=1))
        records = RecordService(s, ctx)
        records.check_in(activity_id, resident_id, *WEST_LAKE, start)
        record = records.check_out(activity_id, resident_id, *WEST_LAKE, end, "test")
        PhotoService(s, ctx).upload(record.id, resident_id, photo, "test")
        return record


def test_li_end_to_end(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    rewards: Rewards,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
    fund: Callable[..., None],
    staff: Callable[[str], Principal],
) -> None:
    wang, li = make_resident("王芳"), make_resident("李建国")
    auditor, reviewer, reviewer2 = staff("auditor"), staff("reviewer"), staff("reviewer2")
    last_week = utcnow() - timedelta(days=7)
    honest = make_activity(last_week, category="environmental", evidence="photo")
    his = make_activity(last_week + timedelta(hours=3), category="environmental", evidence="photo")
    fund(li.id, 60, days=30)  # older points, expiring first
    # Last week: his own photo, approved and paid 50 points.
    paid = serve_with_photo(sessions, ctx, his, li.id, fraud_images.photo(21))
    assert paid.status == "approved"
    with sessions() as s:
        assert LedgerService(s).balance(wallet_of(li.id)) == 110
    books_hold(sessions)
    # He spends 100 of his 110 points on a supermarket voucher: the 60 first, then 40 of 50.
    with transaction(sessions) as s:
        item = rewards.items["SM-10"].id
        RedemptionService(s, ctx).redeem(li.id, item, 1, "li-voucher")
    with sessions() as s:
        assert LedgerService(s).balance(wallet_of(li.id)) == 10
    # 王芳's photo, then 李先生's resized, re-encoded copy of it: caught, sent to review.
    original = fraud_images.photo(22)
    image = fraud_images.load(original)
    copy = fraud_images.jpeg(image.resize((image.width * 4 // 5, image.height * 4 // 5)), 70)
    serve_with_photo(sessions, ctx, honest, wang.id, original)
    now_act = make_activity(
        utcnow() - timedelta(hours=3), category="environmental", evidence="photo"
    )
    caught = serve_with_photo(sessions, ctx, now_act, li.id, copy)
    with sessions() as s:
        caught = s.get_one(Participation, caught.id)
        assert caught.status == "pending_review" and "photo_near_duplicate" in caught.flags
    # The auditor finds last week's award false too and takes it back: the 10 left, 40 owed.
    with transaction(sessions) as s:
        case = FraudDesk(s, ctx).claw_back(paid.id, "照片系翻拍他人照片", auditor)
        assert (case.points_taken, case.debt, case.sanction) == (10, 40, Sanction.WARNING)
    with transaction(sessions) as s, pytest.raises(NotClawable):
        FraudDesk(s, ctx).claw_back(paid.id, "再追回一次", auditor)
    with sessions() as s:
        ledger = LedgerService(s)
        assert ledger.balance(wallet_of(li.id)) == 0 and ledger.debt(wallet_of(li.id)) == 40
        assert s.get_one(Participation, paid.id).status == "revoked"
        assert HoursService(s).summary(li.id).total_minutes == 0
    books_hold(sessions)
    # He is told: the record says why, and the case (with its appeal window) is his to read.
    with sessions() as s:
        (view,) = CaseService(s).cases_of(li.id, utcnow())
        assert view.case.reason == "照片系翻拍他人照片" and not view.withdrawn
    # His appeal goes to another reviewer (never the auditor's own), who refuses it.
    with transaction(sessions) as s:
        FraudDesk(s, ctx).file_appeal(view.case.id, li.id, "照片是我自己拍的", None)
    with transaction(sessions) as s:
        assert CaseService(s).open_appeals(auditor) == []
        ((appeal, _),) = CaseService(s).open_appeals(reviewer2)
        FraudDesk(s, ctx).decide_appeal(appeal.id, False, "与他人原图一致，维持", reviewer2)
    # The reviewer confirms the caught copy as a second offence: earning suspended.
    with transaction(sessions) as s:
        OfflineService(s, ctx).decide(caught.id, False, "翻拍他人照片", reviewer, fraud=True)
    with sessions() as s:
        newest = CaseService(s).cases_of(li.id, utcnow())[0]
        assert newest.case.sanction == Sanction.SUSPENSION
    soon = make_activity(utcnow() + timedelta(minutes=5))
    with transaction(sessions) as s:
        ActivityService(s).enroll(soon, li.id)
    with transaction(sessions) as s, pytest.raises(EarningSuspended) as refused:
        RecordService(s, ctx).check_in(soon, li.id, *WEST_LAKE, utcnow() + timedelta(minutes=5))
    assert "暂停至" in refused.value.message("zh-CN")
    books_hold(sessions)


def test_an_upheld_appeal_gives_back_what_a_clawback_took(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
    staff: Callable[[str], Principal],
) -> None:
    """Taken back by mistake: the appeal is upheld by another reviewer, the 50 points come
    back (new entries), the hours return, the record is approved again, the case withdrawn.
    Only an approved record can be taken back, and only by staff over its region."""
    wang = make_resident("王芳")
    reviewer, reviewer2 = staff("reviewer"), staff("reviewer2")
    activity = make_activity(
        utcnow() - timedelta(days=2), category="environmental", evidence="photo"
    )
    record = serve_with_photo(sessions, ctx, activity, wang.id, fraud_images.photo(31))
    with transaction(sessions) as s, pytest.raises(ParticipationNotFound):
        FraudDesk(s, ctx).claw_back(record.id, "错认", staff("mz_reviewer"))
    with transaction(sessions) as s:
        case = FraudDesk(s, ctx).claw_back(record.id, "误以为是翻拍", reviewer)
        assert (case.points_taken, case.debt) == (50, 0)
    with transaction(sessions) as s:
        FraudDesk(s, ctx).file_appeal(case.id, wang.id, "这是我自己拍的原图", None)
    with transaction(sessions) as s:
        ((appeal, _),) = CaseService(s).open_appeals(reviewer2)
        FraudDesk(s, ctx).decide_appeal(appeal.id, True, "原图属实，撤销追回", reviewer2)
    with sessions() as s:
        assert LedgerService(s).balance(wallet_of(wang.id)) == 50
        assert s.get_one(Participation, record.id).status == "approved"
        assert HoursService(s).summary(wang.id).total_minutes > 0
        assert CaseService(s).cases_of(wang.id, utcnow())[0].withdrawn
    books_hold(sessions)


def test_a_clawback_with_the_longest_reason_is_kept_whole_on_the_case(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
    staff: Callable[[str], Principal],
) -> None:
    """A 500-character reason (the most the API takes) fits the case, and the ledger's own
    reason (prefixed, so longer) is clipped to its column instead of failing the clawback."""
    zhao = make_resident("赵敏")
    activity = make_activity(
        utcnow() - timedelta(days=1), category="environmental", evidence="photo"
    )
    record = serve_with_photo(sessions, ctx, activity, zhao.id, fraud_images.photo(41))
    reason = "照片" * 250
    with transaction(sessions) as s:
        case = FraudDesk(s, ctx).claw_back(record.id, reason, staff("auditor"))
    with sessions() as s:
        assert CaseService(s).cases_of(zhao.id, utcnow())[0].case.reason == reason
        assert case.points_taken == 50
    books_hold(sessions)
