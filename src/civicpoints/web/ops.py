"""Operations endpoints: `/healthz`, `/readyz` and `/metrics` (docs/operations.md).

`/healthz` says the process answers; `/readyz` that it can do its work (the database answers,
its migrations are this code's, the checkpoint signing key is loaded, the sequencer keeps up).
`/metrics` serves this process's counters and, read from the database at scrape time, the
figures every process shares (backlogs, lag, the last verification, jobs, the budget): only
to this machine, or to a scraper with `CIVICPOINTS_METRICS_TOKEN`. No series is per resident.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.activities import OfflineService
from civicpoints.jobs import last_run, scheduled_jobs
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.db import make_read_session_factory, transaction
from civicpoints.kit.errors import DomainError, Forbidden, Unauthorized
from civicpoints.kit.metrics import REGISTRY
from civicpoints.kit.migrate import database_revisions, head_revisions
from civicpoints.kit.settings import Settings
from civicpoints.ledger import sequencer_backlog
from civicpoints.rewards import BudgetService

router = APIRouter(include_in_schema=False)
LOOPBACK = frozenset({"127.0.0.1", "::1"})
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Check:
    """One readiness check: passed or not, and why, in words without secrets."""

    ok: bool
    detail: str


def readiness(app: FastAPI, now: datetime) -> dict[str, Check]:
    """Every readiness check of the app now: database, migrations, signing key, backlog."""
    settings: Settings = app.state.ctx.settings
    signer = getattr(app.state, "signer", None)
    checks = {
        "signing_key": Check(True, f"{signer.name}+{signer.key_hash:08x}")
        if signer is not None
        else Check(False, "checkpoint signing key not loaded (see the start-up log)"),
    }
    try:
        with app.state.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            checks["database"] = Check(True, conn.dialect.name)
            current, heads = database_revisions(conn), head_revisions()
            checks["migrations"] = Check(
                current == heads, f"database at {sorted(current)}, code at {sorted(heads)}"
            )
            checks["sequencer_backlog"] = backlog_check(conn, now, settings.ready_max_backlog_s)
    except SQLAlchemyError:
        # The driver's message may name the host, user or database: only the fact is shown.
        checks.setdefault("database", Check(False, "unreachable"))
        for name in ("migrations", "sequencer_backlog"):
            checks.setdefault(name, Check(False, "unknown: database unreachable"))
    return checks


def backlog_check(conn: Connection, now: datetime, limit: float) -> Check:
    """The oldest entry waiting for the sequencer has waited at most `limit` seconds."""
    try:
        with Session(conn) as s:
            backlog = sequencer_backlog(s)
    except SQLAlchemyError:  # e.g. a database without the ledger's tables
        return Check(False, "the sequencer queue could not be read")
    oldest = backlog.oldest_queued_at
    age_s = 0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0)
    return Check(
        age_s <= limit, f"{backlog.count} queued, oldest {age_s:.0f} s (limit {limit:.0f} s)"
    )


@router.get("/healthz")
def healthz() -> JSONResponse:
    """The process is alive and answering (nothing else is checked)."""
    return JSONResponse({"status": "alive"}, headers=NO_STORE)


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """200 when every readiness check passes, else 503; each check with its reason."""
    checks = readiness(request.app, utcnow())
    ready = all(c.ok for c in checks.values())
    body = {
        "status": "ready" if ready else "unready",
        "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in checks.items()},
    }
    return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text: this process's counters, then the shared figures read now."""
    refused = refuse_scrape(request)
    if refused is not None:
        return refused
    shared = CollectorRegistry(auto_describe=False)
    shared.register(SharedFigures(request.app))
    body = generate_latest(REGISTRY) + generate_latest(shared)
    return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)


def refuse_scrape(request: Request) -> Response | None:
    """401 without the bearer token when one is set; else 403 to a client not on this
    machine. Answered here as problem+json, never as a page: the caller is a scraper."""
    token = request.app.state.ctx.settings.metrics_token
    if token:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode()
        ):
            return None
        error: DomainError = Unauthorized()
        headers = {"WWW-Authenticate": 'Bearer realm="metrics"'}
    elif request.client is not None and request.client.host in LOOPBACK:
        return None
    else:
        error, headers = Forbidden(), {}
    body = {
        "type": "about:blank",
        "status": error.status,
        "code": error.code,
        "title": f"{error.title_in('zh-CN')} / {error.title_in('en')}",
    }
    return JSONResponse(
        body, status_code=error.status, media_type="application/problem+json", headers=headers
    )


class SharedFigures(Collector):
    """Figures read from the database at scrape time, the same whichever process answers."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        """One read-only transaction; only `civicpoints_database_up 0` when it fails."""
        now = utcnow()
        checks = readiness(self.app, now)
        up = GaugeMetricFamily("civicpoints_database_up", "The database answers (1) or not (0).")
        up.add_metric([], 1.0 if checks["database"].ok else 0.0)
        yield up
        ready = GaugeMetricFamily(
            "civicpoints_ready", "Every readiness check passes (1) or not (0), as /readyz."
        )
        ready.add_metric([], 1.0 if all(c.ok for c in checks.values()) else 0.0)
        yield ready
        per = GaugeMetricFamily(
            "civicpoints_ready_check",
            "Each readiness check: passes (1) or not (0).",
            labels=["check"],
        )
        for name, c in checks.items():
            per.add_metric([name], 1.0 if c.ok else 0.0)
        yield per
        if not checks["database"].ok:
            return
        try:
            with transaction(read_sessions(self.app)) as s:
                yield from self._figures(s, now)
        except SQLAlchemyError:
            return

    def _figures(self, s: Session, now: datetime) -> Iterator[Metric]:
        app = self.app
        backlog = sequencer_backlog(s)
        yield _gauge(
            "civicpoints_sequencer_backlog_entries",
            "Entries waiting for the sequencer.",
            backlog.count,
        )
        lag = (
            0.0
            if backlog.oldest_queued_at is None
            else (now - backlog.oldest_queued_at).total_seconds()
        )
        yield _gauge(
            "civicpoints_sequencer_lag_seconds",
            "How long the oldest entry waiting for the sequencer has waited (0: none waits).",
            max(lag, 0.0),
        )
        count, oldest = OfflineService(s, app.state.ctx).backlog()
        yield _gauge(
            "civicpoints_review_backlog_records", "Records waiting for review, city-wide.", count
        )
        yield _gauge(
            "civicpoints_review_backlog_oldest_age_seconds",
            "How long the oldest record waiting for review has waited (0: none waits).",
            0.0 if oldest is None else max((now - oldest).total_seconds(), 0.0),
        )
        yield from self._jobs(s)
        figures = BudgetService(s).figures()
        yield _gauge("civicpoints_budget_fen", "The sponsors' budgets, in fen.", figures.budget_fen)
        yield _gauge(
            "civicpoints_budget_remaining_fen",
            "Budget not yet spent on redemptions, in fen.",
            figures.remaining_fen,
        )
        yield _gauge(
            "civicpoints_points_liability_fen",
            "Points outstanding valued at today's rate, in fen.",
            figures.liability_fen,
        )
        yield _gauge(
            "civicpoints_budget_alert",
            "The liability exceeds the budget remaining (1) or not (0).",
            1 if figures.alert else 0,
        )

    def _jobs(self, s: Session) -> Iterator[Metric]:
        ok = GaugeMetricFamily(
            "civicpoints_job_last_run_ok",
            "Whether each job's latest recorded run succeeded without an alert (1) or not (0).",
            labels=["job"],
        )
        when = GaugeMetricFamily(
            "civicpoints_job_last_run_timestamp_seconds",
            "When each job's latest recorded run started (Unix time).",
            labels=["job"],
        )
        verify = None
        for name in scheduled_jobs(self.app.state.ctx.settings):
            run = last_run(s, name)
            if run is None:
                continue
            ok.add_metric([name], 0.0 if run.alert or not run.ok else 1.0)
            when.add_metric([name], as_utc(run.started_at).timestamp())
            if name == "ledger.verify":
                verify = run
        yield ok
        yield when
        if verify is not None:
            yield _gauge(
                "civicpoints_ledger_verify_ok",
                "The latest nightly `ledger.verify` found no fault (1) or failed (0).",
                0 if verify.alert or not verify.ok else 1,
            )
            faults = verify.summary.get("faults") if isinstance(verify.summary, dict) else None
            yield _gauge(
                "civicpoints_ledger_verify_faults",
                "Faults the latest `ledger.verify` found (-1: it did not finish).",
                faults if isinstance(faults, int) else -1,
            )
            yield _gauge(
                "civicpoints_ledger_verify_timestamp_seconds",
                "When the latest `ledger.verify` started (Unix time).",
                as_utc(verify.started_at).timestamp(),
            )


def read_sessions(app: FastAPI) -> sessionmaker[Session]:
    """The app's read-only sessions (made once, as `kit.http.read_session` does)."""
    if not hasattr(app.state, "read_sessions"):
        app.state.read_sessions = make_read_session_factory(app.state.engine)
    factory: sessionmaker[Session] = app.state.read_sessions
    return factory


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc)
    family.add_metric([], float(value))
    return family
