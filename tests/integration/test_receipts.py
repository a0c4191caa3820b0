"""Receipts end to end: earn, sequence, download, verify offline; tampering is caught."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from civicpoints.cli.city import City
from civicpoints.cli.main import app as cli
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.settings import Settings
from civicpoints.ledger import merkle
from civicpoints.ledger.keys import log_signer
from civicpoints.ledger.note import Checkpoint, Verifier, open_note
from civicpoints.ledger.receipt import verify_receipt
from civicpoints.ledger.tasks import sequence_once

from .conftest import WEST_LAKE
from .test_api import create_activity, jpeg, login, no_presence_minimum, resident_headers


def earn_fifty(client: TestClient, city: City, n: int = 1) -> dict[str, str]:
    """A resident who earned 50 points for an environmental action; returns their headers."""
    headers = resident_headers(client, city, n)
    if not getattr(client, "presence_waived", False):  # one rule set per test is enough
        no_presence_minimum(client)
        client.presence_waived = True
    activity = create_activity(client, city, category="environmental", evidence="photo_gps")
    client.post(f"/api/v1/activities/{activity}/enrollments", headers=headers)
    pos = {"lat": WEST_LAKE[0], "lon": WEST_LAKE[1]}
    rec = client.post(f"/api/v1/activities/{activity}/checkin", json=pos, headers=headers).json()
    # A photo of its own: the same bytes on two records would be flagged as re-used.
    photo = {"photo": ("p.jpg", jpeg(WEST_LAKE[0] + n * 1e-5, WEST_LAKE[1]), "image/jpeg")}
    client.post(f"/api/v1/participations/{rec['id']}/evidence", files=photo, headers=headers)
    client.post(f"/api/v1/activities/{activity}/checkout", json=pos, headers=headers)
    return headers


def bump_size(note: str) -> str:
    """The same signed note claiming one more leaf (a forged size)."""
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)
    return "\n".join(lines)


def sequence(settings: Settings) -> None:
    """One sequencer pass, as the server's loop or `civicpoints ledger sequence` does."""
    engine = make_engine(settings.resolved_database_url())
    sequence_once(make_session_factory(engine), log_signer(settings), settings.ledger_origin)
    engine.dispose()


def test_resident_receipt_verifies_offline_and_tampering_fails(
    client: TestClient,
    city: City,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """A resident's receipt verifies with the public key alone; any edit is caught."""
    headers = earn_fifty(client, city)
    entry_id = client.get("/api/v1/me/ledger", headers=headers).json()[0]["id"]
    early = client.get(f"/api/v1/me/ledger/{entry_id}/receipt", headers=headers)
    assert early.status_code == 409 and early.json()["code"] == "ledger.not_yet_checkpointed"
    sequence(settings)
    r = client.get(f"/api/v1/me/ledger/{entry_id}/receipt", headers=headers)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    receipt = r.json()
    keys = [Verifier.from_vkey(k["vkey"]) for k in client.get("/api/v1/ledger/keys").json()]
    assert verify_receipt(receipt, keys).ok
    assert receipt["entry"]["amount"] == 50

    for mutate in (
        lambda x: x["entry"].__setitem__("amount", 500),
        lambda x: x["entry"].__setitem__("reason", "改过的理由"),
        lambda x: x.__setitem__("leaf_index", x["leaf_index"] + 1),
        lambda x: x.__setitem__("bucket_checkpoint", bump_size(x["bucket_checkpoint"])),
        lambda x: x["global_inclusion_proof"].append(base64.b64encode(b"\x00" * 32).decode()),
    ):
        bad = copy.deepcopy(receipt)
        mutate(bad)
        assert not verify_receipt(bad, keys).ok
    stranger = Verifier.from_vkey(log_signer(Settings(var_dir=tmp_path / "other")).verifier.vkey())
    assert not verify_receipt(receipt, [stranger]).ok

    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipt), encoding="utf-8")
    ok = CliRunner().invoke(
        cli, ["ledger", "verify-receipt", str(path), "--public-key", keys[0].vkey()]
    )
    assert ok.exit_code == 0 and "receipt verified" in ok.output
    path.write_text(json.dumps({**receipt, "entry_hash": "0" * 64}), encoding="utf-8")
    bad = CliRunner().invoke(
        cli, ["ledger", "verify-receipt", str(path), "--public-key", keys[0].vkey()]
    )
    assert bad.exit_code == 1


def test_only_the_owner_or_an_auditor_sees_an_entry(
    client: TestClient,
    city: City,
    settings: Settings,
) -> None:
    """Another resident gets 403; the auditor gets the same proof."""
    owner = earn_fifty(client, city, 1)
    other = resident_headers(client, city, 2)
    entry_id = client.get("/api/v1/me/ledger", headers=owner).json()[0]["id"]
    sequence(settings)
    assert client.get(f"/api/v1/me/ledger/{entry_id}/receipt", headers=other).status_code == 403
    assert (
        client.get(
            f"/api/v1/ledger/entries/{entry_id}/proof", headers=login(client, "organizer")
        ).status_code
        == 403
    )
    audit = client.get(f"/api/v1/ledger/entries/{entry_id}/proof", headers=login(client, "auditor"))
    assert audit.status_code == 200 and audit.json()["entry_hash"]


def test_latest_checkpoints_and_consistency_between_them(
    client: TestClient,
    city: City,
    settings: Settings,
) -> None:
    """Checkpoints are public; a later one is provably an extension of an earlier one."""
    earn_fifty(client, city, 1)
    sequence(settings)
    first = client.get("/api/v1/ledger/checkpoints/latest").json()
    earn_fifty(client, city, 2)
    sequence(settings)
    second = client.get("/api/v1/ledger/checkpoints/latest").json()
    keys = [Verifier.from_vkey(k["vkey"]) for k in client.get("/api/v1/ledger/keys").json()]
    assert second["global"]["size"] > first["global"]["size"]
    old, new = (
        Checkpoint.parse(open_note(cp["global"]["note"], keys)[0]) for cp in (first, second)
    )
    proof = client.get(
        "/api/v1/ledger/buckets/-1/consistency", params={"first": old.size, "second": new.size}
    ).json()
    path = [base64.b64decode(p) for p in proof]
    assert merkle.verify_consistency(old.size, new.size, old.root, new.root, path)
    r = client.get("/api/v1/ledger/buckets/-1/consistency", params={"first": 1, "second": 10**6})
    assert r.status_code == 422 and r.json()["code"] == "ledger.bad_range"


@pytest.fixture(autouse=True)
def _fixed_origin(settings: Settings) -> None:
    """All tests here sign as the default origin."""
    assert settings.ledger_origin


def test_auditor_replays_an_account_chain(
    client: TestClient, city: City, settings: Settings
) -> None:
    """The chain endpoint gives every hashed field; recomputing links it up (auditors only)."""
    from civicpoints.ledger import chain
    from civicpoints.ledger.receipt import entry_from_json

    owner = earn_fifty(client, city, 1)
    entry_id = client.get("/api/v1/me/ledger", headers=owner).json()[0]["id"]
    sequence(settings)
    auditor = login(client, "auditor")
    account = client.get(f"/api/v1/ledger/entries/{entry_id}/proof", headers=auditor).json()
    account_id = account["entry"]["account_id"]
    assert (
        client.get(
            f"/api/v1/ledger/accounts/{account_id}/chain", headers=login(client, "organizer")
        ).status_code
        == 403
    )
    got = client.get(f"/api/v1/ledger/accounts/{account_id}/chain", headers=auditor).json()
    prev = chain.GENESIS
    for item in got["entries"]:
        fields = entry_from_json(item["entry"])
        assert fields.prev_hash == prev and chain.entry_hash(fields) == item["entry_hash"]
        prev = item["entry_hash"]
    assert len(got["entries"]) == 1 and got["next_after_seq"] is None
