"""Registration refuses weak passwords (zxcvbn score < 3, or the resident's own data)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.identity.errors import PasswordHasPersonalInfo, WeakPassword
from civicpoints.identity.models import Resident, Staff
from civicpoints.identity.service import IdentityService
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction

from .conftest import id_number
from .test_api import count, register


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "qwertyui",
        "11111111a",
        "Tree#13800000001",  # the phone number
        f"x{id_number(1)[6:14]}!Lake",  # the birth date from the ID number
        "zhangxiuying#Hz7",  # the name in pinyin
    ],
)
def test_weak_password_refused_at_registration(
    client: TestClient, city: City, sessions: sessionmaker[Session], password: str
) -> None:
    """422 problem+json naming `password`, in zh-CN and en; no resident written."""
    r = register(client, city, password=password)
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (body["code"], body["field"]) == ("identity.weak_password", "password")
    assert "密码" in body["messages"]["zh-CN"] and "password" in body["messages"]["en"]
    assert password not in body["messages"]["zh-CN"]  # never echoed
    assert count(sessions, Resident) == 0


@pytest.mark.parametrize(
    ("password", "error"),
    [("qwertyui", WeakPassword), ("Ops-linqingshan-7", PasswordHasPersonalInfo)],
)
def test_weak_password_refused_for_staff_accounts(
    sessions: sessionmaker[Session], ctx: Context, password: str, error: type[WeakPassword]
) -> None:
    """Staff accounts get the same check, with their name (in pinyin) as personal words."""
    with pytest.raises(error), transaction(sessions) as s:
        IdentityService(s, ctx).add_staff("linqs", "社区核验员 林青山", password)
    assert count(sessions, Staff) == 0
    with transaction(sessions) as s:
        IdentityService(s, ctx).add_staff("linqs", "社区核验员 林青山", "Tea-garden-river-42")
    assert count(sessions, Staff) == 1
