"""Web hardening: commit before response, body limits, text checks, log redaction, headers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.identity.models import Resident
from civicpoints.kit.settings import Settings
from civicpoints.web.app import create_app
from civicpoints.web.problems import PROBLEM

from .live import live_server
from .test_api import (
    PASSWORD,
    activity_body,
    count,
    create_activity,
    login,
    register,
    resident_headers,
)

TRIES = 200


def _slow_commits(app: Any, seconds: float = 0.03) -> None:
    """Every request transaction's commit takes `seconds`, as on a busy disk."""

    def pause(_session: Session) -> None:
        time.sleep(seconds)

    event.listen(app.state.sessions, "before_commit", pause)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_2xx_means_committed_read_your_write_through_a_real_server(
    settings: Settings, city: City
) -> None:
    """Defect 5: the next request sees what a 2xx reported: create then read 200 of 200,
    sign-in then GET /me 20 of 20 (argon2 makes each sign-in slow), commits made slow."""
    app = create_app(settings)
    _slow_commits(app)
    with live_server(settings, app) as client:
        assert register(client, city, 1).status_code == 201
        staff = login(client, "organizer")
        misses = 0
        for _ in range(TRIES):
            activity = create_activity(client, city, headers=staff)
            misses += client.get(f"/api/v1/activities/{activity}").status_code != 200
        assert misses == 0, f"read after create failed {misses} of {TRIES} times"
        for _ in range(20):
            headers = login(client, "13800000001", PASSWORD)
            misses += client.get("/api/v1/me", headers=headers).status_code != 200
        assert misses == 0, f"GET /me after sign-in failed {misses} of 20 times"


def test_a_failed_commit_is_an_error_response_and_nothing_is_kept(
    settings: Settings, city: City
) -> None:
    """Defect 5: when the commit fails the client gets a problem+json 500, never a 201."""
    app = create_app(settings)

    def refuse(_session: Session) -> None:
        raise RuntimeError("the disk is full")

    with TestClient(app, raise_server_exceptions=False) as client:
        staff = login(client, "organizer")
        event.listen(app.state.sessions, "before_commit", refuse)
        r = client.post("/api/v1/activities", json=activity_body(city), headers=staff)
        event.remove(app.state.sessions, "before_commit", refuse)
        assert r.status_code == 500
        assert r.headers["content-type"] == PROBLEM
        assert "the disk is full" not in r.text and "Traceback" not in r.text
        assert r.json()["messages"]["zh-CN"] and r.json()["messages"]["en"]
        assert client.get("/api/v1/activities").json()["items"] == []


# -- request size (defect 7) ----------------------------------------------------------------

MB = 1024 * 1024
CHUNK = b"x" * (64 * 1024)


def _call(
    app: Any, method: str, path: str, headers: dict[str, str], size: int, declare: bool = True
) -> tuple[int, dict[str, str], bytes, int]:
    """One request straight through ASGI with a `size`-byte body streamed lazily (never held
    whole); returns status, headers, body and how many body bytes the app pulled."""
    pulled = 0
    sent = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if declare:
        sent.append((b"content-length", str(size).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": sent,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = CHUNK[: max(0, min(len(CHUNK), size - pulled))]
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": pulled < size}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"], pulled


def test_a_huge_json_body_to_sign_in_is_refused_before_it_is_read(settings: Settings) -> None:
    """Defect 7: 200 MB of JSON to the anonymous sign-in → 413 problem+json, nothing read
    when its length is declared, no more than the limit when it streams without one."""
    app = create_app(settings)
    json_headers = {"content-type": "application/json"}
    status, headers, body, pulled = _call(app, "POST", "/api/v1/auth/token", json_headers, 200 * MB)
    assert (status, headers["content-type"], pulled) == (413, PROBLEM, 0)
    assert "请求内容超过上限" in body.decode()
    status, headers, _, pulled = _call(
        app, "POST", "/api/v1/auth/token", json_headers, 200 * MB, declare=False
    )
    assert (status, headers["content-type"]) == (413, PROBLEM)
    assert pulled <= settings.body_max_bytes + len(CHUNK)


def test_an_upload_is_read_only_after_the_caller_is_known(settings: Settings, city: City) -> None:
    """Defect 7: an anonymous 5 MB photo upload → 401 with not one byte of it read; a signed-in
    caller's 200 MB upload → 413 before it is read."""
    app = create_app(settings)
    form = {"content-type": "multipart/form-data; boundary=b0undary"}
    path = f"/api/v1/participations/{uuid.uuid4()}/evidence"
    status, headers, _, pulled = _call(app, "POST", path, form, 5 * MB)
    assert (status, headers["content-type"], pulled) == (401, PROBLEM, 0)
    status, _, _, pulled = _call(app, "POST", path, form | {"authorization": "Bearer nope"}, 5 * MB)
    assert (status, pulled) == (401, 0)
    with TestClient(app) as client:
        staff = login(client, "organizer")
    status, headers, body, pulled = _call(
        app, "POST", "/api/v1/participations/import", form | staff, 200 * MB
    )
    assert (status, headers["content-type"], pulled) == (413, PROBLEM, 0)
    assert json.loads(body)["field"] == "file"


# -- headers, unknown paths, 405 (defect 12, web part) --------------------------------------


def test_every_response_carries_security_headers_and_personal_data_is_not_cached(
    client: TestClient, city: City
) -> None:
    """nosniff, a CSP forbidding framing, no referrer; no-store on auth and personal data,
    a short public cache on the ledger's checkpoints; the same on refusals."""
    staff = login(client, "organizer")
    responses = {
        "token": client.post("/api/v1/auth/token", json={"username": "x", "password": "y"}),
        "me": client.get("/api/v1/me", headers=staff),
        "activities": client.get("/api/v1/activities", headers=staff),
        "unknown": client.get("/api/v1/nothing-here"),
        "docs": client.get("/docs"),
        "checkpoints": client.get("/api/v1/ledger/checkpoints/latest"),
    }
    for name, r in responses.items():
        assert r.headers["x-content-type-options"] == "nosniff", name
        assert r.headers["referrer-policy"] == "no-referrer", name
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp, name
        assert "server" not in r.headers, name
    for name in ("token", "me", "activities", "unknown"):
        assert responses[name].headers["cache-control"] == "no-store", name
    assert responses["checkpoints"].headers["cache-control"] == "public, max-age=10"


def test_the_docs_page_allows_only_its_own_inline_script(client: TestClient) -> None:
    """Swagger UI keeps working under the CSP: its start-up script is allowed by hash."""
    r = client.get("/docs")
    assert r.status_code == 200
    script = r.text.split("<script>", 1)[1].split("</script>", 1)[0].encode()
    digest = base64.b64encode(hashlib.sha256(script).digest()).decode()
    assert f"script-src 'self' 'sha256-{digest}'" in r.headers["content-security-policy"]
    assert (
        "unsafe-inline"
        not in r.headers["content-security-policy"].split("script-src")[1].split(";")[0]
    )
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_an_unknown_path_answers_problem_json_in_chinese_or_english(client: TestClient) -> None:
    """Unknown path → 404 problem+json, zh-CN by default, English on request."""
    zh = client.get("/api/v1/no/such/thing")
    en = client.get("/api/v1/no/such/thing", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert zh.status_code == en.status_code == 404
    assert zh.headers["content-type"] == en.headers["content-type"] == PROBLEM
    assert zh.json()["detail"] == "没有这个地址" and zh.json()["title"] == "未找到"
    assert en.json()["title"] == "Not found" and en.json()["messages"]["zh-CN"] == "没有这个地址"


def test_a_wrong_method_answers_405_with_the_methods_allowed(client: TestClient) -> None:
    """405 lists exactly the methods the path serves."""
    r = client.delete("/api/v1/activities")
    assert (r.status_code, r.headers["content-type"]) == (405, PROBLEM)
    assert r.headers["allow"] == "GET, POST"
    r = client.put("/api/v1/auth/token")
    assert r.headers["allow"] == "POST"


def test_no_server_banner_and_voucher_codes_out_of_the_access_log(
    settings: Settings, city: City, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real server sends no `server` header; its access log shows no voucher code."""
    with live_server(settings) as client:
        r = client.get("/api/v1/vouchers/K7Q2M9XW4T/qr.png")
        assert "server" not in r.headers
        client.get("/api/v1/me", headers={"Authorization": "Bearer s3cr3t-t0ken"})
    out = capsys.readouterr()
    logged = out.out + out.err
    assert "/api/v1/vouchers/[redacted]/qr.png" in logged
    assert "K7Q2M9XW4T" not in logged


# -- NUL bytes, odd text, log redaction (defect 8) ------------------------------------------


def test_nul_and_control_characters_are_refused_everywhere(
    client: TestClient, city: City, sessions: sessionmaker[Session]
) -> None:
    """A NUL in a name, a login or a title → 422 naming the field (500 on PostgreSQL before);
    control characters in a URL → 400; nothing written."""
    staff = login(client, "organizer")
    before = count(sessions, Resident)
    cases = [
        (register(client, city, 7, name="张\x00秀英"), "name"),
        (register(client, city, 8, phone="1380000\x000008"), "phone"),
        (
            client.post("/api/v1/auth/token", json={"username": "adm\x00in", "password": "x"}),
            "username",
        ),
        (
            client.post(
                "/api/v1/activities", json=activity_body(city, title="清理\x00河道"), headers=staff
            ),
            "title",
        ),
        (
            client.post(
                "/api/v1/activities",
                json=activity_body(city, description="a\x1b[31m"),
                headers=staff,
            ),
            "description",
        ),
    ]
    for r, field in cases:
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
        assert r.json()["field"] == field
        assert "控制字符" in r.json()["detail"]
    r = client.get("/api/v1/activities?cursor=%00abc")
    assert (r.status_code, r.headers["content-type"]) == (400, PROBLEM)
    assert count(sessions, Resident) == before


@pytest.mark.parametrize(
    "name",
    [
        "张秀英",
        "阿卜杜拉·买买提",
        "𠮷田",
        "\U0002b740\U0002b741",
        "\U00031350明",
        "Jean-Luc O'Brien",
    ],
)
def test_names_accept_what_real_names_use(client: TestClient, city: City, name: str) -> None:
    """CJK (extension blocks too), letters, the middle dot, spaces."""
    r = register(client, city, 9, name=name)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name


@pytest.mark.parametrize(
    "name", ["王😀", "李\u202e伟", "<script>x</script>", "张三1", "赵\u200b六"]
)
def test_names_refuse_emoji_bidi_overrides_and_markup(
    client: TestClient, city: City, name: str
) -> None:
    """Emoji, RTL overrides, zero-width characters, markup and digits are not names."""
    r = register(client, city, 10, name=name)
    assert (r.status_code, r.json()["field"]) == (422, "name")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://img.example.cn/rice.png", True),
        ("/static/items/rice.png", True),
        ("javascript:alert(1)", False),
        ("//evil.example/x.png", False),
        ("data:image/png;base64,AAAA", False),
    ],
)
def test_image_urls_are_http_or_site_paths(url: str, ok: bool) -> None:
    """`image_url` takes only http(s) addresses or paths on this site."""
    from pydantic import ValidationError

    from civicpoints.rewards.schemas import ItemUpdate

    try:
        ItemUpdate(image_url=url)
    except ValidationError as exc:
        assert not ok and exc.errors()[0]["loc"] == ("image_url",)
    else:
        assert ok


def test_database_errors_never_quote_parameters(settings: Settings) -> None:
    """A failing statement's error names no parameter (password hashes, phone numbers)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError, StatementError

    from civicpoints.kit.db import make_engine

    engine = make_engine(settings.resolved_database_url())
    secret = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0$aGFzaA 13812345678"
    with pytest.raises((DBAPIError, StatementError)) as caught, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
    assert "13812345678" not in str(caught.value) and "argon2" not in str(caught.value)
    engine.dispose()


def test_one_filter_redacts_secrets_and_identifiers_from_every_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Password hashes, bearer tokens, 18-digit ID numbers, mobiles and voucher codes in URLs
    are replaced in messages, arguments and exception text."""
    from civicpoints.kit.logging import REDACTOR, install

    install([caplog.handler])
    log = logging.getLogger("civicpoints.test")
    hashed = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
    with caplog.at_level(logging.INFO):
        log.info("insert %s %s", hashed, "330106195803150022")
        log.info("Authorization: Bearer abc.DEF-123_x")
        log.info("phone %s / +86 139 1111 2222 / 13800000001", 13912345678)
        log.info('%s - "GET /api/v1/vouchers/%s/qr.png HTTP/1.1" 200', "127.0.0.1", "K7Q2M9XW4T")
        try:
            raise ValueError(f"duplicate phone 13700000002 id 11010519491231002X {hashed}")
        except ValueError:
            log.exception("failed")
    caplog.handler.removeFilter(REDACTOR)
    text = caplog.text
    for secret in (
        "c2FsdHNhbHQ",
        "330106195803150022",
        "abc.DEF",
        "13912345678",
        "1111 2222",
        "13800000001",
        "K7Q2M9XW4T",
        "13700000002",
        "11010519491231002X",
    ):
        assert secret not in text, secret
    assert "$argon2[redacted]" in text and "Bearer [redacted]" in text and "[phone]" in text
    assert "[id-number]" in text and "/vouchers/[redacted]/qr.png" in text


# -- 500s from bad input (defect 9, web part) -----------------------------------------------


def test_paging_values_past_what_the_server_can_mean_are_4xx(
    client: TestClient, city: City
) -> None:
    """`before_seq` past 2^63 and a cursor decoding to year 1 at +14:00 were 500s."""
    headers = resident_headers(client, city, 11)
    year_one = base64.urlsafe_b64encode(f"0001-01-01T00:00:00+14:00|{uuid.uuid4()}".encode())
    responses = [
        client.get(f"/api/v1/me/ledger?before_seq={2**63}", headers=headers),
        client.get(f"/api/v1/activities?cursor={year_one.decode()}"),
    ]
    for r in responses:
        assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM), r.text
    assert responses[0].json()["field"] == "query.before_seq"
    assert responses[1].json()["field"] == "cursor"
