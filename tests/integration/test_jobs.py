"""Scheduled jobs are recorded; a failing one becomes an alert the admin sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.jobs import tasks
from civicpoints.jobs.runner import run_job
from civicpoints.kit.db import transaction
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
