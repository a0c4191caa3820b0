"""Checkpoint signing keys on disk, in Go's note key text formats (skey / vkey)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from civicpoints.kit.files import create_secret_once, fsync_dir
from civicpoints.kit.production import refuse_generating
from civicpoints.kit.settings import Settings
from civicpoints.ledger.note import NoteError, Signer, Verifier, open_note, sign_note


def generate_signer(name: str) -> Signer:
    """A new random Ed25519 signer under the key name `name`."""
    return Signer(name, Ed25519PrivateKey.generate())


def load_or_create_signer(path: Path, name: str) -> Signer:
    """The signer whose skey is in `path`; if there is none, a new one saved there (mode 0600)."""
    if not path.exists():
        signer = generate_signer(name)
        if create_secret_once(path, (signer.skey() + "\n").encode("utf-8")):
            return signer
    return _read_signer(path, name)


def load_verifier(text_or_path: str | Path) -> Verifier:
    """A verifier from vkey text (a str) or from the file at a Path holding the vkey text."""
    if isinstance(text_or_path, Path):
        return Verifier.from_vkey(text_or_path.read_text(encoding="utf-8").strip())
    return Verifier.from_vkey(text_or_path.strip())


def _read_signer(path: Path, name: str) -> Signer:
    """Read the skey in `path` and check it is the key for `name`."""
    signer = Signer.from_skey(path.read_text(encoding="utf-8").strip())
    if signer.name != name:
        # A renamed log under an old key would publish checkpoints nobody's vkey accepts.
        raise NoteError(
            f"密钥文件 {path} 属于 {signer.name!r}，不是 {name!r}",
            f"key file {path} holds the key of {signer.name!r}, not {name!r}",
        )
    return signer


def log_signer(settings: Settings) -> Signer:
    """The checkpoint signer named by the settings (created under var/ for a demo; production
    reads only the file CIVICPOINTS_LEDGER_KEY_FILE names and never creates one)."""
    path = settings.signing_key_path
    if settings.ledger_key_file is None or not path.exists():
        refuse_generating(settings, path, "检查点签名密钥", "checkpoint signing key")
    return load_or_create_signer(path, settings.ledger_origin)


# --- rotation (docs/keys.md) ---------------------------------------------------------------
#
# `keys rotate-signing`: the next key is created beside the current one (`<key>.next`, 0600),
# the current key's public half is appended to `<stem>.retired.vkeys` (outside the database,
# so the nightly verification can pin it) and recorded as retired in ledger_signing_key, then
# the next key replaces the current file. A run that stopped half way reuses the `.next` key.


def next_key_path(path: Path) -> Path:
    """Where the next signing key waits until it replaces the current one."""
    return path.with_name(path.name + ".next")


def retired_vkeys_path(path: Path) -> Path:
    """The file of retired log keys' vkeys (public, one a line) beside the key file."""
    return path.with_name(f"{path.stem}.retired.vkeys")


def prepare_rotation(path: Path, name: str) -> tuple[Signer, Signer]:
    """(current signer, next signer): the next key is created once and kept until switched."""
    if not path.exists():
        raise NoteError(
            f"没有签名密钥文件 {path}，无可轮换", f"no signing key at {path}: nothing to rotate"
        )
    old = _read_signer(path, name)
    new = load_or_create_signer(next_key_path(path), name)
    return old, new


def remember_retired(path: Path, retired: Verifier) -> None:
    """Append a retired key's vkey to the retired-keys file (once)."""
    target = retired_vkeys_path(path)
    known = {v.key_hash for v in retired_verifiers(path)}
    if retired.key_hash in known:
        return
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(retired.vkey() + "\n")
        f.flush()
        os.fsync(f.fileno())
    fsync_dir(target.parent)


def retired_verifiers(path: Path) -> list[Verifier]:
    """The retired log keys listed beside the key file at `path` (none if no file)."""
    target = retired_vkeys_path(path)
    if not target.exists():
        return []
    lines = target.read_text(encoding="utf-8").splitlines()
    return [Verifier.from_vkey(line.strip()) for line in lines if line.strip()]


def switch_to_next(path: Path) -> None:
    """Make the next key current: atomically replace the key file (the old private key goes)."""
    os.replace(next_key_path(path), path)
    fsync_dir(path.parent)


# --- the rotation statement: the old key vouches for the new one -----------------------------

ROTATION_HEADER = "civicpoints-key-rotation-v1"


def rotation_note_path(path: Path, new: Verifier) -> Path:
    """Where the statement of the rotation to `new` is kept (public) beside the key file."""
    return path.with_name(f"{path.stem}.rotation-{new.key_hash:08x}.note")


def rotation_statement(old: Signer, new: Signer, at: datetime) -> str:
    """A signed note naming the old and new public keys, signed by both: whoever pinned the
    old key can take the new one from it (the new key's signature proves it is held)."""
    body = (
        f"{ROTATION_HEADER}\n{old.name}\nold {old.verifier.vkey()}\n"
        f"new {new.verifier.vkey()}\nat {at.isoformat()}\n"
    )
    return sign_note(body, [old, new])


def open_rotation(note: str, trusted: Sequence[Verifier]) -> Verifier:
    """The new key a rotation statement names, if a trusted key is its old key and signed it,
    and the new key signed it too; NoteError otherwise."""
    body, _ = open_note(note, trusted)
    lines = body.split("\n")
    if len(lines) < 5 or lines[0] != ROTATION_HEADER:
        raise NoteError("不是密钥轮换声明", "not a key rotation statement")
    if not (lines[2].startswith("old ") and lines[3].startswith("new ")):
        raise NoteError("密钥轮换声明格式错误", "malformed key rotation statement")
    old, new = Verifier.from_vkey(lines[2][4:]), Verifier.from_vkey(lines[3][4:])
    if old not in trusted:
        raise NoteError("旧密钥不是所信任的密钥", "the statement's old key is not a trusted key")
    open_note(note, [old])  # the old key itself signed (not merely another trusted key)
    open_note(note, [new])  # and the new key proved it is held
    return new
