"""`civicpoints backup` and `civicpoints restore` (docs/operations.md, "Backups and restore").

The archive (kit/backup.py) holds the database, every uploaded photo and a manifest with the
newest signed global checkpoint and the keys' PUBLIC metadata: the checkpoint key's vkey, the
PII key ids in use. Never a private key: those are backed up apart, offline (docs/keys.md).

Restore reads the whole archive and checks every checksum before writing anything, checks that
this server holds the keys the data needs, refuses a database that is not empty (unless
--replace), loads the database in one transaction, puts the photos back, then verifies the
ledger against the checkpoint saved in the manifest (and any given with --checkpoint).
Output names files, counts, key ids and public keys, never a personal value.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session, sessionmaker

from civicpoints import __version__
from civicpoints.kit import backup as kit
from civicpoints.kit.backup import BackupError
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.settings import Settings, get_settings

console = Console()


def _say(text: str) -> None:
    """Print as written: no markup, no wrapping (a script reads the lines)."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def _step(n: int, total: int, text: str) -> None:
    _say(f"[{n}/{total}] {text}")


def _stop(exc: BackupError | str, code: int = 1) -> NoReturn:
    text = str(exc)
    console.print(f"[red]✗ {escape(text)}[/red]", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def _bar(label: str, total: int) -> Iterator[Any]:
    """A byte-count progress bar; yields a function advancing it."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task(label, total=total or None)
        yield lambda n: bar.update(task, advance=n)
        bar.update(task, completed=total)  # tar headers and padding are not counted


def _sessions(settings: Settings) -> sessionmaker[Session]:
    return make_session_factory(make_engine(settings.resolved_database_url()))


# --- what the manifest says about keys and the ledger -------------------------------------


def _signing_metadata(settings: Settings) -> dict[str, Any]:
    """The checkpoint key's public half (never the skey), the retired vkeys beside it."""
    from civicpoints.ledger import NoteError, Signer, retired_verifiers

    path = settings.signing_key_path
    out: dict[str, Any] = {"path": str(path), "present": path.exists()}
    if path.exists():
        try:
            signer = Signer.from_skey(path.read_text(encoding="utf-8").strip())
        except NoteError as exc:
            raise BackupError(
                f"签名密钥文件 {path} 无法读取：{exc.zh}",
                f"cannot read the key file {path}: {exc.en}",
            ) from None
        out |= {
            "name": signer.name,
            "key_hash": f"{signer.key_hash:08x}",
            "vkey": signer.verifier.vkey(),
        }
    out["retired_vkeys"] = [v.vkey() for v in retired_verifiers(path)]
    out["trusted_vkeys"] = list(settings.ledger_trusted_vkeys)
    return out


def _pii_metadata(settings: Settings, sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Key ids only: those configured, the current one, and those the ciphertexts use."""
    from civicpoints.cli.keys import encrypted_columns
    from civicpoints.kit.context import existing_ring
    from civicpoints.kit.crypto import FieldCipher
    from civicpoints.kit.rekey import key_ids_in_use

    ring = existing_ring(settings)
    out: dict[str, Any] = {
        "keyring_path": str(settings.pii_keyring_path),
        "source": (
            "keyring"
            if settings.pii_keyring_path.exists()
            else "env"
            if settings.pii_key
            else "file"
            if settings.pii_key_path.exists()
            else "none"
        ),
    }
    if ring is not None:
        out |= {
            "current": ring.current,
            "legacy": ring.legacy,
            "key_ids": sorted(ring.keys),
            "retired": list(ring.retired),
            "blind_index_check": _blind_check(FieldCipher(ring=ring)),
        }
    legacy = ring.legacy if ring else None
    out["in_use"] = key_ids_in_use(sessions, encrypted_columns(), legacy)
    return out


def _blind_check(cipher: Any) -> str:
    """An HMAC of a fixed text under the blind-index key: equal here and on the target means
    the same blind-index key (look-ups by phone and ID keep working); it reveals nothing."""
    return str(cipher.blind_index("civicpoints backup check", "backup/v1"))


def _latest_checkpoint(settings: Settings, sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The newest signed global checkpoint: size, root, note, and which keys signed it."""
    from sqlalchemy import select

    from civicpoints.ledger import (
        Checkpoint,
        NoteError,
        ProofService,
        SigningKey,
        load_verifier,
        note_body,
        open_note,
    )

    with sessions() as s:
        latest = ProofService(s).latest()["global"]
        vkeys = list(s.scalars(select(SigningKey.vkey)))
    if latest is None:
        return {}
    parsed = Checkpoint.parse(note_body(latest["note"]))
    try:
        _, signers = open_note(latest["note"], [load_verifier(v) for v in vkeys])
    except NoteError:
        signers = []
    return {
        "origin": parsed.origin,
        "size": parsed.size,
        "root_hash": base64.b64encode(parsed.root).decode("ascii"),
        "note": latest["note"],
        "signed_at": latest["signed_at"],
        "signed_by": signers,
    }


# --- backup ------------------------------------------------------------------------------


def _output(out: Path, now: datetime) -> Path:
    """The archive's path: a new file in `out` if it is a directory, else `out` itself."""
    if out.is_dir():
        return out / f"civicpoints-backup-{now:%Y%m%dT%H%M%SZ}.tar"
    if out.exists():
        _stop(f"{out} 已存在，不覆盖 / {out} exists: not overwritten", 2)
    if not out.parent.is_dir():
        _stop(f"目录 {out.parent} 不存在 / no directory {out.parent}", 2)
    return out


def _photos(root: Path) -> tuple[list[Path], int]:
    """Every content-addressed photo under `root` (never following links), and the count of
    other files skipped (temporary files of uploads in progress, strays)."""
    found: list[Path] = []
    skipped = 0
    if not root.is_dir():
        return found, 0
    for path in sorted(root.rglob("*")):
        if path.is_symlink() or not path.is_file():
            skipped += path.is_symlink()
            continue
        if kit.is_blob_path(path.relative_to(root).as_posix()):
            found.append(path)
        else:
            skipped += 1
    return found, skipped


def backup(
    out: Path = typer.Option(
        ..., "--out", help="a directory (a dated file is made in it) or the archive's file name"
    ),
    pg_bin: Path | None = typer.Option(
        None, "--pg-bin", help="directory of pg_dump matching the server's major version"
    ),
    keep: int | None = typer.Option(
        None,
        "--keep",
        min=1,
        max=10_000,
        help="with --out DIR: then delete all but the newest KEEP archives in DIR",
    ),
) -> None:
    """Write one archive: the database (consistent snapshot), every photo, a manifest with the
    latest signed checkpoint and the keys' public metadata. Never the private keys."""
    from civicpoints.kit.migrate import current_revision, head_revision

    settings = get_settings()
    url = settings.resolved_database_url()
    now = datetime.now(UTC).replace(microsecond=0)
    try:
        engine = kit.engine_of(url)
        target = _output(out, now)
        tools = None
        if engine == "postgresql":
            tools = kit.pg_tools(pg_bin, ("pg_dump",))
            server = kit.pg_server_major(url)
            if server > tools.major:
                raise BackupError(
                    f"pg_dump {tools.major} 旧于服务器 {server}：请安装 postgresql-client-{server}"
                    " 并用 --pg-bin 指定",
                    f"pg_dump {tools.major} is older than the server ({server}): install "
                    f"postgresql-client-{server} and point --pg-bin at it",
                )
        sessions = _sessions(settings)
        _step(1, 4, "读取检查点与密钥元数据 / reading the checkpoint and key metadata")
        revision = current_revision(url)
        checkpoint = _latest_checkpoint(settings, sessions)
        keys = {"signing": _signing_metadata(settings), "pii": _pii_metadata(settings, sessions)}
        sessions.kw["bind"].dispose()
        with tempfile.TemporaryDirectory(prefix=".civicpoints-backup-", dir=target.parent) as tmp:
            staged = Path(tmp)
            _step(2, 4, f"导出数据库 / dumping the {engine} database")
            if tools is not None:
                dump, member = staged / "db.pgdump", kit.PG_DUMP
                kit.pg_dump(tools, url, dump)
            else:
                dump, member = staged / "db.sqlite3", kit.SQLITE_COPY
                kit.sqlite_copy(kit.sqlite_path(url), dump)
            photos, skipped = _photos(settings.uploads_dir)
            _step(3, 4, f"写入归档 / writing the archive: {len(photos)} photo(s)")
            writer = kit.ArchiveWriter(target)
            try:
                writer.add_file(member, dump)
                total = sum(p.stat().st_size for p in photos)
                with _bar("照片 / photos", total) as advance:
                    for path in photos:
                        rel = path.relative_to(settings.uploads_dir).as_posix()
                        entry = writer.add_file(kit.UPLOADS + rel, path)
                        if entry.sha256 != kit.blob_hash(rel):
                            raise BackupError(
                                f"照片 {rel} 的内容与其哈希名不符（已损坏）",
                                f"photo {rel} does not hash to its name (damaged)",
                            )
                        advance(entry.size)
                manifest = {
                    "format": kit.FORMAT,
                    "app_version": __version__,
                    "created_at": now.isoformat(),
                    "engine": engine,
                    "migration_revision": revision,
                    "code_head": head_revision(),
                    "pg_dump_major": tools.major if tools else None,
                    "checkpoint": checkpoint,
                    "keys": keys,
                    "photos": len(photos),
                }
                _step(4, 4, "写入清单并落盘 / writing the manifest and syncing to disk")
                writer.commit(manifest)
            except BaseException:
                writer.abort()
                raise
    except BackupError as exc:
        _stop(exc)
    if keep is not None and out.is_dir():
        for gone in kit.prune(out, keep):
            _say(f"  已删除旧备份 / removed old backup {gone.name}")
    size = target.stat().st_size
    _say(f"✓ 备份完成 / backup written: {target} ({size:,} bytes, mode 0600)")
    if checkpoint:
        _say(
            f"  检查点 / checkpoint: global size {checkpoint['size']}, "
            f"root {checkpoint['root_hash']}"
        )
    if skipped:
        _say(f"  跳过非照片文件 / skipped {skipped} file(s) in uploads that are not photos")
    _say(
        "  私钥不在归档中，请另行离线备份 / private keys are NOT in the archive: escrow them apart"
    )


# --- restore -----------------------------------------------------------------------------


def _check_keys(manifest: dict[str, Any], settings: Settings) -> list[str]:
    """Refuse (BackupError) unless this server holds the keys the data needs; warnings."""
    from civicpoints.kit.context import existing_ring
    from civicpoints.kit.crypto import FieldCipher
    from civicpoints.ledger import NoteError, Signer, retired_verifiers

    warnings: list[str] = []
    keys = manifest.get("keys") or {}
    pii, signing = keys.get("pii") or {}, keys.get("signing") or {}
    needed = {k for k, n in (pii.get("in_use") or {}).items() if n}
    try:
        ring = existing_ring(settings)
    except ValueError as exc:  # a malformed keyring, or a PII key not in it (never quoted)
        raise BackupError(
            f"本服务器的 PII 密钥配置无法使用：{exc}", f"this server's PII keys are unusable: {exc}"
        ) from None
    if needed and ring is None:
        raise BackupError(
            f"本服务器没有 PII 密钥；数据需要密钥 {', '.join(sorted(needed))}。请先从密钥托管处"
            "恢复 pii.keyring 或设置 CIVICPOINTS_PII_KEY，未写入任何内容",
            f"no PII key on this server; the data needs key(s) {', '.join(sorted(needed))}. "
            "Install pii.keyring or CIVICPOINTS_PII_KEY from the key escrow first: nothing written",
        )
    if ring is not None:
        missing = sorted(needed - set(ring.keys))
        if missing:
            raise BackupError(
                f"本服务器的 PII 密钥环缺少密钥 {', '.join(missing)}（数据的密文需要它们），"
                "未写入任何内容",
                f"this server's PII keys lack key(s) {', '.join(missing)} that the data's "
                "ciphertexts need: nothing written",
            )
        check = pii.get("blind_index_check")
        if check and check != _blind_check(FieldCipher(ring=ring)):
            raise BackupError(
                "本服务器的盲索引密钥与备份时不同（按手机号、身份证号查找将失效），未写入任何内容",
                "this server's blind-index key differs from the backup's (look-ups by phone "
                "and ID number would fail): nothing written",
            )
    path = settings.signing_key_path
    if not path.exists():
        raise BackupError(
            f"本服务器没有检查点签名密钥 {path}（否则将生成新密钥）。请先从密钥托管处恢复 "
            "ledger.skey，未写入任何内容",
            f"no checkpoint signing key at {path} (a new, unrelated key would be made). "
            "Install ledger.skey from the key escrow first: nothing written",
        )
    try:
        here = Signer.from_skey(path.read_text(encoding="utf-8").strip()).verifier.vkey()
    except NoteError as exc:
        raise BackupError(
            f"签名密钥文件 {path} 无法读取：{exc.zh}", f"cannot read the key file {path}: {exc.en}"
        ) from None
    then = signing.get("vkey")
    if then and here != then:
        trusted = {v.vkey() for v in retired_verifiers(path)} | set(settings.ledger_trusted_vkeys)
        if then not in trusted:
            raise BackupError(
                "本服务器的检查点签名密钥不是签署这些检查点的密钥，也不在已退役公钥中，"
                "未写入任何内容",
                f"this server's checkpoint key ({here}) is not the key that signed the backup's "
                f"checkpoints ({then}) nor lists it as retired: nothing written",
            )
        warnings.append(
            "签名密钥已在备份后轮换 / the signing key was rotated since the backup "
            f"(now {here}); the backup's key is listed as retired"
        )
    return warnings


def _check_revision(manifest: dict[str, Any]) -> str | None:
    """The archive's migration revision; BackupError if this code does not know it (newer)."""
    from civicpoints.kit.migrate import known_revision

    revision = manifest.get("migration_revision")
    if revision is not None and not known_revision(str(revision)):
        raise BackupError(
            f"备份的数据库版本 {revision} 比本程序新，请用更新的 CivicPoints 恢复",
            f"the backup's database is at revision {revision}, newer than this code knows: "
            "restore with a newer CivicPoints",
        )
    return None if revision is None else str(revision)


def _target_empty(engine: str, url: str) -> bool:
    if engine == "postgresql":
        return kit.pg_is_empty(url)
    return kit.sqlite_is_empty(kit.sqlite_path(url))


def _place_photos(staging: Path, uploads: Path, archive: kit.Archive) -> int:
    """Move the staged photos into the uploads directory (content-addressed: one already
    there with the same hash is kept); then read each back and check its hash."""
    uploads.mkdir(parents=True, exist_ok=True)
    for entry in archive.photos:
        rel = entry.name[len(kit.UPLOADS) :]
        source, target = staging / entry.name, uploads / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        same = target.is_file() and not target.is_symlink() and target.stat().st_size == entry.size
        if same and kit.sha256_file(target) == entry.sha256:
            continue
        source.replace(target)
        target.chmod(0o640)
    bad = 0
    for entry in archive.photos:
        target = uploads / entry.name[len(kit.UPLOADS) :]
        if not target.is_file() or kit.sha256_file(target) != entry.sha256:
            bad += 1
    return bad


def _verify(settings: Settings, notes: list[str]) -> Any:
    """Verify the restored ledger, trusting the saved checkpoints `notes`."""
    from civicpoints.cli.ledger_verify import print_summary, trusted_verifiers, verify_progress
    from civicpoints.ledger import verify_ledger

    sessions = _sessions(settings)
    try:
        with sessions() as s:
            verifiers = trusted_verifiers(s, [], settings)
        with sessions() as s, verify_progress() as on_progress:
            report = verify_ledger(
                s,
                verifiers,
                on_progress,
                trusted=notes,
                max_lag_s=settings.sequencer_max_lag_s,
            )
        for found in report.faults[:20]:
            console.print(f"[red]✗[/red] {escape(str(found))}", highlight=False, soft_wrap=True)
        print_summary(report)
        return report
    finally:
        sessions.kw["bind"].dispose()


def restore(
    archive_path: Path = typer.Argument(..., metavar="ARCHIVE", help="a civicpoints backup .tar"),
    replace: bool = typer.Option(
        False, "--replace", "--force", help="replace a database that is not empty (destructive)"
    ),
    checkpoint: list[Path] = typer.Option(
        None, "--checkpoint", help="a checkpoint saved earlier (signed note or latest JSON)"
    ),
    skip_key_check: bool = typer.Option(
        False, "--skip-key-check", help="restore even if this server lacks keys the data needs"
    ),
    pg_bin: Path | None = typer.Option(
        None, "--pg-bin", help="directory of pg_restore and psql (PostgreSQL)"
    ),
) -> None:
    """Check the archive, then restore the database and photos and verify the ledger.

    Nothing is written unless the archive verifies, the keys fit and the database is empty
    (or --replace). Stop the servers and workers first. Exit 0: restored and verified; 1:
    refused or the verification failed; 2: bad usage."""
    from civicpoints.cli.ledger_verify import saved_notes
    from civicpoints.kit.migrate import current_revision, head_revision

    settings = get_settings()
    url = settings.resolved_database_url()
    if not archive_path.is_file():
        _stop(f"没有归档文件 {archive_path} / no archive file at {archive_path}", 2)
    saved: list[str] = []
    for path in checkpoint or []:
        try:
            saved += saved_notes(path)
        except (OSError, ValueError, KeyError, TypeError):
            _stop(f"无法读取检查点 {path} / cannot read the checkpoint {path}", 2)
    try:
        engine = kit.engine_of(url)
        _step(1, 6, f"校验归档 / verifying every checksum in {archive_path.name}")
        with _bar("校验 / verifying", archive_path.stat().st_size) as advance:
            archive = kit.read_archive(archive_path, advance)
        manifest = archive.manifest
        if manifest.get("engine") != engine:
            raise BackupError(
                f"归档来自 {manifest.get('engine')}，目标是 {engine}",
                f"the archive holds a {manifest.get('engine')} database; the target is {engine}",
            )
        revision = _check_revision(manifest)
        _step(2, 6, "检查密钥与目标数据库 / checking keys and the target database")
        warnings = [] if skip_key_check else _check_keys(manifest, settings)
        if skip_key_check:
            warnings.append("未检查密钥 / keys not checked (--skip-key-check)")
        tools = None
        if engine == "postgresql":
            tools = kit.pg_tools(pg_bin, ("pg_restore", "psql"))
            made_by = manifest.get("pg_dump_major") or 0
            if made_by > tools.major:
                raise BackupError(
                    f"归档由 pg_dump {made_by} 生成，pg_restore {tools.major} 无法读取",
                    f"the dump was made by pg_dump {made_by}; pg_restore {tools.major} cannot "
                    "read it: install a newer client and use --pg-bin",
                )
        if not replace and not _target_empty(engine, url):
            raise BackupError(
                "目标数据库不是空的；确认要覆盖请加 --replace，未写入任何内容",
                "the target database is not empty: pass --replace to overwrite it "
                "(nothing written)",
            )
        if engine == "postgresql" and (others := kit.pg_other_sessions(url)):
            warnings.append(
                f"目标数据库还有 {others} 个其他连接，请先停止 serve 和 worker / {others} other "
                "session(s) are connected to the target database: stop serve and worker first"
            )
        for text in warnings:
            _say(f"! {text}")
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".restore-", dir=settings.var_dir) as tmp:
            staging = Path(tmp)
            _step(3, 6, "解包到临时目录 / unpacking to a staging directory")
            with _bar("解包 / unpacking", archive_path.stat().st_size) as advance:
                kit.extract(archive, staging, advance)
            _step(4, 6, f"恢复数据库 / restoring the {engine} database (one transaction)")
            dump = staging / archive.database.name
            if tools is not None:
                kit.pg_restore(tools, url, dump, replace)
            else:
                kit.sqlite_restore(dump, kit.sqlite_path(url))
            _step(5, 6, f"恢复照片 / restoring {len(archive.photos)} photo(s)")
            bad = _place_photos(staging, settings.uploads_dir, archive)
            shutil.rmtree(staging, ignore_errors=True)
    except BackupError as exc:
        _stop(exc)
    if bad:
        _stop(f"{bad} 张照片无法读取或不符 / {bad} photo(s) unreadable or not matching")
    _say(f"✓ 照片均可读且与哈希一致 / every photo ({len(archive.photos)}) readable and matching")
    now_at = current_revision(url)
    if now_at != revision:
        _stop(
            f"恢复后数据库版本为 {now_at}，应为 {revision} / restored revision {now_at}, "
            f"expected {revision}"
        )
    if revision != head_revision():
        _say(
            f"! 数据库版本 {revision} 旧于本程序 {head_revision()}：请运行 `civicpoints db "
            "upgrade`，然后 `civicpoints ledger verify` / the database is at revision "
            f"{revision}, older than this code's {head_revision()}: run `civicpoints db upgrade`, "
            "then `civicpoints ledger verify`"
        )
        return
    _step(6, 6, "校验账本 / verifying the ledger")
    cp = manifest.get("checkpoint") or {}
    notes = ([cp["note"]] if cp.get("note") else []) + saved
    report = _verify(settings, notes)
    if not report.ok:
        _stop("账本校验失败 / the restored ledger did not verify")
    if cp:
        _say(
            f"✓ 与备份时的检查点一致 / consistent with the checkpoint saved at backup: "
            f"global size {cp['size']}, root {cp['root_hash']}"
        )
    if saved:
        _say(f"✓ 与给定的 {len(saved)} 个检查点一致 / consistent with {len(saved)} given note(s)")
    _say("✓ 恢复完成 / restore complete")
