"""Signed notes and checkpoints: Go and transparency-dev vectors, tampering, strict parsing."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from civicpoints.kit import files
from civicpoints.ledger.keys import generate_signer, load_or_create_signer, load_verifier
from civicpoints.ledger.note import (
    MAX_NOTE_BYTES,
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    add_signatures,
    ed25519_key_hash,
    open_note,
    sign_note,
)

# --- vectors from golang.org/x/mod/sumdb/note (note_test.go) --------------------------------

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqf"
    "qdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTG"
    "wnWLox33WWd1RvMc+QQ=\n"
)

# --- vectors from github.com/transparency-dev/formats (log/note_test.go) ---------------------

TD_KEY_PAIRS = [
    (
        "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
    ),
    (
        "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
        "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
    ),
    (
        "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
        "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
    ),
    (
        "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
        "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots",
    ),
]
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_BODY = "go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
SUMDB_NOTE = (
    SUMDB_BODY + "\n— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu"
    "95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"
)
TD_WITNESS_VKEYS = [
    "monkeys+db4d9f7e+AULaJMvTtDLHPUcUrjdDad9vDlh/PTfC2VV60JUtCfWT",
    "bananas+cf639f13+AaPjhFnPCQnid/Ql32KWhmh+uk72FVRfK+2DLmO3BI3M",
    "witness+f13a86db+AdYV1Ztajd9BvyjP2HgpwrqYL6TjOwIjGMOq8Bu42xbN",
]
TD_WITNESS_SIGS = [
    "— monkeys 202ffh9ve46Mqbhuyb4wnC2Pwdan5EsXQym/tF1ggXJqhjGosU4T5intH4iKMRgDLxrnXuIjRaU2Nb"
    "vAnaepM6Y+8ww=\n",
    "— bananas z2OfE+2bbsBZ7NLgfuslc0v7NFW2QyexJ7fhePpoL2N/P7N/COd5S+JNHbQEAlYzz2C5sg0E+x/Mg"
    "gS1mDR6t3/9rQw=\n",
    "— witness 8TqG25yWGFLdT7WPf/WoyeG3LwqtkXP+8S3yykOVm6EMh4hPgCke6eSVPU4BdtXNMPJBXKF+UpDbG"
    "gCdcpR8SVSoqAU=\n",
]

PETER = Signer.from_skey(PETER_SKEY)
LOG = generate_signer("example.org/civicpoints/log")
WITNESS = generate_signer("example.org/witness")
STRANGER = generate_signer("example.net/stranger")
CHECKPOINT = Checkpoint("example.org/civicpoints/bucket-7", 42, bytes(range(32)))


def replace_at(text: str, i: int) -> str:
    """`text` with the character at `i` changed to another base64-alphabet character."""
    new = "B" if text[i] == "A" else "A"
    return text[:i] + new + text[i + 1 :]


# --- Go vectors -----------------------------------------------------------------------------


def test_go_peter_key_pair_reproduced() -> None:
    assert PETER.name == "PeterNeumann"
    assert PETER.key_hash == 0xC74F20A3
    assert PETER.verifier.vkey() == PETER_VKEY
    assert PETER.skey() == PETER_SKEY
    assert Verifier.from_vkey(PETER_VKEY) == PETER.verifier


def test_key_hash_is_sha256_of_name_newline_alg_key() -> None:
    raw = PETER.verifier.public_key.public_bytes_raw()
    digest = hashlib.sha256(b"PeterNeumann\n\x01" + raw).digest()
    assert ed25519_key_hash("PeterNeumann", raw) == int.from_bytes(digest[:4], "big") == 0xC74F20A3


def test_go_sign_vector_byte_for_byte() -> None:
    assert sign_note(TEXT, [PETER]) == TEXT + "\n" + PETER_SIG


def test_go_open_vector() -> None:
    peter, enoch = Verifier.from_vkey(PETER_VKEY), Verifier.from_vkey(ENOCH_VKEY)
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, [peter]) == (TEXT, ["PeterNeumann"])
    assert open_note(note, [peter, enoch], required=2) == (TEXT, ["PeterNeumann", "EnochRoot"])
    with pytest.raises(NoteError, match="0 verified"):
        open_note(note, [])


def test_go_duplicated_verified_and_unverified_signatures() -> None:
    enoch_bad = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_bad
    assert open_note(note, [PETER.verifier]) == (TEXT, ["PeterNeumann"])


def test_go_invalid_signature_for_known_key() -> None:
    note = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match="签名无效 / signature does not verify for key Peter"):
        open_note(note, [PETER.verifier])


@pytest.mark.parametrize(
    "msg",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"),
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
    ],
    ids=["no-sigs", "blank-only", "no-final-newline", "control", "bad-name", "extra", "101"],
)
def test_go_malformed_notes(msg: str) -> None:
    with pytest.raises(NoteError):
        open_note(msg, [PETER.verifier])


def test_go_vkey_manglings_rejected() -> None:
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(NoteError):
                    Verifier.from_vkey(PETER_VKEY[i:j])
    for i, c in enumerate(PETER_VKEY):
        with pytest.raises(NoteError):
            Verifier.from_vkey(PETER_VKEY[:i] + chr(ord(c) + 1) + PETER_VKEY[i + 1 :])
    wrong_length = "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=="
    unknown_alg = "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    for bad in (wrong_length, unknown_alg):
        with pytest.raises(NoteError):
            Verifier.from_vkey(bad)


def test_go_skey_manglings_rejected() -> None:
    for i in range(len(PETER_SKEY) + 1):
        for j in range(i + 1, len(PETER_SKEY) + 1):
            if (i, j) != (0, len(PETER_SKEY)):
                with pytest.raises(NoteError):
                    Signer.from_skey(PETER_SKEY[i:j])
    for i, c in enumerate(PETER_SKEY):
        with pytest.raises(NoteError):
            Signer.from_skey(PETER_SKEY[:i] + chr(ord(c) + 1) + PETER_SKEY[i + 1 :])


def test_go_existing_signature_from_same_key_is_replaced() -> None:
    stale = "— PeterNeumann " + base64.b64encode(bytes.fromhex("c74f20a3") + bytes(64)).decode()
    assert add_signatures(TEXT + "\n" + stale + "\n", [PETER]) == TEXT + "\n" + PETER_SIG
    twice = TEXT + "\n" + stale + "\n" + ENOCH_SIG + PETER_SIG
    assert add_signatures(twice, [PETER]) == TEXT + "\n" + PETER_SIG + ENOCH_SIG


# --- transparency-dev vectors ---------------------------------------------------------------


@pytest.mark.parametrize(("skey", "vkey"), TD_KEY_PAIRS)
def test_transparency_dev_key_pairs_reproduced(skey: str, vkey: str) -> None:
    signer = Signer.from_skey(skey)
    assert signer.verifier.vkey() == vkey
    assert signer.skey() == skey


def test_real_sumdb_checkpoint_verifies_and_parses() -> None:
    body, names = open_note(SUMDB_NOTE, [Verifier.from_vkey(SUMDB_VKEY)])
    assert (body, names) == (SUMDB_BODY, ["sum.golang.org"])
    checkpoint = Checkpoint.parse(body)
    assert (checkpoint.origin, checkpoint.size) == ("go.sum database tree", 6476701)
    assert checkpoint.to_body() == SUMDB_BODY


def test_transparency_dev_witness_cosignatures() -> None:
    verifiers = [Verifier.from_vkey(v) for v in [SUMDB_VKEY, *TD_WITNESS_VKEYS]]
    # The same signature under unknown names is ignored, as the spec requires.
    strays = [TD_WITNESS_SIGS[2].replace("witness", name) for name in ("random1", "random2")]
    note = SUMDB_NOTE + "".join(TD_WITNESS_SIGS + strays)
    _, names = open_note(note, verifiers, required=4)
    assert names == ["sum.golang.org", "monkeys", "bananas", "witness"]
    with pytest.raises(NoteError, match="4 required"):
        open_note(SUMDB_NOTE + TD_WITNESS_SIGS[0], verifiers, required=4)


# --- round trips, tampering, cosigning ------------------------------------------------------


def test_checkpoint_sign_open_parse_round_trip() -> None:
    note = sign_note(CHECKPOINT.to_body(), [LOG])
    body, names = open_note(note, [LOG.verifier])
    assert names == [LOG.name]
    assert Checkpoint.parse(body) == CHECKPOINT


def test_checkpoint_body_format() -> None:
    cp = Checkpoint("example.com/behind-the-sofa", 20852163, bytes(32), ("ext one", "ext2"))
    assert cp.to_body() == (
        "example.com/behind-the-sofa\n20852163\n"
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next one\next2\n"
    )


def test_tampering_with_any_body_character_fails() -> None:
    note = sign_note(CHECKPOINT.to_body(), [LOG])
    body_len = len(CHECKPOINT.to_body())
    for i in range(body_len):
        with pytest.raises(NoteError):
            open_note(replace_at(note, i), [LOG.verifier])


@pytest.mark.parametrize(
    "field",
    [
        ("example.org/civicpoints/bucket-8", 42, bytes(range(32))),
        ("example.org/civicpoints/bucket-7", 43, bytes(range(32))),
        ("example.org/civicpoints/bucket-7", 42, bytes(range(1, 33))),
    ],
    ids=["origin", "size", "root"],
)
def test_signature_does_not_carry_over_to_another_checkpoint(
    field: tuple[str, int, bytes],
) -> None:
    note = sign_note(CHECKPOINT.to_body(), [LOG])
    forged = Checkpoint(*field).to_body() + note[len(CHECKPOINT.to_body()) :]
    with pytest.raises(NoteError, match="signature does not verify"):
        open_note(forged, [LOG.verifier])


def test_tampering_with_any_signature_character_fails() -> None:
    note = sign_note(CHECKPOINT.to_body(), [LOG])
    start = len(CHECKPOINT.to_body()) + 1 + len("— ") + len(LOG.name) + 1
    for i in range(start, len(note) - 1):
        with pytest.raises(NoteError):
            open_note(replace_at(note, i), [LOG.verifier])


def test_witness_cosignature_meets_required_two() -> None:
    signed = sign_note(CHECKPOINT.to_body(), [LOG])
    verifiers = [LOG.verifier, WITNESS.verifier]
    with pytest.raises(NoteError, match="2 required"):
        open_note(signed, verifiers, required=2)
    cosigned = add_signatures(signed, [WITNESS])
    assert cosigned.startswith(signed)  # the log's line is kept as it was
    assert open_note(cosigned, verifiers, required=2)[1] == [LOG.name, WITNESS.name]
    assert add_signatures(cosigned, [WITNESS, WITNESS]) == cosigned  # never a second line


def test_unknown_keys_are_ignored() -> None:
    rotated = generate_signer(LOG.name)  # same name, other key hash
    note = sign_note(CHECKPOINT.to_body(), [STRANGER, LOG, rotated])
    same_hash_other_name = note.splitlines()[-1].replace(LOG.name, "example.org/other") + "\n"
    assert open_note(note + same_hash_other_name, [LOG.verifier]) == (
        CHECKPOINT.to_body(),
        [LOG.name],
    )
    with pytest.raises(NoteError, match="0 verified"):
        open_note(sign_note(CHECKPOINT.to_body(), [STRANGER]), [LOG.verifier])


def test_bad_signature_from_known_key_is_tampering_even_beside_a_good_one() -> None:
    good = sign_note(CHECKPOINT.to_body(), [LOG])
    other = sign_note(Checkpoint("x", 1, bytes(32)).to_body(), [LOG]).split("\n\n")[1]
    with pytest.raises(NoteError, match="signature does not verify"):
        open_note(good + other, [LOG.verifier])


@pytest.mark.parametrize(
    "suffix",
    [
        "-- example.org/civicpoints/log AAAA\n",  # ASCII dashes
        "– example.org/civicpoints/log AAAA\n",  # en dash
        "—example.org/civicpoints/log AAAA\n",  # no space
        "— example.org/civicpoints/log not*base64\n",
        "— example.org/civicpoints/log AAAAAA==\n",  # 4 bytes: a key hash, no signature
    ],
)
def test_malformed_signature_lines(suffix: str) -> None:
    note = sign_note(CHECKPOINT.to_body(), [LOG])
    with pytest.raises(NoteError):
        open_note(note + suffix, [LOG.verifier])


def test_size_limits() -> None:
    big = "x" * MAX_NOTE_BYTES + "\n"
    with pytest.raises(NoteError, match="larger than"):
        open_note(big + "\n" + PETER_SIG, [PETER.verifier])
    with pytest.raises(NoteError, match="larger than"):
        sign_note(big, [PETER])
    with pytest.raises(NoteError, match="more than 100"):
        open_note(TEXT + "\n" + ENOCH_SIG * 100 + PETER_SIG, [PETER.verifier])
    assert open_note(TEXT + "\n" + ENOCH_SIG * 99 + PETER_SIG, [PETER.verifier])[1]


def test_sign_note_rejects_bad_bodies_and_no_signers() -> None:
    for body in ["", "no newline", "tab\there\n", "\ud800\n"]:
        with pytest.raises(NoteError):
            sign_note(body, [LOG])
    with pytest.raises(NoteError, match="no signers"):
        sign_note(TEXT, [])


def test_body_may_contain_blank_lines() -> None:
    body = "a\n\n— looks like a signature AAAA\n\n"
    assert open_note(sign_note(body, [LOG]), [LOG.verifier])[0] == body


def test_required_below_one_refused_and_repeated_verifier_counts_once() -> None:
    note = sign_note(TEXT, [LOG])
    with pytest.raises(ValueError, match="at least 1"):
        open_note(note, [LOG.verifier], required=0)
    assert open_note(note, [LOG.verifier, LOG.verifier])[1] == [LOG.name]
    with pytest.raises(NoteError, match="2 required"):
        open_note(note + note.split("\n\n")[1], [LOG.verifier], required=2)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u3000b", "a\nb", "a\u00a0b"])
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(NoteError, match="invalid key name"):
        generate_signer(name)
    with pytest.raises(NoteError, match="invalid key name"):
        Verifier(name, LOG.verifier.public_key)


def test_error_messages_are_bilingual() -> None:
    with pytest.raises(NoteError) as info:
        Checkpoint.parse("origin\n007\n" + "A" * 43 + "=\n")
    assert "前导零" in str(info.value) and "leading zeros" in str(info.value)
    assert info.value.zh and info.value.en


def test_signer_repr_keeps_the_secret_out() -> None:
    # The secret is the whole base64 field after name and hash (it may itself contain "+").
    secret = LOG.skey().split("+", 4)[4]
    assert len(secret) == 44 and secret not in repr(LOG)


# --- strict checkpoint parsing --------------------------------------------------------------

ROOT64 = base64.b64encode(bytes(range(32))).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"log\n1\n{ROOT64}",  # no final newline
        "log\n1\n",  # missing root line
        "log\n",
        "",
        f"\n1\n{ROOT64}\n",  # empty origin
        f"log\n01\n{ROOT64}\n",  # leading zero
        f"log\n-1\n{ROOT64}\n",
        f"log\n+1\n{ROOT64}\n",
        f"log\n 1\n{ROOT64}\n",
        f"log\n1.0\n{ROOT64}\n",
        f"log\n٣\n{ROOT64}\n",  # Arabic-Indic digit: str.isdigit would accept it
        f"log\nbananas\n{ROOT64}\n",
        f"log\n18446744073709551616\n{ROOT64}\n",  # 2^64
        f"log\n3438945738945739845734895735\n{ROOT64}\n",
        "Log\n123\nYmFuYW5hcw==\n",  # 7-byte root (transparency-dev's marshal vector)
        "log\n1\nThisIsn'tBase64\n",
        f"log\n1\n{ROOT64[:-1]}\n",  # padding missing
        f"log\n1\n{ROOT64[:-2]}9=\n",  # non-zero padding bits: not canonical
        f"log\n1\n{ROOT64}\n\n",  # empty extension line
        f"log\n1\n{ROOT64}\next\n\n\n",
        f"lo\tg\n1\n{ROOT64}\n",  # control character
    ],
)
def test_checkpoint_parse_rejects(body: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(body)


def test_checkpoint_parse_accepts_zero_max_and_extensions() -> None:
    assert Checkpoint.parse(f"log\n0\n{ROOT64}\n").size == 0
    assert Checkpoint.parse(f"log\n18446744073709551615\n{ROOT64}\n").size == 2**64 - 1
    assert Checkpoint.parse(f"log\n1\n{ROOT64}\na\nb\n").extensions == ("a", "b")


@pytest.mark.parametrize(
    "args",
    [
        ("", 1, bytes(32)),
        ("a\nb", 1, bytes(32)),
        ("a", -1, bytes(32)),
        ("a", True, bytes(32)),
        ("a", 2**64, bytes(32)),
        ("a", 1, bytes(31)),
        ("a", 1, "0" * 32),
        ("a", 1, bytes(32), ["list"]),
    ],
)
def test_checkpoint_constructor_rejects(args: tuple[object, ...]) -> None:
    with pytest.raises(NoteError):
        Checkpoint(*args)  # type: ignore[arg-type]


LINE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40)


@given(
    origin=LINE,
    size=st.integers(0, 2**64 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(LINE, max_size=3).map(tuple),
)
def test_checkpoint_round_trip(
    origin: str, size: int, root: bytes, extensions: tuple[str, ...]
) -> None:
    checkpoint = Checkpoint(origin, size, root, extensions)
    assert Checkpoint.parse(checkpoint.to_body()) == checkpoint
    body, _ = open_note(sign_note(checkpoint.to_body(), [LOG]), [LOG.verifier])
    assert Checkpoint.parse(body) == checkpoint


# --- key files ------------------------------------------------------------------------------


def test_load_or_create_signer_creates_0600_and_reuses(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "checkpoint.skey"
    first = load_or_create_signer(path, "example.org/log")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == first.skey() + "\n"
    assert load_or_create_signer(path, "example.org/log").skey() == first.skey()
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_existing_key_file_is_read_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "peter.skey"
    path.write_text(PETER_SKEY + "\n")
    assert load_or_create_signer(path, "PeterNeumann").skey() == PETER_SKEY
    with pytest.raises(NoteError, match="not 'SomeoneElse'"):
        load_or_create_signer(path, "SomeoneElse")
    assert path.read_text() == PETER_SKEY + "\n"


def test_concurrent_creator_wins_the_race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "race.skey"
    real_link = os.link

    def link_after_rival(src: Path, dst: Path) -> None:
        Path(dst).write_text(PETER_SKEY + "\n")  # another process linked its key first
        real_link(src, dst)

    monkeypatch.setattr(files.os, "link", link_after_rival)
    assert load_or_create_signer(path, "PeterNeumann").skey() == PETER_SKEY
    assert list(tmp_path.iterdir()) == [path]


def test_load_verifier_from_text_and_file(tmp_path: Path) -> None:
    assert load_verifier(PETER_VKEY + "\n") == PETER.verifier
    vkey_file = tmp_path / "peter.vkey"
    vkey_file.write_text(PETER_VKEY + "\n")
    assert load_verifier(vkey_file).vkey() == PETER_VKEY
    with pytest.raises(NoteError, match="private signer key"):
        load_verifier(PETER_SKEY)
