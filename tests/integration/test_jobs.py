"""Scheduled jobs are recorded; a failing one becomes an alert the admin sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.jobs import tasks
from civicpoints.jobs.runner import run_job
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger.service import LedgerService, Movement

from .test_api import login


def test_daily_expiry_job_expires_what_ended_before_today(sessions: sessionmaker[Session]) -> None:
    """A lot that expired last year is expired by the job; the run is recorded as ok."""
    past = datetime(2025, 1, 1, tzinfo=UTC)
    with transaction(sessions) as s:
        LedgerService(s).credit(
            "wallet:old", Movement("award", 70, "r", "t", "t", past, "k"), past + timedelta(days=30)
        )
    run = run_job(sessions, "ledger.expire", tasks.expire)
    assert run.ok and not run.alert and run.summary["points"] == 70
    with transaction(sessions) as s:
        assert LedgerService(s).balance("wallet:old") == 0


def test_a_failing_job_is_an_alert_for_admins_only(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    """An exception inside a job is caught, stored as an alert, and listed for the admin."""

    def broken(_: sessionmaker[Session]) -> tuple[bool, dict[str, object]]:
        raise RuntimeError("disk full")

    run_job(sessions, "ledger.expire", tasks.expire)
    failed = run_job(sessions, "ledger.verify", broken)
    assert failed.ok is False and failed.alert and "disk full" in failed.summary["error"]
    admin = login(client, "admin")
    alerts = client.get(
        "/api/v1/admin/job-runs", params={"alerts_only": True}, headers=admin
    ).json()
    assert [a["name"] for a in alerts] == ["ledger.verify"]
    assert len(client.get("/api/v1/admin/job-runs", headers=admin).json()) == 2
    assert (
        client.get("/api/v1/admin/job-runs", headers=login(client, "reviewer")).status_code == 403
    )


def test_nightly_verification_alerts_on_a_tampered_ledger(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """The verify job passes on a sound ledger and raises an alert once an amount is edited."""
    from civicpoints.ledger.keys import log_signer
    from civicpoints.ledger.tasks import sequence_once

    t0 = datetime(2026, 5, 1, tzinfo=UTC)
    with transaction(sessions) as s:
        LedgerService(s).credit(
            "wallet:v", Movement("award", 40, "r", "t", "t", t0, "k"), t0 + timedelta(days=365)
        )
    sequence_once(sessions, log_signer(settings), settings.ledger_origin)
    assert run_job(sessions, "ledger.verify", tasks.verify_with(settings)).ok
    with transaction(sessions) as s:  # an attacker with database access
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("DROP TRIGGER ledger_entry_append_only ON ledger_entry"))
        else:
            s.execute(text("DROP TRIGGER ledger_entry_no_update"))
        s.execute(text("UPDATE ledger_entry SET amount = 400 WHERE amount = 40"))
    run = run_job(sessions, "ledger.verify", tasks.verify_with(settings))
    assert run.alert and run.summary["faults"] >= 1
