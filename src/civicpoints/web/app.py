"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from civicpoints import __version__
from civicpoints.activities.fraud_router import router as activities_fraud
from civicpoints.activities.router import router as activities
from civicpoints.audit import AuditHook
from civicpoints.audit.router import router as audit
from civicpoints.community.donation_router import router as donations
from civicpoints.community.hazard_router import router as community_hazards
from civicpoints.community.team_router import router as community_teams
from civicpoints.fraud.router import router as fraud
from civicpoints.hours.router import router as hours
from civicpoints.identity.router import router as identity
from civicpoints.insights.outcome_router import router as insights_outcomes
from civicpoints.insights.report_router import router as insights_reports
from civicpoints.insights.router import router as insights
from civicpoints.insights.survey_router import router as insights_surveys
from civicpoints.jobs import Background
from civicpoints.kit.context import build_context
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.ledger import log_signer
from civicpoints.ledger.tasks import SERVER_BATCH, sequence_once
from civicpoints.privacy.router import router as privacy
from civicpoints.regions.router import router as regions
from civicpoints.rewards.admin_router import router as rewards_admin_router
from civicpoints.rewards.router import router as rewards
from civicpoints.scoring.router import router as scoring
from civicpoints.web import admin_api, admission, ledger_api, ops, pages, problems
from civicpoints.web.headers import CSP, SecurityHeaders
from civicpoints.web.limits import BodyLimit
from civicpoints.web.observe import Observe
from civicpoints.web.pages import errors

log = logging.getLogger("civicpoints.web")

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: engine, session factory, context, routers and error handlers."""
    settings = settings or get_settings()
    app = FastAPI(
        title="CivicPoints 公共服务积分平台",
        version=__version__,
        description="以行为换积分、以积分换福利 — service earns points, points earn welfare.",
        lifespan=_lifespan(settings),
        docs_url=None,  # served below from vendored files: no CDN on a government network
    )
    # Sized for the requests admitted at once (web/admission.py): none waits for a connection.
    engine = make_engine(
        settings.resolved_database_url(), **admission.pool_options(settings.requests_in_flight)
    )
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.ctx = build_context(settings)
    # Every staff write is audited, in its own transaction (audit/hook.py).
    app.state.outcome_hook = AuditHook().install(app.state.sessions)
    for router in (
        identity,
        regions,
        activities,
        scoring,
        hours,
        ledger_api.router,
        admin_api.router,
        rewards,
        rewards_admin_router,
        audit,
        privacy,
        fraud,
        activities_fraud,
        community_hazards,
        donations,
        community_teams,
        insights,
        insights_outcomes,
        insights_reports,
        insights_surveys,
    ):
        app.include_router(router, prefix="/api/v1", responses=problems.PROBLEM_RESPONSES)
    app.include_router(ops.router)  # /healthz, /readyz, /metrics (docs/operations.md)
    problems.install(app)
    pages.install(app)  # after the API: its handlers answer browsers with pages
    _docs(app)
    # Innermost: only requests admitted take a thread and a connection (no pool deadlock).
    admission.admit(app, settings.requests_in_flight, settings.request_queue_s, errors.busy)
    app.add_middleware(BodyLimit, default=settings.body_max_bytes)
    app.add_middleware(SecurityHeaders)
    # Outermost: every response, errors included, carries its request id and is counted.
    cipher = app.state.ctx.cipher
    app.add_middleware(Observe, pseudonym=lambda key: cipher.blind_index(key, "log.actor")[:16])
    return app


def _docs(app: FastAPI) -> None:
    """Swagger UI at /docs from files shipped in the package."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="CivicPoints API 文档",
        swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
    )
    # The page's one inline script (Swagger UI's start-up) is allowed by its hash, nothing else;
    # Swagger UI styles some elements inline and draws icons as data: images.
    inline = re.findall(rb"<script>(.*?)</script>", page.body, re.S)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in inline
    )
    policy = (
        f"{CSP}; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page.body, headers={"Content-Security-Policy": policy})


def background_of(
    settings: Settings, engine: Engine, sessions: sessionmaker[Session]
) -> Background:
    """The sequencer passes and scheduled jobs, run by whichever process leads (jobs/leader.py).

    A pass stays short (SERVER_BATCH): on SQLite it holds the only write lock.
    """
    log_signer(settings)  # refuse to start without the checkpoint key
    return Background(
        engine,
        sessions,
        settings,
        # the key is read for each pass: a rotated key file is followed (`keys rotate-signing`)
        lambda: sequence_once(sessions, log_signer(settings), settings.ledger_origin, SERVER_BATCH),
    )


def _lifespan(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Background work of `serve` with CIVICPOINTS_BACKGROUND=inline (the default): the
    sequencer loop (checkpoints within ~2 s) and the scheduled jobs, in the one process of all
    that leads; with `off`, a `civicpoints worker` does it (docs/operations.md)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.signer = None  # /readyz is unready until the checkpoint key is loaded
        try:
            app.state.signer = log_signer(settings)
        except Exception:
            if settings.sequencer_interval_s > 0:
                raise  # the sequencer cannot sign without it: refuse to start
            log.exception("the checkpoint signing key could not be loaded")
        background = None
        wanted = settings.sequencer_interval_s > 0 or settings.scheduler_enabled
        if settings.background == "inline" and wanted:
            background = background_of(settings, app.state.engine, app.state.sessions)
            background.start()
        yield
        if background is not None:
            # After uvicorn has finished the requests in flight: the pass under way finishes.
            await asyncio.to_thread(background.stop, settings.shutdown_grace_s)

    return lifespan
