"""`civicpoints keys …`: rotate the checkpoint signing key and the PII key (docs/keys.md).

Nothing here prints or logs a private key, a PII key or a plaintext: only key ids, public
keys (vkeys), column names and counts.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.rekey import MAX_BATCH, EncryptedColumn, Rekeyer, RekeyStopped
from civicpoints.kit.settings import Settings, get_settings

keys_app = typer.Typer(help="密钥轮换 / key rotation", no_args_is_help=True)
console = Console()


def _sessions(settings: Settings) -> sessionmaker[Session]:
    """A session factory on the configured database."""
    return make_session_factory(make_engine(settings.resolved_database_url()))


def _refuse(message: str, code: int = 2) -> typer.Exit:
    """Print why the command stops; the caller raises the returned Exit."""
    console.print(f"[red]✗ {escape(message)}[/red]", highlight=False)
    return typer.Exit(code)


def encrypted_columns() -> list[EncryptedColumn]:
    """Every column of field ciphertexts the domains declare (a new domain adds its list here)."""
    from civicpoints.identity import ENCRYPTED_COLUMNS as IDENTITY

    return [*IDENTITY]


# --- a new installation's keys ------------------------------------------------------------


@keys_app.command("init")
def init(
    signing_key_file: Path | None = typer.Option(
        None, "--signing-key-file", help="write a new checkpoint signing key here (0600)"
    ),
    pii_keyring_file: Path | None = typer.Option(
        None, "--pii-keyring-file", help="write a new PII keyring with one key here (0600)"
    ),
) -> None:
    """Create a production installation's keys, once: an existing file is never replaced.

    Point CIVICPOINTS_LEDGER_KEY_FILE and CIVICPOINTS_PII_KEYRING_FILE at the files written;
    the key's name is CIVICPOINTS_LEDGER_ORIGIN. Prints the public vkey and the PII key's id.
    """
    from civicpoints.kit.crypto import KEY_BYTES, ring_of, ring_to_json
    from civicpoints.kit.files import create_secret_once
    from civicpoints.ledger import load_or_create_signer

    if signing_key_file is None and pii_keyring_file is None:
        raise _refuse(
            "请指定 --signing-key-file 和/或 --pii-keyring-file / "
            "name --signing-key-file and/or --pii-keyring-file"
        )
    for path in (signing_key_file, pii_keyring_file):
        if path is not None and (path.exists() or path.is_symlink()):
            raise _refuse(f"{path} 已存在，不会覆盖 / {path} exists and is never replaced", 1)
    if signing_key_file is not None:
        signer = load_or_create_signer(signing_key_file, get_settings().ledger_origin)
        console.print(
            f"签名密钥 / signing key: {signing_key_file}\n公钥 / vkey: {signer.verifier.vkey()}",
            highlight=False,
            soft_wrap=True,
        )
    if pii_keyring_file is not None:
        ring = ring_of(os.urandom(KEY_BYTES))
        if not create_secret_once(pii_keyring_file, ring_to_json(ring)):
            raise _refuse(f"{pii_keyring_file} 已存在 / {pii_keyring_file} exists", 1)
        console.print(
            f"个人信息密钥环 / PII keyring: {pii_keyring_file} (key {ring.current})",
            highlight=False,
            soft_wrap=True,
        )


# --- the checkpoint signing key ------------------------------------------------------------


@keys_app.command("rotate-signing")
def rotate_signing() -> None:
    """A new Ed25519 checkpoint key becomes current; the old one stays listed and verifiable."""
    from civicpoints.kit.clock import utcnow
    from civicpoints.ledger import (
        NoteError,
        prepare_rotation,
        record_rotation,
        remember_retired,
        rotation_note_path,
        rotation_statement,
        switch_to_next,
    )

    settings = get_settings()
    path = settings.signing_key_path
    try:
        old, new = prepare_rotation(path, settings.ledger_origin)
    except NoteError as exc:
        raise _refuse(str(exc)) from None
    statement = rotation_note_path(path, new.verifier)
    statement.write_text(rotation_statement(old, new, utcnow()), encoding="utf-8")
    remember_retired(path, old.verifier)
    with transaction(_sessions(settings)) as s:
        record_rotation(s, old, new)
    switch_to_next(path)
    console.print(f"已退役 / retired:  {old.verifier.vkey()}", highlight=False, soft_wrap=True)
    console.print(f"当前 / current:    {new.verifier.vkey()}", highlight=False, soft_wrap=True)
    console.print(
        "旧公钥仍在 /api/v1/ledger/keys 与 "
        f"{path.with_name(path.stem + '.retired.vkeys')} 中，旧检查点与回执照常可验。 / "
        "The old key stays listed; checkpoints, receipts and certificates it signed still "
        "verify. Give witnesses and auditors the new vkey.",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"轮换声明（旧密钥为新密钥作证）/ rotation statement, signed by both keys: {statement}",
        highlight=False,
        soft_wrap=True,
    )


@keys_app.command("verify-rotation")
def verify_rotation(
    file: Path,
    public_key: list[str] = typer.Option(
        ..., "--public-key", help="the old key you trust: vkey text or a file holding it"
    ),
) -> None:
    """Check a rotation statement with the old key you trust; print the new key it vouches for."""
    from civicpoints.ledger import NoteError, load_verifier, open_rotation

    try:
        trusted = [load_verifier(Path(k) if Path(k).is_file() else k) for k in public_key]
        note = file.read_text(encoding="utf-8")
    except (NoteError, OSError, UnicodeDecodeError) as exc:
        raise _refuse(f"无法读取 / cannot read: {exc}") from None
    try:
        new = open_rotation(note, trusted)
    except NoteError as exc:
        console.print(f"[red]✗ {escape(str(exc))}[/red]", highlight=False)
        raise typer.Exit(1) from None
    console.print(
        f"[green]✓ 新密钥 / new key[/green] {new.vkey()}", highlight=False, soft_wrap=True
    )


# --- the PII key ---------------------------------------------------------------------------


def _progress_path(settings: Settings) -> Path:
    """The rotation's progress file beside the keyring (key ids and cursors, no secrets)."""
    ring = settings.pii_keyring_path
    return ring.with_name(ring.name + ".progress")


def _rekeyer(settings: Settings) -> Rekeyer:
    from civicpoints.kit.context import build_context

    ctx = build_context(settings)
    return Rekeyer(_sessions(settings), ctx.cipher, encrypted_columns(), _progress_path(settings))


@keys_app.command("rotate-pii")
def rotate_pii(
    batch: int = typer.Option(500, min=1, max=MAX_BATCH, help="rows per transaction"),
    max_batches: int | None = typer.Option(
        None, "--max-batches", min=1, help="stop after this many batches (rerun to continue)"
    ),
    resume: bool = typer.Option(
        False, "--resume", help="no new key: finish re-encrypting under the current key"
    ),
) -> None:
    """A new PII key becomes current; every ciphertext is re-encrypted in batches, online.

    A rerun after an interruption continues where the last one stopped (no second key)."""
    from civicpoints.kit.crypto import KEY_BYTES, with_new_key, write_ring
    from civicpoints.kit.rekey import RekeyProgress

    settings = get_settings()
    rekeyer = _rekeyer(settings)
    ring = rekeyer.cipher.ring
    names = [c.name for c in rekeyer.columns]
    unfinished = RekeyProgress.pending(_progress_path(settings), ring.current, names)
    if resume or unfinished:
        if not unfinished:  # --resume after a finished walk: all again, e.g. before retiring
            RekeyProgress(ring.current, {}, []).save(_progress_path(settings))
        console.print(f"继续轮换到密钥 / continuing the rotation to key {ring.current}")
    else:
        ring = with_new_key(ring, os.urandom(KEY_BYTES))
        # Progress first: a crash right after the keyring is written still resumes this key.
        RekeyProgress(ring.current, {}, []).save(_progress_path(settings))
        write_ring(settings.pii_keyring_path, ring)
        rekeyer.cipher.refresh()
        console.print(
            f"新密钥 / new current key {ring.current}; 旧密钥仍可解密 / old keys still read"
        )
    columns = TextColumn("{task.description}")
    with Progress(
        columns, BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task(
            "重新加密 / re-encrypting", total=rekeyer.total_rows(), completed=rekeyer.rows_done()
        )
        try:
            report = rekeyer.run(
                batch, max_batches, on_batch=lambda _name, n: bar.update(task, advance=n)
            )
        except RekeyStopped as exc:
            bar.stop()
            raise _refuse(
                f"{exc.column} 第 {exc.pk} 行无法解密，已停止；修复后重新运行以继续 / "
                f"stopped: {exc}. Repair or remove that row, then rerun to continue",
                1,
            ) from None
    console.print(
        f"已重新加密 / re-encrypted {report.rewritten} value(s) in {report.batches} batch(es)"
    )
    if not report.finished:
        console.print("未完成，重新运行以继续 / not finished: run `keys rotate-pii` again")
        raise typer.Exit(3)
    old = [k for k in ring.keys if k != ring.current]
    if old:
        console.print(
            "完成。确认无误后退役旧密钥 / done; retire the old key(s) with "
            + ", ".join(f"`civicpoints keys retire-pii {k}`" for k in sorted(old))
        )


@keys_app.command("retire-pii")
def retire_pii(key_id: str = typer.Argument(..., help="the key id to retire")) -> None:
    """Drop an old PII key; refused while any ciphertext is still under it."""
    from civicpoints.kit.crypto import key_from_b64, without_key, write_ring
    from civicpoints.kit.crypto import key_id as id_of

    settings = get_settings()
    rekeyer = _rekeyer(settings)
    ring = rekeyer.cipher.ring
    if key_id not in ring.keys:
        raise _refuse(f"密钥环中没有密钥 {key_id} / no key {key_id} in the keyring")
    if key_id == ring.current:
        raise _refuse(f"{key_id} 是当前密钥 / {key_id} is the current key: rotate first")
    if not settings.pii_keyring_path.exists():
        raise _refuse("还没有密钥环 / there is no keyring yet: run `keys rotate-pii` first")
    left = rekeyer.count_using(key_id)
    if left:
        raise _refuse(
            f"仍有 {left} 个密文使用密钥 {key_id}，请先运行 `keys rotate-pii --resume` / "
            f"{left} ciphertext(s) still use key {key_id}: run `keys rotate-pii --resume` first",
            1,
        )
    write_ring(settings.pii_keyring_path, without_key(ring, key_id))
    dev_file = settings.pii_key_path
    if dev_file.exists() and id_of(key_from_b64(dev_file.read_text(encoding="ascii"))) == key_id:
        dev_file.unlink()  # the old single-key file would otherwise keep the retired key
    console.print(f"已退役密钥 / retired key {key_id}")
    if settings.pii_key and id_of(key_from_b64(settings.pii_key)) == key_id:
        console.print(
            "请从环境中删除 CIVICPOINTS_PII_KEY / remove CIVICPOINTS_PII_KEY from the "
            "environment: it holds the retired key (the keyring is used from now on)"
        )
