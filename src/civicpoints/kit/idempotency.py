"""Idempotency-Key for write endpoints: a retry returns the first result (DESIGN.md §4)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicpoints.kit.db import Base, created_at_column
from civicpoints.kit.errors import Conflict, InvalidInput


class IdempotencyRecord(Base):
    """The first response given to a (principal, key) pair."""

    __tablename__ = "idempotency_record"

    principal: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()


class KeyReused(Conflict):
    """Same key, different request."""

    code = "idempotency.conflict"
    title = {"zh-CN": "重复的请求编号", "en": "Idempotency key reused"}
    messages = {
        "zh-CN": "该请求编号（Idempotency-Key）已用于另一笔不同的请求",
        "en": "this Idempotency-Key was already used for a different request",
    }


def fingerprint(method: str, path: str, body: Any) -> str:
    """What makes two requests 'the same'."""
    text = json.dumps([method, path, body], sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: str) -> str:
    """Validate a client-chosen key (1–200 visible ASCII characters)."""
    if not (0 < len(key) <= 200 and key.isascii() and key.isprintable()):
        raise InvalidInput(
            field="Idempotency-Key",
            field_zh="请求编号 Idempotency-Key",
            field_en="Idempotency-Key",
            reason_zh="须为 1–200 个可见 ASCII 字符",
            reason_en="must be 1–200 visible ASCII characters",
        )
    return key


def recall(session: Session, principal: str, key: str, fp: str) -> IdempotencyRecord | None:
    """The stored first response for this key, refusing a different request under it."""
    stmt = select(IdempotencyRecord).where(
        IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
    )
    record = session.scalars(stmt).one_or_none()
    if record is not None and record.fingerprint != fp:
        raise KeyReused()
    return record


def remember(session: Session, principal: str, key: str, fp: str, status: int, body: Any) -> None:
    """Store the response in the same transaction as the write it describes."""
    session.add(
        IdempotencyRecord(principal=principal, key=key, fingerprint=fp, status=status, body=body)
    )
