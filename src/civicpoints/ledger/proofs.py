"""Proofs served from the stored log: receipts, latest checkpoints, consistency. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, cast, literal, select
from sqlalchemy.orm import Session, aliased

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


# Prepared once; SQLAlchemy caches their compiled form, so a proof costs no compiling.
# Both `IN` lists are on primary-key columns: SQLite and PostgreSQL probe the whole key
# (bucket, level, node_index) for every combination (a row-value `IN` over the pair made
# SQLite scan the whole bucket: 7fd449e). Most combinations exist too (about 300 rows for
# 30 wanted nodes of a 1,000,000-leaf log), so the engine keeps only the wanted pairs, by a
# packed key (levels < 64, indexes < 2**62: no overflow), and Python checks them exactly.
_PAIR = 1 << 32
_NODES = select(LogNode.level, LogNode.node_index, LogNode.hash).where(
    LogNode.bucket == bindparam("bucket"),
    LogNode.level.in_(bindparam("levels", expanding=True)),
    LogNode.node_index.in_(bindparam("indexes", expanding=True)),
    (LogNode.level * literal(_PAIR, BigInteger) + LogNode.node_index).in_(
        bindparam("pairs", expanding=True)
    ),
)
_GLOBAL_LEAF = aliased(LogLeaf)
_CHECKPOINT_REF = bindparam("prefix", type_=String) + cast(CheckpointRow.size, String)
# The newest checkpoint of a bucket that the global log includes and that covers a leaf,
# found from the bucket's checkpoints (newest first, by primary key) through the global
# leaf that names it ("bucket:size", unique key): the first match is almost always the
# newest checkpoint, as the sequencer adds it to the global log in the same pass.
_COVERING = (
    select(CheckpointRow.size, CheckpointRow.note, _GLOBAL_LEAF.leaf_index)
    .join(
        _GLOBAL_LEAF,
        (_GLOBAL_LEAF.bucket == GLOBAL_LOG) & (_GLOBAL_LEAF.ref == _CHECKPOINT_REF),
    )
    .where(CheckpointRow.bucket == bindparam("bucket"), CheckpointRow.size > bindparam("leaf"))
    .order_by(CheckpointRow.size.desc())
    .limit(1)
)
# A log's newest checkpoint with its witnesses' signature lines, in one statement.
_NEWEST_COSIGNED = (
    select(CheckpointRow.size, CheckpointRow.note, Cosignature.line)
    .outerjoin(
        Cosignature,
        (Cosignature.bucket == CheckpointRow.bucket) & (Cosignature.size == CheckpointRow.size),
    )
    .where(
        CheckpointRow.bucket == bindparam("bucket"),
        CheckpointRow.size
        == select(CheckpointRow.size)
        .where(CheckpointRow.bucket == bindparam("bucket"))
        .order_by(CheckpointRow.size.desc())
        .limit(1)
        .scalar_subquery(),
    )
    .order_by(Cosignature.key_hash)
)
_LEAF_INDEX = select(LogLeaf.leaf_index).where(
    LogLeaf.bucket == bindparam("bucket"), LogLeaf.ref == bindparam("ref")
)


class ProofService:
    """Reads the log and builds proofs."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def prove(self, bucket: int, build: Callable[[merkle.NodeReader], list[bytes]]) -> list[bytes]:
        """Run a proof builder with every node it needs fetched in one query.

        Which nodes a proof reads depends only on indexes and sizes, never on hash values, so
        a first pass with placeholder hashes records them exactly.
        """
        wanted: set[tuple[int, int]] = set()

        def record(level: int, index: int) -> bytes:
            wanted.add((level, index))
            return bytes(32)

        unread = build(record)
        if not wanted:
            return unread  # e.g. a proof between equal sizes reads nothing
        params = {
            "bucket": bucket,
            "levels": sorted({lv for lv, _ in wanted}),
            "indexes": sorted({ix for _, ix in wanted}),
            "pairs": sorted(lv * _PAIR + ix for lv, ix in wanted),
        }
        rows = self.session.execute(_NODES, params)
        nodes = {(lv, ix): bytes(h) for lv, ix, h in rows if (lv, ix) in wanted}
        return build(lambda level, index: nodes[(level, index)])

    def entry(self, entry_id: uuid.UUID) -> Entry:
        """A journal entry by id, or 404."""
        entry = self.session.scalars(select(Entry).where(Entry.id == entry_id)).first()
        if entry is None:
            raise EntryNotFound(field="entry_id")
        return entry

    def receipt(self, entry: Entry) -> dict[str, Any]:
        """Everything needed to verify `entry` offline against the log's public key."""
        leaf_index = self._leaf_index(entry.bucket, str(entry.id))
        covering = self.session.execute(
            _COVERING, {"bucket": entry.bucket, "prefix": f"{entry.bucket}:", "leaf": leaf_index}
        ).first()
        if covering is None:
            raise NotYetCheckpointed()
        size, note, gleaf_index = covering
        gsize, gnote = self._newest_cosigned(GLOBAL_LOG)
        if gsize <= gleaf_index:
            raise NotYetCheckpointed()
        return {
            "format": FORMAT,
            "entry": entry_to_json(entry_fields(entry)),
            "entry_hash": entry.entry_hash,
            "bucket": entry.bucket,
            "leaf_index": leaf_index,
            "bucket_checkpoint": note,
            "inclusion_proof": b64(
                self.prove(entry.bucket, lambda r: merkle.inclusion_proof(leaf_index, size, r))
            ),
            "global_leaf_index": gleaf_index,
            "global_checkpoint": gnote,
            "global_inclusion_proof": b64(
                self.prove(GLOBAL_LOG, lambda r: merkle.inclusion_proof(gleaf_index, gsize, r))
            ),
        }

    def latest(self) -> dict[str, Any]:
        """The latest global checkpoint and each bucket's latest."""
        # Each log's newest, found from its head by primary key. `+ 0` keeps SQLite from
        # scanning every checkpoint ever signed and probing the heads instead.
        other = aliased(CheckpointRow)
        newest = (
            select(other.size)
            .where(other.bucket == LogHead.bucket)
            .order_by(other.size.desc())
            .limit(1)
            .scalar_subquery()
        )
        rows = self.session.scalars(
            select(CheckpointRow)
            .join(LogHead, CheckpointRow.bucket == LogHead.bucket + 0)
            .where(CheckpointRow.size == newest)
        ).all()
        newest_of = {row.bucket: row for row in rows}
        glob = newest_of.pop(GLOBAL_LOG, None)
        return {
            "global": _view(glob, with_cosignatures(self.session, glob)) if glob else None,
            "buckets": [_view(r) for _, r in sorted(newest_of.items())],
        }

    def consistency(self, bucket: int, first: int, second: int) -> list[str]:
        """An RFC 9162 consistency proof between two sizes of one log."""
        head = self.session.get(LogHead, bucket)  # the stored tree, not a claimed checkpoint
        size = head.size if head else 0
        if not 0 < first <= second <= size:
            raise BadRange(field="first", size=size)
        return b64(self.prove(bucket, lambda r: merkle.consistency_proof(first, second, r)))

    def latest_row(self, bucket: int) -> CheckpointRow | None:
        """A log's newest checkpoint row."""
        stmt = select(CheckpointRow).where(CheckpointRow.bucket == bucket)
        return self.session.scalars(stmt.order_by(CheckpointRow.size.desc()).limit(1)).first()

    def _leaf_index(self, bucket: int, ref: str) -> int:
        """A leaf's index by reference, or 'not yet' when the sequencer has not reached it."""
        index = self.session.scalar(_LEAF_INDEX, {"bucket": bucket, "ref": ref})
        if index is None:
            raise NotYetCheckpointed()
        return int(index)

    def _newest_cosigned(self, bucket: int) -> tuple[int, str]:
        """A log's newest checkpoint: its size and note with every witness line, or 'not yet'."""
        rows = self.session.execute(_NEWEST_COSIGNED, {"bucket": bucket}).all()
        if not rows:
            raise NotYetCheckpointed()
        return rows[0].size, rows[0].note + "".join(r.line for r in rows if r.line)


def with_cosignatures(session: Session, row: CheckpointRow) -> str:
    """A checkpoint's note with every witness signature line appended."""
    lines = session.scalars(
        select(Cosignature.line)
        .where(Cosignature.bucket == row.bucket, Cosignature.size == row.size)
        .order_by(Cosignature.key_hash)
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
