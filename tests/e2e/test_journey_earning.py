"""Issue 9, acceptance journey 1, whole: a new resident earns points a reviewer approved.

A new resident registers, enrols, checks in and out (position set by the test, photo from a
fixture); the record waits for review (the stay was minutes). A reviewer, in another browser
context, sees the evidence and approves. The resident then sees the points with their
explanation and downloads the receipt, which `civicpoints ledger verify-receipt` accepts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import BrowserContext, expect
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.cli.main import app as cli
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.settings import Settings
from civicpoints.ledger import log_signer
from civicpoints.ledger.tasks import sequence_once
from tests.e2e.harness import DESKTOP, RESIDENT, check_axe, shoot
from tests.e2e.test_resident import SITE, activity, photo_jpeg, register
from tests.e2e.test_staff import staff_sign_in

__all__ = ["activity"]  # the fixture, shared with the resident's own journey


def _sequence(settings: Settings) -> None:
    """One sequencer pass, as `civicpoints serve` runs every few seconds."""
    engine = make_engine(settings.resolved_database_url())
    sequence_once(make_session_factory(engine), log_signer(settings), settings.ledger_origin)
    engine.dispose()


def test_journey_1_earn_review_approve_and_verify_the_receipt(
    new_context: Callable[..., BrowserContext],
    activity: str,
    live_settings: Settings,
    live_sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    phone = new_context(
        **RESIDENT,
        geolocation={"latitude": SITE[0], "longitude": SITE[1], "accuracy": 15},
        permissions=["geolocation"],
        accept_downloads=True,
    ).new_page()
    register(phone)
    expect(phone.get_by_text("您还没有完成实名认证。")).to_be_visible()
    phone.get_by_role("link", name="去实名认证").click()
    phone.wait_for_url("**/verify")
    check_axe(phone)
    phone.get_by_role("button", name="立即认证").click()  # the demo's `dev` provider
    expect(phone.get_by_text("您已完成实名认证。")).to_be_visible()
    phone.goto(f"/activities/{activity}")
    phone.get_by_role("button", name="报名参加").click()
    phone.get_by_role("link", name="签到").click()
    expect(phone.get_by_role("status")).to_have_text("已获取位置（精度 15 米）")
    phone.locator("#f-photo").set_input_files(photo_jpeg(tmp_path))
    phone.get_by_role("button", name="签到").click()
    phone.get_by_role("link", name="签退").click()
    expect(phone.get_by_role("status")).to_contain_text("已获取位置")
    phone.get_by_role("button", name="签退").click()
    expect(phone.locator(".outcome")).to_contain_text("等待审核")
    record_url = phone.url

    office = new_context(**DESKTOP).new_page()
    staff_sign_in(office, "reviewer")
    office.goto("/staff/reviews")
    record_id = record_url.rstrip("/").rsplit("/", 1)[-1]
    office.locator(f'a[href="/staff/reviews/{record_id}"]').click()
    expect(office.get_by_role("img", name="居民上传的照片")).to_be_visible()
    expect(office.get_by_text("拍摄时间（EXIF）")).to_be_visible()
    check_axe(office)
    shoot(office, "journey1-review")
    office.get_by_label("通过：记录服务时长并发放积分").check()
    office.get_by_role("button", name="保存审核结果").click()
    expect(office.get_by_role("status")).to_contain_text("已通过")

    phone.goto(record_url)
    expect(phone.locator(".outcome")).to_contain_text("50")
    phone.goto("/history")
    line = phone.locator("li", has_text="+50").first
    expect(line).to_contain_text("50 分")  # the rule's own explanation of the award
    check_axe(phone)
    shoot(phone, "journey1-history")
    _sequence(live_settings)  # the server's sequencer, run now rather than in a few seconds
    with phone.expect_download() as download:
        line.get_by_role("link", name="下载凭证").click()
    path = tmp_path / "receipt.json"
    download.value.save_as(path)
    receipt = json.loads(path.read_text(encoding="utf-8"))
    assert receipt["entry"]["amount"] == 50
    key = log_signer(live_settings).verifier.vkey()
    ok = CliRunner().invoke(cli, ["ledger", "verify-receipt", str(path), "--public-key", key])
    assert ok.exit_code == 0 and "receipt verified" in ok.output, ok.output
