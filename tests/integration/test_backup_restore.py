"""`civicpoints backup` / `restore`: the restore drill, and every way a restore must refuse.

The drill (issue 12): load the demo, save the latest signed checkpoint, keep working, back up,
really drop the database and delete the photos, restore into an empty database, then
`ledger verify --checkpoint <saved>` passes, the saved checkpoint is provably in the restored
log (same root at its size, and an RFC 9162 consistency proof to the newest), and every photo
the database names is there, hashes to its name and opens as an image. On PostgreSQL (and
the same round trip on SQLite). Then: a tampered archive, a path-traversal member, a link, an
oversized manifest, a non-empty target, a server missing the PII or signing key: each refused
with nothing written. The archive holds no byte of a private key.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from civicpoints.activities.models import Evidence
from civicpoints.cli.demo import load_demo
from civicpoints.cli.main import app
from civicpoints.community.hazard_models import HazardReport
from civicpoints.fraud.models import Appeal
from civicpoints.identity.models import Resident
from civicpoints.kit import backup as kit
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.crypto import ring_from_json
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.ledger import ProofService, Signer, merkle, open_note, wallet_of
from civicpoints.ledger.models import CheckpointRow
from civicpoints.ledger.sequencer import GLOBAL_LOG
from civicpoints.ledger.service import LedgerService, Movement

from ..conftest import PII_KEY, pg_admin_url

Run = Callable[..., Result]

ALL_ENV = (
    "CIVICPOINTS_DATABASE_URL",
    "CIVICPOINTS_VAR_DIR",
    "CIVICPOINTS_PII_KEY",
    "CIVICPOINTS_PII_KEYRING_FILE",
    "CIVICPOINTS_LEDGER_KEY_FILE",
)


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Invoke the CLI as an operator on some server: `run(env, *args)`, env as that server's."""

    def invoke(env: dict[str, str], *args: object) -> Result:
        for name in ALL_ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return CliRunner().invoke(app, [str(a) for a in args])

    yield invoke
    get_settings.cache_clear()


def env_of(settings: Settings, pii_key: str | None = PII_KEY) -> dict[str, str]:
    """The environment of the server `settings` describe."""
    env = {
        "CIVICPOINTS_DATABASE_URL": settings.resolved_database_url(),
        "CIVICPOINTS_VAR_DIR": str(settings.var_dir),
    }
    if pii_key:
        env["CIVICPOINTS_PII_KEY"] = pii_key
    return env


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def photos_named(s: Session) -> dict[str, str]:
    """Every photo the database refers to: relative path -> SHA-256."""
    found = {p: h for p, h in s.execute(select(Evidence.path, Evidence.sha256)).all()}
    found |= {
        p: h for p, h in s.execute(select(HazardReport.photo_path, HazardReport.photo_sha256))
    }
    found |= {
        p: h
        for p, h in s.execute(select(Appeal.evidence_path, Appeal.evidence_sha256))
        if p is not None and h is not None
    }
    return found


def global_row(s: Session, size: int | None = None) -> CheckpointRow:
    """The global checkpoint of `size` (default: the newest)."""
    stmt = select(CheckpointRow).where(CheckpointRow.bucket == GLOBAL_LOG)
    if size is not None:
        stmt = stmt.where(CheckpointRow.size == size)
    row = s.scalars(stmt.order_by(CheckpointRow.size.desc()).limit(1)).first()
    assert row is not None
    return row


def drop_database(settings: Settings) -> None:
    """Really drop the test database (PostgreSQL) or delete its file (SQLite), then create an
    empty one: the server after a disk loss, before the restore."""
    url = settings.resolved_database_url()
    if url.startswith("sqlite"):
        path = kit.sqlite_path(url)
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        assert not path.exists()
        return
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(pg_admin_url(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
        gone = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
        assert gone.fetchone() == (0,)
        conn.execute(f"CREATE DATABASE {name}")
    assert kit.pg_is_empty(url)


@pytest.mark.parametrize("db_url", ["postgresql", "sqlite"], indirect=True)
def test_restore_drill(
    settings: Settings,
    sessions: sessionmaker[Session],
    ctx: Context,
    run: Run,
    tmp_path: Path,
) -> None:
    """Demo, saved checkpoint, more work, backup, drop everything, restore, verify, photos."""
    env = env_of(settings)
    assert load_demo(sessions, ctx, residents=40, seed=7) is True
    ok(run(env, "ledger", "sequence"))
    signer_path = settings.signing_key_path
    verifier = Signer.from_skey(signer_path.read_text(encoding="utf-8").strip()).verifier

    # The checkpoint an auditor saved before the backup: its signature checks.
    with sessions() as s:
        latest = ProofService(s).latest()
    saved = tmp_path / "saved-latest.json"
    saved.write_text(json.dumps(latest), encoding="utf-8")
    saved_note = latest["global"]["note"]
    open_note(saved_note, [verifier])  # raises unless the log key signed it
    saved_size = int(saved_note.split("\n")[1])

    # Work goes on after the auditor saved it: the backup holds a longer log.
    with sessions() as s:
        resident = s.scalars(select(Resident.id).limit(1)).one()
    with sessions.begin() as s:
        now = utcnow()
        move = Movement("award", 7, "test", "演练 / drill", "test", now, "drill:after-save")
        LedgerService(s).credit(wallet_of(resident), move, now + timedelta(days=30))
    ok(run(env, "ledger", "sequence"))
    with sessions() as s:
        photos = photos_named(s)
        newest = global_row(s)
    assert len(photos) >= 20 and newest.size > saved_size
    files = sum(1 for p in settings.uploads_dir.rglob("*") if p.is_file())

    out = tmp_path / "backups"
    out.mkdir()
    report = ok(run(env, "backup", "--out", out))
    (archive,) = out.iterdir()
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert "私钥不在归档中" in report and str(newest.size) in report
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp file left

    # The disaster: the database and the photos are gone.
    sessions.kw["bind"].dispose()
    drop_database(settings)
    shutil.rmtree(settings.uploads_dir)

    restored = ok(run(env, "restore", archive, "--checkpoint", saved))
    assert "ledger verified" in restored and f"global size {newest.size}" in restored
    assert f"every photo ({files}) readable" in restored
    ok(run(env, "ledger", "verify", "--checkpoint", saved))

    engine = make_engine(settings.resolved_database_url())
    with make_session_factory(engine)() as s:
        # The saved checkpoint is in the restored log: the same signed note at its size…
        again = global_row(s, saved_size)
        assert again.note == saved_note
        assert again.root == base64.b64decode(saved_note.split("\n")[2])
        # …and the newest is an append-only extension of it (RFC 9162 consistency proof).
        top = global_row(s)
        assert top.size == newest.size and top.root == newest.root
        proof = [
            base64.b64decode(h)
            for h in ProofService(s).consistency(GLOBAL_LOG, saved_size, top.size)
        ]
        assert merkle.verify_consistency(saved_size, top.size, again.root, top.root, proof)
        assert photos_named(s) == photos
    engine.dispose()
    for relative, sha in photos.items():
        data = (settings.uploads_dir / relative).read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
        with Image.open(io.BytesIO(data)) as image:
            image.verify()

    # A second restore onto the now full database is refused; --replace overwrites it.
    again_out = run(env, "restore", archive)
    assert again_out.exit_code == 1 and "--replace" in again_out.output
    ok(run(env, "restore", "--replace", archive))
    ok(run(env, "ledger", "verify", "--checkpoint", saved))


# --- refusals, on SQLite (quick): a small source server and an empty target ------------------


@pytest.fixture
def source(tmp_path: Path, run: Run) -> tuple[Settings, Path]:
    """A migrated SQLite server with two photos and a signed checkpoint, and its backup."""
    settings = sqlite_server(tmp_path / "src", PII_KEY)
    env = env_of(settings)
    ok(run(env, "db", "upgrade"))
    ok(run(env, "ledger", "sequence"))  # the signing key
    for body in (b"first photo bytes", b"second photo bytes"):
        sha = hashlib.sha256(body).hexdigest()
        path = settings.uploads_dir / sha[:2] / sha[2:4] / f"{sha}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    out = tmp_path / "out"
    out.mkdir()
    ok(run(env, "backup", "--out", out / "b.tar"))
    return settings, out / "b.tar"


def sqlite_server(var_dir: Path, pii_key: str) -> Settings:
    """A SQLite server's settings (everything explicit: nothing from the environment)."""
    return Settings(
        var_dir=var_dir, database_url=f"sqlite:///{var_dir}/civicpoints.db", pii_key=pii_key
    )


def target_of(tmp_path: Path) -> Settings:
    """An empty server holding the source's keys."""
    return sqlite_server(tmp_path / "dst", PII_KEY)


def nothing_written(target: Settings) -> None:
    """No database file, no photo, no staging directory on the target."""
    assert not (target.var_dir / "civicpoints.db").exists()
    assert not target.uploads_dir.exists()
    leftovers = [p for p in target.var_dir.iterdir() if p.name != "keys"]
    assert leftovers == [], leftovers


def with_keys(source: Settings, target: Settings) -> None:
    """The target got the signing key from the escrow (the PII key comes by the environment)."""
    target.signing_key_path.parent.mkdir(parents=True)
    shutil.copy(source.signing_key_path, target.signing_key_path)


def test_a_tampered_archive_is_refused_with_nothing_written(
    source: tuple[Settings, Path], run: Run, tmp_path: Path
) -> None:
    """One byte changed in a photo: refused by its checksum before anything is written."""
    settings, archive = source
    target = target_of(tmp_path)
    with_keys(settings, target)
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("uploads/"))
    raw = bytearray(archive.read_bytes())
    raw[member.offset_data] ^= 0x01
    tampered = tmp_path / "tampered.tar"
    tampered.write_bytes(bytes(raw))
    result = run(env_of(target), "restore", tampered)
    assert result.exit_code == 1
    assert "checksum" in result.output and "nothing written" in result.output
    nothing_written(target)
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(archive.read_bytes()[: member.offset_data + 5])
    result = run(env_of(target), "restore", truncated)
    assert result.exit_code == 1
    nothing_written(target)
    ok(run(env_of(target), "restore", archive))  # the untouched archive restores


def _crafted(tmp_path: Path, archive: Path, extra: tarfile.TarInfo, data: bytes = b"") -> Path:
    """The archive with one more member before the manifest (listed in it, so only its
    name or type is wrong)."""
    out = tmp_path / "crafted.tar"
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            if member.name == kit.MANIFEST:
                continue
            dst.addfile(member, src.extractfile(member))
        extra.size = len(data) if extra.isreg() else 0
        dst.addfile(extra, io.BytesIO(data) if extra.isreg() else None)
        manifest = json.loads(src.extractfile(kit.MANIFEST).read())  # type: ignore[union-attr]
        line = {"name": extra.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        manifest["files"].append(line)
        body = json.dumps(manifest).encode()
        info = tarfile.TarInfo(kit.MANIFEST)
        info.size = len(body)
        dst.addfile(info, io.BytesIO(body))
    return out


@pytest.mark.parametrize(
    "name", ["../escape.txt", "/tmp/escape.txt", "uploads/../../escape.txt", "keys/ledger.skey"]
)
def test_a_member_outside_the_layout_is_refused(
    source: tuple[Settings, Path], run: Run, tmp_path: Path, name: str
) -> None:
    """Path traversal (.., absolute) or any name outside the layout: refused, nothing written."""
    settings, archive = source
    target = target_of(tmp_path)
    with_keys(settings, target)
    crafted = _crafted(tmp_path, archive, tarfile.TarInfo(name), b"gotcha")
    result = run(env_of(target), "restore", crafted)
    assert result.exit_code == 1, result.output
    assert "refused" in result.output
    nothing_written(target)
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_a_link_member_is_refused(source: tuple[Settings, Path], run: Run, tmp_path: Path) -> None:
    """A symlink named like a photo, pointing at a key: refused, nothing written."""
    settings, archive = source
    target = target_of(tmp_path)
    with_keys(settings, target)
    sha = hashlib.sha256(b"x").hexdigest()
    link = tarfile.TarInfo(f"uploads/{sha[:2]}/{sha[2:4]}/{sha}.jpg")
    link.type, link.linkname = tarfile.SYMTYPE, str(target.signing_key_path)
    result = run(env_of(target), "restore", _crafted(tmp_path, archive, link))
    assert result.exit_code == 1 and "not a regular file" in result.output
    nothing_written(target)


def test_an_oversized_manifest_is_refused(
    source: tuple[Settings, Path], run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manifest over the bound is refused before it is read."""
    settings, archive = source
    target = target_of(tmp_path)
    with_keys(settings, target)
    monkeypatch.setattr(kit, "MAX_MANIFEST_BYTES", 1000)
    result = run(env_of(target), "restore", archive)
    assert result.exit_code == 1 and "manifest is larger" in result.output
    nothing_written(target)


def test_the_archive_holds_no_private_key(run: Run, tmp_path: Path) -> None:
    """After a PII rotation (a keyring with two keys) the archive holds no byte of any key."""
    settings = sqlite_server(tmp_path / "src", "")  # dev key file, then a keyring
    env = env_of(settings, pii_key=None)
    ok(run(env, "db", "upgrade"))
    ok(run(env, "ledger", "sequence"))  # creates ledger.skey
    ok(run(env, "keys", "rotate-pii"))
    ring = ring_from_json(settings.pii_keyring_path.read_bytes())
    skey_text = settings.signing_key_path.read_text(encoding="utf-8").strip()
    secrets = [
        skey_text.encode(),
        skey_text.split("+", 4)[4].encode(),  # the seed's base64
        base64.b64decode(skey_text.split("+", 4)[4])[1:],  # the raw Ed25519 seed
        settings.pii_keyring_path.read_bytes(),
        ring.mac_key,
        base64.b64encode(ring.mac_key),
    ]
    for key in ring.keys.values():
        secrets += [key, base64.b64encode(key)]
    assert len(ring.keys) == 2
    archive = tmp_path / "b.tar"
    output = ok(run(env, "backup", "--out", archive))
    data = archive.read_bytes()
    # Decompress nothing: the database copy is plain SQLite pages, the manifest plain JSON.
    for secret in secrets:
        assert secret not in data
        assert secret.decode("latin-1") not in output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile(kit.MANIFEST).read())  # type: ignore[union-attr]
    assert not [n for n in names if "key" in n]
    pii = manifest["keys"]["pii"]
    assert set(pii["key_ids"]) == set(ring.keys) and pii["current"] == ring.current
    assert manifest["keys"]["signing"]["vkey"].startswith(settings.ledger_origin + "+")


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile(kit.MANIFEST).read())  # type: ignore[union-attr]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_missing_pii_or_signing_key_on_the_target_is_reported(
    settings: Settings,
    sessions: sessionmaker[Session],
    ctx: Context,
    run: Run,
    tmp_path: Path,
    make_resident: Callable[..., object],
) -> None:
    """A city with residents (encrypted ID and phone numbers) restored on a server without
    its PII key, with another PII key, or without the signing key: refused, naming the key."""
    make_resident()
    ok(run(env_of(settings), "ledger", "sequence"))
    archive = tmp_path / "b.tar"
    ok(run(env_of(settings), "backup", "--out", archive))
    needed = _manifest(archive)["keys"]["pii"]["in_use"]
    assert sum(needed.values()) >= 2  # ID and phone numbers
    target = sqlite_server(tmp_path / "dst", PII_KEY)
    target.signing_key_path.parent.mkdir(parents=True)
    shutil.copy(settings.signing_key_path, target.signing_key_path)

    result = run(env_of(target, pii_key=None), "restore", archive)
    assert result.exit_code == 1 and "no PII key on this server" in result.output
    assert all(kid in result.output for kid in needed)
    assert not (target.var_dir / "civicpoints.db").exists() and not target.uploads_dir.exists()
    assert not (target.pii_key_path).exists()  # the check never makes a key

    other = base64.b64encode(os.urandom(32)).decode()
    result = run(env_of(target, pii_key=other), "restore", archive)
    assert result.exit_code == 1 and "lack key(s)" in result.output
    assert not (target.var_dir / "civicpoints.db").exists()

    target.signing_key_path.unlink()
    result = run(env_of(target), "restore", archive)
    assert result.exit_code == 1 and "no checkpoint signing key" in result.output
    assert not (target.var_dir / "civicpoints.db").exists() and not target.signing_key_path.exists()
    assert PII_KEY not in result.output


def test_nightly_backups_keep_the_newest(run: Run, tmp_path: Path) -> None:
    """`backup --out DIR --keep 2` three times: the two newest archives stay, each 0600."""
    settings = sqlite_server(tmp_path / "src", PII_KEY)
    env = env_of(settings)
    ok(run(env, "db", "upgrade"))
    ok(run(env, "ledger", "sequence"))
    out = tmp_path / "nightly"
    out.mkdir()
    made = []
    for day in (1, 2, 3):
        stale = out / f"civicpoints-backup-2026010{day}T020000Z.tar"
        ok(run(env, "backup", "--out", stale))
        made.append(stale)
    output = ok(run(env, "backup", "--out", out, "--keep", "2"))
    kept = sorted(p.name for p in out.iterdir())
    assert len(kept) == 2 and made[0].name not in kept and made[1].name not in kept
    assert made[2].name in kept and "removed old backup" in output
    assert all(stat.S_IMODE((out / k).stat().st_mode) == 0o600 for k in kept)


def _rewritten(tmp_path: Path, archive: Path, change: Callable[[dict], None]) -> Path:
    """The archive with its manifest changed by `change` (the members untouched)."""
    out = tmp_path / "rewritten.tar"
    with tarfile.open(archive) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            if member.name != kit.MANIFEST:
                dst.addfile(member, src.extractfile(member))
        manifest = json.loads(src.extractfile(kit.MANIFEST).read())  # type: ignore[union-attr]
        change(manifest)
        body = json.dumps(manifest).encode()
        info = tarfile.TarInfo(kit.MANIFEST)
        info.size = len(body)
        dst.addfile(info, io.BytesIO(body))
    return out


def test_a_newer_database_or_another_engine_is_refused(
    source: tuple[Settings, Path], run: Run, tmp_path: Path
) -> None:
    """An archive from a newer release (unknown revision), or a PostgreSQL dump for a SQLite
    server: refused before anything is written; the manifest's own checksums are what the
    members are held to, so a rewritten manifest that lists a wrong hash is refused too."""
    settings, archive = source
    target = target_of(tmp_path)
    with_keys(settings, target)
    newer = _rewritten(tmp_path, archive, lambda m: m.update(migration_revision="9999"))
    result = run(env_of(target), "restore", newer)
    assert result.exit_code == 1 and "newer than this code knows" in result.output
    nothing_written(target)
    other = _rewritten(tmp_path, archive, lambda m: m.update(engine="postgresql"))
    result = run(env_of(target), "restore", other)
    assert result.exit_code == 1 and "the target is sqlite" in result.output
    nothing_written(target)

    def garbled(m: dict) -> None:
        m["keys"]["pii"]["in_use"] = ["not", "a", "mapping"]

    result = run(env_of(target), "restore", _rewritten(tmp_path, archive, garbled))
    assert result.exit_code == 1 and "fields are malformed" in result.output
    nothing_written(target)

    def wrong_hash(m: dict) -> None:
        m["files"][0]["sha256"] = "0" * 64

    result = run(env_of(target), "restore", _rewritten(tmp_path, archive, wrong_hash))
    assert result.exit_code == 1 and "does not match its checksum" in result.output
    nothing_written(target)
