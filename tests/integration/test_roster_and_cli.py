"""Waitlist promotion, the check-in time window, and the import CLI."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.activities.errors import OutsideTimeWindow
from civicpoints.activities.models import EnrollmentStatus
from civicpoints.activities.records import RecordService
from civicpoints.activities.service import ActivityService
from civicpoints.kit.clock import BUSINESS_TZ, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings, get_settings

from .conftest import WEST_LAKE


def test_cancelling_a_place_moves_the_waitlist_up(
    sessions: sessionmaker[Session],
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """Capacity 1: the second resident waits, and gets the place when the first cancels."""
    activity = make_activity(utcnow() + timedelta(days=1), capacity=1)
    first, second = (
        make_resident("甲", phone="13500000001"),
        make_resident("乙", phone="13500000002"),
    )
    with transaction(sessions) as s:
        assert ActivityService(s).enroll(activity, first.id).status == EnrollmentStatus.ENROLLED
        assert ActivityService(s).enroll(activity, second.id).status == EnrollmentStatus.WAITLISTED
    with transaction(sessions) as s:
        ActivityService(s).cancel_enrollment(activity, first.id)
    with transaction(sessions) as s:
        enrollment = ActivityService(s).enrollment(activity, second.id)
        assert enrollment is not None and enrollment.status == EnrollmentStatus.ENROLLED


def test_check_in_too_early_says_when_it_opens(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
) -> None:
    """Two hours early: refused, and the message gives the window in Beijing time."""
    start = datetime(2026, 9, 1, 9, 0, tzinfo=BUSINESS_TZ)
    activity = make_activity(start)
    resident = make_resident("早到")
    with transaction(sessions) as s:
        ActivityService(s).enroll(activity, resident.id, now=start - timedelta(days=1))
    with transaction(sessions) as s, pytest.raises(OutsideTimeWindow) as err:
        RecordService(s, ctx).check_in(
            activity, resident.id, *WEST_LAKE, now=start - timedelta(hours=2)
        )
    assert "2026-09-01 08:30" in err.value.message("zh-CN")
    assert "2026-09-01 11:00" in err.value.message("en")


def test_import_records_command(
    sessions: sessionmaker[Session],
    settings: Settings,
    make_resident: Callable,
    make_activity: Callable[..., uuid.UUID],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`civicpoints import-records FILE --staff organizer` imports and reports per row."""
    from civicpoints.cli.main import app

    make_resident("纸质单", phone="13500000009")
    activity = make_activity(datetime(2026, 9, 2, 9, tzinfo=BUSINESS_TZ))
    csv = tmp_path / "slips.csv"
    csv.write_text(
        "单据号,居民,活动编号,开始时间,结束时间,备注\n"
        f"P-1,13500000009,{activity},2026-09-02 09:00,2026-09-02 11:00,社区服务中心\n",
        encoding="gb18030",
    )
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", settings.pii_key)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["import-records", str(csv), "--staff", "organizer"])
        again = CliRunner().invoke(app, ["import-records", str(csv), "--staff", "organizer"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0 and "created 1" in result.output, result.output
    assert again.exit_code == 0 and "duplicates 1" in again.output
