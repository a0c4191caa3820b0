"""The ledger's commands refuse bad input with a clear zh/en message, no traceback, no writes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from civicpoints.cli.main import app
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.ledger.keys import generate_signer
from civicpoints.ledger.models import Lot, Transfer
from civicpoints.ledger.service import LedgerService, Movement


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A runner whose commands use the test database."""
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def refused(result: Result, code: int = 2) -> str:
    """The output of a command that ended with `code` on purpose (no exception escaped)."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return " ".join(result.output.split())  # rich wraps long lines


def test_expire_refuses_a_date_after_today(sessions: sessionmaker[Session], cli: CliRunner) -> None:
    """`--as-of` tomorrow (Beijing) would expire lots early: refused, nothing written."""
    with transaction(sessions) as s:
        move = Movement("award", 40, "ref:a", "志愿服务", "t", utcnow(), "k1")
        LedgerService(s).credit("wallet:a", move, utcnow() + timedelta(days=1))
    today = local_date(utcnow())
    tomorrow = refused(cli.invoke(app, ["ledger", "expire", "--as-of", str(today + timedelta(1))]))
    assert "不能晚于今天" in tomorrow and "after today" in tomorrow
    garbled = refused(cli.invoke(app, ["ledger", "expire", "--as-of", "2027-13-01"]))
    assert "YYYY-MM-DD" in garbled and "日期" in garbled
    with transaction(sessions) as s:
        assert LedgerService(s).balance("wallet:a") == 40
        assert s.scalar(select(func.count()).select_from(Transfer)) == 1
        assert s.scalar(select(func.sum(Lot.remaining))) == 40
    ok = cli.invoke(app, ["ledger", "expire", "--as-of", str(today)])
    assert ok.exit_code == 0 and "points: 0" in ok.output, ok.output


def test_verify_receipt_refuses_malformed_input(cli: CliRunner, tmp_path: Path) -> None:
    """A bad key, a missing file, bad or truncated JSON: a clear message and exit 2 or 1."""
    key = generate_signer("log.example").verifier.vkey()
    good, broken, partial = tmp_path / "r.json", tmp_path / "broken.json", tmp_path / "part.json"
    good.write_text(json.dumps({"format": "civicpoints-receipt-v1"}), encoding="utf-8")
    broken.write_text('{"format": "civicpoints-receipt-v1", "entry": {', encoding="utf-8")
    partial.write_text(json.dumps({"format": "civicpoints-receipt-v1", "entry": {}}), "utf-8")

    def run(path: Path, *keys: str) -> Result:
        args = [arg for k in keys for arg in ("--public-key", k)]
        return cli.invoke(app, ["ledger", "verify-receipt", str(path), *args])

    for bad_key in ("not-a-key", "log.example+1234567+AQ==", key[:-4]):
        out = refused(run(good, bad_key))
        assert "公钥" in out and "public key" in out, out
    missing = refused(run(tmp_path / "nowhere.json", key))
    assert "无法读取" in missing and "cannot read" in missing
    for path in (broken, tmp_path):
        out = refused(run(path, key))
        assert "回执" in out and "receipt" in out, out
    for path in (good, partial):
        out = refused(run(path, key), code=1)
        assert "malformed receipt" in out, out
