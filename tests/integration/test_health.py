"""/healthz and /readyz (issue 12, item 2): each readiness check fails for a real cause and
passes again once the cause is gone. The database really disappears on PostgreSQL (dropped,
its connections ended, then recreated from the migrated template)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.kit.migrate import downgrade, upgrade
from civicpoints.kit.settings import Settings
from civicpoints.ledger import log_signer
from civicpoints.ledger.tasks import sequence_once
from tests.conftest import pg_admin_url
from tests.integration.test_api import resident_headers
from tests.integration.test_rewards import me


def ready(client: TestClient) -> tuple[int, dict[str, Any]]:
    """/readyz's status and its checks, each as {ok, detail}."""
    r = client.get("/readyz")
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["status"] == ("ready" if r.status_code == 200 else "unready")
    return r.status_code, body["checks"]


def test_alive_and_ready_with_a_request_id_on_every_answer(client: TestClient) -> None:
    """Both answer 200; the request id a client sends comes back when well formed, else a
    fresh one does (never the client's text)."""
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "alive"}
    status, checks = ready(client)
    assert status == 200, checks
    assert set(checks) == {"database", "migrations", "signing_key", "sequencer_backlog"}
    assert all(c["ok"] for c in checks.values())
    mine = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c01.42"})
    assert mine.headers["x-request-id"] == "lb-7f3a9c01.42"
    for bad in ("short", "x" * 65, "evil id<script>", "13912345678 ok?"):
        answered = client.get("/healthz", headers={"X-Request-ID": bad}).headers["x-request-id"]
        assert answered != bad and len(answered) == 32
    first = client.get("/api/v1/nothing-here").headers["x-request-id"]
    assert first != client.get("/api/v1/nothing-here").headers["x-request-id"]


def test_unready_while_the_sequencer_lags_ready_once_it_catches_up(
    settings: Settings, city: City, fund: Callable[..., None], sessions: sessionmaker[Session]
) -> None:
    """Entries waiting longer than CIVICPOINTS_READY_MAX_BACKLOG_S make it unready; one pass
    of the sequencer makes it ready again."""
    strict = settings.model_copy(update={"ready_max_backlog_s": 1.0})
    from civicpoints.web.app import create_app

    with TestClient(create_app(strict)) as client:
        resident = me(client, resident_headers(client, city))
        sequence_once(sessions, log_signer(settings), settings.ledger_origin)
        assert ready(client)[0] == 200  # nothing queued (not timed: a busy host may be slow)
        fund(resident, 40)
        time.sleep(1.5)
        status, checks = ready(client)
        assert status == 503 and not checks["sequencer_backlog"]["ok"]
        assert "limit 1 s" in checks["sequencer_backlog"]["detail"]
        assert all(c["ok"] for n, c in checks.items() if n != "sequencer_backlog")
        sequence_once(sessions, log_signer(settings), settings.ledger_origin)
        status, checks = ready(client)
        assert status == 200 and checks["sequencer_backlog"]["detail"].startswith("0 queued")


def test_unready_while_migrations_are_behind(settings: Settings, client: TestClient) -> None:
    """A database one migration behind the code is unready until it is upgraded."""
    url = settings.resolved_database_url()
    downgrade(url, "0020")
    status, checks = ready(client)
    assert status == 503 and not checks["migrations"]["ok"]
    assert "['0020']" in checks["migrations"]["detail"]
    upgrade(url)
    assert ready(client)[0] == 200


def test_unready_without_the_signing_key(settings: Settings, tmp_path: Path) -> None:
    """A checkpoint key file that cannot be read: the app serves but is not ready."""
    broken = tmp_path / "broken.skey"
    broken.write_text("PRIVATE+KEY+not-a-key\n", encoding="utf-8")
    from civicpoints.web.app import create_app

    with TestClient(create_app(settings.model_copy(update={"ledger_key_file": broken}))) as c:
        assert c.get("/healthz").status_code == 200
        status, checks = ready(c)
        assert status == 503 and not checks["signing_key"]["ok"]
        assert checks["database"]["ok"] and checks["migrations"]["ok"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_unready_while_the_database_is_gone_ready_when_it_returns(
    settings: Settings, db_url: str, pg_template: str
) -> None:
    """PostgreSQL: the app's database is dropped (its connections ended): /readyz answers 503
    naming only the fact, /healthz still 200; recreated, /readyz is 200 again, same app."""
    from civicpoints.web.app import create_app

    name = db_url.rsplit("/", 1)[1]
    with TestClient(create_app(settings)) as client:
        assert ready(client)[0] == 200
        with psycopg.connect(pg_admin_url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        for _ in range(2):  # the pool's old connections and fresh ones alike fail
            r = client.get("/readyz")
            assert r.status_code == 503
            checks = r.json()["checks"]
            assert checks["database"] == {"ok": False, "detail": "unreachable"}
            assert not checks["migrations"]["ok"] and not checks["sequencer_backlog"]["ok"]
            assert name not in r.text and "127.0.0.1" not in r.text and "postgres" not in r.text
        assert client.get("/healthz").status_code == 200
        with psycopg.connect(pg_admin_url(), autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
        status, checks = ready(client)
        assert status == 200, checks


def test_a_database_never_migrated_is_reachable_but_unready(
    settings: Settings, tmp_path: Path
) -> None:
    """An empty database answers (database ok) but has no revision and no ledger tables."""
    from civicpoints.web.app import create_app

    empty = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'empty.db'}"})
    with TestClient(create_app(empty)) as client:
        status, checks = ready(client)
    assert status == 503 and checks["database"]["ok"]
    assert not checks["migrations"]["ok"] and "database at []" in checks["migrations"]["detail"]
    assert checks["sequencer_backlog"] == {
        "ok": False,
        "detail": "the sequencer queue could not be read",
    }
