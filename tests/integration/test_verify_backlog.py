"""`ledger verify` reports the sequencer's backlog and fails when an entry waited too long."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicpoints.jobs.tasks import verify_with
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.ledger.keys import log_signer
from civicpoints.ledger.models import LogQueue
from civicpoints.ledger.verify import verify_ledger

from .test_verify import award, build_ledger


def stall(sessions: sessionmaker[Session], seconds: float) -> None:
    """Two more entries queued, all queued `seconds` ago: the sequencer never took them."""
    award(sessions, [(f"late{seconds}", "z", 7, 400)])
    with transaction(sessions) as s:
        s.execute(update(LogQueue).values(queued_at=utcnow() - timedelta(seconds=seconds)))


def test_backlog_is_reported_and_fails_past_the_limit(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A queue younger than the limit is reported, not a fault; an older one is a fault."""
    signer = log_signer(settings)
    build_ledger(sessions, signer, settings.ledger_origin)
    stall(sessions, 60)
    for parallel in (False, True):
        with sessions() as s:
            fresh = verify_ledger(s, [signer.verifier], max_lag_s=300, parallel=parallel)
        assert fresh.ok, [str(f) for f in fresh.faults]
        assert fresh.counts["queued"] == 2 and fresh.oldest_queued_s is not None
        assert 60 <= fresh.oldest_queued_s < 300
    stall(sessions, 3600)
    for parallel in (False, True):
        with sessions() as s:
            stuck = verify_ledger(s, [signer.verifier], max_lag_s=300, parallel=parallel)
        assert [f.kind for f in stuck.faults] == ["log.backlog"]
        assert stuck.counts["queued"] == 4
        assert "4" in stuck.faults[0].message_en and "300" in stuck.faults[0].message_en


def test_command_and_nightly_job_fail_on_a_stuck_sequencer(
    sessions: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`civicpoints ledger verify` exits 1 naming the backlog; the nightly job raises an alert."""
    from civicpoints.cli.main import app

    from ..conftest import PII_KEY

    signer = log_signer(settings)
    build_ledger(sessions, signer, settings.ledger_origin)
    stall(sessions, 3600)
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", PII_KEY)
    monkeypatch.setenv("CIVICPOINTS_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("CIVICPOINTS_SEQUENCER_MAX_LAG_S", "600")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["ledger", "verify"])
        ok, summary = verify_with(get_settings())(sessions)
    finally:
        get_settings.cache_clear()
    out = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "log.backlog" in out and "queued 2" in out, out
    assert not ok and summary["queued"] == 2 and summary["oldest_queued_s"] >= 3600
    assert any("log.backlog" in line for line in summary["first"])
