"""The sequencer (job `ledger.sequence`): queued entries → per-bucket Merkle logs → checkpoints.

Off the request path. Each bucket's log is extended by one worker at a time (an advisory lock
on PostgreSQL; SQLite has one writer anyway). Every pass that grows a log signs a checkpoint;
then the global log takes each new bucket checkpoint as a leaf and is signed in turn, so one
global checkpoint commits to every bucket (DESIGN.md §5). Never commits: the caller does.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.dbapi import raw
from civicpoints.ledger import merkle
from civicpoints.ledger.models import CheckpointRow, LogHead, LogLeaf, LogQueue
from civicpoints.ledger.note import Checkpoint, Signer, sign_note

GLOBAL_LOG = -1

# One pass's statements go to the driver through kit.dbapi, rows as plain tuples: the ORM's
# bulk insert, and then SQLAlchemy's per-row parameter and result processing, cost more
# than SQLite's own work (bench/notes.md §4; CPU per 20,000-entry pass: ORM 1.05 s, Core
# 0.8 s, driver 0.33 s). Values are stored as the column types store them: ints, text,
# bytes, and entry ids exactly as read.
# The oldest queued entries of a bucket with their hashes (queue order index, entry key).
_QUEUED = (
    "SELECT q.entry_id, e.entry_hash FROM ledger_log_queue q "
    "JOIN ledger_entry e ON e.bucket = q.bucket AND e.id = q.entry_id "
    "WHERE q.bucket = ? ORDER BY q.queued_at, q.entry_id LIMIT ?"
)
_LEAF_INSERT = (
    "INSERT INTO ledger_log_leaf (bucket, leaf_index, ref, leaf_hash) VALUES (?, ?, ?, ?)"
)
_NODE_INSERT = "INSERT INTO ledger_log_node (bucket, level, node_index, hash) VALUES (?, ?, ?, ?)"
# By primary key, one row per parameter set: the rows read, never a range (an entry queued
# by a transaction that commits later may sort before the last one read).
_DEQUEUE = "DELETE FROM ledger_log_queue WHERE bucket = ? AND entry_id = ?"
# PostgreSQL: the same three writes as one statement each, the rows as arrays. executemany
# sends one statement per row (pipelined), and the server's per-statement work was most of a
# pass: a 20,000-resident city sequenced at ~9,500 entries/s (bench/notes.md).
_PG_LEAVES = (
    "INSERT INTO ledger_log_leaf (bucket, leaf_index, ref, leaf_hash) SELECT ?, i, r, h "
    "FROM unnest(CAST(? AS bigint[]), CAST(? AS text[]), CAST(? AS bytea[])) AS u(i, r, h)"
)
_PG_NODES = (
    "INSERT INTO ledger_log_node (bucket, level, node_index, hash) SELECT ?, l, n, h "
    "FROM unnest(CAST(? AS integer[]), CAST(? AS bigint[]), CAST(? AS bytea[])) AS u(l, n, h)"
)
_PG_DEQUEUE = "DELETE FROM ledger_log_queue WHERE bucket = ? AND entry_id = ANY(CAST(? AS uuid[]))"


def _id_text(value: Any) -> str:
    """An entry id as read from the driver, in its usual text form (a leaf's `ref`)."""
    if isinstance(value, str) and len(value) == 32:  # SQLite: Uuid() stores 32 hex digits
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return str(uuid.UUID(str(value)))  # PostgreSQL: a uuid.UUID


@dataclass(frozen=True)
class PassReport:
    """What one pass did: entries appended per bucket, and the global tree's new size."""

    appended: dict[int, int]
    global_size: int


def bucket_origin(origin: str, bucket: int) -> str:
    """The checkpoint origin line of one bucket's log (or of the global log)."""
    return f"{origin}/global" if bucket == GLOBAL_LOG else f"{origin}/bucket/{bucket}"


def checkpoint_leaf(body: str) -> bytes:
    """The global-log leaf for a bucket checkpoint: the hash of its signed body text."""
    return merkle.leaf_hash(body.encode())


class Sequencer:
    """Appends queued entries to their bucket's log and signs checkpoints."""

    def __init__(self, session: Session, signer: Signer, origin: str) -> None:
        self.session, self.signer, self.origin = session, signer, origin

    def run(self, buckets: int, batch: int = 20_000) -> PassReport:
        """One pass over every bucket, then the global log."""
        appended = {b: n for b in range(buckets) if (n := self.run_bucket(b, batch))}
        return PassReport(appended, self.run_global())

    def run_bucket(self, bucket: int, batch: int = 20_000) -> int:
        """Append up to `batch` queued entries of one bucket; sign a checkpoint if it grew."""
        if not self._lock(bucket):
            return 0  # another worker has this bucket right now
        db = raw(self.session)
        rows = db.rows(_QUEUED, (bucket, batch))
        if not rows:
            return 0
        leaf = merkle.leaf_hash
        self._append(bucket, [(_id_text(e), leaf(bytes.fromhex(h))) for e, h in rows])
        if db.postgres:
            db.run(_PG_DEQUEUE, (bucket, [e for e, _ in rows]))
        else:
            db.many(_DEQUEUE, [(bucket, e) for e, _ in rows])
        return len(rows)

    def run_global(self) -> int:
        """Add each bucket's latest checkpoint not yet in the global log; sign the global tree."""
        if not self._lock(GLOBAL_LOG):
            return 0
        latest = {
            f"{b}:{n}": (b, n)
            for b, n in self.session.execute(
                select(LogHead.bucket, LogHead.size).where(LogHead.bucket >= 0, LogHead.size > 0)
            ).all()
        }
        done = set(
            self.session.scalars(
                select(LogLeaf.ref).where(
                    LogLeaf.bucket == GLOBAL_LOG, LogLeaf.ref.in_(list(latest))
                )
            )
        )
        todo = sorted(ref for ref in latest if ref not in done)
        if todo:
            notes = [self.session.get_one(CheckpointRow, latest[ref]).note for ref in todo]
            self._append(
                GLOBAL_LOG,
                [(ref, checkpoint_leaf(note_body(n))) for ref, n in zip(todo, notes, strict=True)],
            )
        head = self.session.get(LogHead, GLOBAL_LOG)
        return head.size if head else 0

    # -- internals ---------------------------------------------------------------------

    def _append(self, bucket: int, leaves: list[tuple[str, bytes]]) -> None:
        """Extend a log by `leaves` (ref, leaf hash), store its new nodes, sign a checkpoint."""
        head = self._head(bucket)
        tree = merkle.CompactRange.from_state(head.size, [bytes.fromhex(h) for h in head.frontier])
        first, append = tree.size, tree.append
        nodes = [node for _, leaf in leaves for node in append(leaf)]
        db = raw(self.session)
        if db.postgres:
            refs, hashes = zip(*leaves, strict=True) if leaves else ((), ())
            indices = list(range(first, first + len(leaves)))
            db.run(_PG_LEAVES, (bucket, indices, list(refs), list(hashes)))
            if nodes:
                levels, at, node_hashes = zip(*nodes, strict=True)
                db.run(_PG_NODES, (bucket, list(levels), list(at), list(node_hashes)))
        else:
            db.many(_LEAF_INSERT, [(bucket, first + i, r, h) for i, (r, h) in enumerate(leaves)])
            db.many(_NODE_INSERT, [(bucket, *node) for node in nodes])
        size, frontier = tree.to_state()
        head.size, head.frontier, head.updated_at = size, [h.hex() for h in frontier], utcnow()
        self._sign(bucket, size, tree.root())

    def _head(self, bucket: int) -> LogHead:
        """The log's head row, locked; created empty on first use."""
        head = self.session.scalars(
            select(LogHead).where(LogHead.bucket == bucket).with_for_update()
        ).one_or_none()
        if head is None:
            head = LogHead(bucket=bucket, size=0, frontier=[], updated_at=utcnow())
            self.session.add(head)
            self.session.flush()
        return head

    def _sign(self, bucket: int, size: int, root: bytes) -> None:
        """Sign and store the checkpoint of a log at `size`."""
        body = Checkpoint(bucket_origin(self.origin, bucket), size, root).to_body()
        self.session.add(
            CheckpointRow(
                bucket=bucket,
                size=size,
                root=root,
                note=sign_note(body, [self.signer]),
                key_hash=f"{self.signer.key_hash:08x}",
                signed_at=utcnow(),
            )
        )
        self.session.flush()

    def _lock(self, bucket: int) -> bool:
        """One sequencer per log: a transaction-scoped advisory lock on PostgreSQL."""
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        key = zlib.crc32(f"civicpoints.ledger.sequence:{bucket}".encode())
        return bool(self.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))


@dataclass(frozen=True)
class Backlog:
    """Entries waiting for the sequencer: how many, and since when the oldest has waited."""

    count: int
    oldest_queued_at: datetime | None


def sequencer_backlog(session: Session) -> Backlog:
    """The queue's length and its oldest entry's time (readiness checks and metrics)."""
    count, oldest = session.execute(select(func.count(), func.min(LogQueue.queued_at))).one()
    return Backlog(int(count), as_utc(oldest) if oldest is not None else None)


def note_body(note_text: str) -> str:
    """The signed body of a note (everything before the blank line)."""
    return note_text.split("\n\n", 1)[0] + "\n"
