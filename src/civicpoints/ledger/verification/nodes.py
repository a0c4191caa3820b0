"""A log's stored proof nodes, read level by level and checked against the rebuilt tree."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from civicpoints.ledger.verification.faults import Findings, fault
from civicpoints.ledger.verification.source import Reader
from civicpoints.ledger.verification.tree import CHUNK


class Nodes:
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


def _distinct_levels_sql() -> str:
    """The distinct levels of one log's stored nodes (a loose index scan; the bucket twice)."""
    t = "ledger_log_node"
    return (
        f"WITH RECURSIVE v(x) AS (SELECT min(level) FROM {t} WHERE bucket = ? UNION ALL "
        f"SELECT (SELECT min(level) FROM {t} WHERE bucket = ? AND level > v.x) FROM v "
        "WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
    )
