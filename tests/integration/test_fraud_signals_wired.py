"""The risk signals as residents meet them: each raised on the real check-in, check-out and
photo paths, sending the record to review with its reason in words; honest residents pass."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities.models import Participation
from civicpoints.activities.photos import PhotoService
from civicpoints.activities.records import Phone, RecordService
from civicpoints.activities.service import ActivityService
from civicpoints.fraud import wgs84_to_gcj02
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from tests import fraud_images

from .conftest import WEST_LAKE

Maker = Callable[..., uuid.UUID]
START = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)  # 09:00 Beijing time
XIXI = (30.2720, 120.0630)  # Xixi wetland, 7.4 km west of West Lake
XIAOSHAN = (30.1850, 120.4200)  # 28 km east


def check_in(
    sessions: sessionmaker[Session],
    ctx: Context,
    activity_id: uuid.UUID,
    resident_id: uuid.UUID,
    where: tuple[float, float],
    at: datetime,
    phone: Phone | None = None,
) -> Participation:
    """Enrol the day before and check in."""
    with transaction(sessions) as s:
        ActivityService(s).enroll(activity_id, resident_id, now=at - timedelta(days=1))
        return RecordService(s, ctx).check_in(activity_id, resident_id, *where, at, phone)


def check_out(
    sessions: sessionmaker[Session],
    ctx: Context,
    activity_id: uuid.UUID,
    resident_id: uuid.UUID,
    where: tuple[float, float],
    at: datetime,
    phone: Phone | None = None,
) -> Participation:
    """Check out."""
    with transaction(sessions) as s:
        return RecordService(s, ctx).check_out(activity_id, resident_id, *where, at, "test", phone)


def test_li_resized_copy_of_anothers_photo_goes_to_review(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """Another resident's earlier photo, resized to 80 % and re-encoded at quality 70, is
    found as a near-duplicate: 李先生's record waits for a reviewer with the reason in words.
    The honest resident's own, different photo was approved."""
    honest, li = make_resident("王芳"), make_resident("李建国")
    first = make_activity(START, category="environmental", evidence="photo")
    second = make_activity(START + timedelta(days=3), category="environmental", evidence="photo")
    original = fraud_images.photo(11)
    image = fraud_images.load(original)
    copy = fraud_images.jpeg(image.resize((image.width * 4 // 5, image.height * 4 // 5)), 70)
    for resident, activity, data, start in (
        (honest, first, original, START),
        (li, second, copy, START + timedelta(days=3)),
    ):
        check_in(sessions, ctx, activity, resident.id, WEST_LAKE, start)
        record = check_out(
            sessions, ctx, activity, resident.id, WEST_LAKE, start + timedelta(hours=1)
        )
        with transaction(sessions) as s:
            PhotoService(s, ctx).upload(record.id, resident.id, data, "test")
    with transaction(sessions) as s:
        mine = RecordService(s, ctx).own_at(first, honest.id)
        his = RecordService(s, ctx).own_at(second, li.id)
        assert mine.status == "approved" and mine.flags == []
        assert his.status == "pending_review" and "photo_near_duplicate" in his.flags
        assert "另一位居民此前上传" in his.flag_notes["photo_near_duplicate"]["zh-CN"]
        assert his.risk >= 30


def test_two_check_ins_28_km_apart_ten_minutes_apart_are_impossible_travel(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """A check-in at West Lake, then ten minutes later one in Xiaoshan: the second record
    carries impossible_travel (about 168 km/h); driving to Xixi in half an hour does not."""
    teleporter, driver = make_resident("瞬移"), make_resident("开车")
    here = make_activity(START, flag_outside=True)
    there = make_activity(START, flag_outside=True)
    check_in(sessions, ctx, here, teleporter.id, WEST_LAKE, START)
    far = check_in(sessions, ctx, there, teleporter.id, XIAOSHAN, START + timedelta(minutes=10))
    assert "impossible_travel" in far.flags
    assert "公里/小时" in far.flag_notes["impossible_travel"]["zh-CN"]
    check_in(sessions, ctx, here, driver.id, WEST_LAKE, START)
    near = check_in(sessions, ctx, there, driver.id, XIXI, START + timedelta(minutes=30))
    assert "impossible_travel" not in near.flags


def test_an_honest_phone_reporting_gcj02_is_not_flagged(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """West Lake as a Chinese map SDK reports it (about 520 m off in WGS-84 terms) checks in
    inside the area and pays, with no signal."""
    resident = make_resident("高德用户")
    activity = make_activity(START)
    shifted = wgs84_to_gcj02(*WEST_LAKE)
    check_in(sessions, ctx, activity, resident.id, shifted, START, Phone(accuracy_m=15))
    record = check_out(
        sessions, ctx, activity, resident.id, shifted, START + timedelta(hours=2), Phone(15)
    )
    assert record.flags == [] and record.status == "approved" and record.checkin_inside


def test_spoofed_identical_coordinates_and_one_device_for_many_accounts(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Maker,
) -> None:
    """A faking app's preset puts three residents on the very same spot with accuracy 0: the
    third is flagged for the spot, all for the accuracy. One phone used by four accounts: the
    fourth is flagged; a family of three sharing a phone is not."""
    activity = make_activity(START, capacity=20)
    preset = (30.259000, 120.138800)
    records = [
        check_in(
            sessions,
            ctx,
            activity,
            make_resident("假定位" + "甲乙丙"[i]).id,
            preset,
            START,
            Phone(0),
        )
        for i in range(3)
    ]
    assert ["shared_coordinates" in r.flags for r in records] == [False, False, True]
    assert all("implausible_accuracy" in r.flags for r in records)
    farm = "device-farm-0001"
    flagged = []
    for i in range(4):
        lat = WEST_LAKE[0] + 0.0001 * (i + 1)  # honest scatter: no shared spot
        record = check_in(
            sessions,
            ctx,
            activity,
            make_resident("同机" + "甲乙丙丁"[i]).id,
            (lat, WEST_LAKE[1]),
            START,
            Phone(12, farm),
        )
        flagged.append("shared_device" in record.flags)
    assert flagged == [False, False, False, True]
