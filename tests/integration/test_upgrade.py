"""Upgrading a database the previous release built, with its data in it, keeps the ledger sound.

The previous release is commit 5e191a9 (migration head 0016: the fraud and clawback release,
the last before issue 11's community work added 0017-0021). Its own code — taken from git, run
in a subprocess — migrates an empty database to 0016, loads its demo city (residents,
activities, awards, redemptions) and runs a sequencer pass, exactly as an operator of that
release would have. This version then runs `db upgrade` and `ledger verify`, and writes to the
upgraded ledger.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from civicpoints.cli.main import app as cli_app
from civicpoints.kit.clock import utcnow
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.migrate import current_revision, downgrade, head_revision
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.ledger import LedgerService, Movement

from ..conftest import PII_KEY

PREVIOUS_RELEASE = "5e191a9"
PREVIOUS_HEAD = "0016"
REPO = Path(__file__).resolve().parents[2]


def previous_release(into: Path) -> Path:
    """The previous release's src/ and migrations/, from git (a missing commit fails loudly)."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", PREVIOUS_RELEASE, "src", "migrations"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


@pytest.fixture
def env(
    settings: Settings, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """The environment both releases run with: the test database, its var dir, its keys."""
    values = {
        "CIVICPOINTS_DATABASE_URL": db_url,
        "CIVICPOINTS_VAR_DIR": str(settings.var_dir),
        "CIVICPOINTS_PII_KEY": PII_KEY,
        "CIVICPOINTS_LEDGER_BUCKETS": "4" if db_url.startswith("postgres") else "1",
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield {**os.environ, **values}
    get_settings.cache_clear()


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("identity_resident", "activity", "activity_participation", "ledger_entry")
            }
    finally:
        engine.dispose()


def test_upgrade_from_the_previous_release_keeps_the_ledger_verifiable(
    db_url: str, env: dict[str, str], tmp_path: Path
) -> None:
    """0016 with a demo city in it → head: every row kept, `ledger verify` passes, awards work."""
    downgrade(db_url, "base")
    old_src = previous_release(tmp_path / "previous")
    old_env = {**env, "PYTHONPATH": str(old_src)}
    # One interpreter runs the old release's three commands (imports are slow on a busy host).
    script = (
        "import civicpoints\n"
        "print('running', civicpoints.__file__)\n"
        "from civicpoints.cli.main import app\n"
        "for args in (['db', 'upgrade'], ['demo', '--residents', '20'], ['ledger', 'sequence']):\n"
        "    app(args, standalone_mode=False)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env=old_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-2000:])
    assert f"running {old_src}" in done.stdout  # the previous release's code, not this one's
    assert current_revision(db_url) == PREVIOUS_HEAD
    before = counts(db_url)
    assert before["identity_resident"] >= 20 and before["ledger_entry"] > 50

    cli = CliRunner()
    upgraded = cli.invoke(cli_app, ["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert current_revision(db_url) == head_revision()
    assert counts(db_url) == before
    engine = make_engine(db_url)
    with engine.connect() as conn:  # 0018 gave every existing activity its own venue secret
        secrets = conn.execute(text("SELECT venue_secret FROM activity")).scalars().all()
    assert len(set(secrets)) == before["activity"] and None not in secrets
    verified = cli.invoke(cli_app, ["ledger", "verify"])
    assert verified.exit_code == 0, verified.output

    # The upgraded ledger takes new awards on the old residents' wallets, chained and logged.
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        owner = s.execute(
            text("SELECT owner FROM ledger_account WHERE owner LIKE 'wallet:%' LIMIT 1")
        ).scalar_one()
        now = utcnow()
        LedgerService(s).credit(
            owner,
            Movement("award", 15, "after-upgrade", "service", "staff:t", now, "after-upgrade"),
            now + timedelta(days=365),
        )
    engine.dispose()
    assert cli.invoke(cli_app, ["ledger", "sequence"]).exit_code == 0
    verified = cli.invoke(cli_app, ["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
