"""Field encryption: round trip, layout, tamper detection, blind indexes, key files."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.kit.crypto import (
    DecryptionError,
    FieldCipher,
    key_from_b64,
    load_or_create_key,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
CTX = "identity_resident.id_number"
CIPHER = FieldCipher(KEY)


# --- encryption ---------------------------------------------------------------------------


@given(st.text())
def test_round_trip(plaintext: str) -> None:
    assert CIPHER.decrypt(CIPHER.encrypt(plaintext, CTX), CTX) == plaintext


def test_round_trip_chinese_and_empty() -> None:
    for text in ["", "张三", "浙江省杭州市西湖区文三路 1 号", "11010519491231002X"]:
        assert CIPHER.decrypt(CIPHER.encrypt(text, CTX), CTX) == text


def test_layout_is_version_nonce_ciphertext_tag() -> None:
    blob = CIPHER.encrypt("张三", CTX)
    assert blob[0] == 0x01
    assert len(blob) == 1 + 12 + len("张三".encode()) + 16
    assert "张三".encode() not in blob


def test_same_plaintext_encrypts_differently_each_time() -> None:
    blobs = {CIPHER.encrypt("13812345678", CTX) for _ in range(20)}
    assert len(blobs) == 20
    assert len({b[1:13] for b in blobs}) == 20  # fresh nonce each time


def test_known_answer_pins_derivation_and_layout() -> None:
    # Produced once with nonce 000102…0b; if this fails, stored data would become unreadable.
    blob = bytes.fromhex("01000102030405060708090a0b15241b9d332ec8ec99b83584910d435ff7331a0274b9")
    assert CIPHER.decrypt(blob, CTX) == "张三"


def test_another_context_does_not_decrypt() -> None:
    blob = CIPHER.encrypt("13812345678", "identity_resident.phone")
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob, "identity_resident.emergency_phone")


def test_another_key_does_not_decrypt() -> None:
    blob = CIPHER.encrypt("13812345678", CTX)
    with pytest.raises(DecryptionError):
        FieldCipher(OTHER_KEY).decrypt(blob, CTX)


def test_flipping_any_bit_is_detected() -> None:
    blob = CIPHER.encrypt("11010519491231002X", CTX)
    for i in range(len(blob)):
        for bit in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[i] ^= bit
            with pytest.raises(DecryptionError):
                CIPHER.decrypt(bytes(tampered), CTX)


@pytest.mark.parametrize("cut", [0, 1, 13, 28, 29])
def test_truncated_blob_is_refused(cut: int) -> None:
    blob = CIPHER.encrypt("x", CTX)  # 30 bytes
    with pytest.raises(DecryptionError):
        CIPHER.decrypt(blob[:cut], CTX)


def test_unknown_version_is_refused_with_a_clear_message() -> None:
    blob = bytearray(CIPHER.encrypt("x", CTX))
    blob[0] = 0x03  # 0x02 is the keyed layout of a rotated key ring
    with pytest.raises(DecryptionError, match="version 0x03"):
        CIPHER.decrypt(bytes(blob), CTX)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_master_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        FieldCipher(b"\0" * size)


def test_repr_hides_the_key() -> None:
    assert KEY.hex() not in repr(CIPHER) and str(KEY) not in repr(CIPHER)


# --- blind index --------------------------------------------------------------------------


def test_blind_index_is_deterministic_hex_sha256() -> None:
    a = CIPHER.blind_index("11010519491231002X", CTX)
    assert a == FieldCipher(KEY).blind_index("11010519491231002X", CTX)
    assert len(a) == 64 and int(a, 16) >= 0


def test_blind_index_differs_across_contexts_values_and_keys() -> None:
    base = CIPHER.blind_index("13812345678", "identity_resident.phone")
    assert base != CIPHER.blind_index("13812345678", "identity_resident.id_number")
    assert base != CIPHER.blind_index("13812345679", "identity_resident.phone")
    assert base != FieldCipher(OTHER_KEY).blind_index("13812345678", "identity_resident.phone")


def test_blind_index_is_not_a_plain_hash_or_keyed_by_the_master_key() -> None:
    value = "13812345678"
    message = f"{CTX}\0{value}".encode()
    got = CIPHER.blind_index(value, CTX)
    assert got != hashlib.sha256(message).hexdigest()
    assert got != hmac.new(KEY, message, hashlib.sha256).hexdigest()


def test_blind_index_known_answer() -> None:
    # Pins the HKDF label: a change would orphan every stored index. Cross-checked against
    # HKDF computed by hand per RFC 5869 (zero salt, info label, one block).
    assert CIPHER.blind_index("13812345678", "identity_resident.phone") == (
        "0a65ddf7776e590e6ffdf6b7bff3f051e5ca3b74b379105f5b31cc5094399d79"
    )


def test_blind_index_context_must_not_contain_nul() -> None:
    with pytest.raises(ValueError, match="NUL"):
        CIPHER.blind_index("c", "a\0b")


@given(st.text(), st.text(), st.text(), st.text())
def test_blind_index_equal_only_for_equal_pairs(v1: str, c1: str, v2: str, c2: str) -> None:
    if "\0" in c1 or "\0" in c2:
        return
    same = CIPHER.blind_index(v1, c1) == CIPHER.blind_index(v2, c2)
    assert same == ((v1, c1) == (v2, c2))


# --- keys ---------------------------------------------------------------------------------


def test_key_from_b64_round_trip_with_whitespace() -> None:
    assert key_from_b64(base64.b64encode(KEY).decode() + "\n") == KEY


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (base64.b64encode(b"\0" * 16).decode(), "32 bytes, got 16"),
        (base64.b64encode(b"\0" * 33).decode(), "32 bytes, got 33"),
        ("", "32 bytes, got 0"),
        ("not base64!", "not valid base64"),
    ],
)
def test_key_from_b64_refuses_bad_keys(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        key_from_b64(text)


def test_key_file_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "nested" / "master.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_from_b64(path.read_text()) == key
    assert load_or_create_key(path) == key
    assert sorted(p.name for p in path.parent.iterdir()) == ["master.key"]  # no temp left


def test_key_file_mode_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "master.key"
        load_or_create_key(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_key_file_is_read_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(base64.b64encode(KEY).decode() + "\n")
    assert load_or_create_key(path) == KEY
    assert path.read_text().strip() == base64.b64encode(KEY).decode()


def test_two_fresh_key_files_differ(tmp_path: Path) -> None:
    assert load_or_create_key(tmp_path / "a.key") != load_or_create_key(tmp_path / "b.key")


def test_corrupt_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text("too short")
    with pytest.raises(ValueError):
        load_or_create_key(path)
    assert path.read_text() == "too short"


def test_a_key_created_concurrently_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process publishes its key between our existence check and our link.
    path = tmp_path / "master.key"
    real_link = os.link

    def racing_link(src: Path, dst: Path) -> None:
        path.write_text(base64.b64encode(KEY).decode())
        real_link(src, dst)

    monkeypatch.setattr(os, "link", racing_link)
    assert load_or_create_key(path) == KEY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]
