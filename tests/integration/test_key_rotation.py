"""`civicpoints keys …`: the checkpoint key and the PII key rotate without losing anything.

Signing: what the old key signed (checkpoints, receipts, certificates) still verifies, what is
signed after uses the new key, `ledger verify` passes, tampering still fails. PII: a rotation
interrupted after one batch is readable throughout and continues where it stopped; the old
key cannot be retired while a ciphertext uses it; no log line holds a value or a key.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from civicpoints.cli.city import City
from civicpoints.cli.keys import encrypted_columns
from civicpoints.cli.main import app
from civicpoints.identity import ID_CONTEXT, PHONE_CONTEXT, IdentityService
from civicpoints.identity.models import Resident
from civicpoints.jobs.tasks import pinned_keys
from civicpoints.kit.context import Context, build_context
from civicpoints.kit.crypto import (
    VERSION_KEYED,
    DecryptionError,
    FieldCipher,
    key_from_b64,
    ring_from_json,
)
from civicpoints.kit.db import transaction
from civicpoints.kit.rekey import Rekeyer
from civicpoints.kit.settings import Settings, get_settings
from civicpoints.ledger import log_signer, open_note, retired_verifiers, verify_ledger
from civicpoints.ledger.note import Verifier
from civicpoints.ledger.receipt import verify_receipt

from .test_certificates import issue, volunteer  # noqa: F401  (the fixture)
from .test_receipts import bump_size, earn_fifty, sequence

Cli = Callable[..., Result]


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    """Invoke the CLI against the test's database and var dir, as an operator would."""
    monkeypatch.setenv("CIVICPOINTS_DATABASE_URL", settings.resolved_database_url())
    monkeypatch.setenv("CIVICPOINTS_PII_KEY", settings.pii_key)
    monkeypatch.setenv("CIVICPOINTS_VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, [str(a) for a in args])
    get_settings.cache_clear()


# --- the checkpoint signing key ------------------------------------------------------------


def latest_global(client: TestClient) -> str:
    """The newest global checkpoint's signed note."""
    return str(client.get("/api/v1/ledger/checkpoints/latest").json()["global"]["note"])


def test_signing_key_rotates_and_everything_signed_before_still_verifies(
    client: TestClient,
    city: City,
    settings: Settings,
    sessions: sessionmaker[Session],
    volunteer: tuple[dict[str, str], Resident],  # noqa: F811
    cli: Cli,
    tmp_path: Path,
) -> None:
    """Before: a receipt, a checkpoint, a certificate; rotate; after: the same again."""
    _, me = volunteer
    headers = earn_fifty(client, city)
    sequence(settings)
    old = log_signer(settings).verifier
    entry = client.get("/api/v1/me/ledger", headers=headers).json()[0]["id"]
    receipt_before = client.get(f"/api/v1/me/ledger/{entry}/receipt", headers=headers).json()
    checkpoint_before = latest_global(client)
    cert_before = issue(client, city, "organizer", me).json()

    r = cli("keys", "rotate-signing")
    assert r.exit_code == 0, r.output
    new = log_signer(settings).verifier
    assert new != old and new.name == old.name
    assert old.vkey() in r.output and new.vkey() in r.output
    path = settings.signing_key_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_name(path.name + ".next").exists()
    assert retired_verifiers(path) == [old]  # pinned outside the database
    # the old key vouches for the new one (for whoever pinned only the old key)
    statement = path.with_name(f"ledger.rotation-{new.key_hash:08x}.note")
    vouched = cli("keys", "verify-rotation", statement, "--public-key", old.vkey())
    assert vouched.exit_code == 0 and new.vkey() in vouched.output.replace("\n", "")
    assert cli("keys", "verify-rotation", statement, "--public-key", new.vkey()).exit_code == 1

    listed = {k["key_hash"]: k for k in client.get("/api/v1/ledger/keys").json()}
    assert listed[f"{old.key_hash:08x}"]["valid_until"] is not None
    assert listed[f"{new.key_hash:08x}"]["valid_until"] is None
    keys = [Verifier.from_vkey(k["vkey"]) for k in listed.values() if k["role"] == "log"]
    assert set(keys) == {old, new}

    headers2 = earn_fifty(client, city, 2)
    sequence(settings)
    entry2 = client.get("/api/v1/me/ledger", headers=headers2).json()[0]["id"]
    receipt_after = client.get(f"/api/v1/me/ledger/{entry2}/receipt", headers=headers2).json()
    checkpoint_after = latest_global(client)
    cert_after = issue(client, city, "organizer", me).json()

    # new signatures are by the new key only; old ones still open, each by its key id
    for note in (checkpoint_after, cert_after["note"]):
        assert open_note(note, [new])
        with pytest.raises(ValueError):
            open_note(note, [old])
    for note in (checkpoint_before, cert_before["note"]):
        assert open_note(note, keys)
    assert verify_receipt(receipt_before, keys).ok and verify_receipt(receipt_after, keys).ok
    assert not verify_receipt(receipt_before, [new]).ok  # the old key really is needed
    tampered = copy.deepcopy(receipt_after)
    tampered["entry"]["amount"] = 5000
    assert not verify_receipt(tampered, keys).ok

    # offline, with both vkeys: certificates and receipts from before and after
    args = ["--public-key", old.vkey(), "--public-key", new.vkey()]
    for n, cert in enumerate((cert_before, cert_after)):
        note = tmp_path / f"c{n}.note"
        note.write_text(cert["note"], encoding="utf-8")
        assert cli("ledger", "verify-certificate", note, *args).exit_code == 0
        note.write_text(cert["note"].replace("total_minutes ", "total_minutes 9"), "utf-8")
        assert cli("ledger", "verify-certificate", note, *args).exit_code == 1
    for n, receipt in enumerate((receipt_before, receipt_after)):
        file = tmp_path / f"r{n}.json"
        file.write_text(json.dumps(receipt), encoding="utf-8")
        assert cli("ledger", "verify-receipt", file, *args).exit_code == 0
    assert client.get(f"/verify/{cert_before['number']}").status_code == 200

    # the whole ledger, with the keys it finds and with the nightly job's pinned keys
    full = cli("ledger", "verify")
    assert full.exit_code == 0, full.output
    with sessions() as s:
        assert verify_ledger(s, pinned_keys(settings)).ok
    # a checkpoint signed by the old key, then altered, is still a fault after the rotation
    good = tmp_path / "good.note"
    good.write_text(checkpoint_before, encoding="utf-8")
    assert cli("ledger", "verify", "--checkpoint", good).exit_code == 0
    bad = tmp_path / "bad.note"
    bad.write_text(bump_size(checkpoint_before), encoding="utf-8")
    refused = cli("ledger", "verify", "--checkpoint", bad)
    assert refused.exit_code == 1 and "signature" in refused.output, refused.output


def test_rotate_signing_without_a_key_refuses(cli: Cli, settings: Settings) -> None:
    """No key file: nothing to rotate, nothing created."""
    r = cli("keys", "rotate-signing")
    assert r.exit_code == 2 and "nothing to rotate" in r.output
    assert not settings.signing_key_path.exists()


# --- the PII key ---------------------------------------------------------------------------


def blobs(sessions: sessionmaker[Session]) -> list[bytes]:
    """Every resident's ID and phone ciphertexts."""
    with sessions() as s:
        rows = s.execute(select(Resident.id_enc, Resident.phone_enc)).all()
    return [bytes(b) for row in rows for b in row]


def plaintexts(sessions: sessionmaker[Session], ctx: Context) -> dict[str, tuple[str, str]]:
    """Each resident's (ID number, phone) read through `ctx`, as a running server reads."""
    with sessions() as s:
        return {
            str(r.id): (
                ctx.cipher.decrypt(r.id_enc, ID_CONTEXT),
                ctx.cipher.decrypt(r.phone_enc, PHONE_CONTEXT),
            )
            for r in s.scalars(select(Resident))
        }


def test_pii_key_rotates_in_batches_resumes_and_retires(
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    make_resident: Callable[..., Resident],
    cli: Cli,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Interrupted after one batch: every value still reads, and the old key cannot go; the
    rerun finishes without a third key; then the old key retires; nothing leaks to the logs."""
    caplog.set_level(logging.DEBUG)
    for name in ["张秀英", "李建国", "王芳", "赵磊", "陈静"]:
        make_resident(name)
    before = plaintexts(sessions, ctx)
    old_id = ctx.cipher.ring.current
    assert all(b[0] == 0x01 for b in blobs(sessions))  # never rotated: the original layout

    assert cli("keys", "rotate-pii", "--batch", "0").exit_code == 2  # bounded
    assert cli("keys", "rotate-pii", "--batch", "100000").exit_code == 2
    first = cli("keys", "rotate-pii", "--batch", "2", "--max-batches", "1")
    assert first.exit_code == 3, first.output
    keyring = settings.pii_keyring_path
    assert stat.S_IMODE(keyring.stat().st_mode) == 0o600
    ring = ring_from_json(keyring.read_bytes())
    new_id = ring.current
    assert new_id != old_id and set(ring.keys) == {old_id, new_id}
    assert sorted(b[0] for b in blobs(sessions)).count(VERSION_KEYED) == 2
    progress = keyring.with_name("pii.keyring.progress")
    rekeyer = Rekeyer(sessions, ctx.cipher, encrypted_columns(), progress)
    assert rekeyer.total_rows() == 10 and rekeyer.rows_done() == 2  # where the rerun starts

    # no downtime: the long-lived context reads old and new ciphertexts, writes with the new key
    assert plaintexts(sessions, ctx) == before
    newcomer = make_resident("孙悟空")
    with sessions() as s:
        row = s.get_one(Resident, newcomer.id)
        assert ctx.cipher.key_id_of(row.phone_enc) == new_id
        found = IdentityService(s, ctx).find_resident(
            ctx.cipher.decrypt(row.phone_enc, PHONE_CONTEXT)
        )
        assert found is not None and found.id == newcomer.id  # blind indexes unchanged
    before = plaintexts(sessions, ctx)

    refused = cli("keys", "retire-pii", old_id)
    assert refused.exit_code == 1 and "still use" in refused.output
    assert set(ring_from_json(keyring.read_bytes()).keys) == {old_id, new_id}

    rest = cli("keys", "rotate-pii", "--batch", "2")
    assert rest.exit_code == 0, rest.output
    assert "continuing" in rest.output and "re-encrypted 8 value(s)" in rest.output
    assert ring_from_json(keyring.read_bytes()).current == new_id  # no third key
    assert all(ctx.cipher.key_id_of(b) == new_id for b in blobs(sessions))
    assert plaintexts(sessions, ctx) == before

    # a straggler under the old key (a process that had not seen the keyring yet): retiring
    # refuses, `--resume` walks again without a new key
    with transaction(sessions) as s:
        one = s.scalars(select(Resident).order_by(Resident.id)).first()
        assert one is not None
        phone = ctx.cipher.decrypt(one.phone_enc, PHONE_CONTEXT)
        one.phone_enc = FieldCipher(key_from_b64(settings.pii_key)).encrypt(phone, PHONE_CONTEXT)
    assert cli("keys", "retire-pii", old_id).exit_code == 1
    again = cli("keys", "rotate-pii", "--resume")
    assert again.exit_code == 0 and "re-encrypted 1 value(s)" in again.output, again.output
    assert ring_from_json(keyring.read_bytes()).current == new_id

    assert cli("keys", "retire-pii", new_id).exit_code == 2  # the current key
    assert cli("keys", "retire-pii", "00000000").exit_code == 2  # no such key
    done = cli("keys", "retire-pii", old_id)
    assert done.exit_code == 0, done.output
    ring = ring_from_json(keyring.read_bytes())
    assert set(ring.keys) == {new_id} and old_id in ring.retired
    assert plaintexts(sessions, ctx) == before
    assert plaintexts(sessions, build_context(settings)) == before  # a restart reads too

    # nothing secret or personal in any log line or in the commands' output
    secrets = {settings.pii_key, *(base64.b64encode(k).decode() for k in ring.keys.values())}
    secrets |= {v for pair in before.values() for v in pair}
    secrets.add(base64.b64encode(key_from_b64(settings.pii_key)).decode())
    said = [rec.getMessage() for rec in caplog.records]
    said += [first.output, rest.output, refused.output, done.output]
    assert any("rekey" in line for line in said)  # the walk does log
    for line in said:
        for secret in secrets:
            assert secret not in line


def test_the_old_key_after_retirement_and_a_foreign_keyring(
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    make_resident: Callable[..., Resident],
    cli: Cli,
) -> None:
    """A retired key's ciphertexts no longer open; a keyring without the configured key is
    refused at start-up rather than guessed at."""
    make_resident("张秀英")
    with sessions() as s:
        old_blob = bytes(s.scalars(select(Resident.phone_enc)).one())
    assert cli("keys", "rotate-pii").exit_code == 0
    old_id = ctx.cipher.key_id_of(old_blob)
    assert old_id is not None and cli("keys", "retire-pii", old_id).exit_code == 0
    with pytest.raises(DecryptionError, match="not in the key ring"):
        ctx.cipher.decrypt(old_blob, PHONE_CONTEXT)
    other = settings.model_copy(update={"pii_key": base64.b64encode(b"\x07" * 32).decode()})
    with pytest.raises(ValueError, match="not in the keyring"):
        build_context(other)
    with transaction(sessions) as s:  # and the data is intact under the new key
        assert IdentityService(s, ctx).find_resident("13900000001") is not None


def test_a_rotation_stopped_by_a_broken_ciphertext_continues_after_the_repair(
    sessions: sessionmaker[Session],
    settings: Settings,
    ctx: Context,
    make_resident: Callable[..., Resident],
    cli: Cli,
) -> None:
    """Interrupted mid-walk (a tampered value): batches before it stay done, the command says
    which row, and the rerun after the repair continues there with the same new key."""
    for name in ["张秀英", "李建国", "王芳"]:
        make_resident(name)
    with sessions() as s:
        ids = list(s.scalars(select(Resident.id).order_by(Resident.id)))
        kept = bytes(s.get_one(Resident, ids[1]).phone_enc)
    broken = kept[:-1] + bytes([kept[-1] ^ 1])
    with transaction(sessions) as s:
        s.get_one(Resident, ids[1]).phone_enc = broken

    stopped = cli("keys", "rotate-pii", "--batch", "1")
    assert stopped.exit_code == 1, stopped.output
    assert "identity_resident.phone_enc" in stopped.output and "rerun" in stopped.output
    ring = ring_from_json(settings.pii_keyring_path.read_bytes())
    with sessions() as s:  # the IDs (first column) and the first phone are done already
        rows = {r.id: r for r in s.scalars(select(Resident))}
        assert all(ctx.cipher.key_id_of(r.id_enc) == ring.current for r in rows.values())
        assert ctx.cipher.key_id_of(rows[ids[0]].phone_enc) == ring.current
        assert ctx.cipher.key_id_of(rows[ids[2]].phone_enc) != ring.current

    with transaction(sessions) as s:
        s.get_one(Resident, ids[1]).phone_enc = kept
    rest = cli("keys", "rotate-pii", "--batch", "1")
    assert rest.exit_code == 0, rest.output
    assert "continuing" in rest.output and "re-encrypted 2 value(s)" in rest.output
    assert ring_from_json(settings.pii_keyring_path.read_bytes()).current == ring.current
    assert all(ctx.cipher.key_id_of(b) == ring.current for b in blobs(sessions))


def test_a_childs_id_number_is_rotated_with_the_residents(
    sessions: sessionmaker[Session],
    ctx: Context,
    make_resident: Callable[..., Resident],
    cli: Cli,
) -> None:
    """教育积分 stores a guardian's child's ID number encrypted: rotate-pii walks it too, it
    still reads afterwards, and the old key may then retire."""
    from civicpoints.identity import CHILD_ID_CONTEXT, GuardianService
    from civicpoints.identity.education_models import Child

    from .conftest import id_number

    number = id_number(51, birth="20180901", sex_digit=1)
    parent = make_resident("李建国")
    with transaction(sessions) as s:
        GuardianService(s, ctx).link(parent, "李小明", number, "father")
    old_id = ctx.cipher.ring.current
    assert cli("keys", "rotate-pii").exit_code == 0
    with sessions() as s:
        child = s.scalars(select(Child)).one()
        assert ctx.cipher.key_id_of(child.id_enc) != old_id
        assert ctx.cipher.decrypt(child.id_enc, CHILD_ID_CONTEXT) == number
    assert cli("keys", "retire-pii", old_id).exit_code == 0
