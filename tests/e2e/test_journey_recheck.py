"""The second look (复查) in Chromium: four accounts served from one phone; the first three,
approved before the fourth gave the phone away, wait on the reviewer's second-looks list. The
reviewer finds the page in the console, is stopped for a missing reason, then keeps one; an
auditor sees the list without the keep form. The test owns its activity and residents."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities import ActivityService, Participation, Phone, RecordService
from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.identity import IdentityService, ResidentCreate
from civicpoints.kit.context import build_context
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from tests.e2e.harness import DESKTOP, check_axe, shoot
from tests.e2e.test_staff import SITE, past_activity, staff_sign_in
from tests.integration.conftest import id_number

Sessions = sessionmaker[Session]
BORN = "19620708"  # no other browser test registers residents born that day


def farm(sessions: Sessions, settings: Settings) -> list[uuid.UUID]:
    """Four residents check in and out of yesterday's activity on one phone."""
    activity = past_activity(sessions, settings, "楼道清理（复查演示）")
    ctx = build_context(settings)
    ids = []
    with transaction(sessions) as s:
        identity, records = IdentityService(s, ctx), RecordService(s, ctx)
        act = ActivityService(s).get(activity)
        for k in range(4):
            data = ResidentCreate(
                name="复查" + "甲乙丙丁"[k],
                id_number=id_number(k + 1, birth=BORN),
                phone=f"1377700{k:04d}",
                password="Qiantang-tide-1958",
                community_id=act.region_id,
                consent=True,
            )
            who = identity.register(data, password_hash="x")
            identity.verify(who, "")
            ActivityService(s).enroll(activity, who.id, now=act.starts_at - timedelta(days=1))
            where = (SITE[0] + 0.0001 * (k + 1), SITE[1])
            phone = Phone(15.0, "e2e-farm-phone")
            records.check_in(activity, who.id, *where, act.starts_at, phone)
            done = act.ends_at
            ids.append(records.check_out(activity, who.id, *where, done, "e2e", phone).id)
    return ids


@pytest.mark.expect_status(422)  # the keep form posted without a reason
def test_a_reviewer_keeps_one_after_a_second_look_and_an_auditor_only_reads(
    new_context: Callable[..., BrowserContext],
    live_sessions: Sessions,
    live_settings: Settings,
) -> None:
    first, second, _third, fourth = farm(live_sessions, live_settings)
    page = new_context(**DESKTOP).new_page()
    staff_sign_in(page, "reviewer")
    page.get_by_role("link", name="复查").click()
    expect(page.get_by_role("heading", name="复查", level=1)).to_be_visible()
    card = page.locator("section.recheck").filter(has_text="复查甲")
    expect(card).to_contain_text("同一台设备上使用过 4 个账户")
    expect(page.locator("section.recheck").filter(has_text="复查丁")).to_have_count(0)
    check_axe(page)
    shoot(page, "staff-rechecks")
    card.get_by_role("button", name="保留此记录").click()
    expect(page.locator(".error-summary")).to_contain_text("保留积分的理由")
    check_axe(page)
    card = page.locator("section.recheck").filter(has_text="复查甲")
    card.get_by_label("保留积分的理由").fill("组织者名单核对无误，四人为同一家庭与邻居")
    card.get_by_role("button", name="保留此记录").click()
    expect(page.get_by_role("status")).to_contain_text("已保留")
    expect(page.locator("section.recheck").filter(has_text="复查甲")).to_have_count(0)
    with transaction(live_sessions) as s:
        kept, waiting = s.get(Participation, first), s.get(Participation, second)
        pending = s.get(Participation, fourth)
        assert kept is not None and waiting is not None and pending is not None
        assert kept.review_reason.startswith("组织者名单") and kept.status == "approved"
        assert waiting.reviewed_at is None and pending.status == "pending_review"

    small = new_context(viewport={"width": 360, "height": 780}).new_page()
    small.goto("/login")  # an auditor starts in the administration console
    small.get_by_label("手机号或平台编号").fill("auditor")
    small.get_by_label("密码").fill(DEMO_STAFF_PASSWORD)
    small.get_by_role("button", name="登录").click()
    expect(small).to_have_url(re.compile(r"/admin$"))
    small.goto("/staff/rechecks")
    expect(small.locator("section.recheck").filter(has_text="复查乙")).to_have_count(1)
    expect(small.get_by_role("button", name="保留此记录")).to_have_count(0)
    check_axe(small)
    shoot(small, "staff-rechecks-auditor")
