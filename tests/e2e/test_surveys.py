"""问卷 in a real browser: the organizer builds a questionnaire with plain forms (a row added by
a submit button) and opens it; new residents answer at 360 px (a plain form: the page tests
post it without any script), once in normal mode and once in 长辈模式 (elderly rules measured,
axe), and see the thank-you and the answered state; the organizer reads the results, "<10"
where people are few. Screenshots of each step."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from tests.e2e.harness import DESKTOP, RESIDENT, assert_elderly_rules, check_axe, shoot
from tests.e2e.test_every_page import _sign_in
from tests.e2e.test_resident import look, register

TITLE = "北山街道社区归属感调查"


def _build(page: Page) -> str:
    """Build and open the questionnaire through the staff pages; its page's path."""
    page.goto("/staff/surveys")
    page.get_by_role("link", name="新建问卷").click()
    page.get_by_label("问卷标题").fill(TITLE)
    page.locator("#f-region_id").select_option(label="北山街道")
    page.locator("#f-text1").fill("参加活动后，您是否更有归属感？")
    page.locator("#f-kind1").select_option("single")
    page.locator("#f-options1").fill("有归属感\n没有变化")
    page.locator("#f-required1").check()
    page.locator("#f-text2").fill("您对活动的总体满意度")
    page.locator("#f-kind2").select_option("scale_1_5")
    page.locator("#f-required2").check()
    page.locator("#f-text3").fill("您常参加哪些活动？")
    page.locator("#f-kind3").select_option("multiple")
    page.locator("#f-options3").fill("志愿服务\n环保行动\n公共监督")
    page.get_by_role("button", name="添加一道题").click()
    page.locator("#f-text4").fill("您的建议")
    page.locator("#f-kind4").select_option("text")
    shoot(page, "staff-survey-build")
    check_axe(page)
    page.get_by_role("button", name="保存草稿").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    page.get_by_role("button", name="发布问卷").click()
    expect(page.get_by_text("正在收集")).to_be_visible()
    shoot(page, "staff-survey-open")
    check_axe(page)
    return page.url


def _answer(page: Page, elder: bool) -> None:
    """A new resident finds the card on home and answers; the thank-you, then the state."""
    register(page)
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    name = "survey-elder" if elder else "survey"
    if elder:
        check_axe(page)
        assert_elderly_rules(page)
        shoot(page, f"resident-{name}")
    else:
        look(page, name)
    page.get_by_role("button", name="提交我的回答").click()  # nothing chosen: errors, kept
    expect(page.locator(".error-summary")).to_contain_text("这道题必须回答")
    page.get_by_label("有归属感").check()
    page.get_by_label("4 分 – 满意").check()
    page.get_by_label("志愿服务").check()
    page.get_by_label("环保行动").check()
    page.get_by_label("您的回答").fill("希望周末多办活动")
    page.get_by_role("button", name="提交我的回答").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("谢谢您")
    if elder:
        assert_elderly_rules(page)
    shoot(page, f"resident-{name}-thanks")
    page.goto("/")
    expect(page.get_by_role("link", name=TITLE)).to_have_count(0)
    page.go_back()
    page.goto(page.url.replace("/thanks", ""))
    expect(page.get_by_text("您已填写过这份问卷，谢谢您！")).to_be_visible()
    check_axe(page)
    shoot(page, f"resident-{name}-answered")


@pytest.mark.expect_status(422)  # sent with nothing chosen: the form again, with the errors
def test_survey_build_answer_in_both_modes_and_results(
    new_context: Callable[..., BrowserContext], live_url: str
) -> None:
    staff = new_context(**DESKTOP).new_page()
    _sign_in(staff, "organizer", DEMO_STAFF_PASSWORD)
    survey = _build(staff)
    plain = new_context(**RESIDENT)
    _answer(plain.new_page(), elder=False)
    elder = new_context(**RESIDENT)
    elder.add_cookies([{"name": "cp_elder", "value": "1", "url": live_url}])
    _answer(elder.new_page(), elder=True)
    staff.goto(survey + "/results")
    expect(staff.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(staff.locator("dd", has_text="<10").first).to_be_visible()  # two respondents
    check_axe(staff)
    shoot(staff, "staff-survey-results")
