"""Checkpoint signing keys on disk, in Go's note key text formats (skey / vkey)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from civicpoints.kit.settings import Settings
from civicpoints.ledger.note import NoteError, Signer, Verifier


def generate_signer(name: str) -> Signer:
    """A new random Ed25519 signer under the key name `name`."""
    return Signer(name, Ed25519PrivateKey.generate())


def load_or_create_signer(path: Path, name: str) -> Signer:
    """The signer whose skey is in `path`; if there is none, a new one saved there (mode 0600)."""
    if path.exists():
        return _read_signer(path, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = generate_signer(name)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        _write_private(tmp, (signer.skey() + "\n").encode("utf-8"))
        # link, not rename: rename would replace a key another process created a moment ago,
        # and checkpoints it already published would then be signed by a key we forgot.
        os.link(tmp, path)
    except FileExistsError:
        return _read_signer(path, name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)
    return signer


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


def _write_private(path: Path, data: bytes) -> None:
    """Create `path` exclusively with mode 0600, write `data` and flush it to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)  # the umask may only narrow the mode; make it exact
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry so a newly created key file survives a crash."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def log_signer(settings: Settings) -> Signer:
    """The checkpoint signer named by the settings (created under var/ for a demo)."""
    return load_or_create_signer(settings.signing_key_path, settings.ledger_origin)
