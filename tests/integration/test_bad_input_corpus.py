"""A corpus of bad input sent to every route as anonymous, resident and staff callers.

Every request is built from the app's own OpenAPI description, so a new route or field is
covered without editing this file. Asserted: no 5xx, every refusal is problem+json, nothing
written (every table's rows, hence balances and stock, compared before and after), and no
personal data or secret in the captured logs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import Rewards
from civicpoints.identity.models import Resident
from civicpoints.kit.db import Base, transaction
from civicpoints.kit.logging import REDACTOR, install
from civicpoints.web.problems import PROBLEM

from .conftest import id_number
from .test_api import PASSWORD, login, resident_headers

Body = Any
Case = tuple[str, str, str, dict[str, str], Any]  # label, method, url, headers, body

NUL, ESC, RTL = "张\x00三", "a\x1b[31mb", "王😀\u202e伟"
YEAR_1 = "0001-01-01T00:00:00+14:00"
YEAR_9999 = "9999-12-31T23:59:59-14:00"
_STRINGS = [NUL, ESC, RTL, "x" * 6000]
_INTEGERS = [10**24, 2**63, -(2**63) - 1, "12abc", 1.5]
_TIMES = [YEAR_1, YEAR_9999, "2026-13-45T99:00:00+08:00", "2026-11-27T09:30:00"]


def _cursor(raw: str) -> str:
    """An activities cursor encoding `raw` (the server's own format: time|id, base64)."""
    return base64.urlsafe_b64encode(raw.encode()).decode()


# Bad values for every query parameter, by name (a parameter not listed gets the defaults).
_QUERY = {
    "limit": ["0", "-1", str(10**24), "abc"],
    "cursor": [
        "%00",
        "!!!",
        _cursor(f"{YEAR_1}|{uuid.uuid4()}"),
        _cursor(f"{YEAR_9999}|{uuid.uuid4()}"),
        _cursor("2026-01-01T00:00:00|zzz"),
    ],
    "before_seq": [str(2**63), str(10**24), "0"],
    "after_seq": [str(2**63), "-1"],
    "first": [str(2**63), "0"],
    "second": [str(10**24)],
    "month": ["0000-13", "9999-99", "2026-1%00"],
    "format": ["exe"],
}
_QUERY_DEFAULT = ["%00", "x" * 3000, str(10**24)]
# A free-text filter (e.g. the audit log's action): any digits are a fair value, length is not.
_QUERY_TEXT = ["%00", "x" * 3000]
_PATH = ["not-a-uuid", "9" * 30, "%00", "%E2%80%AE", "0001-01-01"]


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` (and a nullable `anyOf`) followed."""
    if "$ref" in schema:
        return _resolve(spec, spec["components"]["schemas"][schema["$ref"].split("/")[-1]])
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _resolve(spec, option)
    return schema


def _sample(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A well-typed value for `schema` (the first choice of an enum)."""
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind, fmt = str(schema.get("type")), str(schema.get("format"))
    if kind == "string":
        return {"uuid": str(uuid.uuid4()), "date-time": "2026-11-27T09:30:00+08:00"}.get(fmt, "x")
    if kind == "object" and "properties" in schema:
        return {k: _sample(spec, v) for k, v in schema["properties"].items()}
    return {"integer": 1, "number": 1.0, "boolean": False, "array": [], "object": {}}.get(kind)


def _bad_values(spec: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    """Values a field of `schema` must refuse."""
    schema = _resolve(spec, schema)
    kind, fmt = schema.get("type"), schema.get("format")
    if fmt == "date-time":
        return _TIMES
    if fmt == "uuid":
        return ["not-a-uuid", NUL]
    if kind == "string":
        return _STRINGS if "enum" not in schema else ["no-such", NUL]
    if kind == "integer":
        return _INTEGERS
    if kind == "number":
        return ["NaN", "1e400", [1]]
    if kind == "boolean":
        return ["maybe", 2]
    return [NUL, 10**24]


def _body_cases(spec: dict[str, Any], schema: dict[str, Any]) -> Iterator[tuple[str, Body]]:
    """A good-shaped body with one field spoiled at a time, then spoiled whole bodies."""
    schema = _resolve(spec, schema)
    good = _sample(spec, schema)
    for name, field in schema.get("properties", {}).items():
        for bad in _bad_values(spec, field):
            yield f"{name}={str(bad)[:20]!r}", {**good, name: bad}
    yield "bad json", b'{"a": '
    yield "not an object", b"[1, 2, 3]"
    yield "not utf-8", b'{"x": "\xff\xfe"}'
    yield "oversize", json.dumps({**good, "pad": "x" * 100_000}).encode()


def _cases(spec: dict[str, Any], ids: dict[str, str]) -> Iterator[Case]:
    """Every route's bad-input requests (headers are added per caller)."""
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            good_path = path
            for p in params:
                if p["in"] == "path":
                    good_path = good_path.replace(f"{{{p['name']}}}", ids.get(p["name"], "1"))
            for p in (p for p in params if p["in"] == "path"):
                for bad in _PATH:
                    url = path.replace(f"{{{p['name']}}}", bad)
                    url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "1"), url)
                    yield f"path {p['name']}={bad}", method, url, {}, None
            for p in (p for p in params if p["in"] == "query"):
                kind = _resolve(spec, p.get("schema", {}))
                text = kind.get("type") == "string" and "format" not in kind
                for bad in _QUERY.get(p["name"], _QUERY_TEXT if text else _QUERY_DEFAULT):
                    yield (
                        f"query {p['name']}={bad[:20]}",
                        method,
                        f"{good_path}?{p['name']}={bad}",
                        {},
                        None,
                    )
            for p in (p for p in params if p["in"] == "header"):
                yield f"header {p['name']}", method, good_path, {p["name"]: "k" * 300}, None
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                for label, body in _body_cases(spec, schema):
                    yield f"body {label}", method, good_path, {}, body
            if "multipart/form-data" in content:
                yield "upload as json", method, good_path, {}, {"photo": NUL}
                yield "upload nul name", method, good_path, {}, ("files", NUL)


def _snapshot(sessions: sessionmaker[Session]) -> dict[str, str]:
    """A digest of every table's rows: any write, balance or stock change shows."""
    out: dict[str, str] = {}
    with transaction(sessions) as s:
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_entry":  # refusals are recorded there: checked apart
                continue
            rows = s.execute(select(table)).all()
            digest = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()
            out[table.name] = f"{len(rows)}:{digest}"
    return out


def _send(client: TestClient, case: Case, caller: dict[str, str]) -> Any:
    """Send one case as `caller`."""
    _label, method, url, headers, body = case
    headers = {**caller, **headers}
    if isinstance(body, tuple):
        files = {"photo": (body[1], b"\xff\xd8\xff" + b"0" * 100, "image/jpeg")}
        return client.request(method, url, headers=headers, files=files)
    if isinstance(body, bytes):
        headers["content-type"] = "application/json"
        return client.request(method, url, headers=headers, content=body)
    return client.request(method, url, headers=headers, json=body)


@pytest.fixture
def callers(
    client: TestClient,
    city: City,
    rewards: Rewards,
    fund: Callable[..., None],
    sessions: sessionmaker[Session],
) -> dict[str, dict[str, str]]:
    """Anonymous, a resident who has points, and staff (the city admin)."""
    resident = resident_headers(client, city, 1)
    with transaction(sessions) as s:
        resident_id = s.scalars(select(Resident.id)).one()
    fund(resident_id, 5000)
    return {"anonymous": {}, "resident": resident, "staff": login(client, "admin")}


def test_bad_input_corpus(
    client: TestClient,
    sessions: sessionmaker[Session],
    callers: dict[str, dict[str, str]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """At least 100 bad requests across every route and caller: no 5xx, problem+json, no
    write, no personal data or secret in the logs."""
    spec = client.get("/openapi.json").json()
    with transaction(sessions) as s:
        hashes = [h for (h,) in s.execute(text("SELECT password_hash FROM identity_staff"))]
        hashes += [h for (h,) in s.execute(text("SELECT password_hash FROM identity_resident"))]
    ids = {"code": "ABCD2345EF"}
    cases = list(_cases(spec, ids))
    before = _snapshot(sessions)
    install([caplog.handler])
    failures: list[str] = []
    sent = 0
    with caplog.at_level(logging.DEBUG):
        for who, caller in callers.items():
            for case in cases:
                r = _send(client, case, caller)
                sent += 1
                where = f"{who} {case[1].upper()} {case[2][:80]} [{case[0]}] → {r.status_code}"
                if r.status_code >= 500 or r.status_code < 400:
                    failures.append(f"{where}: {r.text[:160]}")
                elif r.headers.get("content-type") != PROBLEM:
                    failures.append(f"{where}: {r.headers.get('content-type')}")
    caplog.handler.removeFilter(REDACTOR)
    assert sent >= 100
    assert not failures, f"{len(failures)} of {sent}:\n" + "\n".join(failures[:40])
    assert _snapshot(sessions) == before
    with transaction(sessions) as s:  # the audit log holds the staff's refused attempts only
        statuses = set(s.scalars(text("SELECT DISTINCT status FROM audit_entry")))
    assert statuses and all(400 <= status < 500 for status in statuses), statuses
    secrets = [
        "13800000001",
        id_number(1),
        PASSWORD,
        *hashes,
        *(c["Authorization"].split()[1] for c in callers.values() if c),
    ]
    logged = caplog.text
    assert not [s for s in secrets if s and s in logged]
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)|(?<!\d)\d{17}[\dXx](?!\d)", logged)
