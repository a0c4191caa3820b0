"""The PII key ring (kit/crypto.py) and the signing key's rotation files (ledger/keys.py)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from civicpoints.kit.crypto import (
    VERSION,
    VERSION_KEYED,
    DecryptionError,
    FieldCipher,
    key_id,
    ring_from_json,
    ring_of,
    ring_to_json,
    with_new_key,
    without_key,
    write_ring,
)
from civicpoints.ledger.keys import (
    load_or_create_signer,
    next_key_path,
    prepare_rotation,
    remember_retired,
    retired_verifiers,
    switch_to_next,
)
from civicpoints.ledger.note import NoteError, open_note, sign_note

OLD, NEW, THIRD = bytes(range(32)), bytes(range(1, 33)), bytes(range(2, 34))
CTX = "identity_resident.phone"


def test_key_id_is_stable_short_and_not_the_key() -> None:
    assert key_id(OLD) == key_id(OLD) and len(key_id(OLD)) == 8
    assert key_id(OLD) != key_id(NEW)
    assert key_id(OLD) not in OLD.hex()


def test_a_rotated_ring_writes_keyed_blobs_and_reads_both() -> None:
    before = FieldCipher(OLD)
    old_blob = before.encrypt("13812345678", CTX)
    assert old_blob[0] == VERSION and before.key_id_of(old_blob) == key_id(OLD)
    rotated = FieldCipher(ring=with_new_key(ring_of(OLD), NEW))
    new_blob = rotated.encrypt("13812345678", CTX)
    assert new_blob[0] == VERSION_KEYED and new_blob[1:5].hex() == key_id(NEW)
    assert rotated.key_id_of(new_blob) == key_id(NEW)
    assert rotated.decrypt(old_blob, CTX) == rotated.decrypt(new_blob, CTX) == "13812345678"
    with pytest.raises(DecryptionError):
        before.decrypt(new_blob, CTX)  # a process without the new key cannot guess it


def test_reencrypt_moves_old_blobs_and_leaves_current_ones() -> None:
    old_blob = FieldCipher(OLD).encrypt("11010519491231002X", CTX)
    rotated = FieldCipher(ring=with_new_key(ring_of(OLD), NEW))
    moved = rotated.reencrypt(old_blob, CTX)
    assert moved is not None and rotated.key_id_of(moved) == key_id(NEW)
    assert rotated.reencrypt(moved, CTX) is None
    assert rotated.decrypt(moved, CTX) == "11010519491231002X"


def test_blind_indexes_survive_rotation_and_retirement() -> None:
    index = FieldCipher(OLD).blind_index("13812345678", CTX)
    ring = without_key(with_new_key(ring_of(OLD), NEW), key_id(OLD))
    assert FieldCipher(ring=ring).blind_index("13812345678", CTX) == index


def test_retired_key_is_gone_and_cannot_return() -> None:
    old_blob = FieldCipher(OLD).encrypt("x", CTX)
    ring = with_new_key(ring_of(OLD), NEW)
    with pytest.raises(ValueError, match="current"):
        without_key(ring, key_id(NEW))
    retired = without_key(ring, key_id(OLD))
    assert retired.legacy is None and key_id(OLD) in retired.retired
    with pytest.raises(DecryptionError, match="not in the key ring"):
        FieldCipher(ring=retired).decrypt(old_blob, CTX)
    with pytest.raises(ValueError, match="retired"):
        with_new_key(retired, OLD)


def test_keyed_blob_tampering_is_detected() -> None:
    cipher = FieldCipher(ring=with_new_key(ring_of(OLD), NEW))
    blob = cipher.encrypt("张三", CTX)
    for i in range(len(blob)):
        tampered = bytearray(blob)
        tampered[i] ^= 0x01
        with pytest.raises(DecryptionError):
            cipher.decrypt(bytes(tampered), CTX)


def test_ring_json_round_trip_hides_keys_in_repr_and_errors() -> None:
    ring = with_new_key(ring_of(OLD), NEW)
    assert ring_from_json(ring_to_json(ring)) == ring
    assert OLD.hex() not in repr(ring) and "hidden" in repr(ring)
    broken = ring_to_json(ring).replace(b'"current"', b'"curren"')
    with pytest.raises(ValueError, match="malformed") as err:
        ring_from_json(broken)
    assert "keys" not in str(err.value)
    with pytest.raises(ValueError, match="does not match"):
        ring_from_json(ring_to_json(ring).replace(f'"{key_id(OLD)}": "'.encode(), b'"00000000": "'))


def test_a_cipher_follows_its_keyring_file(tmp_path: Path) -> None:
    path = tmp_path / "pii.keyring"
    cipher = FieldCipher(OLD, source=path)  # no file yet: the single key
    other = FieldCipher(OLD, source=path)
    write_ring(path, with_new_key(ring_of(OLD), NEW))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = cipher.encrypt("x", CTX)
    assert cipher.key_id_of(blob) == key_id(NEW)
    assert other.decrypt(blob, CTX) == "x"  # a second process reads it at once
    write_ring(path, with_new_key(ring_from_json(path.read_bytes()), THIRD))
    assert cipher.key_id_of(cipher.encrypt("x", CTX)) == key_id(THIRD)


def test_signing_rotation_files(tmp_path: Path) -> None:
    path, name = tmp_path / "ledger.skey", "city.example/ledger"
    with pytest.raises(NoteError, match="nothing to rotate"):
        prepare_rotation(path, name)
    first = load_or_create_signer(path, name)
    note = sign_note("civicpoints test\n", [first])
    old, new = prepare_rotation(path, name)
    assert old.verifier == first.verifier and new.verifier != first.verifier
    again = prepare_rotation(path, name)[1]  # a rerun reuses the waiting key
    assert again.verifier == new.verifier
    remember_retired(path, old.verifier)
    remember_retired(path, old.verifier)  # once
    switch_to_next(path)
    assert not next_key_path(path).exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_signer(path, name).verifier == new.verifier
    assert retired_verifiers(path) == [old.verifier]
    assert open_note(note, [new.verifier, *retired_verifiers(path)])[1] == [name]
    assert "PRIVATE" not in (tmp_path / "ledger.retired.vkeys").read_text()
    assert sorted(os.listdir(tmp_path)) == ["ledger.retired.vkeys", "ledger.skey"]


def test_a_private_key_in_a_log_message_is_redacted(tmp_path: Path) -> None:
    from civicpoints.kit.logging import redact

    skey = load_or_create_signer(tmp_path / "k.skey", "city.example/ledger").skey()
    assert redact(f"loaded {skey} ok") == "loaded PRIVATE+KEY+[redacted] ok"


def test_a_rotation_statement_hands_trust_from_the_old_key_to_the_new(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from civicpoints.ledger.keys import generate_signer, open_rotation, rotation_statement

    name = "city.example/ledger"
    old, new, stranger = generate_signer(name), generate_signer(name), generate_signer(name)
    note = rotation_statement(old, new, datetime(2026, 12, 7, tzinfo=UTC))
    assert open_rotation(note, [old.verifier]) == new.verifier
    with pytest.raises(NoteError):
        open_rotation(note, [stranger.verifier])
    with pytest.raises(NoteError):  # the new key alone proves nothing about the old
        open_rotation(note, [new.verifier])
    forged = note.replace(new.verifier.vkey(), stranger.verifier.vkey())
    with pytest.raises(NoteError):
        open_rotation(forged, [old.verifier])
    # signed by the old key only: the new key never proved it is held
    body = note[: note.index("\n\n") + 1]
    with pytest.raises(NoteError):
        open_rotation(sign_note(body, [old]), [old.verifier])
    # a stranger's statement naming itself as the "old" key is not trusted
    fake = rotation_statement(stranger, new, datetime(2026, 12, 7, tzinfo=UTC))
    with pytest.raises(NoteError):
        open_rotation(fake, [old.verifier, new.verifier])
