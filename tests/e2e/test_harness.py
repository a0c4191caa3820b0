"""The browser harness itself: Chromium starts, the guard blocks and records, axe and shots work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.e2e.harness import (
    SCREENSHOTS,
    Guard,
    check_axe,
    contrast_ratio,
    measure_text,
    parse_color,
    run_axe,
    shoot,
    small_targets,
)

LOAD_OUTSIDE_SCRIPT = """() => new Promise(done => {
  const s = document.createElement('script');
  s.src = 'http://example.com/x.js';
  s.onload = () => done('loaded');
  s.onerror = () => done('failed');
  document.head.append(s);
})"""


def test_chromium_serves_the_vendored_swagger_ui(page: Page, browser: Browser) -> None:
    """Debian's Chromium renders /docs from the app's own files, with no guarded problem."""
    assert browser.version.split(".")[0].isdigit()
    response = page.goto("/docs")
    assert response is not None and response.status == 200
    title = page.locator(".swagger-ui .info .title")
    title.wait_for()
    assert "CivicPoints" in title.inner_text()


def test_the_guard_blocks_and_records_what_goes_wrong(browser: Browser, live_url: str) -> None:
    """An outside script is blocked before the network and recorded; so are errors, a 404
    and a script the page's CSP refuses.

    The page is `set_content` on about:blank (no CSP, so the script element is tried at all).
    """
    watcher = Guard()
    context = browser.new_context()  # not the fixture: this test's problems are on purpose
    watcher.watch(context)
    failures: list[tuple[str, str | None]] = []
    context.on("requestfailed", lambda r: failures.append((r.url, r.failure)))
    page = context.new_page()
    page.set_content("<script>console.error('boom')</script>")
    assert page.evaluate(LOAD_OUTSIDE_SCRIPT) == "failed"
    page.evaluate("setTimeout(() => { throw new Error('uncaught in a timer') })")
    page.wait_for_timeout(100)
    other = context.new_page()  # every page of the context is watched
    response = other.goto(f"{live_url}/static/missing.png")
    assert response is not None and response.status == 404
    served = context.new_page()  # under the app's CSP an inline script is refused, loudly
    served.goto(f"{live_url}/docs")
    served.evaluate(
        "document.head.append(Object.assign(document.createElement('script'), "
        "{textContent: 'window.ran = 1'}))"
    )
    assert served.evaluate("window.ran") is None
    context.close()

    blocked = [failure for url, failure in failures if url == "http://example.com/x.js"]
    assert blocked and blocked[0] and blocked[0].startswith("net::ERR_BLOCKED_BY_CLIENT"), failures
    found = watcher.report()
    assert "request outside 127.0.0.1 (blocked): GET http://example.com/x.js" in found
    assert f"HTTP 404 GET {live_url}/static/missing.png" in found
    assert any(p.startswith("console error: boom") for p in found), found
    assert any(p.startswith("page error:") and "uncaught in a timer" in p for p in found), found
    assert any("Content Security Policy" in p for p in found), found
    assert len(found) == 5, found
    with pytest.raises(AssertionError, match=r"example\.com/x\.js"):
        watcher.check()


def test_the_page_fixture_is_guarded(page: Page, guard: Guard, live_url: str) -> None:
    """The autouse guard watches the `page` fixture's context (this 404 would fail the test)."""
    response = page.goto("/static/missing.html")
    assert response is not None and response.status == 404
    assert guard.problems == [f"HTTP 404 GET {live_url}/static/missing.html"]
    guard.problems.clear()  # the point is made; let teardown pass


def test_an_expected_status_passes(page: Page, expect_status: Callable[..., None]) -> None:
    """A declared error status is no problem; the guard's teardown check passes."""
    expect_status(404)
    response = page.goto("/static/missing.html")
    assert response is not None and response.status == 404


@pytest.mark.expect_status(404)
def test_an_expected_status_by_marker(page: Page, guard: Guard) -> None:
    """The marker declares it too."""
    assert guard.expected == {404: 0}
    page.goto("/static/missing.html")
    assert guard.expected == {404: 1}


def test_an_expected_status_that_never_comes_fails() -> None:
    """A declaration must be used: an unseen expected status is reported."""
    watcher = Guard()
    watcher.expect(403)
    assert watcher.report() == ["expected HTTP 403 but no response had it"]


def test_axe_reports_serious_and_critical_violations(page: Page) -> None:
    """axe-core (vendored) runs; an image without alt text is a critical violation."""
    page.set_content('<html lang="zh-CN"><title>积分</title><main><h1>积分</h1><img src=""></main>')
    with pytest.raises(AssertionError, match="image-alt"):
        check_axe(page)
    page.set_content(
        '<html lang="zh-CN"><title>积分</title><main><h1>积分</h1><img src="" alt="积分"></main>'
    )
    results = check_axe(page)
    assert results["testEngine"]["name"] == "axe-core"


def test_axe_loads_from_static_under_the_pages_csp(page: Page) -> None:
    """On a served page (CSP `script-src 'self'`) axe comes from /static and runs."""
    page.goto("/docs")
    results = run_axe(page)
    assert results["url"].endswith("/docs")
    assert isinstance(results["violations"], list)


def test_a_screenshot_shows_cjk_glyphs(resident_page: Page) -> None:
    """Chinese text is drawn with Noto Sans CJK (fonts-noto-cjk), and the PNG is written."""
    page = resident_page
    page.set_content(
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<h1 style="font: 40px sans-serif">积分 公共服务</h1>'
        '<p style="font-size:22px">已获得 20 积分</p>'
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "h1"})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]
    assert any("CJK" in f["familyName"] for f in fonts), f"no CJK font drew the text: {fonts}"

    SCREENSHOTS.joinpath("harness-cjk-360.png").unlink(missing_ok=True)
    path = shoot(page, "harness-cjk")
    assert path == SCREENSHOTS / "harness-cjk-360.png"
    with Image.open(path) as image:
        assert image.width == 720  # 360 CSS px at scale 2 (980 without the viewport meta)
        histogram = image.convert("L").histogram()  # pixels per grey level 0-255
    dark = sum(histogram[:128])
    assert dark > 2000, "the screenshot has (almost) no ink: were the glyphs drawn?"


def test_text_measurements_and_contrast(page: Page) -> None:
    """Body size and line height as computed; contrast by the WCAG formula over the background."""
    page.set_content(
        "<body style='font-size:22px;line-height:1.6;color:#1a1a1a;background:#fff8e6'>"
        "<p>正文</p><p style='color:#595959'>次要</p>"
        "<div style='background:rgba(0,0,0,0.5)'><span style='color:#fff'>白字</span></div>"
    )
    report = measure_text(page)
    assert report.body_font_px == 22
    assert report.body_line_height == pytest.approx(1.6)
    by_text = {e.text: e for e in report.elements}
    assert by_text["正文"].contrast == pytest.approx(16.4, abs=0.1)  # UI.md: 16.4 : 1
    assert by_text["次要"].background == "#fff8e6"
    assert by_text["白字"].background == "#807c73"  # half black over the warm white
    assert [e.text for e in report.below(7.0)] == ["次要", "白字"]


def test_contrast_formula() -> None:
    """The UI.md tokens' contrast against white."""
    white = (255.0, 255.0, 255.0)
    for css, expected in (("rgb(26, 26, 26)", 17.4), ("rgb(168, 7, 26)", 7.75)):
        assert contrast_ratio(parse_color(css)[:3], white) == pytest.approx(expected, abs=0.05)
    assert parse_color("rgba(0, 0, 0, 0.5)") == (0, 0, 0, 0.5)
    assert parse_color("color(srgb 1 0 0 / 0.25)") == (255, 0, 0, 0.25)


def test_small_targets(resident_page: Page) -> None:
    """Controls under the size are listed; a checkbox counts by its label's box."""
    resident_page.set_content(
        "<a href='#' style='display:inline-block;width:60px;height:60px'>大</a>"
        "<button style='width:40px;height:60px'>小</button>"
        "<label style='display:block;height:64px;width:200px'><input type=checkbox> 同意</label>"
        "<input type=hidden name=x>"
    )
    small = small_targets(resident_page, 48)
    assert [(t["width"], t["height"]) for t in small] == [(40, 60)]
    assert "小" in small[0]["element"]
    assert len(small_targets(resident_page, 61)) == 2  # and 大 (60 × 60)
    assert len(small_targets(resident_page, 65)) == 3  # and the label, 64 high
