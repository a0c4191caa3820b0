"""Migration 0009: slips gain their organization; rows pointing at records survive the rebuild."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.access import Principal
from civicpoints.activities.models import Evidence, Participation
from civicpoints.activities.offline import OfflineService
from civicpoints.activities.schemas import OfflineRecordCreate
from civicpoints.cli.city import City
from civicpoints.kit.clock import BUSINESS_TZ
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.migrate import downgrade, upgrade


def test_down_and_up_again_fills_the_issuing_organization(
    db_url: str,
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
    staff: Callable[[str], Principal],
) -> None:
    """A slip with a photo: after 0009 is undone and redone, its organization is the activity's."""
    make_resident("迁移测试", phone="13500000077")
    start = datetime(2026, 11, 2, 9, tzinfo=BUSINESS_TZ)
    activity = make_activity(start)
    slip = OfflineRecordCreate(
        resident="13500000077",
        activity_id=activity,
        slip_no="M-1",
        started_at=start,
        ended_at=start + timedelta(hours=2),
    )
    with transaction(sessions) as s:
        record = OfflineService(s, ctx).record(slip, staff("organizer"))
        s.add(
            Evidence(
                participation_id=record.id,
                sha256="0" * 64,
                path="00/photo.jpg",
                mime="image/jpeg",
                size=1,
                width=1,
                height=1,
            )
        )
        record_id = record.id
    downgrade(db_url, "0008")
    upgrade(db_url)
    with transaction(sessions) as s:
        again = s.get(Participation, record_id)
        assert again is not None and again.organization_id == city.committees[0].id
        assert s.scalar(select(func.count()).select_from(Evidence)) == 1
