"""Ledger core on both engines: append-only triggers, idempotent awards, FIFO expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.hours.service import HoursService
from civicpoints.kit.clock import local_date, start_of_local_day, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger.errors import IdempotencyConflict
from civicpoints.ledger.models import Entry
from civicpoints.ledger.service import LedgerService, Movement
from tests.integration.ledger_checks import assert_books

T0 = datetime(2026, 1, 10, 4, 0, tzinfo=UTC)


def move(amount: int, key: str, at: datetime = T0, ref: str = "test") -> Movement:
    """An award movement."""
    return Movement(
        kind="award",
        amount=amount,
        ref=ref,
        reason="测试",
        actor="test",
        occurred_at=at,
        idempotency_key=key,
    )


def test_retried_award_credits_once(sessions: sessionmaker[Session]) -> None:
    """The same idempotency key twice → one transfer; a different body under it → 409."""
    with transaction(sessions) as s:
        first = LedgerService(s).credit("wallet:a", move(20, "k1"), T0 + timedelta(days=365))
    with transaction(sessions) as s:
        again = LedgerService(s).credit("wallet:a", move(20, "k1"), T0 + timedelta(days=365))
        assert again.replayed and again.transfer_id == first.transfer_id
        assert LedgerService(s).balance("wallet:a") == 20
    with transaction(sessions) as s, pytest.raises(IdempotencyConflict):
        LedgerService(s).credit("wallet:a", move(30, "k1"), T0 + timedelta(days=365))


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET amount = amount + 100",
        "DELETE FROM ledger_entry",
        "UPDATE ledger_transfer SET amount = 1",
        "DELETE FROM ledger_lot_use",
        "UPDATE hours_entry SET minutes = 0",
    ],
)
def test_journal_refuses_update_and_delete(sessions: sessionmaker[Session], statement: str) -> None:
    """The database itself refuses to rewrite history, on both engines."""
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        ledger.credit("wallet:a", move(50, "k1"), T0 + timedelta(days=365))
        ledger.expire_due(T0 + timedelta(days=400))
        HoursService(s).record(uuid.uuid4(), uuid.uuid4(), "volunteer_service", 120, T0.date())
    with pytest.raises(DatabaseError, match="append-only"), transaction(sessions) as s:
        s.execute(text(statement))
    with transaction(sessions) as s:
        assert s.query(Entry).count() == 4


def test_expiry_consumes_lots_and_writes_explicit_entries(sessions: sessionmaker[Session]) -> None:
    """Lots expire at their own time; EXPIRE entries say so; the rest stays."""
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        ledger.credit("wallet:a", move(30, "k1"), T0 + timedelta(days=30))
        ledger.credit("wallet:a", move(50, "k2"), T0 + timedelta(days=60))
    with transaction(sessions) as s:
        report = LedgerService(s).expire_due(T0 + timedelta(days=45))
    assert (report.lots, report.points) == (1, 30)
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        assert ledger.balance("wallet:a") == 50
        kinds = [e.kind for e in ledger.entries("wallet:a", 10)]
        assert kinds == ["expire", "award", "award"]
        assert sum(lot.remaining for lot in ledger.lots("wallet:a")) == 50
    with transaction(sessions) as s:
        assert LedgerService(s).expire_due(T0 + timedelta(days=45)).lots == 0


def test_chain_and_double_entry_hold(sessions: sessionmaker[Session]) -> None:
    """Every account's entries chain by hash; all balances sum to zero."""
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        for i in range(6):
            ledger.credit(f"wallet:{i % 3}", move(10 + i, f"k{i}"), T0 + timedelta(days=i))
        ledger.expire_due(T0 + timedelta(days=10))
    with transaction(sessions) as s:
        assert_books(s)


def test_cli_ledger_expire(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ledger expire --as-of D` expires lots valid through D (Beijing) — not those valid later."""
    from civicpoints.cli.main import app
    from civicpoints.kit.settings import get_settings

    # Valid through yesterday (Beijing): it expires at midnight starting today.
    today = local_date(utcnow())
    with transaction(sessions) as s:
        LedgerService(s).credit("wallet:a", move(40, "k1"), start_of_local_day(today))
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    get_settings.cache_clear()
    try:
        before = str(today - timedelta(days=2))
        early = CliRunner().invoke(app, ["ledger", "expire", "--as-of", before])
        yesterday = str(today - timedelta(days=1))
        late = CliRunner().invoke(app, ["ledger", "expire", "--as-of", yesterday])
    finally:
        get_settings.cache_clear()
    assert early.exit_code == 0 and "points: 0" in early.output
    assert late.exit_code == 0 and "points: 40" in late.output, late.output
    with transaction(sessions) as s:
        assert LedgerService(s).balance("wallet:a") == 0
