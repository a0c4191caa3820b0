"""The pages' foundation: sign-in by cookie, CSRF, error pages, language and 长辈模式."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.web.problems import PROBLEM

from .pages import csrf_of, post_form, sign_in
from .test_api import PASSWORD, id_number, register


def test_a_stranger_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2F"
    page = client.get("/login").text
    assert "登录" in page and 'lang="zh-CN"' in page


def test_sign_in_sets_a_safe_cookie_and_shows_the_balance(client: TestClient, city: City) -> None:
    assert register(client, city, 7).status_code == 201
    r = sign_in(client, "13800000007", PASSWORD)
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and "cp_session" in v)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "我的积分" in home.text and "本月已得 0 / 500 分" in home.text
    assert home.headers["cache-control"] == "no-store"


def test_wrong_password_is_shown_beside_the_form_and_nothing_else(
    client: TestClient, city: City
) -> None:
    register(client, city, 8)
    r = post_form(client, "/login", "/login", username="13800000008", password="nope", next="")
    assert r.status_code == 422
    assert 'role="alert"' in r.text and "账号或密码错误" in r.text
    assert "cp_session" not in r.headers.get("set-cookie", "")


def test_a_form_without_its_token_changes_nothing(
    client: TestClient, city: City, make_resident: Callable[..., Resident]
) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "x", "password": "y"}, follow_redirects=False)
    assert r.status_code == 403 and "页面已过期" in r.text
    r = client.post(
        "/register",
        data={
            "csrf_token": "forged",
            "name": "王建国",
            "id_number": id_number(99),
            "phone": "13800000099",
            "password": PASSWORD,
            "community_id": str(city.communities[0].id),
            "consent": "yes",
        },
        follow_redirects=False,
    )
    assert r.status_code == 403
    assert sign_in_fails(client, "13800000099")


def sign_in_fails(client: TestClient, username: str) -> bool:
    r = post_form(client, "/login", "/login", username=username, password=PASSWORD, next="")
    return r.status_code == 422


def test_register_through_the_page_uses_the_api_checks(client: TestClient, city: City) -> None:
    fields = {
        "name": "王建国",
        "id_number": "110101195803150000",  # wrong check character
        "phone": "13800000011",
        "password": PASSWORD,
        "community_id": str(city.communities[0].id),
        "consent": "yes",
    }
    r = post_form(client, "/register", "/register", **fields)
    assert r.status_code == 422
    assert 'href="#f-id_number"' in r.text  # the summary links to the field
    assert PASSWORD not in r.text  # the password is never sent back
    r = post_form(client, "/register", "/register", **{**fields, "id_number": id_number(11)})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "王建国，您好" in client.get("/").text


def test_no_consent_no_account(client: TestClient, city: City) -> None:
    fields = {
        "name": "王建国",
        "id_number": id_number(12),
        "phone": "13800000012",
        "password": PASSWORD,
        "community_id": str(city.communities[0].id),
    }
    r = post_form(client, "/register", "/register", **fields)
    assert r.status_code == 422 and 'href="#f-consent"' in r.text
    assert sign_in_fails(client, "13800000012")


def test_sign_out_revokes_the_session(client: TestClient, city: City) -> None:
    register(client, city, 13)
    sign_in(client, "13800000013", PASSWORD)
    token = client.cookies.get("cp_session")
    r = post_form(client, "/", "/logout")
    assert r.status_code == 303
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401  # the same token, revoked for the API too
    assert client.get("/", follow_redirects=False).status_code == 303


def test_errors_are_pages_for_browsers_and_problems_for_the_api(client: TestClient) -> None:
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "没有这个地址" in page.text
    assert page.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.headers["content-type"] == PROBLEM


def test_next_never_leaves_the_site(client: TestClient, city: City) -> None:
    register(client, city, 14)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        token = csrf_of(client.get("/login").text)
        r = client.post(
            "/login",
            data={
                "csrf_token": token,
                "username": "13800000014",
                "password": PASSWORD,
                "next": target,
            },
            follow_redirects=False,
        )
        assert r.headers["location"] == "/", target
        post_form(client, "/", "/logout")
    r = client.get("/lang/en?next=https://evil.example/", follow_redirects=False)
    assert r.headers["location"] == "/"


def test_language_and_large_text_mode_are_remembered(client: TestClient) -> None:
    client.get("/lang/en?next=/login")
    page = client.get("/login").text
    assert 'lang="en"' in page and "Sign in" in page
    post_form(client, "/login", "/elder", on="1", next="/login")
    assert 'class="elder' in client.get("/login").text
    client.get("/lang/zh-CN")
    assert "登录" in client.get("/login").text


def test_an_unverified_resident_is_told_and_verifies_on_a_page(
    client: TestClient, city: City
) -> None:
    register(client, city, 15)
    sign_in(client, "13800000015", PASSWORD)
    assert "您还没有完成实名认证。" in client.get("/").text
    client.get("/verify")
    assert client.post("/verify", data={}, follow_redirects=False).status_code == 403
    assert "您还没有完成实名认证。" in client.get("/").text  # the refused post changed nothing
    r = post_form(client, "/verify", "/verify")
    assert r.status_code == 303
    assert "您已完成实名认证。" in client.get("/verify").text
    assert "您还没有完成实名认证。" not in client.get("/").text
