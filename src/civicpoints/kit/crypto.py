"""Encryption at rest for personal information (PIPL): AES-256-GCM fields and blind indexes.

One 32-byte master key is expanded with HKDF-SHA256 into an encryption key and an HMAC key,
so the two uses never share key material. A ciphertext is

    0x01 (version) | 12-byte random nonce | AES-GCM ciphertext and 16-byte tag

with the column name (e.g. "identity_resident.id_number") as associated data, so a value
copied into another column does not decrypt. A blind index (HMAC) lets the database look up
and enforce uniqueness on a value without storing it in clear.

Changing the derivation labels or the layout makes every stored value unreadable: add a
new version byte instead.

Key rotation (docs/keys.md) adds version 0x02, which names its key:

    0x02 | 4-byte key id | 12-byte nonce | AES-GCM ciphertext and 16-byte tag

A `KeyRing` holds every key still readable, the current one for writes, and the "legacy" key
that version-0x01 blobs (written before any rotation) were encrypted with. While the current
key is the legacy key, new values are still written as 0x01, so an installation that never
rotates keeps its layout. Blind indexes use one HMAC subkey that rotation keeps (recomputing
them would need every plaintext, and device hashes have none); retiring a key drops its
master key, so its HMAC subkey is stored on its own in the ring.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from civicpoints.kit.files import create_secret_once

KEY_BYTES = 32
VERSION = 0x01
VERSION_KEYED = 0x02
KEY_ID_BYTES = 4
NONCE_BYTES = 12
TAG_BYTES = 16
_ENC_INFO = b"civicpoints/field-cipher/v1/aes-256-gcm"
_MAC_INFO = b"civicpoints/field-cipher/v1/blind-index-hmac-sha256"
_ID_INFO = b"civicpoints/field-cipher/v2/key-id"


class DecryptionError(Exception):
    """A blob that cannot be decrypted: unknown version, truncated, tampered, wrong key/context."""


def _derive(master_key: bytes, info: bytes) -> bytes:
    """A 32-byte subkey of `master_key` for the purpose named by `info`."""
    # No salt: the master key is already uniformly random, which is all HKDF's salt adds.
    return HKDF(algorithm=SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master_key)


def key_id(master_key: bytes) -> str:
    """A key's public name: 8 hex digits derived from it (reveals nothing usable about it)."""
    return _derive(master_key, _ID_INFO)[:KEY_ID_BYTES].hex()


@dataclass(frozen=True)
class KeyRing:
    """The PII master keys by id, the current one, the legacy one (0x01 blobs) and the
    blind-index HMAC subkey. Pure data: `ring_to_json` / `ring_from_json` store it."""

    keys: Mapping[str, bytes]
    current: str
    legacy: str | None
    mac_key: bytes
    retired: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise ValueError("the current key must be in the ring")
        for kid, key in self.keys.items():
            if len(key) != KEY_BYTES or key_id(key) != kid:
                raise ValueError(f"key {kid} does not match its id")

    def __repr__(self) -> str:
        return f"KeyRing(current={self.current}, ids={sorted(self.keys)}, <keys hidden>)"


def ring_of(master_key: bytes) -> KeyRing:
    """The ring of an installation that has never rotated: one key, also the legacy key."""
    if len(master_key) != KEY_BYTES:
        raise ValueError(f"master key must be {KEY_BYTES} bytes, got {len(master_key)}")
    kid = key_id(master_key)
    return KeyRing({kid: master_key}, kid, kid, _derive(master_key, _MAC_INFO))


def with_new_key(ring: KeyRing, master_key: bytes) -> KeyRing:
    """The ring with `master_key` added and made current (the others stay readable)."""
    kid = key_id(master_key)
    if kid in ring.retired:
        raise ValueError(f"key {kid} was retired and cannot come back")
    return replace(ring, keys={**ring.keys, kid: master_key}, current=kid)


def without_key(ring: KeyRing, kid: str) -> KeyRing:
    """The ring with key `kid` dropped (never the current one); its blobs become unreadable."""
    if kid == ring.current:
        raise ValueError("the current key cannot be retired")
    if kid not in ring.keys:
        raise ValueError(f"no key {kid} in the ring")
    keys = {k: v for k, v in ring.keys.items() if k != kid}
    legacy = None if ring.legacy == kid else ring.legacy
    return replace(ring, keys=keys, legacy=legacy, retired=(*ring.retired, kid))


def ring_to_json(ring: KeyRing) -> bytes:
    """The ring as the JSON of the keyring file (secret: mode 0600)."""
    b64 = base64.b64encode
    doc = {
        "format": "civicpoints-pii-keyring-v1",
        "current": ring.current,
        "legacy": ring.legacy,
        "blind_index_key": b64(ring.mac_key).decode("ascii"),
        "keys": {kid: b64(key).decode("ascii") for kid, key in sorted(ring.keys.items())},
        "retired": list(ring.retired),
    }
    return (json.dumps(doc, indent=2) + "\n").encode("ascii")


def ring_from_json(data: bytes) -> KeyRing:
    """The ring in a keyring file; ValueError (never quoting the file) if it is not one."""
    try:
        doc = json.loads(data)
        if doc.get("format") != "civicpoints-pii-keyring-v1":
            raise ValueError("not a civicpoints PII keyring")
        keys = {str(k): key_from_b64(v) for k, v in doc["keys"].items()}
        return KeyRing(
            keys,
            str(doc["current"]),
            None if doc["legacy"] is None else str(doc["legacy"]),
            key_from_b64(doc["blind_index_key"]),
            tuple(str(k) for k in doc.get("retired", [])),
        )
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError):
        raise ValueError("the keyring file is malformed") from None


class FieldCipher:
    """Encrypts, decrypts and blind-indexes string fields under a ring of 32-byte master keys.

    With `source`, the keyring file is re-read when it changes (one stat before each write and
    read), so a running server follows `keys rotate-pii` and `keys retire-pii` at once.
    """

    def __init__(
        self,
        master_key: bytes | None = None,
        *,
        ring: KeyRing | None = None,
        source: Path | None = None,
    ) -> None:
        if ring is None:
            if master_key is None:
                raise ValueError("a master key or a key ring is needed")
            ring = ring_of(master_key)
        self._source = source
        self._stamp = _stamp(source)
        self._use(ring)

    def _use(self, ring: KeyRing) -> None:
        # One assignment: a thread reading meanwhile sees the old ring and ciphers or the new.
        self._state = (ring, {k: AESGCM(_derive(v, _ENC_INFO)) for k, v in ring.keys.items()})

    def __repr__(self) -> str:
        return "FieldCipher(<key hidden>)"

    @property
    def ring(self) -> KeyRing:
        """The keys in use (after picking up a changed keyring file)."""
        self.refresh()
        return self._state[0]

    def refresh(self) -> bool:
        """Re-read the keyring file if it changed since it was read; True if it did."""
        if self._source is None:
            return False
        stamp = _stamp(self._source)
        if stamp == self._stamp or stamp is None:
            return False
        self._use(ring_from_json(self._source.read_bytes()))
        self._stamp = stamp
        return True

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """Version byte (+ key id) + random nonce + AES-GCM ciphertext, bound to `context`."""
        # NIST SP 800-38D allows 2**32 encryptions per key with random 96-bit nonces; a
        # city's personal-information fields are orders of magnitude below that.
        self.refresh()
        ring, aeads = self._state
        nonce = os.urandom(NONCE_BYTES)
        sealed = aeads[ring.current].encrypt(
            nonce, plaintext.encode("utf-8"), context.encode("utf-8")
        )
        if ring.current == ring.legacy:
            return bytes([VERSION]) + nonce + sealed
        return bytes([VERSION_KEYED]) + bytes.fromhex(ring.current) + nonce + sealed

    def key_id_of(self, blob: bytes) -> str | None:
        """The id of the key a blob was written with (None: not a blob this ring can place)."""
        return _key_id_in(blob, self._state[0])

    def decrypt(self, blob: bytes, context: str) -> str:
        """The plaintext of `encrypt(…, context)`; DecryptionError if anything does not match."""
        if blob and blob[0] not in (VERSION, VERSION_KEYED):
            raise DecryptionError(f"unknown ciphertext version {blob[0]:#04x}")
        header = 1 if blob[:1] == bytes([VERSION]) else 1 + KEY_ID_BYTES
        if len(blob) < header + NONCE_BYTES + TAG_BYTES:
            raise DecryptionError("ciphertext is too short to be a field ciphertext")
        self.refresh()  # a stat: a rotated or retired key is followed at once
        ring, aeads = self._state
        kid = _key_id_in(blob, ring)
        aead = aeads.get(kid) if kid is not None else None
        if aead is None:
            raise DecryptionError(f"ciphertext key {kid} is not in the key ring (retired?)")
        nonce, sealed = blob[header : header + NONCE_BYTES], blob[header + NONCE_BYTES :]
        try:
            plain = aead.decrypt(nonce, sealed, context.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError(
                "ciphertext failed authentication: tampered, or wrong key or context"
            ) from None
        return plain.decode("utf-8")

    def reencrypt(self, blob: bytes, context: str) -> bytes | None:
        """The blob under the current key; None if it already is (nothing to do)."""
        self.refresh()
        if self.key_id_of(blob) == self._state[0].current:
            return None
        return self.encrypt(self.decrypt(blob, context), context)

    def blind_index(self, value: str, context: str) -> str:
        """Hex HMAC-SHA256 of context + NUL + value: equal values match only within a context."""
        # A NUL inside the context would make ("a\0b", "c") and ("a", "b\0c") collide.
        if "\0" in context:
            raise ValueError("blind index context must not contain NUL")
        message = context.encode("utf-8") + b"\0" + value.encode("utf-8")
        return hmac.new(self._state[0].mac_key, message, hashlib.sha256).hexdigest()


def _key_id_in(blob: bytes, ring: KeyRing) -> str | None:
    """The key id a blob names (0x02), or the ring's legacy key for a 0x01 blob."""
    return key_id_in(blob, ring.legacy)


def key_id_in(blob: bytes, legacy: str | None) -> str | None:
    """The key id a blob names (0x02), or `legacy` for a 0x01 blob (None: not a blob)."""
    if len(blob) >= 1 and blob[0] == VERSION:
        return legacy
    if len(blob) >= 1 + KEY_ID_BYTES and blob[0] == VERSION_KEYED:
        return blob[1 : 1 + KEY_ID_BYTES].hex()
    return None


def _stamp(path: Path | None) -> tuple[int, int, int] | None:
    """What changes when a file is replaced: inode, size, modification time (None: absent)."""
    if path is None:
        return None
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


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


def write_ring(path: Path, ring: KeyRing) -> None:
    """Replace the keyring file atomically (mode 0600): a reader sees the old or the new ring."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(ring_to_json(ring))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
