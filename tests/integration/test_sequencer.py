"""The sequencer turns queued entries into per-bucket Merkle logs and signed checkpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.kit.db import transaction
from civicpoints.ledger import merkle
from civicpoints.ledger.keys import generate_signer
from civicpoints.ledger.models import CheckpointRow, Entry, LogLeaf, LogNode, LogQueue
from civicpoints.ledger.note import Checkpoint, open_note
from civicpoints.ledger.sequencer import GLOBAL_LOG, Sequencer, note_body
from civicpoints.ledger.service import LedgerService, Movement

T0 = datetime(2026, 2, 1, tzinfo=UTC)
ORIGIN = "test.civicpoints.example/ledger"


def credit(sessions: sessionmaker[Session], n: int, start: int = 0) -> None:
    """n awards to a few wallets."""
    with transaction(sessions) as s:
        ledger = LedgerService(s)
        for i in range(start, start + n):
            move = Movement("award", 10, f"r{i}", "t", "t", T0, f"k{i}")
            ledger.credit(f"wallet:{i % 7}", move, T0 + timedelta(days=365))


def test_every_entry_lands_in_a_signed_checkpoint(sessions: sessionmaker[Session]) -> None:
    """After a pass: queue empty, each bucket's checkpoint root = MTH of its entries' leaves."""
    signer = generate_signer(ORIGIN)
    credit(sessions, 25)
    with transaction(sessions) as s:
        buckets = LedgerService(s).buckets()
        report = Sequencer(s, signer, ORIGIN).run(buckets)
    with transaction(sessions) as s:
        assert s.scalar(select(func.count()).select_from(LogQueue)) == 0
        assert sum(report.appended.values()) == s.scalar(select(func.count()).select_from(Entry))
        for bucket in report.appended:
            leaves = s.scalars(
                select(LogLeaf).where(LogLeaf.bucket == bucket).order_by(LogLeaf.leaf_index)
            ).all()
            cp = s.scalars(
                select(CheckpointRow)
                .where(CheckpointRow.bucket == bucket)
                .order_by(CheckpointRow.size.desc())
            ).first()
            assert cp is not None and cp.size == len(leaves)
            body, names = open_note(cp.note, [signer.verifier])
            assert names == [ORIGIN]
            parsed = Checkpoint.parse(body)
            assert parsed.origin == f"{ORIGIN}/bucket/{bucket}"
            assert parsed.root == merkle.root_of([leaf.leaf_hash for leaf in leaves])
        global_cp = s.scalars(
            select(CheckpointRow)
            .where(CheckpointRow.bucket == GLOBAL_LOG)
            .order_by(CheckpointRow.size.desc())
        ).first()
        assert global_cp is not None and global_cp.size == report.global_size == len(
            report.appended
        )


def test_growth_is_consistent_and_idle_passes_sign_nothing(sessions: sessionmaker[Session]) -> None:
    """A second batch extends the same trees (consistency verifies); an idle pass is a no-op."""
    signer = generate_signer(ORIGIN)
    credit(sessions, 9)
    with transaction(sessions) as s:
        Sequencer(s, signer, ORIGIN).run(LedgerService(s).buckets())
    credit(sessions, 13, start=100)
    with transaction(sessions) as s:
        Sequencer(s, signer, ORIGIN).run(LedgerService(s).buckets())
    with transaction(sessions) as s:
        count = s.scalar(select(func.count()).select_from(CheckpointRow))
        assert Sequencer(s, signer, ORIGIN).run(LedgerService(s).buckets()).appended == {}
        assert s.scalar(select(func.count()).select_from(CheckpointRow)) == count
        bucket, _ = LedgerService(s).locate("wallet:0")
        rows = s.scalars(
            select(CheckpointRow).where(CheckpointRow.bucket == bucket).order_by(CheckpointRow.size)
        ).all()
        assert len(rows) >= 2
        leaves = [
            leaf.leaf_hash
            for leaf in s.scalars(
                select(LogLeaf).where(LogLeaf.bucket == bucket).order_by(LogLeaf.leaf_index)
            )
        ]
    old, new = rows[0], rows[-1]
    nodes = {}
    tree = merkle.CompactRange()
    for leaf in leaves:
        nodes.update({(lv, i): h for lv, i, h in tree.append(leaf)})
    proof = merkle.consistency_proof(old.size, new.size, lambda lv, i: nodes[(lv, i)])
    assert merkle.verify_consistency(old.size, new.size, old.root, new.root, proof)
    assert note_body(new.note).endswith("\n")


def test_small_batches_store_every_leaf_and_node_as_one_pass_would(
    sessions: sessionmaker[Session],
) -> None:
    """Passes of 4: leaves name their entries in queue order, every stored node is right."""
    signer = generate_signer(ORIGIN)
    credit(sessions, 11)
    passes = 0
    while True:
        with transaction(sessions) as s:
            grown = Sequencer(s, signer, ORIGIN).run(LedgerService(s).buckets(), batch=4).appended
        if not grown:
            break
        assert max(grown.values()) <= 4
        passes += 1
    assert passes >= 2  # 22 entries (two per award), at most 4 per bucket per pass
    with transaction(sessions) as s:
        for bucket in range(LedgerService(s).buckets()):
            leaves = s.scalars(
                select(LogLeaf).where(LogLeaf.bucket == bucket).order_by(LogLeaf.leaf_index)
            ).all()
            entries = {str(e.id): e.entry_hash for e in s.scalars(select(Entry))}
            tree, expected = merkle.CompactRange(), {}
            for i, leaf in enumerate(leaves):
                assert leaf.leaf_index == i
                assert leaf.leaf_hash == merkle.leaf_hash(bytes.fromhex(entries[leaf.ref]))
                expected.update({(lv, ix): h for lv, ix, h in tree.append(leaf.leaf_hash)})
            stored = s.execute(
                select(LogNode.level, LogNode.node_index, LogNode.hash).where(
                    LogNode.bucket == bucket
                )
            ).all()
            assert {(lv, ix): bytes(h) for lv, ix, h in stored} == expected


def test_one_sequencer_per_bucket_on_postgresql(sessions: sessionmaker[Session]) -> None:
    """While one pass holds a bucket, a second appends nothing there (advisory lock)."""
    if sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer anyway")
    signer = generate_signer(ORIGIN)
    credit(sessions, 5)
    with transaction(sessions) as s:
        bucket, _ = LedgerService(s).locate("wallet:0")
    with transaction(sessions) as first:
        assert Sequencer(first, signer, ORIGIN).run_bucket(bucket) > 0
        with transaction(sessions) as second:
            assert Sequencer(second, signer, ORIGIN).run_bucket(bucket) == 0
    with transaction(sessions) as s:
        assert Sequencer(s, signer, ORIGIN).run_bucket(bucket) == 0  # nothing left, no repeat
        assert (
            s.scalar(select(func.count()).select_from(LogQueue).where(LogQueue.bucket == bucket))
            == 0
        )
