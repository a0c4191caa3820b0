"""Which recorded entries the newest signed global checkpoint includes: the checkpoint a
report's ledger figures are computed at (docs/insights.md, the annual report), and the
transfers recorded after it, which such figures leave out. Reads only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, cast, exists, literal, select
from sqlalchemy.orm import Session

from civicpoints.kit.clock import as_utc
from civicpoints.kit.errors import DomainError
from civicpoints.ledger.models import CheckpointRow, Cosignature, Entry, LogHead, LogLeaf, LogQueue
from civicpoints.ledger.note import Checkpoint
from civicpoints.ledger.sequencer import GLOBAL_LOG, note_body

# Entries after the checkpoint a report may leave out; more means a stalled sequencer.
MOST_PENDING = 20_000


class CheckpointBehind(DomainError):
    """Too many entries wait for a checkpoint: the sequencer is stalled (ops: log.backlog)."""

    code = "ledger.checkpoint_behind"
    status = 503
    title = {"zh-CN": "稍后再试", "en": "Try again later"}
    messages = {
        "zh-CN": "有 {pending} 条积分分录尚未写入签名检查点（签名服务可能停滞），请稍后再试",
        "en": "{pending} ledger entries are not yet in a signed checkpoint (the sequencer may be "
        "stalled); try again later",
    }


@dataclass(frozen=True)
class Coverage:
    """The newest signed global checkpoint and what it leaves out.

    `pending` are the (bucket, transfer id) of entries recorded but not included in it:
    still queued for the sequencer, or appended to their bucket's log after the bucket
    checkpoint the global one includes. `pending_entries` counts those entries."""

    origin: str
    size: int
    root: bytes
    note: str  # the signed note with every witness's signature line
    signed_at: datetime
    witnesses: int
    pending_entries: int
    pending: list[tuple[int, uuid.UUID]]

    @property
    def root_b64(self) -> str:
        """The root hash as the signed note writes it (base64)."""
        return note_body(self.note).split("\n")[2]


def _covered(session: Session, size: int) -> dict[int, int]:
    """For each bucket whose head is not in the global log's first `size` leaves: the
    largest bucket size that is (0 when none)."""
    ref = cast(LogHead.bucket, String) + literal(":") + cast(LogHead.size, String)
    in_global = exists().where(
        and_(LogLeaf.bucket == GLOBAL_LOG, LogLeaf.ref == ref, LogLeaf.leaf_index < size)
    )
    behind = session.scalars(
        select(LogHead.bucket).where(LogHead.bucket >= 0, LogHead.size > 0, ~in_global)
    ).all()
    out: dict[int, int] = {}
    for bucket in behind:
        refs = session.scalars(
            select(LogLeaf.ref).where(
                LogLeaf.bucket == GLOBAL_LOG,
                LogLeaf.ref.like(f"{int(bucket)}:%"),
                LogLeaf.leaf_index < size,
            )
        ).all()
        out[int(bucket)] = max((int(r.split(":")[1]) for r in refs), default=0)
    return out


def _pending_entries(session: Session, size: int, most: int) -> list[tuple[int, uuid.UUID]]:
    """(bucket, entry id) of every entry the global checkpoint of `size` does not include."""
    out = [
        (int(b), e)
        for b, e in session.execute(select(LogQueue.bucket, LogQueue.entry_id).limit(most + 1))
    ]
    for bucket, covered in _covered(session, size).items():
        refs = session.scalars(
            select(LogLeaf.ref)
            .where(LogLeaf.bucket == bucket, LogLeaf.leaf_index >= covered)
            .limit(most + 1)
        ).all()
        out += [(bucket, uuid.UUID(r)) for r in refs]
        if len(out) > most:
            break
    return out


def checkpoint_coverage(session: Session, most: int = MOST_PENDING) -> Coverage | None:
    """The newest global checkpoint (None before the first) and the transfers whose entries
    it does not include; more than `most` such entries: CheckpointBehind (503)."""
    row = session.scalars(
        select(CheckpointRow)
        .where(CheckpointRow.bucket == GLOBAL_LOG)
        .order_by(CheckpointRow.size.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    entries = _pending_entries(session, row.size, most)
    if len(entries) > most:
        raise CheckpointBehind(pending=f"{most}+")
    transfers: set[tuple[int, uuid.UUID]] = set()
    if entries:
        ids = sorted({e for _, e in entries})
        wanted = set(entries)
        for b, e, t in session.execute(
            select(Entry.bucket, Entry.id, Entry.transfer_id).where(Entry.id.in_(ids))
        ):
            if (int(b), e) in wanted:
                transfers.add((int(b), t))
    lines = session.scalars(
        select(Cosignature.line)
        .where(Cosignature.bucket == GLOBAL_LOG, Cosignature.size == row.size)
        .order_by(Cosignature.key_hash)
    ).all()
    checkpoint = Checkpoint.parse(note_body(row.note))
    return Coverage(
        origin=checkpoint.origin,
        size=row.size,
        root=bytes(row.root),
        note=row.note + "".join(lines),
        signed_at=as_utc(row.signed_at),
        witnesses=len(lines),
        pending_entries=len(entries),
        pending=sorted(transfers),
    )
