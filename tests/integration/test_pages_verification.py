"""In-person verification at the service point, through the page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from civicpoints.cli.city import DEMO_STAFF_PASSWORD, City

from .pages import post_form, sign_in
from .test_api import PASSWORD, id_number, register


def _me(client: TestClient, phone: str) -> str:
    """The resident's verification state, as their own home page tells it."""
    sign_in(client, phone, PASSWORD)
    text = client.get("/").text
    post_form(client, "/", "/logout")
    return "unverified" if "您还没有完成实名认证。" in text else "verified"


def test_a_verifier_checks_the_card_and_the_resident_is_verified(
    client: TestClient, city: City
) -> None:
    resident = register(client, city, 31).json()
    assert _me(client, "13800000031") == "unverified"
    sign_in(client, "verifier", DEMO_STAFF_PASSWORD)
    url = f"/staff/residents/{resident['id']}/verify"
    page = client.get(url)
    assert page.status_code == 200 and resident["id_masked"] in page.text
    wrong = post_form(
        client, url, url, document_type="resident_id_card", document_number=id_number(32)
    )
    assert wrong.status_code == 422 and 'href="#f-document_number"' in wrong.text
    right = post_form(
        client, url, url, document_type="resident_id_card", document_number=id_number(31)
    )
    assert right.status_code == 303
    assert "已完成实名认证" in client.get(url).text
    post_form(client, "/staff", "/logout")
    assert _me(client, "13800000031") == "verified"


def test_an_organizer_may_not_verify_and_nothing_changes(client: TestClient, city: City) -> None:
    resident = register(client, city, 33).json()
    sign_in(client, "organizer", DEMO_STAFF_PASSWORD)
    url = f"/staff/residents/{resident['id']}/verify"
    assert client.get(url).status_code == 403
    token = client.get("/staff").text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post(
        url,
        data={"csrf_token": token, "document_type": "resident_id_card", "document_number": "x"},
        follow_redirects=False,
    )
    assert r.status_code == 403
    post_form(client, "/staff", "/logout")
    assert _me(client, "13800000033") == "unverified"
