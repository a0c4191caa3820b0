"""Regional rule sets, 李先生's far-away photo, and the login rate limit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.records import RecordService
from civicpoints.activities.service import ActivityService
from civicpoints.cli.city import City
from civicpoints.kit.clock import BUSINESS_TZ
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.ledger import wallet_of
from civicpoints.ledger.service import LedgerService
from civicpoints.scoring.schemas import RuleSetCreate
from civicpoints.scoring.service import ScoringService

from .conftest import WEST_LAKE
from .test_api import jpeg
from .test_earning import attend

SHANGHAI = (31.2304, 121.4737)
ENTERED = date(2025, 12, 31)  # the versions were entered ahead of time (no backdating)


def rules(per_hour: int, cap: int = 500) -> dict:
    """A rule document with one volunteer rate."""
    return {
        "categories": {"volunteer_service": {"mode": "per_hour", "points": per_hour}},
        "monthly_cap": cap,
        "expiry_months": 24,
    }


def test_most_specific_region_and_effective_date_win(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """A street's rule set beats the city's; a later version applies only from its date."""
    with transaction(sessions) as s:
        scoring = ScoringService(s)
        scoring.create_rule_set(
            RuleSetCreate(effective_from=date(2026, 1, 1), rules=rules(12)), None, ENTERED
        )
        scoring.create_rule_set(
            RuleSetCreate(
                region_id=city.streets[0].id, effective_from=date(2026, 1, 1), rules=rules(15)
            ),
            None,
            ENTERED,
        )
        scoring.create_rule_set(
            RuleSetCreate(
                region_id=city.streets[0].id, effective_from=date(2026, 6, 1), rules=rules(30)
            ),
            None,
            ENTERED,
        )
    resident = make_resident("规则测试")
    may = datetime(2026, 5, 20, 9, tzinfo=BUSINESS_TZ)
    june = datetime(2026, 6, 20, 9, tzinfo=BUSINESS_TZ)
    for start in (may, june):
        attend(
            sessions,
            ctx,
            make_activity(start, hours=2),
            resident.id,
            start,
            start + timedelta(hours=2),
        )
    with transaction(sessions) as s:
        lots = LedgerService(s).lots(wallet_of(resident.id))
    assert [lot.amount for lot in lots] == [30, 60]  # 2 h × 15/h in May, 2 h × 30/h in June
    # 24-month expiry from the rule set, not the default 12
    assert lots[0].expires_at.astimezone(BUSINESS_TZ).date() == date(2028, 5, 21)


def test_li_fake_photo_goes_to_review_and_rejection_gives_nothing(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
    staff: Callable[[str], Principal],
) -> None:
    """李先生 checks in but uploads a photo taken in Shanghai: flagged, reviewed, rejected."""
    li = make_resident("李明")
    start = datetime(2026, 7, 4, 9, tzinfo=BUSINESS_TZ)
    activity = make_activity(
        start, hours=2, category="environmental", evidence="photo_gps", title="河道清理"
    )
    with transaction(sessions) as s:
        ActivityService(s).enroll(activity, li.id, now=start - timedelta(days=1))
        records = RecordService(s, ctx)
        record = records.check_in(activity, li.id, *WEST_LAKE, now=start)
        records.check_out(activity, li.id, *WEST_LAKE, now=start + timedelta(hours=2), actor="t")
        PhotoService(s, ctx).upload(record.id, li.id, jpeg(*SHANGHAI), "t")
        assert record.status == "pending_review" and "photo_far_from_site" in record.flags
    reviewer = staff("reviewer")  # its own transaction: not inside another one on SQLite
    with transaction(sessions) as s:
        from civicpoints.activities.offline import OfflineService

        queue = OfflineService(s, ctx).queue(reviewer, 50, None)
        assert [r.id for r in queue] == [record.id]
        OfflineService(s, ctx).decide(record.id, False, "照片定位在上海，与活动地点不符", reviewer)
    with transaction(sessions) as s:
        assert LedgerService(s).balance(wallet_of(li.id)) == 0
        assert ScoringService(s).award_of(record.id) is None
        assert RecordService(s, ctx).get(record.id).review_reason.startswith("照片定位在上海")


def test_reviewer_outside_the_region_cannot_decide(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
    staff: Callable[[str], Principal],
    city: City,
) -> None:
    """Role scoping: a reviewer of another street sees an empty queue and gets 403."""
    import pytest

    from civicpoints.activities.offline import OfflineService
    from civicpoints.identity.service import IdentityService
    from civicpoints.kit.errors import Forbidden

    with transaction(sessions) as s:
        identity = IdentityService(s, ctx)
        other = identity.add_staff("reviewer_far", "别的街道审核员", None, password_hash="x")
        identity.grant(other, "reviewer", region_id=city.streets[5].id)
    flagged = make_activity(datetime(2026, 7, 5, 9, tzinfo=BUSINESS_TZ), flag_outside=True)
    resident = make_resident("范围测试")
    start = datetime(2026, 7, 5, 9, tzinfo=BUSINESS_TZ)
    with transaction(sessions) as s:
        ActivityService(s).enroll(flagged, resident.id, now=start - timedelta(days=1))
        record = RecordService(s, ctx).check_in(flagged, resident.id, *SHANGHAI, now=start)
        RecordService(s, ctx).check_out(
            flagged, resident.id, *SHANGHAI, now=start + timedelta(hours=2), actor="t"
        )
    with transaction(sessions) as s:
        member = IdentityService(s, ctx).repo.staff_by_username("reviewer_far")
        assert member is not None
        who = IdentityService(s, ctx).staff_principal(member)
        assert OfflineService(s, ctx).queue(who, 50, None) == []
        with pytest.raises(Forbidden):
            OfflineService(s, ctx).decide(record.id, True, "ok", who)
