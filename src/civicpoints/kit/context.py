"""What every service needs besides a session: settings and the PII cipher."""

from __future__ import annotations

from dataclasses import dataclass

from civicpoints.kit.crypto import (
    FieldCipher,
    KeyRing,
    key_from_b64,
    key_id,
    load_or_create_key,
    ring_from_json,
    ring_of,
)
from civicpoints.kit.production import refuse_generating
from civicpoints.kit.settings import Settings


@dataclass(frozen=True)
class Context:
    """Process-wide collaborators, built once at start-up and passed to services."""

    settings: Settings
    cipher: FieldCipher


def build_context(settings: Settings) -> Context:
    """Load (or, for a dev install, create under var/) the PII key and build the context."""
    return Context(
        settings=settings,
        cipher=FieldCipher(ring=load_ring(settings), source=settings.pii_keyring_path),
    )


def load_ring(settings: Settings) -> KeyRing:
    """The keyring file once `keys rotate-pii` wrote one; before that the single key."""
    path = settings.pii_keyring_path
    if path.exists():
        ring = ring_from_json(path.read_bytes())
        if settings.pii_key:
            kid = key_id(key_from_b64(settings.pii_key))
            if kid not in ring.keys and kid not in ring.retired:
                # Another installation's key, or the wrong keyring: refuse rather than guess.
                raise ValueError(f"CIVICPOINTS_PII_KEY (key {kid}) is not in the keyring {path}")
        return ring
    if settings.pii_key:
        return ring_of(key_from_b64(settings.pii_key))
    refuse_generating(settings, path, "个人信息加密密钥", "PII key")
    return ring_of(load_or_create_key(settings.pii_key_path))


def existing_ring(settings: Settings) -> KeyRing | None:
    """The PII keys configured here, as `load_ring` reads them, but never creating a key:
    None when there is no keyring, no CIVICPOINTS_PII_KEY and no dev key file."""
    if settings.pii_keyring_path.exists() or settings.pii_key:
        return load_ring(settings)
    if settings.pii_key_path.exists():
        return ring_of(key_from_b64(settings.pii_key_path.read_text(encoding="ascii")))
    return None
