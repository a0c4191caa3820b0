"""为您推荐 in a real browser at 360 px: a new resident's home shows activities near them, each
with its reason, in normal mode and in 长辈模式 (elderly rules measured, axe); the switch on
我的数据 turns them off (the block goes) and on again, with plain forms. Screenshots of the
whole page and of the block alone."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.harness import RESIDENT, SCREENSHOTS, assert_elderly_rules, check_axe, shoot
from tests.e2e.test_resident import look, register


def _block(page: Page, name: str) -> None:
    """The block alone, as a finger sees it (var/screenshots/<name>-block-360.png)."""
    block = page.locator("section.recs")
    expect(block).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    block.screenshot(path=SCREENSHOTS / f"{name}-block-360.png")


def _picks(page: Page) -> None:
    """At least one pick, each a link with its time, place and one reason."""
    block = page.locator("section.recs")
    expect(block.get_by_role("heading", level=2)).to_have_text("为您推荐")
    picks = block.locator("li.rec")
    expect(picks.first).to_be_visible()
    for i in range(picks.count()):
        expect(picks.nth(i).locator("a.rec-title")).to_have_attribute(
            "href", re.compile(r"^/activities/[0-9a-f-]{36}$")
        )
        expect(picks.nth(i).locator(".rec-why")).not_to_be_empty()


def test_a_new_resident_sees_picks_near_them_and_can_turn_them_off_and_on(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(**RESIDENT).new_page()
    register(page)
    _picks(page)
    reasons = page.locator("section.recs .rec-why").all_inner_texts()
    cold = ("离您", "附近很受欢迎", "与您年龄相仿的居民常参加", "适合周末", "近两周内的活动")
    assert all(r.startswith(cold) for r in reasons), reasons  # nothing of a past they lack
    look(page, "home-recs")
    _block(page, "resident-home-recs")
    page.locator("section.recs").get_by_role("link", name="为什么推荐这些？关闭推荐").click()
    expect(page.get_by_role("heading", level=2, name="为您推荐")).to_be_visible()
    expect(page.get_by_text("为您推荐已开启。")).to_be_visible()
    look(page, "mydata-recs-on")
    page.get_by_role("button", name="关闭为您推荐").click()
    expect(page.get_by_text("您的推荐列表已删除")).to_be_visible()
    check_axe(page)
    shoot(page, "resident-mydata-recs-off")
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    expect(page.locator("section.recs")).to_have_count(0)
    page.goto("/me/data")
    page.get_by_role("button", name="开启为您推荐").click()
    expect(page.get_by_text("推荐列表已显示在首页")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    _picks(page)


def test_the_picks_in_elder_mode_are_large_and_fewer(
    new_context: Callable[..., BrowserContext], live_url: str
) -> None:
    context = new_context(**RESIDENT)
    context.add_cookies([{"name": "cp_elder", "value": "1", "url": live_url}])
    page = context.new_page()
    register(page)
    _picks(page)
    assert page.locator("section.recs li.rec").count() <= 3
    check_axe(page)
    assert_elderly_rules(page)
    shoot(page, "resident-home-recs-elder")
    _block(page, "resident-home-recs-elder")
    page.goto("/me/data")
    expect(page.get_by_text("为您推荐已开启。")).to_be_visible()
    assert_elderly_rules(page)
    shoot(page, "resident-mydata-recs-elder")


def test_the_picks_and_the_switch_work_without_javascript(
    new_context: Callable[..., BrowserContext],
) -> None:
    page = new_context(**RESIDENT, java_script_enabled=False).new_page()
    register(page)
    first = page.locator("section.recs a.rec-title").first
    title = first.inner_text()
    first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.goto("/me/data")
    page.get_by_role("button", name="关闭为您推荐").click()
    expect(page.get_by_text("您的推荐列表已删除")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("您好")
    expect(page.locator("section.recs")).to_have_count(0)
