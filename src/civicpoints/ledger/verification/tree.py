"""A Merkle log rebuilt a chunk of leaves at a time, its levels held as plain lists of digests.

Pure: values in, values out. Same tree as `merkle.CompactRange` appending leaf by leaf (RFC 9162),
but each aligned chunk of CHUNK leaves is hashed level by level in list comprehensions, with no
Python object per node; the chunks' roots are appended to a CompactRange for the levels above.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from civicpoints.ledger import merkle

CHUNK_LEVEL = 14
CHUNK = 1 << CHUNK_LEVEL  # leaves per chunk: levels 0..CHUNK_LEVEL of a chunk lie inside it


def levels_of(leaves: list[bytes]) -> list[list[bytes]]:
    """Every complete-subtree level over `leaves` (level 0 = the leaves themselves)."""
    sha = hashlib.sha256
    levels, level = [leaves], leaves
    while len(level) > 1:
        pairs = zip(level[::2], level[1::2], strict=False)
        level = [sha(b"\x01" + a + b).digest() for a, b in pairs]
        levels.append(level)
    return levels


def fold(hashes: list[bytes]) -> bytes:
    """The root over perfect-subtree roots, largest (leftmost) first; empty: the empty root."""
    if not hashes:
        return merkle.EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = merkle.node_hash(h, acc)
    return acc


class ChunkedTree:
    """The log so far: complete chunks folded into `high`, the current chunk's levels in lists."""

    def __init__(self) -> None:
        self.high = merkle.CompactRange()  # one "leaf" per complete chunk: its level-14 root
        self.start = 0  # first leaf of the current chunk
        self.levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        """Leaves in the log so far."""
        return self.start + len(self.levels[0])

    def fill(self, leaves: list[bytes]) -> list[tuple[int, int, list[bytes]]]:
        """Set the current chunk's leaves (up to CHUNK); its levels: (level, first index, nodes)."""
        self.levels = levels_of(leaves)
        return [(k, self.start >> k, nodes) for k, nodes in enumerate(self.levels) if nodes]

    def close_chunk(self) -> Iterator[tuple[int, int, bytes]]:
        """Fold a full chunk into the levels above it; the nodes that completes up there."""
        assert len(self.levels[0]) == CHUNK
        created = self.high.append(self.levels[CHUNK_LEVEL][0])
        self.start, self.levels = self.start + CHUNK, [[]]
        for level, index, digest in created[1:]:
            yield CHUNK_LEVEL + level, index, digest

    def frontier(self, size: int | None = None) -> list[bytes]:
        """The perfect-subtree roots covering leaves [0, size), largest first (default: all)."""
        size = self.size if size is None else size
        assert self.start <= size <= self.size
        _, high = self.high.to_state()
        inside = merkle.range_nodes(self.start, size)
        return high + [self.levels[k][i - (self.start >> k)] for k, i in inside]

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (within the current chunk), default all."""
        return fold(self.frontier(size))
