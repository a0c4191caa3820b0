"""RFC 9162 Merkle log: published reference vectors, properties, and pymerkle as an oracle."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence

import pymerkle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from civicpoints.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_nodes,
    range_root,
    root_of,
    verify_consistency,
    verify_inclusion,
)

Store = dict[tuple[int, int], bytes]


def hx(*hexes: str) -> list[bytes]:
    """Decode hex strings."""
    return [bytes.fromhex(h) for h in hexes]


# --- Reference data --------------------------------------------------------------------------
# github.com/transparency-dev/merkle testonly/constants.go (LeafInputs, RootHashes, NodeHashes,
# CompactTrees) — the RFC 6962 test tree shared with google/trillian and certificate-transparency.
LEAF_INPUTS = hx(
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)
ROOTS = hx(  # indexed by tree size
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)
NODE_HASHES = [  # [level][index]
    hx(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ),
    hx(
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ),
    hx(
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ),
    hx("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
NH = NODE_HASHES
COMPACT_TREES = [  # frontier after each size, largest subtree first
    [],
    [NH[0][0]],
    [NH[1][0]],
    [NH[1][0], NH[0][2]],
    [NH[2][0]],
    [NH[2][0], NH[0][4]],
    [NH[2][0], NH[1][2]],
    [NH[2][0], NH[1][2], NH[0][6]],
    [NH[3][0]],
]
LEAVES = [leaf_hash(d) for d in LEAF_INPUTS]

# github.com/transparency-dev/merkle proof/verify_test.go: inclusionProofs (whose leaf field
# counts from one; converted to 0-based indexes here) and consistencyProofs.
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
INCLUSION_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (0, 1, []),
    (
        0,
        8,
        hx(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        hx(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, hx("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        hx(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]
CONSISTENCY_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        hx(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        hx(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        hx(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        hx(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]

# github.com/transparency-dev/merkle proof/proof_test.go TestInclusion / TestConsistency: proofs
# as stored node ids (level, index); the ids in the half-open span are folded into one
# ephemeral node (Go's Nodes.Rehash), i.e. MTH of a right-edge range that is not yet complete.
Layout = tuple[int, int, list[tuple[int, int]], tuple[int, int] | None]
INCLUSION_LAYOUTS: list[Layout] = [  # (index, size, ids, rehash span)
    (0, 1, [], None),
    (0, 2, [(0, 1)], None),
    (1, 2, [(0, 0)], None),
    (1, 3, [(0, 0), (0, 2)], None),
    (0, 7, [(0, 1), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (1, 7, [(0, 0), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (2, 7, [(0, 3), (1, 0), (0, 6), (1, 2)], (2, 4)),
    (3, 7, [(0, 2), (1, 0), (0, 6), (1, 2)], (2, 4)),
    (4, 7, [(0, 5), (0, 6), (2, 0)], None),
    (5, 7, [(0, 4), (0, 6), (2, 0)], None),
    (6, 7, [(1, 2), (2, 0)], None),
    (2, 4, [(0, 3), (1, 0)], None),
    (3, 5, [(0, 2), (1, 0), (0, 4)], None),
    (3, 6, [(0, 2), (1, 0), (1, 2)], None),
    (4, 6, [(0, 5), (2, 0)], None),
    (10, 15, [(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)], (2, 4)),
    (24, 31, [(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)], (2, 4)),
    (81, 95, [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)], (3, 6)),
]
CONSISTENCY_LAYOUTS: list[Layout] = [  # (old size, new size, ids, rehash span)
    (1, 2, [(0, 1)], None),
    (1, 4, [(0, 1), (1, 1)], None),
    (1, 6, [(0, 1), (1, 1), (1, 2)], None),
    (2, 3, [(0, 2)], None),
    (2, 8, [(1, 1), (2, 1)], None),
    (3, 7, [(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)], (3, 5)),
    (4, 7, [(0, 6), (1, 2)], (0, 2)),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)], None),
    (6, 7, [(1, 2), (0, 6), (2, 0)], None),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)], None),
    *[(n, n, [], None) for n in (1, 2, 3, 4, 5, 7, 8)],
    (2, 4, [(1, 1)], None),
    (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)], None),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)], None),
    (4, 6, [(1, 2)], None),
    (1, 7, [(0, 1), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (10, 15, [(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)], (2, 4)),
    (24, 31, [(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)], (1, 4)),
    (
        81,
        95,
        [(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)],
        (4, 7),
    ),
]


# --- Helpers ---------------------------------------------------------------------------------


def make_leaves(size: int, seed: bytes = b"") -> list[bytes]:
    """Distinct leaf hashes, so swapping positions can never verify by coincidence."""
    return [leaf_hash(seed + i.to_bytes(4, "big")) for i in range(size)]


def build(leaves: Sequence[bytes]) -> tuple[CompactRange, Store]:
    """Append every leaf, storing each emitted node; every complete node is emitted once."""
    cr, store = CompactRange(), {}
    for leaf in leaves:
        for level, index, value in cr.append(leaf):
            assert (level, index) not in store
            store[level, index] = value
    return cr, store


class Reader:
    """A NodeReader that counts reads and refuses nodes beyond ``size`` leaves."""

    def __init__(self, lookup: Callable[[int, int], bytes], size: int) -> None:
        self.lookup, self.size, self.calls = lookup, size, 0

    def __call__(self, level: int, index: int) -> bytes:
        self.calls += 1
        # A proof for a past tree size must not touch leaves appended after it.
        assert (index + 1) << level <= self.size, (level, index, self.size)
        return self.lookup(level, index)


def reader(store: Store, size: int) -> Reader:
    """A counting reader over a node store."""
    return Reader(lambda level, index: store[level, index], size)


def read_bound(n: int) -> float:
    """The O(log n) read budget per proof."""
    return 4 * math.log2(n) + 4


def flip(value: bytes, bit: int = 0) -> bytes:
    """The digest with one bit of its first byte flipped."""
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


def from_layout(
    ids: list[tuple[int, int]], span: tuple[int, int] | None, leaves: list[bytes]
) -> list[bytes]:
    """Hashes for a Go proof layout, computed independently with root_of."""
    vals = [root_of(leaves[i << lv : (i + 1) << lv]) for lv, i in ids]
    if span is None:
        return vals
    begin, end = span
    acc = vals[begin]
    for v in vals[begin + 1 : end]:
        acc = node_hash(v, acc)
    return [*vals[:begin], acc, *vals[end:]]


def inclusion_probes(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[int, int, list[bytes], bytes, bytes]]:
    """Go's corruptInclusionProof, plus same-length wrong hashes: every probe must fail."""
    probes = [
        (index - 1, size, proof, root, leaf),
        (index + 1, size, proof, root, leaf),
        (index ^ 2, size, proof, root, leaf),
        (index, size * 2, proof, root, leaf),
        (index, size // 2, proof, root, leaf),
        (index, size, proof, root, b"WrongLeaf"),
        (index, size, proof, root, flip(leaf)),
        (index, size, proof, EMPTY_ROOT, leaf),
        (index, size, proof, SOME_HASH, leaf),
        (index, size, [*proof, b""], root, leaf),
        (index, size, [*proof, root], root, leaf),
        (index, size, [b"", *proof], root, leaf),
        (index, size, [root, *proof], root, leaf),
    ]
    for i in range(len(proof)):
        bad = [*proof[:i], flip(proof[i], 3), *proof[i + 1 :]]
        probes.append((index, size, bad, root, leaf))
    if proof:
        probes.append((index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        probes.append((index, size, [proof[0], SOME_HASH, *proof[1:]], root, leaf))
    return probes


def consistency_probes(
    m: int, n: int, proof: list[bytes], r1: bytes, r2: bytes
) -> list[tuple[int, int, bytes, bytes, list[bytes]]]:
    """Go's corruptConsistencyProof, plus same-length wrong roots: every probe must fail."""
    probes = [
        (m - 1, n, r1, r2, proof),
        (m + 1, n, r1, r2, proof),
        (m ^ 2, n, r1, r2, proof),
        (m, n * 2, r1, r2, proof),
        (m, n // 2, r1, r2, proof),
        (m, n, b"WrongRoot", r2, proof),
        (m, n, r1, b"WrongRoot", proof),
        (m, n, SOME_HASH, r2, proof),
        (m, n, r1, SOME_HASH, proof),
        (m, n, r2, r1, proof),
        (m, n, r1, r2, []),
        (m, n, r1, r2, [*proof, b""]),
        (m, n, r1, r2, [*proof, r1]),
        (m, n, r1, r2, [*proof, r2]),
        (m, n, r1, r2, [b"", *proof]),
        (m, n, r1, r2, [r1, *proof]),
        (m, n, r1, r2, [r2, *proof]),
        (m, n, r1, r2, [proof[0], *proof]),
        (m, n, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        probes.append((m, n, r1, r2, [*proof[:i], flip(proof[i], 4), *proof[i + 1 :]]))
    return probes


# --- Reference vectors -----------------------------------------------------------------------


def test_hash_primitives() -> None:
    assert EMPTY_ROOT == ROOTS[0] == hashlib.sha256(b"").digest()
    assert [leaf_hash(d) for d in LEAF_INPUTS] == NH[0]
    assert node_hash(NH[0][0], NH[0][1]) == NH[1][0]
    assert root_of([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", range(9))
def test_reference_roots(size: int) -> None:
    cr, store = build(LEAVES[:size])
    assert root_of(LEAVES[:size]) == ROOTS[size]
    assert cr.root() == ROOTS[size]
    assert range_root(0, size, reader(store, size)) == ROOTS[size]
    assert cr.to_state() == (size, COMPACT_TREES[size])


def test_reference_nodes_are_exactly_the_emitted_nodes() -> None:
    _, store = build(LEAVES)
    expected = {(lv, i): h for lv, row in enumerate(NH) for i, h in enumerate(row)}
    assert store == expected


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
def test_reference_inclusion(index: int, size: int, proof: list[bytes]) -> None:
    _, store = build(LEAVES)
    root, leaf = ROOTS[size], LEAVES[index]
    assert inclusion_proof(index, size, reader(store, size)) == proof
    assert verify_inclusion(leaf, index, size, proof, root)
    for i, s, p, r, lf in inclusion_probes(index, size, proof, root, leaf):
        assert not verify_inclusion(lf, i, s, p, r), (i, s, p, r, lf)


@pytest.mark.parametrize(("m", "n", "proof"), CONSISTENCY_VECTORS)
def test_reference_consistency(m: int, n: int, proof: list[bytes]) -> None:
    _, store = build(LEAVES)
    assert consistency_proof(m, n, reader(store, n)) == proof
    assert verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)
    if proof:
        for a, b, r1, r2, p in consistency_probes(m, n, proof, ROOTS[m], ROOTS[n]):
            assert not verify_consistency(a, b, r1, r2, p), (a, b, r1, r2, p)


@pytest.mark.parametrize(("index", "size", "ids", "span"), INCLUSION_LAYOUTS)
def test_inclusion_layout_matches_go(
    index: int, size: int, ids: list[tuple[int, int]], span: tuple[int, int] | None
) -> None:
    leaves = make_leaves(96)
    _, store = build(leaves)
    expected = from_layout(ids, span, leaves)
    assert inclusion_proof(index, size, reader(store, size)) == expected
    assert verify_inclusion(leaves[index], index, size, expected, root_of(leaves[:size]))


@pytest.mark.parametrize(("m", "n", "ids", "span"), CONSISTENCY_LAYOUTS)
def test_consistency_layout_matches_go(
    m: int, n: int, ids: list[tuple[int, int]], span: tuple[int, int] | None
) -> None:
    leaves = make_leaves(96)
    _, store = build(leaves)
    expected = from_layout(ids, span, leaves)
    assert consistency_proof(m, n, reader(store, n)) == expected
    assert verify_consistency(m, n, root_of(leaves[:m]), root_of(leaves[:n]), expected)


# --- Edge cases ------------------------------------------------------------------------------

A, B = leaf_hash(b"a"), leaf_hash(b"b")


@pytest.mark.parametrize(
    ("m", "n", "r1", "r2", "proof", "ok"),
    [
        # Adapted from Go's TestVerifyConsistency with 32-byte roots.
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [], True),
        (0, 1, EMPTY_ROOT, A, [], True),
        (1, 1, A, A, [], True),
        (1, 1, A, B, [], False),
        (1, 0, A, B, [], False),
        (2, 1, A, B, [], False),
        (1, 2, A, B, [], False),
        (0, 0, EMPTY_ROOT, A, [], False),
        (1, 1, EMPTY_ROOT, B, [], False),
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        (1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT], False),
        # Stricter than Go: a size-0 tree head must carry the empty root.
        (0, 0, A, A, [], False),
        (0, 5, A, B, [], False),
    ],
)
def test_consistency_edge_cases(
    m: int, n: int, r1: bytes, r2: bytes, proof: list[bytes], ok: bool
) -> None:
    assert verify_consistency(m, n, r1, r2, proof) is ok


def test_paths_longer_than_the_claimed_tree_are_rejected() -> None:
    # RFC 9162 step "if sn is 0, fail": without it a proof from a bigger tree, replayed
    # against smaller claimed sizes, verifies (these cases were found by mutating that step).
    _, store = build(LEAVES)
    incl = inclusion_proof(4, 8, reader(store, 8))
    assert verify_inclusion(LEAVES[4], 4, 8, incl, ROOTS[8])
    assert not verify_inclusion(LEAVES[4], 0, 4, incl, ROOTS[8])
    cons = consistency_proof(7, 8, reader(store, 8))
    assert verify_consistency(7, 8, ROOTS[7], ROOTS[8], cons)
    for m, n in [(3, 4), (5, 6), (6, 7), (6, 8)]:
        assert not verify_consistency(m, n, ROOTS[7], ROOTS[8], cons)


def test_inclusion_edge_cases() -> None:
    # Go's TestVerifyInclusionSingleEntry: a 1-leaf tree's root is its leaf hash.
    assert verify_inclusion(A, 0, 1, [], A)
    assert not verify_inclusion(A, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], A)
    assert not verify_inclusion(A, 0, 1, [], B)
    # Go's TestVerifyInclusion: out-of-range index/size never verifies.
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        assert not verify_inclusion(SOME_HASH, index, size, [], b"")
        assert not verify_inclusion(b"", index, size, [], EMPTY_ROOT)
        assert not verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)


@pytest.mark.parametrize(
    "args",
    [
        (A, 0, 1, None, A),
        (A, 0, 1, A, A),  # a bare digest is a sequence of ints, not a proof
        (A, 0, 2, [None], A),
        (A, 0, 2, "x" * 32, A),
        ("a" * 32, 0, 1, [], "a" * 32),
        (A, True, 2, [B], A),
        (A, 0.0, 1, [], A),
        (A, -1, 1, [], A),
        (A, 0, 2**70, [B] * 200, A),
        (A, 0, 2, [bytearray(B)], A),
    ],
)
def test_verify_inclusion_never_raises(args: tuple[object, ...]) -> None:
    assert verify_inclusion(*args) is False  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "args",
    [
        (1, 2, A, B, None),
        (1, 2, A, B, A),
        (1, 2, A, B, [None]),
        (1, 2, "a", B, [A]),
        (1, 2, A, None, [A]),
        (True, 2, A, B, [A]),
        (1.0, 2, A, B, [A]),
        (-1, 2, A, B, [A]),
        (3, 2**70, A, B, [A] * 300),
    ],
)
def test_verify_consistency_never_raises(args: tuple[object, ...]) -> None:
    assert verify_consistency(*args) is False  # type: ignore[arg-type]


def test_generators_reject_programmer_errors() -> None:
    _, store = build(make_leaves(8))
    read = reader(store, 8)
    for index, size in [(5, 5), (0, 0), (-1, 3), (8, 7)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, read)
    for m, n in [(3, 2), (-1, 2), (1, -1)]:
        with pytest.raises(ValueError):
            consistency_proof(m, n, read)
    for start, end in [(3, 2), (-1, 2), (1, 4), (2, 7), (3, 5)]:
        with pytest.raises(ValueError):
            range_root(start, end, read)
    with pytest.raises(ValueError):
        CompactRange().append(b"short")
    with pytest.raises(ValueError):
        CompactRange.from_state(3, [A])
    with pytest.raises(ValueError):
        CompactRange.from_state(1, [b"short"])


def test_trivial_proofs_are_empty() -> None:
    _, store = build(make_leaves(5))
    read = reader(store, 5)
    assert consistency_proof(0, 5, read) == []
    assert consistency_proof(5, 5, read) == []
    assert inclusion_proof(0, 1, read) == []
    assert range_root(3, 3, read) == EMPTY_ROOT
    assert read.calls == 0


# --- Properties ------------------------------------------------------------------------------

sizes = st.integers(1, 300)
seeds = st.binary(max_size=8)


@settings(max_examples=60, deadline=None)
@given(size=sizes, seed=seeds)
def test_roots_and_nodes_agree_with_reference(size: int, seed: bytes) -> None:
    leaves = make_leaves(size, seed)
    cr, store = build(leaves)
    assert cr.size == size
    assert cr.root() == root_of(leaves) == range_root(0, size, reader(store, size))
    for (level, index), value in store.items():
        assert value == root_of(leaves[index << level : (index + 1) << level])
    assert len(store) == 2 * size - size.bit_count()  # every complete node, nothing else
    for k in range(size + 1):
        assert range_root(0, k, reader(store, k)) == root_of(leaves[:k])


@settings(max_examples=40, deadline=None)
@given(data=st.lists(st.binary(max_size=40), max_size=40))
def test_arbitrary_leaf_data(data: list[bytes]) -> None:
    leaves = [leaf_hash(d) for d in data]
    cr, store = build(leaves)
    assert cr.root() == root_of(leaves) == range_root(0, len(leaves), reader(store, len(leaves)))


@settings(max_examples=100, deadline=None)
@given(start_units=st.integers(0, 40), width=st.integers(0, 200), seed=seeds)
def test_range_root_on_aligned_ranges(start_units: int, width: int, seed: bytes) -> None:
    # Ranges whose start is a multiple of the largest power of two <= width are exactly the
    # ones proofs need (and the ones stored nodes can answer).
    unit = 1 << (width.bit_length() - 1) if width else 1
    start = start_units * unit
    leaves = make_leaves(start + width, seed)
    _, store = build(leaves)
    read = reader(store, start + width)
    assert range_root(start, start + width, read) == root_of(leaves[start:])
    assert read.calls == width.bit_count()
    assert len(range_nodes(start, start + width)) == width.bit_count()


@settings(max_examples=40, deadline=None)
@given(size=sizes, extra=st.integers(0, 40), seed=seeds, rnd=st.randoms(use_true_random=False))
def test_inclusion_proofs(size: int, extra: int, seed: bytes, rnd: random.Random) -> None:
    # The store holds `extra` later leaves too: a proof for an older size must ignore them.
    leaves = make_leaves(size + extra, seed)
    _, store = build(leaves)
    root = root_of(leaves[:size])
    for index in range(size):
        read = reader(store, size)
        proof = inclusion_proof(index, size, read)
        assert read.calls <= read_bound(size)
        assert len(proof) <= math.ceil(math.log2(size))
        assert verify_inclusion(leaves[index], index, size, proof, root)
        assert not verify_inclusion(flip(leaves[index]), index, size, proof, root)
        assert not verify_inclusion(leaves[index], index, size, proof, flip(root, 7))
        if size > 1:
            other = rnd.randrange(size - 1)
            other += other >= index  # any index but this one
            assert not verify_inclusion(leaves[index], other, size, proof, root)
            assert not verify_inclusion(leaves[other], index, size, proof, root)
        if proof:
            i = rnd.randrange(len(proof))
            bad = [*proof[:i], flip(proof[i], 5), *proof[i + 1 :]]
            assert not verify_inclusion(leaves[index], index, size, bad, root)
            assert not verify_inclusion(leaves[index], index, size, proof[:-1], root)
        assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)


@settings(max_examples=150, deadline=None)
@given(n=sizes, extra=st.integers(0, 40), seed=seeds, data=st.data())
def test_consistency_proofs(n: int, extra: int, seed: bytes, data: st.DataObject) -> None:
    m = data.draw(st.integers(0, n))
    leaves = make_leaves(n + extra, seed)
    _, store = build(leaves)
    r1, r2 = root_of(leaves[:m]), root_of(leaves[:n])
    read = reader(store, n)
    proof = consistency_proof(m, n, read)
    assert read.calls <= read_bound(n)
    assert verify_consistency(m, n, r1, r2, proof)
    assert not verify_consistency(m, n, flip(r1), r2, proof)
    # The empty tree is a prefix of every tree, so with m == 0 the new root is not bound.
    assert verify_consistency(m, n, r1, flip(r2), proof) is (m == 0)
    if m in (0, n):
        assert proof == []
        assert not verify_consistency(m, n, r1, r2, [r1])
        return
    assert not verify_consistency(m, n, r2, r1, proof)
    assert not verify_consistency(m, n, r1, r2, proof[:-1])
    assert not verify_consistency(m, n, r1, r2, [*proof, r2])
    assert not verify_consistency(m, n, r1, r2, [r1, *proof])
    for i in range(len(proof)):
        bad = [*proof[:i], flip(proof[i], 6), *proof[i + 1 :]]
        assert not verify_consistency(m, n, r1, r2, bad)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 2**48), data=st.data())
def test_proofs_read_logarithmically_many_complete_nodes(n: int, data: st.DataObject) -> None:
    # Huge trees need no real leaves: fake node values still expose every read's address.
    def fake(level: int, index: int) -> bytes:
        return hashlib.sha256(f"{level}/{index}".encode()).digest()

    read = Reader(fake, n)
    inclusion_proof(data.draw(st.integers(0, n - 1)), n, read)
    assert read.calls <= read_bound(n)
    read.calls = 0
    consistency_proof(data.draw(st.integers(0, n)), n, read)
    assert read.calls <= read_bound(n)
    read.calls = 0
    CompactRange.from_reader(n, read)
    assert read.calls == n.bit_count()


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 300), more=st.integers(0, 40), seed=seeds)
def test_compact_range_state_round_trips(size: int, more: int, seed: bytes) -> None:
    leaves = make_leaves(size + more, seed)
    cr, store = build(leaves[:size])
    state = cr.to_state()
    resumed = CompactRange.from_state(*state)
    rebuilt = CompactRange.from_reader(size, reader(store, size))
    assert resumed.to_state() == rebuilt.to_state() == state
    assert resumed.root() == rebuilt.root() == cr.root()
    # Resuming must emit the very nodes an uninterrupted sequencer would.
    for leaf in leaves[size:]:
        expected = cr.append(leaf)
        assert resumed.append(leaf) == expected
        assert rebuilt.append(leaf) == expected
    assert resumed.root() == rebuilt.root() == root_of(leaves)
    cr.to_state()[1].clear()  # to_state hands out a copy
    assert cr.to_state() == resumed.to_state()


# --- pymerkle as an independent oracle -------------------------------------------------------


def oracle(data: list[bytes]) -> pymerkle.InmemoryTree:
    """A pymerkle tree with RFC 9162 hashing (SHA-256, 0x00/0x01 prefixes: its default)."""
    tree = pymerkle.InmemoryTree(algorithm="sha256")
    for d in data:
        tree.append_entry(d)
    return tree


def oracle_accepts(check: object) -> bool:
    """Run a pymerkle verification, mapping InvalidProof to False."""
    try:
        check()  # type: ignore[operator]
    except pymerkle.InvalidProof:
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(data=st.lists(st.binary(max_size=24), min_size=1, max_size=150), choice=st.data())
def test_pymerkle_oracle(data: list[bytes], choice: st.DataObject) -> None:
    tree = oracle(data)
    leaves = [leaf_hash(d) for d in data]
    n = len(leaves)
    _, store = build(leaves)
    assert [tree.get_leaf(i + 1) for i in range(n)] == leaves  # 0x00 leaf prefix, as RFC 9162
    for k in range(n + 1):
        assert tree.get_root(k) == range_root(0, k, reader(store, k))

    size = choice.draw(st.integers(1, n))
    index = choice.draw(st.integers(0, size - 1))
    theirs = tree.prove_inclusion(index + 1, size)
    ours = inclusion_proof(index, size, reader(store, size))
    root = range_root(0, size, reader(store, size))
    for leaf, r in [
        (leaves[index], root),
        (flip(leaves[index]), root),
        (leaves[index], flip(root)),
    ]:
        expected = oracle_accepts(lambda leaf=leaf, r=r: theirs.verify(leaf, r, index + 1, size))
        assert verify_inclusion(leaf, index, size, ours, r) is expected
    assert oracle_accepts(lambda: theirs.verify(leaves[index], root, index + 1, size))

    m = choice.draw(st.integers(1, size))
    theirs_c = tree.prove_consistency(m, size)
    ours_c = consistency_proof(m, size, reader(store, size))
    old = tree.get_root(m)
    for r1, r2 in [(old, root), (flip(old), root), (old, flip(root)), (root, old)]:
        expected = oracle_accepts(lambda r1=r1, r2=r2: theirs_c.verify(r1, r2, m, size))
        assert verify_consistency(m, size, r1, r2, ours_c) is expected
    assert oracle_accepts(lambda: theirs_c.verify(old, root, m, size))
