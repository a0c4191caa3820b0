"""Encryption at rest for personal information (PIPL): AES-256-GCM fields and blind indexes.

One 32-byte master key is expanded with HKDF-SHA256 into an encryption key and an HMAC key,
so the two uses never share key material. A ciphertext is

    0x01 (version) | 12-byte random nonce | AES-GCM ciphertext and 16-byte tag

with the column name (e.g. "identity_resident.id_number") as associated data, so a value
copied into another column does not decrypt. A blind index (HMAC) lets the database look up
and enforce uniqueness on a value without storing it in clear.

Changing the derivation labels or the layout makes every stored value unreadable: add a
new version byte instead.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from civicpoints.kit.files import create_secret_once

KEY_BYTES = 32
VERSION = 0x01
NONCE_BYTES = 12
TAG_BYTES = 16
_ENC_INFO = b"civicpoints/field-cipher/v1/aes-256-gcm"
_MAC_INFO = b"civicpoints/field-cipher/v1/blind-index-hmac-sha256"


class DecryptionError(Exception):
    """A blob that cannot be decrypted: unknown version, truncated, tampered, wrong key/context."""


def _derive(master_key: bytes, info: bytes) -> bytes:
    """A 32-byte subkey of `master_key` for the purpose named by `info`."""
    # No salt: the master key is already uniformly random, which is all HKDF's salt adds.
    return HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master_key)


class FieldCipher:
    """Encrypts, decrypts and blind-indexes string fields under one 32-byte master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"master key must be {KEY_BYTES} bytes, got {len(master_key)}")
        self._aead = AESGCM(_derive(master_key, _ENC_INFO))
        self._mac_key = _derive(master_key, _MAC_INFO)

    def __repr__(self) -> str:
        return "FieldCipher(<key hidden>)"

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """Version byte + random nonce + AES-GCM ciphertext of `plaintext`, bound to `context`."""
        # NIST SP 800-38D allows 2**32 encryptions per key with random 96-bit nonces; a
        # city's personal-information fields are orders of magnitude below that.
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return bytes([VERSION]) + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> str:
        """The plaintext of `encrypt(…, context)`; DecryptionError if anything does not match."""
        if len(blob) < 1 + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("ciphertext is too short to be a field ciphertext")
        if blob[0] != VERSION:
            raise DecryptionError(f"unknown ciphertext version {blob[0]:#04x}")
        nonce, sealed = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, sealed, context.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(
                "ciphertext failed authentication: tampered, or wrong key or context"
            ) from None
        return plain.decode("utf-8")

    def blind_index(self, value: str, context: str) -> str:
        """Hex HMAC-SHA256 of context + NUL + value: equal values match only within a context."""
        # A NUL inside the context would make ("a\0b", "c") and ("a", "b\0c") collide.
        if "\0" in context:
            raise ValueError("blind index context must not contain NUL")
        message = context.encode("utf-8") + b"\0" + value.encode("utf-8")
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()


def key_from_b64(text: str) -> bytes:
    """The 32-byte key encoded in base64 `text`; ValueError if not base64 or not 32 bytes."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        # The offending text is a key: never echo it into an error message.
        raise ValueError("master key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"master key must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def load_or_create_key(path: Path) -> bytes:
    """The base64 key in `path`; if there is none, a new random key written there with mode 0600."""
    if not path.exists():
        key = os.urandom(KEY_BYTES)
        if create_secret_once(path, base64.b64encode(key) + b"\n"):
            return key
    return key_from_b64(path.read_text(encoding="ascii"))
