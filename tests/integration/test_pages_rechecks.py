"""The second-looks page (复查): approved records a farm's phone tainted afterwards, riskiest
first with their signals in words; a reviewer keeps one with a reason (none: an error at the
field, nothing written); auditors see the list but cannot keep; others see nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.identity.models import Resident
from civicpoints.kit.context import Context

from .pages import post_form, sign_in
from .test_device_farm_recheck import record, serve

Sessions = sessionmaker[Session]
START = datetime(2026, 11, 10, 1, 0, tzinfo=UTC)


def farm(
    sessions: Sessions,
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> list[uuid.UUID]:
    activity = make_activity(START, capacity=20)
    return [
        serve(sessions, ctx, activity, make_resident("同机" + "甲乙丙丁"[i]), i + 1, "farm")
        for i in range(4)
    ]


def test_a_reviewer_keeps_a_record_after_a_second_look(
    client: TestClient,
    sessions: Sessions,
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    ids = farm(sessions, ctx, make_resident, make_activity)
    sign_in(client, "reviewer", DEMO_STAFF_PASSWORD)
    page = client.get("/staff/rechecks").text
    assert all(str(i) in page for i in ids[:3]) and str(ids[3]) not in page
    assert "同一台设备上使用过 4 个账户" in page and 'href="/staff/rechecks"' in page
    action = f"/staff/rechecks/{ids[0]}/keep"
    blank = post_form(client, "/staff/rechecks", action, reason="   ")
    assert blank.status_code == 422 and "保留积分的理由" in blank.text
    assert record(sessions, ids[0]).reviewed_at is None
    done = post_form(client, "/staff/rechecks", action, reason="组织者证明本人到场")
    assert done.status_code == 303
    after = client.get(done.headers["location"]).text
    assert "已保留" in after and str(ids[0]) not in after
    kept = record(sessions, ids[0])
    assert (kept.status, kept.review_reason) == ("approved", "组织者证明本人到场")


def test_auditors_see_the_list_others_do_not(
    client: TestClient,
    sessions: Sessions,
    ctx: Context,
    make_resident: Callable[..., Resident],
    make_activity: Callable[..., uuid.UUID],
) -> None:
    ids = farm(sessions, ctx, make_resident, make_activity)
    sign_in(client, "auditor", DEMO_STAFF_PASSWORD)
    page = client.get("/staff/rechecks").text
    assert str(ids[0]) in page and "保留此记录" not in page
    client.cookies.clear()
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    assert client.get("/staff/rechecks").status_code == 403
    client.cookies.clear()
    sign_in(client, "mz_reviewer", DEMO_STAFF_PASSWORD)  # another department's reviewer
    page = client.get("/staff/rechecks")
    assert page.status_code == 200 and str(ids[0]) not in page.text
    refused = post_form(client, "/staff/rechecks", f"/staff/rechecks/{ids[0]}/keep", reason="x")
    assert refused.status_code == 404
    assert record(sessions, ids[0]).reviewed_at is None
