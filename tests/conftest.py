"""Shared fixtures: a fresh migrated database per test on SQLite and on PostgreSQL."""

from __future__ import annotations

import base64
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.context import Context, build_context
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.migrate import upgrade
from civicpoints.kit.settings import Settings

pytest_plugins = ["tests.leakwatch"]  # no log line with personal data or a secret

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
PII_KEY = base64.b64encode(bytes(range(32))).decode()


def pytest_configure(config: pytest.Config) -> None:
    """The leak watch also looks for the tests' PII key."""
    from tests.leakwatch import WATCH

    WATCH.remember(PII_KEY, "PII key")


_counter = itertools.count()


def pg_admin_url() -> str:
    """The PostgreSQL server tests use; unreachable is a loud failure, never a skip."""
    return os.environ.get("CIVICPOINTS_TEST_PG_URL") or DEFAULT_PG


def _with_db(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated template database, cloned per test with CREATE DATABASE … TEMPLATE."""
    admin = pg_admin_url()
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL at {admin} is unreachable: {exc}", returncode=3)
    name = f"cp_tmpl_{os.getpid()}"
    conn.execute(f"DROP DATABASE IF EXISTS {name}")
    conn.execute(f"CREATE DATABASE {name}")
    upgrade(_with_db(admin, name))
    yield name
    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied per test."""
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, on each engine."""
    if request.param == "sqlite":
        target = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    admin = pg_admin_url()
    name = f"cp_t_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield _with_db(admin, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings for a test: its own database, var dir and a fixed PII key."""
    return Settings(
        var_dir=tmp_path / "var",
        database_url=db_url,
        pii_key=PII_KEY,
        sequencer_interval_s=0,
        scheduler_enabled=False,
    )


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory on the test database, the ledger initialized."""
    from civicpoints.ledger.service import LedgerService

    engine = make_engine(settings.resolved_database_url())
    factory = make_session_factory(engine)
    with factory.begin() as s:
        LedgerService(s).initialize(4 if engine.dialect.name == "postgresql" else 1)
    yield factory
    engine.dispose()


@pytest.fixture
def ctx(settings: Settings) -> Context:
    """The services' context."""
    return build_context(settings)
