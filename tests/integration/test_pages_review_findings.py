"""Defects a reviewer found by trying the pages as staff, an administrator and an attacker;
each test failed before its fix."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.rewards.models import Item

from .pages import post_form, sign_in
from .test_api import PASSWORD, activity_body, id_number, login, register
from .test_pages_admin_rewards import NEW_PASSWORD, as_admin, new_staff
from .test_pages_resident import MakeActivity, attend, enrolled, records_count, resident


def test_staff_search_does_not_undo_the_id_mask_with_the_birth_date(
    client: TestClient, city: City
) -> None:
    """The mask hides the ID's digits 7–14, which are the birth date: never show both."""
    register(client, city, 41)
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    query = {"name": "张秀英", "last4": id_number(41)[-4:]}
    page = client.get("/staff/residents", params=query).text
    assert "********" in page  # the masked ID is there
    assert "1958年3月15日" not in page and "1958" not in page.split("<main", 1)[1]


def test_a_monthly_cap_beyond_reason_is_refused_by_the_api(client: TestClient, city: City) -> None:
    """A 30-digit cap was stored, and every page formatting it answered 500."""
    body = {
        "effective_from": "2099-01-01",
        "rules": {
            "categories": {"volunteer_service": {"mode": "per_hour", "points": 10}},
            "monthly_cap": 10**30,
            "expiry_months": 12,
        },
    }
    r = client.post("/api/v1/rules", json=body, headers=login(client, "admin"))
    assert r.status_code == 422, r.text


def test_infinity_for_money_is_an_error_beside_the_field_not_a_crash(
    client: TestClient, city: City, rewards: Rewards, sessions: sessionmaker[Session]
) -> None:
    as_admin(client)
    with transaction(sessions) as s:
        item = s.scalars(select(Item).order_by(Item.price_points)).first()
        assert item is not None
        url, before = f"/admin/catalog/{item.id}", item.face_value_fen
    r = post_form(client, url, url, face_value_fen="Infinity", stock_total="", price_points="")
    assert r.status_code == 422
    with transaction(sessions) as s:
        assert s.get(Item, item.id).face_value_fen == before  # type: ignore[union-attr]


def test_a_regional_administrator_starts_on_a_page_they_may_open(
    client: TestClient, city: City, rewards: Rewards
) -> None:
    as_admin(client)
    new_staff(client, city, "beishan_admin", "admin", str(city.streets[0].id))
    client.cookies.clear()
    r = sign_in(client, "beishan_admin", NEW_PASSWORD)
    assert client.get(r.headers["location"]).status_code == 200


def test_a_long_description_is_refused_not_cut(client: TestClient, city: City) -> None:
    """Text longer than the schema allows must be refused with a message, never truncated."""
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    body = activity_body(city)

    def publish(description: str) -> int:
        fields = {
            "title": "长描述测试",
            "description": description,
            "category": "volunteer_service",
            "place_name": "社区服务中心",
            "coords": f"{body['geofence']['lat']}, {body['geofence']['lon']}",
            "radius_m": "150",
            "starts_at": "2099-01-01T09:00",
            "ends_at": "2099-01-01T11:00",
            "capacity": "10",
            "evidence": "none",
            "region_id": str(body["region_id"]),
            "organization_id": str(body["organization_id"]),
        }
        page = "/staff/activities/new"
        return post_form(client, page, page, **fields).status_code

    assert publish("字" * 100) == 303  # the form itself is right
    assert publish("字" * 6000) == 422


def test_a_bad_address_is_explained_in_plain_words(client: TestClient, city: City) -> None:
    register(client, city, 42)
    sign_in(client, "13800000042", PASSWORD)
    page = client.get("/vouchers/123")
    assert page.status_code in (404, 422)
    assert "path." not in page.text and "UUID" not in page.text


def test_an_empty_photo_file_is_refused_with_a_message(
    client: TestClient, city: City, make_activity: MakeActivity
) -> None:
    """A chosen but empty photo file was taken as "no photo" and the check-in said nothing."""
    activity = make_activity(utcnow() - timedelta(minutes=10))
    resident(client, city, 43)
    url = enrolled(client, activity)
    r = attend(client, url, "checkin", b"")
    assert r.status_code in (415, 422) and 'role="alert"' in r.text
    assert records_count(client) == 0


def test_a_regional_administrator_is_shown_only_the_pages_they_may_open(
    client: TestClient, city: City, rewards: Rewards
) -> None:
    as_admin(client)
    new_staff(client, city, "beishan_admin2", "admin", str(city.streets[0].id))
    client.cookies.clear()
    sign_in(client, "beishan_admin2", NEW_PASSWORD)
    nav = client.get("/admin/rules").text.split('class="admin-nav"', 1)[1].split("</nav>", 1)[0]
    links = [part.split('"', 1)[0] for part in nav.split('href="')[1:]]
    # a street's administrator reads its figures, outcome indicators and annual reports, may add
    # versions of its rules (and try them in the policy simulator first), risk policy, star
    # thresholds and donation settings, and grant roles within it; the city-wide pages stay hidden
    assert links == [
        "/admin/insights",
        "/admin/outcomes",
        "/admin/reports",
        "/admin/rules",
        "/admin/simulator",
        "/admin/risk",
        "/admin/stars",
        "/admin/donations",
        "/admin/staff",
    ]
    assert all(client.get(link).status_code == 200 for link in links)
