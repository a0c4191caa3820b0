"""Tampering by someone with write access to the database, caught by `verify_ledger`.

The attacker works with raw SQL on the database file or server, never through the application:
first they drop the append-only triggers (migrations 0001 and 0003), then they rewrite rows.
Each case asserts the exact fault kinds reported and the rows they name, on both engines.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import psycopg
import pytest
from psycopg.types.json import Json
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import transaction
from civicpoints.kit.settings import Settings
from civicpoints.ledger import chain, merkle
from civicpoints.ledger.keys import generate_signer
from civicpoints.ledger.models import Account, CheckpointRow, Entry, LogLeaf, Lot
from civicpoints.ledger.note import Checkpoint, Signer, Verifier, sign_note
from civicpoints.ledger.sequencer import GLOBAL_LOG, checkpoint_leaf, note_body
from civicpoints.ledger.service import LedgerService, Posting
from civicpoints.ledger.verification import transfers
from civicpoints.ledger.verify import VerifyReport, verify_ledger
from civicpoints.ledger.witness import cosign_latest

from .test_verify import T0, build_ledger, latest_notes

# The append-only tables (migrations 0001, 0003, 0004, 0014) and their UPDATE/DELETE triggers.
APPEND_ONLY = (
    "ledger_transfer",
    "ledger_entry",
    "ledger_lot_use",
    "hours_entry",
    "ledger_clawback",
    "ledger_restore",
    "ledger_log_leaf",
    "ledger_log_node",
    "ledger_checkpoint",
    "ledger_cosignature",
)


class Attacker:
    """Someone with write access to the database itself: raw SQL, no application code."""

    def __init__(self, url: str) -> None:
        self.pg = url.startswith("postgresql")
        self.conn: Any = (
            psycopg.connect(url, autocommit=True)
            if self.pg
            else sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        )

    def sql(self, statement: str, *params: object) -> None:
        """Run one statement written with ? placeholders."""
        if self.pg:
            statement = statement.replace("?", "%s")
        self.conn.execute(statement, [self.stored(p) for p in params])

    def stored(self, value: object) -> object:
        """A Python value as this engine stores it (SQLite: hex ids, naive UTC text, JSON)."""
        if isinstance(value, uuid.UUID):
            return value if self.pg else value.hex
        if isinstance(value, datetime):
            utc = value.astimezone(UTC)
            return utc if self.pg else utc.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, list):
            return Json(value) if self.pg else json.dumps(value)
        return value

    def drop_triggers(self) -> None:
        """Drop the refusal triggers, after checking that they do refuse."""
        with pytest.raises((sqlite3.DatabaseError, psycopg.Error), match="append-only"):
            self.sql("UPDATE ledger_entry SET amount = amount")
        for table in APPEND_ONLY:
            if self.pg:
                self.sql(f"DROP TRIGGER {table}_append_only ON {table}")
            else:
                self.sql(f"DROP TRIGGER {table}_no_update")
                self.sql(f"DROP TRIGGER {table}_no_delete")

    def insert(self, table: str, row: Mapping[str, object]) -> None:
        """INSERT one row."""
        marks = ", ".join("?" for _ in row)
        self.sql(f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", *row.values())

    def update(self, table: str, values: Mapping[str, object], where: Mapping[str, object]) -> None:
        """UPDATE the rows matching `where`."""
        sets = ", ".join(f"{c} = ?" for c in values)
        cond = " AND ".join(f"{c} = ?" for c in where)
        self.sql(f"UPDATE {table} SET {sets} WHERE {cond}", *values.values(), *where.values())


@dataclass
class Scene:
    """A sound, fully signed ledger; the checkpoints an auditor kept; the attacker."""

    sessions: sessionmaker[Session]
    signer: Signer
    origin: str
    postings: dict[str, Posting]
    saved: list[str]
    attacker: Attacker

    def verify(
        self, trusted: bool = False, keys: list[Verifier] | None = None, required: int = 1
    ) -> VerifyReport:
        """What `ledger verify` finds now, optionally against the saved checkpoints."""
        keys = keys or [self.signer.verifier]
        saved = self.saved if trusted else ()
        with self.sessions() as s:
            serial = verify_ledger(s, keys, trusted=saved, required=required, parallel=False)
        # The parts in child processes, pairing transfers by the sorted merge instead of in
        # the order rows were written, must find exactly the same.
        with self.sessions() as s, mock.patch.object(transfers, "RESOLVE", -1):
            split = verify_ledger(s, keys, trusted=saved, required=required, parallel=True)
        assert split.faults == serial.faults and split.counts == serial.counts
        return serial

    def read(self, model: type[Any], *where: Any, order: Any = None) -> list[Any]:
        """Rows as the attacker reads them (reading needs no bypass)."""
        with self.sessions() as s:
            return list(s.scalars(select(model).where(*where).order_by(order)))

    def chain_of(self, bucket: int, account_id: uuid.UUID) -> list[Entry]:
        """An account's entries in seq order."""
        return self.read(
            Entry, Entry.bucket == bucket, Entry.account_id == account_id, order=Entry.seq
        )

    def wallet(self, name: str) -> tuple[int, uuid.UUID]:
        """(bucket, account id) of wallet `name`."""
        with self.sessions() as s:
            return LedgerService(s).locate(f"wallet:{name}")


@pytest.fixture
def scene(sessions: sessionmaker[Session], settings: Settings) -> Iterator[Scene]:
    """The ledger of test_verify, sequenced and signed; the attacker has dropped the triggers."""
    signer = generate_signer(settings.ledger_origin)
    postings = build_ledger(sessions, signer, settings.ledger_origin)
    attacker = Attacker(settings.resolved_database_url())
    scene = Scene(
        sessions, signer, settings.ledger_origin, postings, latest_notes(sessions), attacker
    )
    assert scene.verify(trusted=True).ok
    attacker.drop_triggers()
    yield scene
    attacker.conn.close()


def faults(report: VerifyReport) -> set[tuple[str, Any]]:
    """(kind, entry id) of every fault; the entry is None for faults of other rows."""
    return {(f.kind, f.entry_id) for f in report.faults}


def issuance(bucket: int) -> uuid.UUID:
    """The id of a bucket's general issuance account (a per-bucket system account)."""
    return uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"system:issuance:general#{bucket}")


# -- the journal ---------------------------------------------------------------------------


def test_a_changed_amount(scene: Scene) -> None:
    """UPDATE one credit's amount: its hash no longer matches, and every sum disagrees."""
    a2 = scene.postings["a2"]
    bucket, wallet = scene.wallet("a")
    scene.attacker.sql(
        "UPDATE ledger_entry SET amount = amount + 100 WHERE bucket = ? AND id = ?",
        bucket,
        a2.credit_entry_id,
    )
    report = scene.verify()
    assert report.kinds().keys() == {
        "chain.entry_hash",
        "chain.balance_after",
        "account.balance",
        "account.lots",
        "lot.opening",
        "transfer.entries",
        "ledger.entries_sum",
    }
    assert ("chain.entry_hash", a2.credit_entry_id) in faults(report)
    named = {(f.kind, f.account_id) for f in report.faults}
    assert {("account.balance", wallet), ("account.lots", wallet)} <= named
    assert [f.transfer_id for f in report.faults if f.kind == "transfer.entries"] == [
        a2.transfer_id
    ]


def test_a_deleted_entry(scene: Scene) -> None:
    """DELETE one leg mid-chain: a gap in its account's chain, and a log leaf pointing nowhere."""
    bucket, _ = scene.wallet("a")
    doomed = scene.postings["a2"].debit_entry_id  # the issuance leg: no lot refers to it
    legs = [e.id for e in scene.chain_of(bucket, issuance(bucket))]
    follower = legs[legs.index(doomed) + 1]  # a3's leg at the latest
    scene.attacker.sql("DELETE FROM ledger_entry WHERE bucket = ? AND id = ?", bucket, doomed)
    report = scene.verify()
    assert report.kinds().keys() == {
        "chain.seq_gap",
        "chain.prev_hash",
        "chain.balance_after",
        "account.balance",
        "account.entry_count",
        "transfer.entries",
        "ledger.entries_sum",
        "log.leaf_orphan",
    }
    assert ("log.leaf_orphan", doomed) in faults(report)
    assert ("chain.seq_gap", follower) in faults(report)
    gap = next(f for f in report.faults if f.kind == "chain.seq_gap")
    assert gap.account_id == issuance(bucket)


def test_a_forged_entry_pair(scene: Scene) -> None:
    """A careful forgery (balanced, chained, cached, with a lot) is caught by the log alone."""
    bucket, wallet = scene.wallet("a")
    transfer_id, amount, now = uuid.uuid4(), 500, T0 + timedelta(days=50)
    scene.attacker.insert(
        "ledger_transfer",
        {
            "bucket": bucket,
            "id": transfer_id,
            "kind": "award",
            "amount": amount,
            "debit_account_id": issuance(bucket),
            "credit_account_id": wallet,
            "idempotency_key": "forged",
            "request_hash": "0" * 64,
            "ref": "ref:forged",
            "reason": "志愿服务 volunteering",
            "actor": "t",
            "occurred_at": now,
            "recorded_at": now,
        },
    )
    expiry = now + timedelta(days=365)
    forged = [
        append_forged(scene, bucket, issuance(bucket), wallet, transfer_id, -amount, now),
        append_forged(scene, bucket, wallet, issuance(bucket), transfer_id, amount, now, expiry),
    ]
    scene.attacker.insert(
        "ledger_lot",
        {
            "bucket": bucket,
            "id": uuid.uuid4(),
            "account_id": wallet,
            "entry_id": forged[1],
            "amount": amount,
            "remaining": amount,
            "earned_at": now,
            "expires_at": expiry,
        },
    )
    report = scene.verify()
    assert faults(report) == {("log.entry_missing", forged[0]), ("log.entry_missing", forged[1])}


def append_forged(
    scene: Scene,
    bucket: int,
    account_id: uuid.UUID,
    other: uuid.UUID,
    transfer_id: uuid.UUID,
    amount: int,
    at: datetime,
    expires_at: datetime | None = None,
) -> uuid.UUID:
    """Append a correctly chained entry to an account and move its caches, as the app would."""
    account = scene.read(Account, Account.bucket == bucket, Account.id == account_id)[0]
    f = chain.EntryFields(
        bucket=bucket,
        account_id=account_id,
        seq=account.entry_count + 1,
        transfer_id=transfer_id,
        kind="award",
        amount=amount,
        balance_after=account.balance + amount,
        counterparty_id=other,
        ref="ref:forged",
        reason="志愿服务 volunteering",
        actor="t",
        occurred_at=at,
        recorded_at=at,
        prev_hash=account.head_hash,
        expires_at=expires_at,
    )
    entry_id, digest = uuid.uuid4(), chain.entry_hash(f)
    scene.attacker.insert("ledger_entry", {"id": entry_id, "entry_hash": digest, **vars(f)})
    scene.attacker.update(
        "ledger_account",
        {"balance": f.balance_after, "entry_count": f.seq, "head_hash": digest},
        {"bucket": bucket, "id": account_id},
    )
    return entry_id


def test_two_entries_reordered(scene: Scene) -> None:
    """Swap the seq of two entries: the chain links and hashes break exactly there."""
    bucket, wallet = scene.wallet("a")
    a2, a3 = scene.postings["a2"].credit_entry_id, scene.postings["a3"].credit_entry_id
    swap = ((a2, -1), (a3, 2), (a2, 3))  # via -1: (bucket, account, seq) is unique
    for entry_id, seq in swap:
        scene.attacker.update("ledger_entry", {"seq": seq}, {"bucket": bucket, "id": entry_id})
    report = scene.verify()
    assert report.kinds().keys() == {"chain.prev_hash", "chain.entry_hash", "chain.balance_after"}
    assert {e for k, e in faults(report) if k == "chain.entry_hash"} == {a2, a3}
    assert {f.account_id for f in report.faults} == {wallet}


def test_a_lot_edited(scene: Scene) -> None:
    """Put expired points back into their lot: the lot no longer matches its recorded uses."""
    bucket, wallet = scene.wallet("a")
    lot = scene.read(Lot, Lot.entry_id == scene.postings["a1"].credit_entry_id)[0]
    assert lot.remaining == 0  # expired on day 30
    scene.attacker.update("ledger_lot", {"remaining": lot.amount}, {"bucket": bucket, "id": lot.id})
    report = scene.verify()
    assert [(f.kind, f.lot_id, f.account_id) for f in report.faults] == [
        ("lot.remaining", lot.id, wallet)
    ]


@pytest.mark.parametrize("column", ["expires_at", "earned_at"])
def test_a_lot_life_changed(scene: Scene, column: str) -> None:
    """Move a lot's expiry (or earned time) by a year: its opening credit no longer matches."""
    bucket, wallet = scene.wallet("a")
    lot = scene.read(Lot, Lot.entry_id == scene.postings["a3"].credit_entry_id)[0]
    assert lot.remaining > 0  # points still alive, whose life the attacker lengthens
    moved = getattr(lot, column) + timedelta(days=365)
    scene.attacker.update("ledger_lot", {column: moved}, {"bucket": bucket, "id": lot.id})
    report = scene.verify()
    assert [(f.kind, f.lot_id, f.account_id, f.entry_id) for f in report.faults] == [
        ("lot.opening", lot.id, wallet, lot.entry_id)
    ]
    named = "到期时间" if column == "expires_at" else "获得时间"
    assert named in report.faults[0].message_zh


def test_a_lot_expiry_changed_with_its_entry(scene: Scene) -> None:
    """Move the expiry in the opening credit too: the entry's hash no longer matches it."""
    bucket, _ = scene.wallet("a")
    entry_id = scene.postings["a3"].credit_entry_id
    lot = scene.read(Lot, Lot.entry_id == entry_id)[0]
    moved = lot.expires_at + timedelta(days=365)
    scene.attacker.update("ledger_lot", {"expires_at": moved}, {"bucket": bucket, "id": lot.id})
    scene.attacker.update("ledger_entry", {"expires_at": moved}, {"bucket": bucket, "id": entry_id})
    report = scene.verify()
    assert faults(report) == {("chain.entry_hash", entry_id)}


def test_a_stored_node_changed(scene: Scene) -> None:
    """Proofs are served from stored nodes: a forged one is named though every leaf is intact."""
    bucket, _ = scene.wallet("a")
    where = {"bucket": bucket, "level": 1, "node_index": 0}
    scene.attacker.update("ledger_log_node", {"hash": bytes(32)}, where)
    report = scene.verify()
    assert [(f.kind, f.bucket) for f in report.faults] == [("log.node_mismatch", bucket)]


# -- a consistent rewrite: only the signed log catches it ----------------------------------


def rewrite_chain(
    scene: Scene, bucket: int, account_id: uuid.UUID, changes: dict[uuid.UUID, int]
) -> set[uuid.UUID]:
    """Give entries new amounts and recompute every later balance, link, hash and cache."""
    prev, balance, rewritten = chain.GENESIS, 0, set()
    for e in scene.chain_of(bucket, account_id):
        amount = changes.get(e.id, e.amount)
        values = {f.name: getattr(e, f.name) for f in fields(chain.EntryFields)}
        f = chain.EntryFields(
            **values | {"amount": amount, "balance_after": balance + amount, "prev_hash": prev}
        )
        digest = chain.entry_hash(f)
        if digest != e.entry_hash:
            new = {"amount": amount, "balance_after": f.balance_after, "prev_hash": prev}
            scene.attacker.update(
                "ledger_entry", new | {"entry_hash": digest}, {"bucket": bucket, "id": e.id}
            )
            rewritten.add(e.id)
        prev, balance = digest, f.balance_after
    scene.attacker.update(
        "ledger_account",
        {"balance": balance, "head_hash": prev},
        {"bucket": bucket, "id": account_id},
    )
    return rewritten


def rewrite_history(scene: Scene) -> tuple[int, set[uuid.UUID]]:
    """Award 1,030 instead of 30 for a2, keeping chains, caches, transfer and lot consistent."""
    a2 = scene.postings["a2"]
    bucket, wallet = scene.wallet("a")
    extra = 1_000
    scene.attacker.update(
        "ledger_transfer", {"amount": 30 + extra}, {"bucket": bucket, "id": a2.transfer_id}
    )
    lot = {"amount": 30 + extra, "remaining": 30 + extra}
    scene.attacker.update("ledger_lot", lot, {"bucket": bucket, "entry_id": a2.credit_entry_id})
    rewritten = rewrite_chain(scene, bucket, wallet, {a2.credit_entry_id: 30 + extra})
    rewritten |= rewrite_chain(scene, bucket, issuance(bucket), {a2.debit_entry_id: -30 - extra})
    return bucket, rewritten


def test_a_whole_chain_rewritten_consistently(scene: Scene) -> None:
    """Chains, caches, sums, transfer and lot all agree: only the log's leaves disagree."""
    bucket, rewritten = rewrite_history(scene)
    report = scene.verify()
    assert report.kinds().keys() == {"log.leaf_mismatch"}
    assert {f.entry_id for f in report.faults} == rewritten
    assert {f.bucket for f in report.faults} == {bucket}
    a2 = scene.postings["a2"]
    assert {a2.credit_entry_id, a2.debit_entry_id} <= rewritten


def rewrite_log(scene: Scene, bucket: int, replace: dict[int, bytes]) -> list[bytes]:
    """Replace leaves of a log and recompute every node and its head, as a sequencer would."""
    rows = scene.read(LogLeaf, LogLeaf.bucket == bucket, order=LogLeaf.leaf_index)
    leaves = [replace.get(r.leaf_index, r.leaf_hash) for r in rows]
    tree = merkle.CompactRange()
    for index, leaf in enumerate(leaves):
        if index in replace:
            where = {"bucket": bucket, "leaf_index": index}
            scene.attacker.update("ledger_log_leaf", {"leaf_hash": leaf}, where)
        for level, node, digest in tree.append(leaf):
            where = {"bucket": bucket, "level": level, "node_index": node}
            scene.attacker.update("ledger_log_node", {"hash": digest}, where)
    frontier = [h.hex() for h in tree.to_state()[1]]
    scene.attacker.update("ledger_log_head", {"frontier": frontier}, {"bucket": bucket})
    return leaves


def rewrite_checkpoints(
    scene: Scene, bucket: int, leaves: list[bytes], key: Signer | None
) -> dict[int, str]:
    """New roots for a log's checkpoints: re-signed with `key`, or keeping the old signatures."""
    notes = {}
    for row in scene.read(CheckpointRow, CheckpointRow.bucket == bucket):
        old_body = note_body(row.note)
        cp = Checkpoint(
            Checkpoint.parse(old_body).origin, row.size, merkle.root_of(leaves[: row.size])
        )
        body = cp.to_body()
        notes[row.size] = sign_note(body, [key]) if key else body + row.note[len(old_body) :]
        where = {"bucket": bucket, "size": row.size}
        scene.attacker.update(
            "ledger_checkpoint", {"root": cp.root, "note": notes[row.size]}, where
        )
    return notes


def rewrite_global(scene: Scene, bucket: int, notes: dict[int, str], key: Signer | None) -> None:
    """Point the global log at the rewritten bucket checkpoints (and re-sign it, with a key)."""
    replace = {
        leaf.leaf_index: checkpoint_leaf(note_body(notes[int(leaf.ref.split(":")[1])]))
        for leaf in scene.read(LogLeaf, LogLeaf.bucket == GLOBAL_LOG)
        if leaf.ref.startswith(f"{bucket}:")
    }
    leaves = rewrite_log(scene, GLOBAL_LOG, replace)
    if key:
        rewrite_checkpoints(scene, GLOBAL_LOG, leaves, key)


def cover_up(scene: Scene, key: Signer | None, resign: bool) -> int:
    """The consistent rewrite, then the bucket's log made to match it; returns the bucket."""
    bucket, rewritten = rewrite_history(scene)
    hashes = {e.id: e.entry_hash for e in scene.read(Entry, Entry.id.in_(rewritten))}
    replace = {
        leaf.leaf_index: merkle.leaf_hash(bytes.fromhex(hashes[uuid.UUID(leaf.ref)]))
        for leaf in scene.read(LogLeaf, LogLeaf.bucket == bucket)
        if uuid.UUID(leaf.ref) in hashes
    }
    leaves = rewrite_log(scene, bucket, replace)
    if resign:
        notes = rewrite_checkpoints(scene, bucket, leaves, key)
        rewrite_global(scene, bucket, notes, key)
    return bucket


def test_log_rewritten_to_match_is_caught_by_the_signed_roots(scene: Scene) -> None:
    """Leaves and nodes recomputed after the rewrite: the signed checkpoint roots differ."""
    bucket = cover_up(scene, key=None, resign=False)
    report = scene.verify()
    assert report.kinds().keys() == {"checkpoint.root"}
    assert {f.bucket for f in report.faults} == {bucket}


def test_checkpoints_edited_without_the_key_fail_their_signatures(scene: Scene) -> None:
    """New roots written into the checkpoint notes under the old signatures: they fail."""
    bucket = cover_up(scene, key=None, resign=True)
    report = scene.verify()
    assert report.kinds().keys() == {"checkpoint.signature", "checkpoint.root"}
    assert {f.bucket for f in report.faults if f.kind == "checkpoint.signature"} == {bucket}
    # The global log was recomputed over the edited notes; its signed roots still commit to
    # the old bucket checkpoints.
    assert {f.bucket for f in report.faults if f.kind == "checkpoint.root"} == {GLOBAL_LOG}


def test_a_rewrite_resigned_with_the_stolen_key_needs_a_saved_checkpoint(scene: Scene) -> None:
    """With the signing key everything can be rewritten; a checkpoint someone kept still differs."""
    bucket = cover_up(scene, key=scene.signer, resign=True)
    assert scene.verify().ok  # the database alone no longer shows anything (docs/ledger.md)
    report = scene.verify(trusted=True)
    assert report.kinds().keys() == {"trusted.mismatch"}
    assert {f.bucket for f in report.faults} == {bucket, GLOBAL_LOG}


def test_a_witness_cosignature_outlives_the_stolen_key(scene: Scene) -> None:
    """A witness cosigned before the attack: the re-signed global checkpoint fails its line."""
    witness = generate_signer("witness.example")
    with transaction(scene.sessions) as s:
        cosign_latest(s, witness, [scene.signer.verifier])
    cover_up(scene, key=scene.signer, resign=True)
    keys = [scene.signer.verifier, witness.verifier]
    report = scene.verify(keys=keys)
    assert [(f.kind, f.bucket) for f in report.faults] == [("checkpoint.signature", GLOBAL_LOG)]
    scene.attacker.sql("DELETE FROM ledger_cosignature")  # hide the witness instead
    assert scene.verify(keys=keys).ok
    hidden = scene.verify(keys=keys, required=2)
    assert [f.kind for f in hidden.faults] == ["checkpoint.unwitnessed"]


def test_transfers_checked_sorted_when_out_of_written_order(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sorted merge (used when rows are far from their written order) finds the same."""
    bucket, _ = scene.wallet("a")
    a2, b1 = scene.postings["a2"], scene.postings["b1"]
    scene.attacker.sql(
        "DELETE FROM ledger_entry WHERE bucket = ? AND id = ?", bucket, a2.debit_entry_id
    )
    scene.attacker.sql(
        "UPDATE ledger_entry SET amount = amount + 1 WHERE bucket = ? AND id = ?",
        scene.wallet("b")[0],
        b1.credit_entry_id,
    )
    paired = scene.verify()
    monkeypatch.setattr(transfers, "RESOLVE", 0)  # too much left over: sorted merge instead
    merged = scene.verify()
    named = {(f.kind, f.transfer_id) for f in merged.faults if f.transfer_id}
    assert named == {("transfer.entries", a2.transfer_id), ("transfer.entries", b1.transfer_id)}
    assert sorted(map(str, merged.faults)) == sorted(map(str, paired.faults))
