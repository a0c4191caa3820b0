"""The Merkle logs: referents of leaves, stored nodes, heads, signed and saved checkpoints."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from civicpoints.ledger.note import Checkpoint, NoteError, Verifier, open_note
from civicpoints.ledger.sequencer import GLOBAL_LOG, note_body
from civicpoints.ledger.verification.faults import Findings, fault
from civicpoints.ledger.verification.leaves import Leaves, dashed
from civicpoints.ledger.verification.nodes import Nodes
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.streams import (
    Peek,
    as_uuid,
    by_bucket_and_id,
    uuid_or_none,
)
from civicpoints.ledger.verification.tree import CHUNK, ChunkedTree

_BUCKET_ORIGIN = re.compile(r".*/bucket/(0|[1-9][0-9]*)")


@dataclass
class _Log:
    """One log being rebuilt: its tree, the checkpoints someone saved, whether it broke."""

    bucket: int
    saved: list[Checkpoint]
    tree: ChunkedTree = field(default_factory=ChunkedTree)
    broken: bool = False


class Logs:
    """Every log rebuilt leaf by leaf from its rows, read through one snapshot."""

    def __init__(
        self, reader: Reader, found: Findings, verifiers: list[Verifier], required: int
    ) -> None:
        self.reader, self.found, self.d = reader, found, reader.dialect
        self.verifiers, self.required = verifiers, required
        self.cosigned: dict[tuple[int, int], str] = {}
        self.witnessed = False  # some global checkpoint carries `required` valid signatures
        self.done = 0  # leaves read
        self.leaf_source = Leaves(reader)

    def check(self, trusted: Sequence[str]) -> None:
        """Every log: referents, nodes, heads, checkpoints and the saved checkpoints."""
        saved = self.parse_trusted(trusted)
        self.cosigned = self.cosignatures()
        heads = {row[0]: row for row in self.reader.rows(_HEADS_SQL)}
        self.total = self.reader.count("ledger_log_leaf")
        checkpoints = Peek(self.reader.rows(_CHECKPOINTS_SQL), by_bucket_and_id)
        for bucket in sorted(self.buckets() | set(heads) | set(saved)):
            log = _Log(bucket, sorted(saved.get(bucket, []), key=lambda c: c.size))
            nodes = Nodes(self.reader, bucket, self.found)
            self.rebuild(log, nodes, checkpoints)
            self.finish(log, nodes, checkpoints, heads.get(bucket))
        for cp in checkpoints.rest():  # of a log with no leaves, nodes or head: beyond it
            self.check_signature(cp)
            where: dict[str, Any] = {"bucket": cp[0], "position": cp[1]}
            self.found.add(fault("checkpoint.beyond_log", **where, size=cp[1], actual=0))
        self.found.report.counts["log"] = self.done
        self.found.tick("log", self.done, self.total)
        self.check_unlogged()
        self.found.report.counts["nodes"] = self.reader.count("ledger_log_node")
        self.found.report.counts["checkpoints"] = self.reader.count("ledger_checkpoint")
        if self.required > 1 and not self.witnessed:
            self.found.add(
                fault("checkpoint.unwitnessed", bucket=GLOBAL_LOG, required=self.required)
            )

    def check_unlogged(self) -> None:
        """No entry may be neither in its bucket's log nor queued for it."""
        # Counted first: the leaves matched their entries on the way, so when every entry is
        # one of those or a queued one, no entry is missing and the anti-join over every entry
        # (a probe of the leaves per entry) need not run. Any shortfall runs it, to name them.
        queued = self.reader.scalar(_queued_unlogged_sql(self.d)) or 0
        if self.reader.count("ledger_entry") == self.leaf_source.matched + queued:
            return
        for bucket, entry_id, account_id in self.reader.rows(_unlogged_sql(self.d)):
            where = {"bucket": bucket, "account_id": as_uuid(account_id)}
            self.found.add(fault("log.entry_missing", **where, entry_id=as_uuid(entry_id)))

    def buckets(self) -> set[int]:
        """Every log that has leaves, nodes or checkpoints (a loose index scan per table)."""
        found: set[int] = set()
        for table in ("ledger_log_leaf", "ledger_log_node", "ledger_checkpoint"):
            found |= {b for (b,) in self.reader.rows(_distinct_buckets_sql(table)) if b is not None}
        return found

    def cosignatures(self) -> dict[tuple[int, int], str]:
        """Witness signature lines by checkpoint (few: witnesses cosign global checkpoints)."""
        lines: dict[tuple[int, int], str] = {}
        sql = "SELECT bucket, size, line FROM ledger_cosignature ORDER BY key_hash"
        for bucket, size, line in self.reader.rows(sql):
            lines[(bucket, size)] = lines.get((bucket, size), "") + line
        return lines

    # -- one log -------------------------------------------------------------------------------

    def rebuild(self, log: _Log, nodes: Nodes, checkpoints: Peek[Any]) -> None:
        """Append a log's stored leaves a chunk at a time, checking nodes and checkpoints."""
        for forged in checkpoints.below((log.bucket, 0)):
            self.check_checkpoint(forged, None)  # a negative size: nothing can match it
        self.meet_checkpoints(log, checkpoints)
        pending: list[bytes] = []
        for chunk in self.leaf_source.of(log.bucket):
            self.done += len(chunk)
            self.found.tick("log", self.done, self.total)
            stored = [leaf[2] for leaf in chunk]
            first = log.tree.start + len(pending)
            if (
                not log.broken
                and chunk[0][0] == first
                and chunk[-1][0] == first + len(chunk) - 1  # indices unique: contiguous
                and stored == [leaf[3] for leaf in chunk]
                and b"" not in stored  # every leaf its referent's 32-byte leaf hash
                and None not in stored
            ):
                while stored:  # the usual case, without a Python step per leaf
                    room = CHUNK - len(pending)
                    pending += stored[:room]
                    stored = stored[room:]
                    if len(pending) == CHUNK:
                        self.add_chunk(log, pending, nodes, checkpoints)
                        pending = []
                continue
            for index, ref, stored_hash, expected, account_id in chunk:
                self.check_leaf(log.bucket, index, ref, stored_hash, expected, account_id)
                if log.broken:
                    continue
                if index != log.tree.start + len(pending) or len(stored_hash) != 32:
                    self.add_chunk(log, pending, nodes, checkpoints)
                    at = log.tree.size
                    self.found.add(fault("log.leaf_gap", bucket=log.bucket, position=at, index=at))
                    log.broken = True  # later roots cannot be recomputed; their checkpoints say so
                    continue
                pending.append(stored_hash)
                if len(pending) == CHUNK:
                    self.add_chunk(log, pending, nodes, checkpoints)
                    pending = []
        if not log.broken:
            self.add_chunk(log, pending, nodes, checkpoints)

    def add_chunk(
        self, log: _Log, leaves: list[bytes], nodes: Nodes, checkpoints: Peek[Any]
    ) -> None:
        """Hash a chunk's levels, check its nodes, meet checkpoints inside it, fold it in."""
        if not leaves:
            return
        tree = log.tree
        for level, first, digests in tree.fill(leaves):
            nodes.compare(level, first, digests)
        self.meet_checkpoints(log, checkpoints)
        if len(leaves) == CHUNK:
            for level, index, digest in tree.close_chunk():
                nodes.compare(level, index, [digest])

    def meet_checkpoints(self, log: _Log, checkpoints: Peek[Any]) -> None:
        """Stored and saved checkpoints of sizes the rebuilt tree now covers, against its roots."""
        size = log.tree.size
        while (key := checkpoints.peek_key()) is not None and key[0] == log.bucket:
            if key[1] > size:
                break
            cp = checkpoints.pop()
            self.check_checkpoint(cp, log.tree.root(cp[1]))
        while log.saved and log.saved[0].size <= size:
            kept = log.saved.pop(0)
            if kept.root != log.tree.root(kept.size):
                where: dict[str, Any] = {"bucket": log.bucket, "position": kept.size}
                self.found.add(fault("trusted.mismatch", **where, size=kept.size))

    def finish(self, log: _Log, nodes: Nodes, checkpoints: Peek[Any], head: Any) -> None:
        """What is left once a log's leaves ran out: extra nodes, checkpoints beyond, its head."""
        b, size = log.bucket, log.tree.size
        nodes.rest(report=not log.broken)
        for cp in checkpoints.while_prefix((b,)):
            self.check_signature(cp)
            where: dict[str, Any] = {"bucket": b, "position": cp[1]}
            self.found.add(fault("checkpoint.beyond_log", **where, size=cp[1], actual=size))
        for kept in log.saved:  # the log is now shorter than a checkpoint someone kept
            self.found.add(fault("trusted.mismatch", bucket=b, position=kept.size, size=kept.size))
        if not log.broken and not _head_matches(head, size, log.tree.frontier()):
            cached = head[1] if head is not None else 0
            self.found.add(fault("log.head", bucket=b, cached=cached, actual=size))

    # -- checkpoints ---------------------------------------------------------------------------

    def check_checkpoint(self, cp: Any, root: bytes | None) -> None:
        """A stored checkpoint: signed by the given keys, agreeing with its row and the log."""
        bucket, size, stored_root, _ = cp
        body = self.check_signature(cp)
        where: dict[str, Any] = {"bucket": bucket, "position": size}
        try:
            parsed = Checkpoint.parse(body)
        except NoteError as exc:
            self.found.add(
                fault("checkpoint.malformed", **where, reason_zh=exc.zh, reason_en=exc.en)
            )
            return
        if (parsed.size, parsed.root, _origin_bucket(parsed.origin)) != (
            size,
            stored_root,
            bucket,
        ):
            self.found.add(
                fault(
                    "checkpoint.malformed",
                    **where,
                    reason_zh="树大小、根哈希或来源不一致",
                    reason_en="its size, root or origin differ",
                )
            )
        if root is None or parsed.root != root:
            self.found.add(fault("checkpoint.root", **where, size=size))

    def check_signature(self, cp: Any) -> str:
        """The checkpoint's note body; a fault unless every signature by a given key verifies."""
        # Witness cosignatures are stored beside the (append-only) note; they sign its body too,
        # so a rewritten checkpoint fails its witnesses' lines even when re-signed by the log.
        bucket, size, _, note = cp
        try:
            body, signers = open_note(note + self.cosigned.get((bucket, size), ""), self.verifiers)
        except NoteError as exc:
            where: dict[str, Any] = {"bucket": bucket, "position": size}
            self.found.add(
                fault("checkpoint.signature", **where, reason_zh=exc.zh, reason_en=exc.en)
            )
            return note_body(note)
        if bucket == GLOBAL_LOG and len(signers) >= self.required:
            self.witnessed = True
        return body

    def parse_trusted(self, notes: Sequence[str]) -> dict[int, list[Checkpoint]]:
        """Saved checkpoints by log, those that verify; a fault for each that does not."""
        out: dict[int, list[Checkpoint]] = {}
        for note in notes:
            try:
                parsed = Checkpoint.parse(open_note(note, self.verifiers)[0])
            except NoteError as exc:
                self.found.add(fault("trusted.signature", reason_zh=exc.zh, reason_en=exc.en))
                continue
            bucket = _origin_bucket(parsed.origin)
            if bucket is None:
                origin = repr(parsed.origin)
                zh, en = f"未知的来源 {origin}", f"unknown origin {origin}"
                self.found.add(fault("trusted.signature", reason_zh=zh, reason_en=en))
                continue
            out.setdefault(bucket, []).append(parsed)
        return out

    # -- leaves and what they reference --------------------------------------------------------

    def check_leaf(
        self, bucket: int, index: int, ref: str, stored: bytes, expected: bytes | None, acct: Any
    ) -> None:
        """A leaf must be the leaf hash of what it references: an entry, or a bucket checkpoint."""
        if expected is not None and expected == stored:
            return
        where: dict[str, Any] = {
            "bucket": bucket,
            "account_id": as_uuid(acct) if acct is not None else None,
            "entry_id": uuid_or_none(ref) if bucket != GLOBAL_LOG else None,
            "position": index,
        }
        if expected is None:
            self.found.add(fault("log.leaf_orphan", **where, index=index, ref=ref))
        else:
            self.found.add(fault("log.leaf_mismatch", **where, index=index))


# -- statements and small pure helpers ---------------------------------------------------------

_HEADS_SQL = "SELECT bucket, size, frontier FROM ledger_log_head"
_CHECKPOINTS_SQL = "SELECT bucket, size, root, note FROM ledger_checkpoint ORDER BY bucket, size"


def _distinct_buckets_sql(table: str) -> str:
    """The distinct buckets of a table, one index probe each (a loose index scan)."""
    return (
        f"WITH RECURSIVE b(x) AS (SELECT min(bucket) FROM {table} UNION ALL "
        f"SELECT (SELECT min(bucket) FROM {table} WHERE bucket > b.x) FROM b "
        "WHERE b.x IS NOT NULL) SELECT x FROM b"
    )


def _unlogged_sql(dialect: str) -> str:
    """Entries neither queued for their bucket's log nor in it (an anti-join in SQL)."""
    text = "e.id::text" if dialect == "postgresql" else dashed("e.id")
    return (
        "SELECT e.bucket, e.id, e.account_id FROM ledger_entry e WHERE NOT EXISTS "
        "(SELECT 1 FROM ledger_log_queue q WHERE q.bucket = e.bucket AND q.entry_id = e.id) "
        "AND NOT EXISTS (SELECT 1 FROM ledger_log_leaf l WHERE l.bucket = e.bucket "
        f"AND l.ref = {text})"
    )


def _queued_unlogged_sql(dialect: str) -> str:
    """How many queued entries no leaf names (driven from the queue: it is short)."""
    text = "e.id::text" if dialect == "postgresql" else dashed("e.id")
    join = "JOIN" if dialect == "postgresql" else "CROSS JOIN"  # SQLite: the queue outermost
    return (
        f"SELECT count(*) FROM ledger_log_queue q {join} ledger_entry e "
        "ON e.bucket = q.bucket AND e.id = q.entry_id WHERE NOT EXISTS "
        f"(SELECT 1 FROM ledger_log_leaf l WHERE l.bucket = e.bucket AND l.ref = {text})"
    )


def _head_matches(head: Any, size: int, frontier: list[bytes]) -> bool:
    """Whether the sequencer's cached head (size, frontier) is the rebuilt log's."""
    if head is None:
        return size == 0
    stored = head[2]
    if isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            return False
    return bool(head[1] == size and list(stored) == [h.hex() for h in frontier])


def _origin_bucket(origin: str) -> int | None:
    """The log a checkpoint origin names: GLOBAL_LOG for …/global, n for …/bucket/n."""
    if origin.endswith("/global"):
        return GLOBAL_LOG
    match = _BUCKET_ORIGIN.fullmatch(origin)
    return int(match.group(1)) if match else None
