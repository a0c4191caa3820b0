"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from civicpoints import __version__
from civicpoints.activities.router import router as activities
from civicpoints.hours.router import router as hours
from civicpoints.identity.router import router as identity
from civicpoints.kit.context import build_context
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.regions.router import router as regions
from civicpoints.scoring.router import router as scoring
from civicpoints.web import problems


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app: engine, session factory, context, routers and error handlers."""
    settings = settings or get_settings()
    app = FastAPI(
        title="CivicPoints 公共服务积分平台",
        version=__version__,
        description="以行为换积分、以积分换福利 — service earns points, points earn welfare.",
    )
    engine = make_engine(settings.resolved_database_url())
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    app.state.ctx = build_context(settings)
    for router in (identity, regions, activities, scoring, hours):
        app.include_router(router, prefix="/api/v1", responses=problems.PROBLEM_RESPONSES)
    problems.install(app)
    return app
