"""Signed notes and transparency-log checkpoints in the C2SP formats.

Implements c2sp.org/signed-note (Ed25519, signature type 0x01) and c2sp.org/tlog-checkpoint,
byte-compatible with Go's golang.org/x/mod/sumdb/note and transparency-dev tooling, so any
standard witness or verifier can read what the ledger publishes. Pure code: no I/O, no clock.

A signed note looks like this (the separator is the *last* blank line)::

    example.com/civicpoints/bucket-7
    42
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

    — example.com/civicpoints Az3grlgt…
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

ALG_ED25519 = 0x01
SIG_PREFIX = "— "  # em dash U+2014, then a space
SKEY_PREFIX = "PRIVATE+KEY+"
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100  # the same cap as Go's note.Open; the spec asks for at least 16
MAX_TREE_SIZE = 2**64 - 1  # uint64, as transparency-dev's log.Checkpoint
HASH_BYTES = 32

_SIZE_RE = re.compile(r"0|[1-9][0-9]*")  # [0-9] is ASCII only, unlike str.isdigit
_HEX8_RE = re.compile(r"[0-9a-fA-F]{8}")  # int(x, 16) alone would also take "0x…" and "_"

KeyId = tuple[str, int]


class NoteError(ValueError):
    """A note, checkpoint or key text that is malformed or does not verify."""

    def __init__(self, zh: str, en: str) -> None:
        """Chinese and English side by side, as operators of either language read the logs."""
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


# --- small checks -------------------------------------------------------------------------


def _show(text: str) -> str:
    """A short repr of untrusted input for error messages."""
    return repr(text if len(text) <= 60 else text[:60] + "…")


def _check_chars(text: str, zh: str, en: str) -> None:
    """Reject what a note may not contain: control characters but newline, non-UTF-8 text."""
    bad = next((c for c in text if c < " " and c != "\n"), None)
    if bad is not None:
        raise NoteError(f"{zh}含有控制字符", f"{en} contains the control character {bad!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{zh}不是有效的 UTF-8", f"{en} is not valid UTF-8") from None


def _is_valid_name(name: str) -> bool:
    """Key names per the spec: non-empty, no Unicode spaces, no '+' (plus no control chars)."""
    return (
        name != ""
        and "+" not in name
        and not any(c.isspace() or c < " " for c in name)
        and not any("\ud800" <= c <= "\udfff" for c in name)  # lone surrogates are not UTF-8
    )


def _check_name(name: str) -> None:
    """Raise unless `name` is a valid key name."""
    if not isinstance(name, str) or not _is_valid_name(name):
        raise NoteError(
            "密钥名称无效（不能为空，不能含空白或加号）",
            f"invalid key name {_show(str(name))}: must be non-empty, without spaces or '+'",
        )


def _b64decode(text: str, zh: str, en: str) -> bytes:
    """Decode standard padded base64, accepting only the canonical encoding."""
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:  # binascii.Error, or non-ASCII input
        raise NoteError(f"{zh}不是有效的 base64", f"{en} is not valid base64") from None
    # Non-zero padding bits decode to the same bytes; refusing them keeps one text per value,
    # so changing any character of a signature or root is always detected.
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{zh}的 base64 编码不规范", f"{en} is not canonical base64")
    return raw


def _b64(raw: bytes) -> str:
    """Standard padded base64 as text."""
    return base64.b64encode(raw).decode("ascii")


def ed25519_key_hash(name: str, public_key: bytes) -> int:
    """The signed-note key ID: SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key)
    return int.from_bytes(digest.digest()[:4], "big")


def _parse_hash(hex8: str) -> int:
    """The 8-hex-digit key hash of a vkey or skey."""
    if not _HEX8_RE.fullmatch(hex8):
        raise NoteError(
            "密钥哈希必须是 8 位十六进制数", f"key hash {_show(hex8)} is not 8 hex digits"
        )
    return int(hex8, 16)


def _parse_key_data(key64: str, zh: str, en: str) -> bytes:
    """The 32 key bytes behind the base64 of 0x01 || key."""
    raw = _b64decode(key64, zh, en)
    if len(raw) != 1 + 32:
        raise NoteError(f"{zh}长度错误", f"{en} must be 33 bytes (0x01 || 32-byte key)")
    if raw[0] != ALG_ED25519:
        raise NoteError(f"{zh}的算法未知", f"{en} has unknown algorithm 0x{raw[0]:02x}")
    return raw[1:]


# --- keys ---------------------------------------------------------------------------------


class Verifier:
    """A named Ed25519 public key that checks note signatures."""

    __slots__ = ("_key_hash", "_name", "_public_key", "_raw")

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        """Bind `public_key` to the key name `name`."""
        _check_name(name)
        self._name = name
        self._public_key = public_key
        self._raw = public_key.public_bytes_raw()
        self._key_hash = ed25519_key_hash(name, self._raw)

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_hash(self) -> int:
        """The uint32 key ID."""
        return self._key_hash

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The Ed25519 public key."""
        return self._public_key

    @property
    def key_id(self) -> KeyId:
        """(name, key hash): what identifies the key in a signature line."""
        return (self._name, self._key_hash)

    def verify(self, msg: bytes, sig: bytes) -> bool:
        """Whether `sig` is this key's Ed25519 signature of `msg`."""
        try:
            self._public_key.verify(sig, msg)
        except InvalidSignature:
            return False
        return True

    def vkey(self) -> str:
        """The vkey text `name+hash+base64(0x01||pubkey)`, as Go's note.NewVerifier reads."""
        return f"{self._name}+{self._key_hash:08x}+{_b64(bytes([ALG_ED25519]) + self._raw)}"

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        """Parse a verifier key text, checking its key hash."""
        if text.startswith(SKEY_PREFIX):
            # Someone pasted the secret key where the public one belongs: say so loudly.
            raise NoteError(
                "这是私钥而不是公钥，请勿外传", "this is a private signer key, not a vkey"
            )
        name, _, rest = text.partition("+")
        hex8, _, key64 = rest.partition("+")
        _check_name(name)
        key_hash = _parse_hash(hex8)
        raw = _parse_key_data(key64, "公钥", "public key")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw))
        if verifier.key_hash != key_hash:
            raise NoteError("公钥哈希不匹配", f"key hash {hex8} does not match the key of {name}")
        return verifier

    def __eq__(self, other: object) -> bool:
        """Same name and same public key."""
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self._name, self._raw) == (other._name, other._raw)

    def __hash__(self) -> int:
        """Hash of name and public key."""
        return hash((self._name, self._raw))

    def __repr__(self) -> str:
        """The vkey text."""
        return f"Verifier({self.vkey()!r})"


class Signer:
    """A named Ed25519 private key that signs notes."""

    __slots__ = ("_private_key", "_verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        """Bind `private_key` to the key name `name`."""
        self._private_key = private_key
        self._verifier = Verifier(name, private_key.public_key())

    @property
    def name(self) -> str:
        """The key name."""
        return self._verifier.name

    @property
    def key_hash(self) -> int:
        """The uint32 key ID."""
        return self._verifier.key_hash

    @property
    def key_id(self) -> KeyId:
        """(name, key hash)."""
        return self._verifier.key_id

    @property
    def verifier(self) -> Verifier:
        """The matching public verifier."""
        return self._verifier

    def sign(self, msg: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `msg`."""
        return self._private_key.sign(msg)

    def skey(self) -> str:
        """The skey text `PRIVATE+KEY+name+hash+base64(0x01||seed)` of Go's note.NewSigner."""
        seed = self._private_key.private_bytes_raw()
        return f"{SKEY_PREFIX}{self.name}+{self.key_hash:08x}+{_b64(bytes([ALG_ED25519]) + seed)}"

    @classmethod
    def from_skey(cls, text: str) -> Signer:
        """Parse a secret key text, checking its key hash against the derived public key."""
        if not text.startswith(SKEY_PREFIX):
            raise NoteError(
                "私钥必须以 PRIVATE+KEY+ 开头", "signer key must start with PRIVATE+KEY+"
            )
        name, _, rest = text[len(SKEY_PREFIX) :].partition("+")
        hex8, _, key64 = rest.partition("+")
        _check_name(name)
        key_hash = _parse_hash(hex8)
        seed = _parse_key_data(key64, "私钥", "private key")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed))
        if signer.key_hash != key_hash:
            raise NoteError("私钥哈希不匹配", f"key hash {hex8} does not match the key of {name}")
        return signer

    def __repr__(self) -> str:
        """Name and key hash only: the secret stays out of logs."""
        return f"Signer(name={self.name!r}, key_hash={self.key_hash:08x})"


# --- signed notes -------------------------------------------------------------------------


@dataclass(frozen=True)
class _SigLine:
    """One parsed signature line."""

    name: str
    key_hash: int
    sig: bytes
    line: str

    @property
    def key_id(self) -> KeyId:
        """(name, key hash)."""
        return (self.name, self.key_hash)


def _check_size(text: str) -> None:
    """Refuse oversized notes before doing any work on them."""
    if len(text) > MAX_NOTE_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteError("签名文本过大", f"note is larger than {MAX_NOTE_BYTES} bytes")


def _check_body(body: str) -> None:
    """A note text must end in a newline and hold no control characters."""
    if not isinstance(body, str) or not body.endswith("\n"):
        raise NoteError("正文必须以换行结尾", "note text must end with a newline")
    _check_size(body)
    _check_chars(body, "正文", "note text")


def _parse_sig_line(line: str) -> _SigLine:
    """Parse `— name base64(keyhash || sig)`."""
    if not line.startswith(SIG_PREFIX):
        raise NoteError(
            "签名行必须以破折号和空格开头", f"signature line without '— ' prefix: {_show(line)}"
        )
    name, _, b64 = line[len(SIG_PREFIX) :].partition(" ")
    _check_name(name)
    raw = _b64decode(b64, f"{name} 的签名", f"signature of {name}")
    if len(raw) < 5:
        raise NoteError("签名过短", f"signature of {name} is too short")
    return _SigLine(name, int.from_bytes(raw[:4], "big"), raw[4:], line)


def _split_note(text: str) -> tuple[str, list[_SigLine]]:
    """Split a signed note into its text and parsed signature lines (syntax only)."""
    if not isinstance(text, str):
        raise NoteError("签名文本必须是字符串", "note must be a str")
    _check_size(text)
    _check_chars(text, "签名文本", "note")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError(
            "缺少正文与签名之间的空行", "malformed note: no blank line before signatures"
        )
    body, block = text[: split + 1], text[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError(
            "签名行必须以换行结尾", "malformed note: signatures must end with a newline"
        )
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("签名过多", f"note has more than {MAX_SIGNATURES} signatures")
    return body, [_parse_sig_line(line) for line in lines]


def _sig_line(signer: Signer, msg: bytes) -> str:
    """The signature line of `signer` over `msg`."""
    raw = signer.key_hash.to_bytes(4, "big") + signer.sign(msg)
    return f"{SIG_PREFIX}{signer.name} {_b64(raw)}"


def _assemble(body: str, existing: Sequence[_SigLine], signers: Sequence[Signer]) -> str:
    """Body, blank line, existing lines (ours re-signed in place), then new lines."""
    if not signers:
        raise NoteError("没有签名者", "no signers given")
    msg = body.encode("utf-8")
    fresh: dict[KeyId, str] = {}
    for signer in signers:
        fresh.setdefault(signer.key_id, _sig_line(signer, msg))
    lines: list[str] = []
    for sig in existing:
        if sig.key_id not in fresh:
            lines.append(sig.line)
        elif fresh[sig.key_id] not in lines:
            lines.append(fresh[sig.key_id])  # one line per key, at its old place
    lines += [line for line in fresh.values() if line not in lines]
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("签名过多", f"note would have more than {MAX_SIGNATURES} signatures")
    note = body + "\n" + "".join(line + "\n" for line in lines)
    _check_size(note)
    return note


def sign_note(body: str, signers: Sequence[Signer]) -> str:
    """Sign the note text `body` (ending in a newline) with every signer, in order."""
    _check_body(body)
    return _assemble(body, [], signers)


def add_signatures(note_text: str, signers: Sequence[Signer]) -> str:
    """Cosign an already-signed note, keeping its other signature lines; one line per key."""
    body, existing = _split_note(note_text)
    return _assemble(body, existing, signers)


def _index(verifiers: Sequence[Verifier]) -> dict[KeyId, Verifier]:
    """Verifiers by (name, key hash); two different keys under one ID is a configuration error."""
    known: dict[KeyId, Verifier] = {}
    for verifier in verifiers:
        if known.setdefault(verifier.key_id, verifier) != verifier:
            name, key_hash = verifier.key_id
            raise NoteError("公钥列表有歧义", f"ambiguous key {name}+{key_hash:08x}")
    return known


def open_note(text: str, verifiers: Sequence[Verifier], required: int = 1) -> tuple[str, list[str]]:
    """Verify a signed note; return its text and the names of the known keys that signed it."""
    if required < 1:
        raise ValueError("required must be at least 1: an unsigned note proves nothing")
    known = _index(verifiers)
    body, sigs = _split_note(text)
    msg = body.encode("utf-8")
    signed: dict[KeyId, str] = {}
    for sig in sigs:
        verifier = known.get(sig.key_id)
        if verifier is None:
            continue  # unknown keys MUST be ignored: witnesses, rotated keys, other ecosystems
        if not verifier.verify(msg, sig.sig):
            raise NoteError(
                "签名无效", f"signature does not verify for key {sig.name}+{sig.key_hash:08x}"
            )
        signed.setdefault(sig.key_id, sig.name)
    if len(signed) < required:
        raise NoteError(
            f"有效签名不足：需要 {required} 个，只有 {len(signed)} 个",
            f"note has {len(signed)} verified signature(s) from known keys, {required} required",
        )
    return body, list(signed.values())


# --- checkpoints --------------------------------------------------------------------------


def _check_line(text: str, zh: str, en: str) -> None:
    """One non-empty line of a checkpoint."""
    if not isinstance(text, str) or text == "" or "\n" in text:
        raise NoteError(f"{zh}必须是非空的单行文本", f"{en} must be one non-empty line")
    _check_chars(text, zh, en)


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint: log origin, tree size, RFC 9162 root hash, optional extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse values that would not format as a valid checkpoint."""
        _check_line(self.origin, "来源", "origin")
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteError("树大小必须是 0 到 2^64-1 的整数", f"invalid tree size {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_BYTES:
            raise NoteError("根哈希必须是 32 字节", f"root hash must be {HASH_BYTES} bytes")
        if not isinstance(self.extensions, tuple):
            raise NoteError("扩展行必须是元组", "extensions must be a tuple of str")
        for ext in self.extensions:
            _check_line(ext, "扩展行", "extension line")

    def to_body(self) -> str:
        """The note text: origin, decimal size, base64 root, extensions, each ending in newline."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint note text strictly: what to_body would not produce is an error."""
        if not isinstance(body, str) or not body.endswith("\n"):
            raise NoteError("检查点必须以换行结尾", "checkpoint must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError(
                "检查点缺少行：需要来源、树大小和根哈希",
                "checkpoint needs at least 3 lines: origin, tree size, root hash",
            )
        origin, size_text, root_text, *extensions = lines
        return cls(origin, _parse_size(size_text), _parse_root(root_text), tuple(extensions))


def _parse_size(text: str) -> int:
    """Tree size: ASCII decimal without leading zeros."""
    if len(text) > 20 or not _SIZE_RE.fullmatch(text):
        raise NoteError(
            "树大小必须是不带前导零的十进制数",
            f"tree size {_show(text)} is not a decimal number without leading zeros",
        )
    size = int(text)
    if size > MAX_TREE_SIZE:
        raise NoteError("树大小超出范围", f"tree size {text} is larger than 2^64-1")
    return size


def _parse_root(text: str) -> bytes:
    """Root hash: canonical base64 of exactly 32 bytes."""
    root = _b64decode(text, "根哈希", "root hash")
    if len(root) != HASH_BYTES:
        raise NoteError("根哈希必须是 32 字节", f"root hash is {len(root)} bytes, not {HASH_BYTES}")
    return root
