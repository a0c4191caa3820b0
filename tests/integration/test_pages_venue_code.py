"""The venue code (签到码) on the pages: the organizer's screen (htmx, and a refresh without
JavaScript), and the resident's check-in form."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.fraud import venue_code
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context

from .test_pages_resident import attend, enrolled, records_count, resident
from .test_pages_staff import as_staff, other_street_staff, sign_in_other
from .test_venue_code import HERE, STEP, secret_of

MakeActivity = Callable[..., uuid.UUID]
CODE = re.compile(r'<p class="venue-code-digits"[^>]*>\s*(\d{3}) (\d{3})\s*</p>')


def shown_code(html: str) -> str:
    found = CODE.search(html)
    assert found, "no code on the screen"
    return found.group(1) + found.group(2)


def now_codes(sessions: sessionmaker[Session], activity: uuid.UUID) -> set[str]:
    """The codes valid now (this step and the one before: the page may have just turned)."""
    secret, now = secret_of(sessions, activity), datetime.now(UTC)
    return {venue_code(secret, now - timedelta(seconds=s), STEP) for s in (0, STEP)}


def test_the_activity_page_links_to_a_screen_showing_the_code_huge(
    client: TestClient, city: City, sessions: sessionmaker[Session], make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    as_staff(client, "organizer")
    page = client.get(f"/staff/activities/{activity}").text
    assert f'href="/staff/activities/{activity}/venue-code"' in page and "签到码" in page
    r = client.get(f"/staff/activities/{activity}/venue-code")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert shown_code(r.text) in now_codes(sessions, activity)
    assert "<h1>签到码" in r.text and "每 30 秒更换一次" in r.text
    # htmx asks for the next code when this one turns; without JavaScript the page reloads
    live = re.search(r'hx-get="([^"]+)" hx-trigger="load delay:(\d+)s"', r.text)
    assert live and live.group(1) == f"/staff/activities/{activity}/venue-code/live"
    assert 1 <= int(live.group(2)) <= STEP + 1
    refresh = re.search(r'<noscript><meta http-equiv="refresh" content="(\d+)"></noscript>', r.text)
    assert refresh and int(refresh.group(1)) == int(live.group(2))
    fragment = client.get(live.group(1))
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert shown_code(fragment.text) in now_codes(sessions, activity)
    assert 'hx-trigger="load delay:' in fragment.text  # and the next one after that
    secret = secret_of(sessions, activity)
    for html in (page, r.text, fragment.text):
        assert secret.hex() not in html and "venue_secret" not in html


def test_outside_the_check_in_window_the_screen_says_so(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() + timedelta(days=1))
    as_staff(client, "organizer")
    page = client.get(f"/staff/activities/{activity}/venue-code").text
    assert not CODE.search(page)
    assert "签到尚未开始" in page and "签到码只在签到时间内有效" in page
    past = make_activity(utcnow() - timedelta(days=1))
    page = client.get(f"/staff/activities/{past}/venue-code").text
    assert not CODE.search(page) and "签到已经结束" in page
    assert "http-equiv" not in page  # nothing more will change


def test_another_streets_organizer_gets_404_for_the_screen(
    client: TestClient,
    city: City,
    sessions: sessionmaker[Session],
    ctx: Context,
    make_activity: MakeActivity,
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    username = other_street_staff(sessions, ctx, city, "organizer")
    sign_in_other(client, username)
    for path in ("venue-code", "venue-code/live"):
        r = client.get(f"/staff/activities/{activity}/{path}")
        assert r.status_code == 404 and not CODE.search(r.text)
        assert client.get(f"/staff/activities/{uuid.uuid4()}/{path}").status_code == 404


def test_the_check_in_form_asks_for_the_code_in_plain_words(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 31)
    url = enrolled(client, activity)
    form = client.get(f"{url}/checkin").text
    field = re.search(r"<input[^>]*id=\"f-venue_code\"[^>]*>", form)
    assert field and re.search(r'inputmode="?numeric', field.group(0))
    assert 'name="venue_code"' in field.group(0) and 'maxlength="12"' in field.group(0)
    assert '<label for="f-venue_code">现场签到码（选填）</label>' in form
    assert 'id="f-venue_code"' not in client.get(f"{url}/checkout").text


def test_checking_in_with_the_code_on_the_screen_says_it_matched(
    client: TestClient, city: City, sessions: sessionmaker[Session], make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    as_staff(client, "organizer")
    code = shown_code(client.get(f"/staff/activities/{activity}/venue-code").text)
    client.cookies.clear()
    resident(client, city, 32)
    url = enrolled(client, activity)
    r = attend(client, url, "checkin", None, **HERE_FORM, venue_code=code)
    assert r.status_code == 303 and r.headers["location"].endswith("?venue_code=matched")
    page = client.get(r.headers["location"]).text
    assert "签到码正确" in page and "已签到" in page


def test_a_wrong_code_still_checks_in_and_tells_the_resident(
    client: TestClient, city: City, sessions: sessionmaker[Session], make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    wrong = next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in now_codes(sessions, activity))
    resident(client, city, 33)
    url = enrolled(client, activity)
    r = attend(client, url, "checkin", None, **HERE_FORM, venue_code=wrong)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "已签到" in page and "签到码与现场屏幕上的不一致" in page and "请问现场的组织者" in page


def test_a_code_with_letters_is_refused_beside_the_field_and_nothing_is_recorded(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 34)
    url = enrolled(client, activity)
    r = attend(client, url, "checkin", None, **HERE_FORM, venue_code="12三456")
    assert r.status_code == 422
    assert 'href="#f-venue_code"' in r.text and "签到码只能填写数字" in r.text
    assert 'value="12三456"' in r.text  # what was typed stays, to be corrected
    assert records_count(client) == 0


HERE_FORM = {k: str(v) for k, v in HERE.items()}
