"""Proofs served from the stored log: receipts, latest checkpoints, consistency. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from civicpoints.kit.errors import DomainError, NotFound
from civicpoints.ledger import chain, merkle
from civicpoints.ledger.models import (
    CheckpointRow,
    Cosignature,
    Entry,
    LogHead,
    LogLeaf,
    LogNode,
)
from civicpoints.ledger.receipt import FORMAT, b64, entry_to_json
from civicpoints.ledger.sequencer import GLOBAL_LOG


class EntryNotFound(NotFound):
    """An unknown journal entry."""

    code = "ledger.entry_not_found"
    messages = {"zh-CN": "找不到该积分分录", "en": "no such ledger entry"}


class NotYetCheckpointed(DomainError):
    """Recorded, but not yet in a signed checkpoint (the sequencer runs every second)."""

    code = "ledger.not_yet_checkpointed"
    status = 409
    title = {"zh-CN": "稍后再试", "en": "Try again shortly"}
    messages = {
        "zh-CN": "该分录已记账，正在写入签名检查点，请几秒后再试",
        "en": "the entry is recorded and is being added to a signed checkpoint; "
        "retry in a few seconds",
    }


class BadRange(DomainError):
    """A consistency request with sizes the log cannot answer."""

    code = "ledger.bad_range"
    status = 422
    messages = {
        "zh-CN": "树大小须满足 0 < first ≤ second ≤ 当前大小 {size}",
        "en": "sizes must satisfy 0 < first ≤ second ≤ the current size {size}",
    }


class ProofService:
    """Reads the log and builds proofs."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def reader(self, bucket: int) -> merkle.NodeReader:
        """A node reader over one log's stored complete subtrees."""

        def read(level: int, index: int) -> bytes:
            stmt = select(LogNode.hash).where(
                LogNode.bucket == bucket, LogNode.level == level, LogNode.node_index == index
            )
            return bytes(self.session.scalars(stmt).one())

        return read

    def prove(self, bucket: int, build: Callable[[merkle.NodeReader], list[bytes]]) -> list[bytes]:
        """Run a proof builder with every node it needs fetched in one query.

        Which nodes a proof reads depends only on indexes and sizes, never on hash values, so
        a first pass with placeholder hashes records them exactly.
        """
        wanted: list[tuple[int, int]] = []

        def record(level: int, index: int) -> bytes:
            wanted.append((level, index))
            return bytes(32)

        build(record)
        if not wanted:
            return build(self.reader(bucket))
        rows = self.session.execute(
            select(LogNode.level, LogNode.node_index, LogNode.hash).where(
                LogNode.bucket == bucket,
                tuple_(LogNode.level, LogNode.node_index).in_(wanted),
            )
        ).all()
        nodes = {(level, index): bytes(h) for level, index, h in rows}
        return build(lambda level, index: nodes[(level, index)])

    def entry(self, entry_id: uuid.UUID) -> Entry:
        """A journal entry by id, or 404."""
        entry = self.session.scalars(select(Entry).where(Entry.id == entry_id)).first()
        if entry is None:
            raise EntryNotFound(field="entry_id")
        return entry

    def receipt(self, entry: Entry) -> dict[str, Any]:
        """Everything needed to verify `entry` offline against the log's public key."""
        leaf = self._leaf(entry.bucket, str(entry.id))
        cp = self._bucket_checkpoint_in_global(entry.bucket, leaf.leaf_index)
        gleaf = self._leaf(GLOBAL_LOG, f"{cp.bucket}:{cp.size}")
        gcp = self._latest(GLOBAL_LOG)
        if gcp is None or gcp.size <= gleaf.leaf_index:
            raise NotYetCheckpointed()
        return {
            "format": FORMAT,
            "entry": entry_to_json(entry_fields(entry)),
            "entry_hash": entry.entry_hash,
            "bucket": entry.bucket,
            "leaf_index": leaf.leaf_index,
            "bucket_checkpoint": cp.note,
            "inclusion_proof": b64(
                self.prove(
                    entry.bucket, lambda r: merkle.inclusion_proof(leaf.leaf_index, cp.size, r)
                )
            ),
            "global_leaf_index": gleaf.leaf_index,
            "global_checkpoint": with_cosignatures(self.session, gcp),
            "global_inclusion_proof": b64(
                self.prove(
                    GLOBAL_LOG, lambda r: merkle.inclusion_proof(gleaf.leaf_index, gcp.size, r)
                )
            ),
        }

    def latest(self) -> dict[str, Any]:
        """The latest global checkpoint and each bucket's latest."""
        rows = self.session.scalars(
            select(CheckpointRow).order_by(CheckpointRow.bucket, CheckpointRow.size.desc())
        ).all()
        newest: dict[int, CheckpointRow] = {}
        for row in rows:
            newest.setdefault(row.bucket, row)
        glob = newest.pop(GLOBAL_LOG, None)
        return {
            "global": _view(glob, with_cosignatures(self.session, glob)) if glob else None,
            "buckets": [_view(r) for _, r in sorted(newest.items())],
        }

    def consistency(self, bucket: int, first: int, second: int) -> list[str]:
        """An RFC 9162 consistency proof between two sizes of one log."""
        head = self.session.get(LogHead, bucket)  # the stored tree, not a claimed checkpoint
        size = head.size if head else 0
        if not 0 < first <= second <= size:
            raise BadRange(field="first", size=size)
        return b64(self.prove(bucket, lambda r: merkle.consistency_proof(first, second, r)))

    def _leaf(self, bucket: int, ref: str) -> LogLeaf:
        """A leaf by reference, or 'not yet' when the sequencer has not reached it."""
        stmt = select(LogLeaf).where(LogLeaf.bucket == bucket, LogLeaf.ref == ref)
        leaf = self.session.scalars(stmt).one_or_none()
        if leaf is None:
            raise NotYetCheckpointed()
        return leaf

    def latest_row(self, bucket: int) -> CheckpointRow | None:
        """A log's newest checkpoint row."""
        return self._latest(bucket)

    def _latest(self, bucket: int) -> CheckpointRow | None:
        """A log's newest checkpoint."""
        stmt = select(CheckpointRow).where(CheckpointRow.bucket == bucket)
        return self.session.scalars(stmt.order_by(CheckpointRow.size.desc()).limit(1)).first()

    def _bucket_checkpoint_in_global(self, bucket: int, leaf_index: int) -> CheckpointRow:
        """The newest checkpoint of `bucket` that the global log includes, if it covers the leaf."""
        # Walks the global log backwards: its newest leaves name every bucket within a pass.
        ref = self.session.scalars(
            select(LogLeaf.ref)
            .where(LogLeaf.bucket == GLOBAL_LOG, LogLeaf.ref.like(f"{bucket}:%"))
            .order_by(LogLeaf.leaf_index.desc())
            .limit(1)
        ).first()
        if ref is None or int(ref.split(":")[1]) <= leaf_index:
            raise NotYetCheckpointed()
        return self.session.get_one(CheckpointRow, (bucket, int(ref.split(":")[1])))


def with_cosignatures(session: Session, row: CheckpointRow) -> str:
    """A checkpoint's note with every witness signature line appended."""
    lines = session.scalars(
        select(Cosignature.line).where(
            Cosignature.bucket == row.bucket, Cosignature.size == row.size
        )
    ).all()
    return row.note + "".join(lines)


def entry_fields(entry: Entry) -> chain.EntryFields:
    """The hashed fields of a stored entry."""
    return chain.EntryFields(**{f.name: getattr(entry, f.name) for f in fields(chain.EntryFields)})


def _view(row: CheckpointRow, note: str | None = None) -> dict[str, Any]:
    """A checkpoint as served (with witness lines when given)."""
    return {
        "bucket": row.bucket,
        "size": row.size,
        "note": note or row.note,
        "signed_at": row.signed_at.isoformat(),
    }
