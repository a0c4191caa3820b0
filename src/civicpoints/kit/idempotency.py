"""Idempotency-Key for write endpoints: a retry returns the first result (DESIGN.md §4)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.exc import IntegrityError
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


class RequestInProgress(Conflict):
    """A twin request with this key is still running (and did not leave its answer yet)."""

    code = "idempotency.in_progress"
    title = {"zh-CN": "请求正在处理", "en": "Request in progress"}
    messages = {
        "zh-CN": "同一请求正在处理中，请稍后重试",
        "en": "a request with this Idempotency-Key is still being processed; retry shortly",
    }


def claim(
    session: Session, principal: str, key: str, fp: str, status: int
) -> IdempotencyRecord | None:
    """Reserve the key for this request before its work, or return the first request's answer.

    The reservation is a row in the request's own transaction, so nobody sees it before it
    holds the answer (`finish`). A twin sent at the same moment waits on the row's primary key
    (PostgreSQL; SQLite's BEGIN IMMEDIATE already serializes writers) until the first commits,
    then replays its answer; if the first fails and rolls back, the twin does the work itself.
    """
    earlier = recall(session, principal, key, fp)
    if earlier is not None:
        return earlier
    row = IdempotencyRecord(principal=principal, key=key, fingerprint=fp, status=status, body={})
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # the twin committed first: its answer is now visible
        earlier = recall(session, principal, key, fp)
        if earlier is None:
            raise RequestInProgress() from None
        return earlier
    return None


def finish(session: Session, principal: str, key: str, status: int, body: Any) -> None:
    """Store the answer in the reservation `claim` made, in the same transaction as the work."""
    row = session.get(IdempotencyRecord, (principal, key))
    assert row is not None, "finish() without claim()"
    row.status, row.body = status, body
    session.flush()
