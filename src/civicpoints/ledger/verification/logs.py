"""The Merkle logs: referents of leaves, stored nodes, heads, signed and saved checkpoints."""

from __future__ import annotations

import hashlib
import json
import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import select

from civicpoints.ledger.models import Entry
from civicpoints.ledger.note import Checkpoint, NoteError, Verifier, open_note
from civicpoints.ledger.sequencer import GLOBAL_LOG, checkpoint_leaf, note_body
from civicpoints.ledger.verification.faults import Findings, fault
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.streams import (
    Peek,
    as_uuid,
    by_bucket_and_id,
    hex_id,
    uuid_or_none,
)
from civicpoints.ledger.verification.tree import CHUNK, ChunkedTree

LOOKUP = 1_000  # refs per IN (...) lookup of what leaves reference, where a join cannot
_BUCKET_ORIGIN = re.compile(r".*/bucket/(0|[1-9][0-9]*)")
_UUID_PARTS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
# A leaf: index, ref, stored hash, the leaf hash its referent gives (None: no referent), the
# referent's raw account id (bucket logs).
Leaf = tuple[int, str, bytes, bytes | None, Any]


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
        self.matched = 0  # bucket-log leaves whose ref is exactly their entry's id text

    def check(self, trusted: Sequence[str]) -> None:
        """Every log: referents, nodes, heads, checkpoints and the saved checkpoints."""
        saved = self.parse_trusted(trusted)
        self.cosigned = self.cosignatures()
        heads = {row[0]: row for row in self.reader.rows(_HEADS_SQL)}
        self.total = self.reader.count("ledger_log_leaf")
        checkpoints = Peek(self.reader.rows(_CHECKPOINTS_SQL), by_bucket_and_id)
        for bucket in sorted(self.buckets() | set(heads) | set(saved)):
            log = _Log(bucket, sorted(saved.get(bucket, []), key=lambda c: c.size))
            nodes = _Nodes(self.reader, bucket, self.found)
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
        if self.reader.count("ledger_entry") == self.matched + queued:
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

    def rebuild(self, log: _Log, nodes: _Nodes, checkpoints: Peek[Any]) -> None:
        """Append a log's stored leaves a chunk at a time, checking nodes and checkpoints."""
        for forged in checkpoints.below((log.bucket, 0)):
            self.check_checkpoint(forged, None)  # a negative size: nothing can match it
        self.meet_checkpoints(log, checkpoints)
        pending: list[bytes] = []
        for chunk in self.leaves(log.bucket):
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
        self, log: _Log, leaves: list[bytes], nodes: _Nodes, checkpoints: Peek[Any]
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

    def finish(self, log: _Log, nodes: _Nodes, checkpoints: Peek[Any], head: Any) -> None:
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

    def leaves(self, bucket: int) -> Iterator[list[Leaf]]:
        """A log's leaves in index order, each with the leaf hash its referent should give."""
        if bucket == GLOBAL_LOG:
            yield from self.global_leaves()
            return
        sql = _bucket_leaves_sql(self.d)
        for rows in self.reader.chunks(sql, (bucket,)):
            out = [(i, ref, stored, _entry_leaf(h), acct) for i, ref, stored, h, acct in rows]
            unmatched = [n for n, leaf in enumerate(out) if leaf[3] is None]
            self.matched += len(out) - len(unmatched)
            if unmatched and not self.reader.pg:
                self.look_up(bucket, out, unmatched)
            yield out

    def look_up(self, bucket: int, leaves: list[Leaf], positions: list[int]) -> None:
        """Referents of leaves whose ref is not an entry id in canonical form (SQLite)."""
        wanted = {p: uuid_or_none(leaves[p][1]) for p in positions}
        ids = [i for i in wanted.values() if i is not None]
        stmt = select(Entry.bucket, Entry.id, Entry.account_id, Entry.entry_hash)
        found: dict[tuple[int, str], tuple[str, str]] = {}
        for start in range(0, len(ids), LOOKUP):
            rows = self.reader.conn.execute(stmt.where(Entry.id.in_(ids[start : start + LOOKUP])))
            found |= {(b, e.hex): (h, a.hex) for b, e, a, h in rows}
        for p, entry_id in wanted.items():
            hit = found.get((bucket, entry_id.hex)) if entry_id else None
            if hit is not None:
                index, ref, stored, _, _ = leaves[p]
                leaves[p] = (index, ref, stored, _entry_leaf(hit[0]), hit[1])

    def global_leaves(self) -> Iterator[list[Leaf]]:
        """Global-log leaves, each with the leaf hash of the bucket checkpoint it names."""
        sql = (
            "SELECT leaf_index, ref, leaf_hash FROM ledger_log_leaf WHERE bucket = ? "
            "ORDER BY leaf_index"
        )
        for rows in self.reader.chunks(sql, (GLOBAL_LOG,)):
            for start in range(0, len(rows), LOOKUP):
                chunk = rows[start : start + LOOKUP]
                refs = [_checkpoint_ref(ref) for _, ref, _ in chunk]
                notes = self.notes([r for r in refs if r is not None])
                out: list[Leaf] = []
                for (index, ref, stored), key in zip(chunk, refs, strict=True):
                    note = notes.get(key) if key is not None else None
                    expected = checkpoint_leaf(note_body(note)) if note is not None else None
                    out.append((index, ref, stored, expected, None))
                yield out

    def notes(self, refs: list[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """The note texts of the bucket checkpoints (bucket, size) in `refs`."""
        found: dict[tuple[int, int], str] = {}
        sql = "SELECT bucket, size, note FROM ledger_checkpoint WHERE bucket = ? AND size = ?"
        for bucket, size in dict.fromkeys(refs):
            for b, s, note in self.reader.rows(sql, (bucket, size)):
                found[(b, s)] = note
        return found


class _Nodes:
    """A log's stored nodes, level by level in index order, checked against the rebuilt tree."""

    def __init__(self, reader: Reader, bucket: int, found: Findings) -> None:
        self.reader, self.bucket, self.found = reader, bucket, found
        self.streams: dict[int, _Level] = {}
        small = "SELECT count(*) FROM ledger_log_leaf WHERE bucket = ?"
        if (reader.scalar(small, (bucket,)) or 0) <= CHUNK:  # one query for the whole tree
            sql = (
                "SELECT level, node_index, hash FROM ledger_log_node WHERE bucket = ? "
                "ORDER BY level, node_index"
            )
            by_level: dict[int, list[tuple[int, bytes]]] = {}
            for level, index, digest in reader.rows(sql, (bucket,)):
                by_level.setdefault(level, []).append((index, digest))
            self.streams = {k: _Level(iter([rows])) for k, rows in by_level.items()}
            self.preloaded = True
        else:
            self.preloaded = False

    def level(self, level: int) -> _Level:
        """The stored nodes of one level not yet compared."""
        if level not in self.streams:
            if self.preloaded:
                self.streams[level] = _Level(iter([]))
            else:
                sql = (
                    "SELECT node_index, hash FROM ledger_log_node WHERE bucket = ? AND level = ? "
                    "ORDER BY node_index"
                )
                self.streams[level] = _Level(self.reader.chunks(sql, (self.bucket, level)))
        return self.streams[level]

    def compare(self, level: int, first: int, digests: list[bytes]) -> None:
        """Nodes [first, first + len) of a level must be stored, with these hashes."""
        stored = self.level(level).take_below(first + len(digests))
        n = len(digests)
        if (
            len(stored) == n
            and stored[0][0] == first
            and stored[-1][0] == first + n - 1
            and list(map(itemgetter(1), stored)) == digests
        ):
            return  # the usual case: every node there, in order, equal
        have = dict(stored)
        for index in sorted(have):
            if index < first:
                self.found.add(
                    fault("log.node_extra", bucket=self.bucket, level=level, index=index)
                )
        for offset, digest in enumerate(digests):
            index = first + offset
            if index not in have:
                self.on_node("log.node_missing", level, index)
            elif have[index] != digest:
                self.on_node("log.node_mismatch", level, index)

    def on_node(self, kind: str, level: int, index: int) -> None:
        """A fault of one stored node."""
        self.found.add(fault(kind, bucket=self.bucket, level=level, index=index))

    def rest(self, report: bool) -> None:
        """Nodes the rebuilt tree never completed: extra (unless the log broke before them)."""
        if not report:
            return
        if self.preloaded:
            levels = sorted(self.streams)
        else:  # levels never asked for may hold forged nodes too
            sql = _distinct_levels_sql()
            levels = [lv for (lv,) in self.reader.rows(sql, (self.bucket, self.bucket))]
        for level in levels:
            for index, _ in self.level(level).take_below(None):
                self.on_node("log.node_extra", level, index)


class _Level:
    """One level's stored (index, hash) rows, buffered from a chunked stream."""

    def __init__(self, chunks: Iterator[list[Any]]) -> None:
        self.chunks, self.pos = chunks, 0
        self.buf: list[Any] = []

    def take_below(self, end: int | None) -> list[Any]:
        """Every remaining row whose index is below `end` (None: every remaining row)."""
        out: list[Any] = []
        while True:
            if self.pos == len(self.buf):
                self.buf, self.pos = next(self.chunks, []), 0
                if not self.buf:
                    return out
            cut = len(self.buf)
            if end is not None:
                cut = bisect_left(self.buf, end, lo=self.pos, key=itemgetter(0))
            out += self.buf[self.pos : cut]
            self.pos = cut
            if cut < len(self.buf):
                return out


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


def _distinct_levels_sql() -> str:
    """The distinct levels of one log's stored nodes (a loose index scan; the bucket twice)."""
    t = "ledger_log_node"
    return (
        f"WITH RECURSIVE v(x) AS (SELECT min(level) FROM {t} WHERE bucket = ? UNION ALL "
        f"SELECT (SELECT min(level) FROM {t} WHERE bucket = ? AND level > v.x) FROM v "
        "WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
    )


def _dashed(column: str) -> str:
    """SQLite: the dashed text of a uuid stored as 32 hex digits (as a leaf's ref holds it)."""
    parts = [f"substr({column}, {start}, {length})" for start, length in _UUID_PARTS]
    return " || '-' || ".join(parts)


def _bucket_leaves_sql(dialect: str) -> str:
    """A bucket log's leaves with the entry each names: hash and account, outer-joined."""
    if dialect == "postgresql":
        on = "e.bucket = l.bucket AND e.id::text = l.ref"
    else:  # probe the entry's key with the ref's digits; keep only the exact dashed form
        on = f"e.bucket = l.bucket AND e.id = replace(l.ref, '-', '') AND l.ref = {_dashed('e.id')}"
    return (
        "SELECT l.leaf_index, l.ref, l.leaf_hash, e.entry_hash, "
        f"{hex_id(dialect, 'e.account_id')} FROM ledger_log_leaf l "
        f"LEFT JOIN ledger_entry e ON {on} WHERE l.bucket = ? ORDER BY l.leaf_index"
    )


def _unlogged_sql(dialect: str) -> str:
    """Entries neither queued for their bucket's log nor in it (an anti-join in SQL)."""
    text = "e.id::text" if dialect == "postgresql" else _dashed("e.id")
    return (
        "SELECT e.bucket, e.id, e.account_id FROM ledger_entry e WHERE NOT EXISTS "
        "(SELECT 1 FROM ledger_log_queue q WHERE q.bucket = e.bucket AND q.entry_id = e.id) "
        "AND NOT EXISTS (SELECT 1 FROM ledger_log_leaf l WHERE l.bucket = e.bucket "
        f"AND l.ref = {text})"
    )


def _queued_unlogged_sql(dialect: str) -> str:
    """How many queued entries no leaf names (driven from the queue: it is short)."""
    text = "e.id::text" if dialect == "postgresql" else _dashed("e.id")
    join = "JOIN" if dialect == "postgresql" else "CROSS JOIN"  # SQLite: the queue outermost
    return (
        f"SELECT count(*) FROM ledger_log_queue q {join} ledger_entry e "
        "ON e.bucket = q.bucket AND e.id = q.entry_id WHERE NOT EXISTS "
        f"(SELECT 1 FROM ledger_log_leaf l WHERE l.bucket = e.bucket AND l.ref = {text})"
    )


def _entry_leaf(entry_hash: str | None) -> bytes | None:
    """The log leaf of an entry hash (empty, so never matching, if it is not even hex)."""
    if entry_hash is None:
        return None
    try:
        return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()
    except (ValueError, TypeError):
        return b""


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


def _checkpoint_ref(ref: str) -> tuple[int, int] | None:
    """(bucket, size) from a global-log leaf's ref "bucket:size"."""
    bucket, sep, size = ref.partition(":")
    try:
        return (int(bucket), int(size)) if sep else None
    except ValueError:
        return None


def _origin_bucket(origin: str) -> int | None:
    """The log a checkpoint origin names: GLOBAL_LOG for …/global, n for …/bucket/n."""
    if origin.endswith("/global"):
        return GLOBAL_LOG
    match = _BUCKET_ORIGIN.fullmatch(origin)
    return int(match.group(1)) if match else None
