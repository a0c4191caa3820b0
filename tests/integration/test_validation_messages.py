"""Malformed input: a 422 problem naming each field and what is wrong, in Chinese and English."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_each_bad_field_is_named_with_a_chinese_reason(client: TestClient) -> None:
    body = {"username": "x" * 65, "role": "admin"}  # too long, password missing, unknown field
    r = client.post("/api/v1/auth/token", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    reasons = {e["field"]: e["messages"]["zh-CN"] for e in problem["errors"]}
    assert reasons == {"username": "最多 64 个字", "password": "必须填写", "role": "不认识的字段"}
    assert problem["detail"].startswith("以下内容有误：username（最多 64 个字）")
    assert "password (Field required)" in problem["messages"]["en"]


def test_english_readers_get_english(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", json={"username": "a"}, headers={"Accept-Language": "en"})
    assert r.status_code == 422
    assert r.json()["title"] == "Invalid input"
    assert r.json()["detail"] == "invalid fields: password (Field required)"
