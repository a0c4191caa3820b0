"""Helpers for page tests: a browser-like client that reads each form's CSRF token."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi.testclient import TestClient

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms."""
    found = TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


def post_form(client: TestClient, page: str, action: str, **fields: Any) -> httpx.Response:
    """Open `page`, then post its form to `action` with its token and `fields`."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **fields}, follow_redirects=False)


def sign_in(client: TestClient, username: str, password: str) -> httpx.Response:
    """Sign in through the page, as a browser would."""
    r = post_form(client, "/login", "/login", username=username, password=password, next="")
    assert r.status_code == 303, r.text
    return r
