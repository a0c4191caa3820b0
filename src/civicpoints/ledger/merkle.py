"""Pure RFC 9162 (Certificate Transparency v2) Merkle log hashing, proofs and verification.

Every tree function takes leaf *hashes* (``leaf_hash(data)``), never raw entry bytes.
Stored nodes are the roots of complete (perfect) subtrees, addressed by ``(level, index)``:
level 0 index i is leaf hash i; level k index i covers leaves ``[i * 2**k, (i + 1) * 2**k)``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeReader = Callable[[int, int], bytes]
Node = tuple[int, int, bytes]


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Largest power of two strictly less than n (n >= 2), where MTH splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _fold(hashes: Sequence[bytes]) -> bytes:
    """Combine perfect-subtree roots (left to right, largest first) as MTH does: from the right."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _is_size(value: object) -> bool:
    """True for a non-negative int (bool excluded, it is an int subclass)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: object) -> bool:
    """True for a SHA-256 digest."""
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_proof(proof: object) -> bool:
    """True for a sequence of digests (bytes/str are sequences too, hence excluded)."""
    if not isinstance(proof, Sequence) or isinstance(proof, bytes | str):
        return False
    return all(_is_hash(p) for p in proof)


def _equal(a: bytes, b: bytes) -> bool:
    """Constant-time digest comparison."""
    return hmac.compare_digest(a, b)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over already-hashed leaves; recursive reference implementation of RFC 9162 §2.1.1."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))


def range_nodes(start: int, end: int) -> list[tuple[int, int]]:
    """Addresses ``(level, index)`` of the stored nodes whose fold is MTH of leaves [start, end)."""
    if not (_is_size(start) and _is_size(end) and start <= end):
        raise ValueError(f"bad leaf range [{start}, {end})")
    width = end - start
    # MTH of a sub-list splits relative to its own start, so it only maps onto stored
    # (aligned) nodes when start is a multiple of the largest power of two <= width.
    if width and start % (1 << (width.bit_length() - 1)):
        raise ValueError(f"leaf range [{start}, {end}) is not aligned to stored subtrees")
    out = []
    for level in reversed(range(width.bit_length())):
        if width >> level & 1:
            out.append((level, start >> level))
            start += 1 << level
    return out


def range_root(start: int, end: int, read: NodeReader) -> bytes:
    """MTH of leaves [start, end) from stored complete-subtree nodes (popcount(end-start) reads)."""
    nodes = range_nodes(start, end)
    if not nodes:
        return EMPTY_ROOT
    return _fold([read(level, index) for level, index in nodes])


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]) from stored nodes, leaf-side sibling first."""
    if not (_is_size(index) and _is_size(size) and index < size):
        raise ValueError(f"leaf index {index} not in a tree of size {size}")
    siblings: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            siblings.append(range_root(mid, end, read))
            end = mid
        else:
            siblings.append(range_root(start, mid, read))
            start = mid
    siblings.reverse()  # collected root-down; RFC order is leaf-up
    return siblings


def consistency_proof(old_size: int, new_size: int, read: NodeReader) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]); empty when old_size is 0 or new_size."""
    if not (_is_size(old_size) and _is_size(new_size) and old_size <= new_size):
        raise ValueError(f"cannot prove size {old_size} against size {new_size}")
    if old_size in (0, new_size):
        return []
    path: list[bytes] = []
    start, end, m, whole = 0, new_size, old_size, True
    while m != end - start:  # SUBPROOF(m, D[start:end], whole)
        mid = start + _split(end - start)
        if m <= mid - start:
            path.append(range_root(mid, end, read))
            end = mid
        else:
            path.append(range_root(start, mid, read))
            m -= mid - start
            start, whole = mid, False
    if not whole:  # the verifier already knows the old root when it is the whole old tree
        path.append(range_root(start, end, read))
    path.reverse()  # collected root-down; RFC order is the recursion's innermost first
    return path


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does leaf hash ``leaf`` sit at ``index`` of the tree ``(size, root)``?"""
    if not (_is_size(index) and _is_size(size) and index < size):
        return False
    if not (_is_hash(leaf) and _is_hash(root) and _is_proof(proof)):
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and _equal(r, root)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree ``(new_size, new_root)`` an append-only extension of old?"""
    if not (_is_size(old_size) and _is_size(new_size) and old_size <= new_size):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_proof(proof)):
        return False
    # Out of the RFC algorithm's scope: nothing to prove, so the proof must be empty.
    if old_size == 0 and not _equal(old_root, EMPTY_ROOT):
        return False
    if old_size == new_size:
        return not proof and _equal(old_root, new_root)
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and _equal(fr, old_root) and _equal(sr, new_root)


class CompactRange:
    """Right edge of a growing log: one perfect-subtree root per set bit of size, largest first."""

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        """Start an empty log."""
        self._size = 0
        self._frontier: list[bytes] = []

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def append(self, leaf: bytes) -> list[Node]:
        """Append a leaf hash; return the nodes (level, index, hash) it completed, leaf first."""
        if not _is_hash(leaf):
            raise ValueError("leaf must be a 32-byte leaf hash")
        node, level, index = leaf, 0, self._size
        created = [(0, index, leaf)]
        while index & 1:  # a right child: its left sibling is the smallest frontier entry
            node = node_hash(self._frontier.pop(), node)
            level, index = level + 1, index >> 1
            created.append((level, index, node))
        self._frontier.append(node)
        self._size += 1
        return created

    def root(self) -> bytes:
        """MTH of all leaves appended so far."""
        return _fold(self._frontier) if self._frontier else EMPTY_ROOT

    def to_state(self) -> tuple[int, list[bytes]]:
        """Size and a copy of the frontier, for persisting."""
        return self._size, list(self._frontier)

    @classmethod
    def from_state(cls, size: int, frontier: Sequence[bytes]) -> CompactRange:
        """Resume from ``to_state()`` output, checking the frontier fits the size."""
        if not _is_size(size) or len(frontier) != size.bit_count():
            raise ValueError(f"frontier of {len(frontier)} hashes does not fit size {size}")
        if not all(_is_hash(h) for h in frontier):
            raise ValueError("frontier entries must be 32-byte hashes")
        cr = cls()
        cr._size, cr._frontier = size, list(frontier)
        return cr

    @classmethod
    def from_reader(cls, size: int, read: NodeReader) -> CompactRange:
        """Rebuild the frontier of a log of ``size`` leaves from its stored nodes."""
        nodes = range_nodes(0, size)
        return cls.from_state(size, [read(level, index) for level, index in nodes])
