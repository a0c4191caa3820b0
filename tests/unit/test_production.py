"""kit/production.py: what a production start refuses, and that production never makes keys."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from civicpoints.kit.context import load_ring
from civicpoints.kit.production import (
    DEV_PROVIDER,
    KeyFileMissing,
    KeyFiles,
    production_problems,
)
from civicpoints.kit.settings import Settings
from civicpoints.ledger import load_or_create_signer, log_signer

PG = "postgresql://civicpoints@db.internal/civicpoints"
KEY = base64.b64encode(bytes(range(32))).decode()
ALL_FILES = KeyFiles(pii_keyring=True, signing_key=True)
NO_FILES = KeyFiles(pii_keyring=False, signing_key=False)


def prod(tmp_path: Path, **changes: object) -> Settings:
    """Production settings that pass, with `changes` applied (validation skipped on purpose)."""
    good = Settings(
        env="production",
        identity_provider="in_person",
        database_url=PG,
        pii_key=KEY,
        ledger_key_file=tmp_path / "ledger.skey",
        var_dir=tmp_path / "var",
    )
    return good.model_copy(update=changes)


def variables(settings: Settings, files: KeyFiles) -> list[str]:
    return [p.variable for p in production_problems(settings, files)]


def test_good_production_settings_pass(tmp_path: Path) -> None:
    assert production_problems(prod(tmp_path), ALL_FILES) == []
    # the PII key from the environment alone is enough (no keyring file yet)
    assert variables(prod(tmp_path), KeyFiles(pii_keyring=False, signing_key=True)) == []
    assert variables(prod(tmp_path, database_url="postgres://u@h/d"), ALL_FILES) == []


def test_outside_production_nothing_is_refused(tmp_path: Path) -> None:
    for env in ("development", "test"):
        laptop = Settings(env=env, var_dir=tmp_path)
        assert production_problems(laptop, NO_FILES) == []


@pytest.mark.parametrize(
    "url", ["", "sqlite:///var/civicpoints.db", "sqlite+pysqlite:////srv/cp.db", "mysql://x/y"]
)
def test_sqlite_or_an_empty_url_is_refused(tmp_path: Path, url: str) -> None:
    assert variables(prod(tmp_path, database_url=url), ALL_FILES) == ["CIVICPOINTS_DATABASE_URL"]


def test_the_dev_identity_provider_is_refused(tmp_path: Path) -> None:
    problems = production_problems(prod(tmp_path, identity_provider="dev"), ALL_FILES)
    assert problems == [DEV_PROVIDER]
    assert "in_person" in DEV_PROVIDER.zh and "in_person" in DEV_PROVIDER.en


def test_a_missing_pii_key_is_refused_and_the_dev_file_does_not_count(tmp_path: Path) -> None:
    settings = prod(tmp_path, pii_key="")
    (tmp_path / "var" / "keys").mkdir(parents=True)
    settings.pii_key_path.write_text(KEY + "\n")  # the laptop's var/keys/pii.key
    files = KeyFiles.of(settings.model_copy(update={"ledger_key_file": None}))
    assert files == NO_FILES
    [problem] = production_problems(settings, KeyFiles(pii_keyring=False, signing_key=True))
    assert problem.variable == "CIVICPOINTS_PII_KEY"
    assert "pii.key" in problem.zh and "pii.key" in problem.en
    # a keyring file (written by `keys init` or `keys rotate-pii`) is a production key
    assert variables(settings, ALL_FILES) == []


def test_the_signing_key_must_be_named_and_exist(tmp_path: Path) -> None:
    unnamed = prod(tmp_path, ledger_key_file=None)
    assert variables(unnamed, ALL_FILES) == ["CIVICPOINTS_LEDGER_KEY_FILE"]
    named = prod(tmp_path)
    [problem] = production_problems(named, KeyFiles(pii_keyring=True, signing_key=False))
    assert problem.variable == "CIVICPOINTS_LEDGER_KEY_FILE" and "ledger.skey" in problem.en


def test_key_file_facts_are_read_from_disk(tmp_path: Path) -> None:
    settings = prod(tmp_path, pii_keyring_file=tmp_path / "pii.keyring")
    assert KeyFiles.of(settings) == NO_FILES
    (tmp_path / "ledger.skey").write_text("x")
    (tmp_path / "pii.keyring").mkdir()  # a directory is no keyring
    assert KeyFiles.of(settings) == KeyFiles(pii_keyring=False, signing_key=True)
    # the default var/keys/ledger.skey of a laptop is not a named key file
    laptop_key = settings.model_copy(update={"ledger_key_file": None})
    (tmp_path / "var" / "keys").mkdir(parents=True)
    (tmp_path / "var" / "keys" / "ledger.skey").write_text("x")
    assert KeyFiles.of(laptop_key).signing_key is False


def test_every_problem_is_listed_at_once_in_both_languages(tmp_path: Path) -> None:
    bad = prod(tmp_path, database_url="", identity_provider="dev", pii_key="", ledger_key_file=None)
    problems = production_problems(bad, NO_FILES)
    assert [p.variable for p in problems] == [
        "CIVICPOINTS_DATABASE_URL",
        "CIVICPOINTS_IDENTITY_PROVIDER",
        "CIVICPOINTS_PII_KEY",
        "CIVICPOINTS_LEDGER_KEY_FILE",
    ]
    for p in problems:
        assert str(p) == f"{p.variable}: {p.zh} / {p.en}"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in p.zh)
        assert p.en and not any("\u4e00" <= ch <= "\u9fff" for ch in p.en)


def test_production_never_generates_a_pii_key(tmp_path: Path) -> None:
    settings = prod(tmp_path, pii_key="")
    with pytest.raises(KeyFileMissing, match="PII key"):
        load_ring(settings)
    assert not (tmp_path / "var" / "keys").exists()
    # a laptop does create it
    dev = settings.model_copy(update={"env": "development"})
    assert load_ring(dev).current and dev.pii_key_path.exists()


def test_production_never_generates_a_signing_key(tmp_path: Path) -> None:
    named = prod(tmp_path)
    with pytest.raises(KeyFileMissing, match="checkpoint signing key"):
        log_signer(named)
    assert not (tmp_path / "ledger.skey").exists()
    unnamed = prod(tmp_path, ledger_key_file=None)
    with pytest.raises(KeyFileMissing):
        log_signer(unnamed)
    assert not unnamed.signing_key_path.exists()
    # a laptop's var/keys/ledger.skey does not serve production even once it exists
    load_or_create_signer(unnamed.signing_key_path, unnamed.ledger_origin)
    with pytest.raises(KeyFileMissing):
        log_signer(unnamed)
    # the named, existing file is read
    made = load_or_create_signer(tmp_path / "ledger.skey", named.ledger_origin)
    assert log_signer(named).verifier.vkey() == made.verifier.vkey()
