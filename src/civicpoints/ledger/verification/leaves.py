"""A log's leaves, each with the leaf hash that what it references should give."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from civicpoints.ledger.models import Entry
from civicpoints.ledger.sequencer import GLOBAL_LOG, checkpoint_leaf, note_body
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.streams import hex_id, uuid_or_none

LOOKUP = 1_000  # refs per IN (...) lookup of what leaves reference, where a join cannot
_UUID_PARTS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
# A leaf: index, ref, stored hash, the leaf hash its referent gives (None: no referent), the
# referent's raw account id (bucket logs).
Leaf = tuple[int, str, bytes, bytes | None, Any]


class Leaves:
    """Leaves of each log in index order, read through one snapshot."""

    def __init__(self, reader: Reader) -> None:
        self.reader, self.d = reader, reader.dialect
        self.matched = 0  # bucket-log leaves whose ref is exactly their entry's id text

    def of(self, bucket: int) -> Iterator[list[Leaf]]:
        """A log's leaves in index order, each with the leaf hash its referent should give."""
        if bucket == GLOBAL_LOG:
            yield from self.global_leaves()
            return
        sql = _bucket_leaves_sql(self.d)
        for rows in self.reader.chunks(sql, (bucket,)):
            out = [(i, ref, stored, entry_leaf(h), acct) for i, ref, stored, h, acct in rows]
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
                leaves[p] = (index, ref, stored, entry_leaf(hit[0]), hit[1])

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


def dashed(column: str) -> str:
    """SQLite: the dashed text of a uuid stored as 32 hex digits (as a leaf's ref holds it)."""
    parts = [f"substr({column}, {start}, {length})" for start, length in _UUID_PARTS]
    return " || '-' || ".join(parts)


def _bucket_leaves_sql(dialect: str) -> str:
    """A bucket log's leaves with the entry each names: hash and account, outer-joined."""
    if dialect == "postgresql":
        on = "e.bucket = l.bucket AND e.id::text = l.ref"
    else:  # probe the entry's key with the ref's digits; keep only the exact dashed form
        on = f"e.bucket = l.bucket AND e.id = replace(l.ref, '-', '') AND l.ref = {dashed('e.id')}"
    return (
        "SELECT l.leaf_index, l.ref, l.leaf_hash, e.entry_hash, "
        f"{hex_id(dialect, 'e.account_id')} FROM ledger_log_leaf l "
        f"LEFT JOIN ledger_entry e ON {on} WHERE l.bucket = ? ORDER BY l.leaf_index"
    )


def entry_leaf(entry_hash: str | None) -> bytes | None:
    """The log leaf of an entry hash (empty, so never matching, if it is not even hex)."""
    if entry_hash is None:
        return None
    try:
        return hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()
    except (ValueError, TypeError):
        return b""


def _checkpoint_ref(ref: str) -> tuple[int, int] | None:
    """(bucket, size) from a global-log leaf's ref "bucket:size"."""
    bucket, sep, size = ref.partition(":")
    try:
        return (int(bucket), int(size)) if sep else None
    except ValueError:
        return None
