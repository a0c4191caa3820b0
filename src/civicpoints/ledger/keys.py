"""Checkpoint signing keys on disk, in Go's note key text formats (skey / vkey)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from civicpoints.kit.files import create_secret_once
from civicpoints.kit.settings import Settings
from civicpoints.ledger.note import NoteError, Signer, Verifier


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
    """The checkpoint signer named by the settings (created under var/ for a demo)."""
    return load_or_create_signer(settings.signing_key_path, settings.ledger_origin)
