"""隐患随手拍 in Chromium: 张秀英 reports a loose manhole cover from her phone (360 px, then
长辈模式), is stopped for a missing photo, sends it, and follows it; the police officer finds
it in the queue beside the two earlier reports of the same cover (within 100 m and 48 h) and
merges it into the first; she reads the outcome in 我的上报 and her messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from civicpoints.cli.demo_data import DEMO_PASSWORD, ZHANG_PHONE
from civicpoints.kit.clock import utcnow
from tests.e2e.harness import DESKTOP, RESIDENT, assert_elderly_rules, check_axe, shoot
from tests.e2e.test_resident import look
from tests.e2e.test_staff import photo_with_exif, staff_sign_in

AT = (30.26420, 120.14495)  # by the demo's 保俶路 12 号 reports
PLACE = "保俶路 12 号路口东侧人行道"


def sign_in(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("手机号或平台编号").fill(ZHANG_PHONE)
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")


@pytest.mark.expect_status(422)  # the form sent without a photo
def test_a_resident_reports_a_hazard_and_the_police_merge_the_duplicate(
    new_context: Callable[..., BrowserContext], tmp_path: object
) -> None:
    phone_ctx = new_context(
        **RESIDENT,
        geolocation={"latitude": AT[0], "longitude": AT[1], "accuracy": 10},
        permissions=["geolocation"],
    )
    phone = phone_ctx.new_page()
    sign_in(phone)
    phone.get_by_role("link", name="隐患随手拍").first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("隐患随手拍")
    expect(phone.locator("#geo-status")).to_have_text("已获取位置（精度 10 米）")
    look(phone, "hazard-new")
    phone.get_by_label(re.compile("^安全隐患")).check()
    phone.get_by_label("具体地点").fill(PLACE)
    phone.get_by_label("隐患情况").fill("井盖翘起一角，电动车骑过去差点摔倒")
    phone.get_by_role("button", name="提交上报").click()
    expect(phone.locator(".error-summary")).to_contain_text("请拍一张隐患现场的照片")
    look(phone, "hazard-no-photo")
    photo = photo_with_exif(AT[0], AT[1], utcnow() - timedelta(minutes=2))
    phone.locator("#f-photo").set_input_files(
        {"name": "cover.jpg", "mimeType": "image/jpeg", "buffer": photo}
    )
    phone.get_by_role("button", name="提交上报").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("我的上报")
    card = phone.locator("section.card").filter(has_text=PLACE)
    expect(card).to_contain_text("等待部门处理")
    expect(card).to_contain_text("杭州市公安局")
    look(phone, "hazards")

    office = new_context(**DESKTOP).new_page()
    staff_sign_in(office, "police_officer")
    office.get_by_role("link", name="隐患上报").click()
    expect(office.get_by_role("heading", level=1)).to_have_text("隐患上报")
    check_axe(office)
    shoot(office, "staff-hazards")
    office.get_by_role("row").filter(has_text=PLACE).get_by_role("link").click()
    expect(office.get_by_role("img", name=re.compile("隐患照片"))).to_be_visible()
    duplicates = office.locator("ul.lines li")
    expect(duplicates).to_have_count(2)  # the demo's two reports of the same cover
    check_axe(office)
    shoot(office, "staff-hazard")
    office.get_by_role("radio").first.check()
    office.get_by_role("button", name="合并", exact=True).click()
    expect(office.get_by_role("status")).to_contain_text("处理结果已保存")

    phone.reload()
    expect(card).to_contain_text("已有他人先报（已合并）")
    phone.goto("/notifications")
    expect(phone.locator("ul.notices")).to_contain_text("您上报的隐患已有他人先报")

    elder = new_context(**RESIDENT)
    elder.add_cookies([{"name": "cp_elder", "value": "1", "url": phone.url}])
    old = elder.new_page()
    sign_in(old)
    for url, name in (("/hazards/new", "hazard-new-elder"), ("/hazards", "hazards-elder")):
        old.goto(url)
        check_axe(old)
        assert_elderly_rules(old)
        shoot(old, name)
