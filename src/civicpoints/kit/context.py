"""What every service needs besides a session: settings and the PII cipher."""

from __future__ import annotations

from dataclasses import dataclass

from civicpoints.kit.crypto import FieldCipher, key_from_b64, load_or_create_key
from civicpoints.kit.settings import Settings


@dataclass(frozen=True)
class Context:
    """Process-wide collaborators, built once at start-up and passed to services."""

    settings: Settings
    cipher: FieldCipher


def build_context(settings: Settings) -> Context:
    """Load (or, for a dev install, create under var/) the PII key and build the context."""
    if settings.pii_key:
        key = key_from_b64(settings.pii_key)
    else:
        key = load_or_create_key(settings.var_dir / "keys" / "pii.key")
    return Context(settings=settings, cipher=FieldCipher(key))
