"""The Alembic history downgrades and upgrades cleanly on both engines, and matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from civicpoints.kit.db import make_engine
from civicpoints.kit.migrate import downgrade, upgrade
from civicpoints.models import metadata


def test_downgrade_to_base_and_upgrade_again(db_url: str) -> None:
    """base empties the schema (triggers included); head restores every table."""
    downgrade(db_url, "base")
    engine = make_engine(db_url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(db_url)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrations_match_the_models(db_url: str) -> None:
    """No model change is missing a migration."""
    engine = make_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, metadata)
    engine.dispose()
    assert diff == []
