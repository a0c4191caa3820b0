"""The near-duplicate index of evidence photos: perceptual hashes by their four 16-bit bands.

Two 64-bit hashes at most 7 bits apart differ in at most one bit in at least one of the
four bands (else they would differ in 2 × 4 = 8). A lookup therefore asks the band indexes
for each band's value and its 16 one-bit neighbours (17 × 4 index probes per hash), then
keeps the candidates within the exact Hamming distance: at 1,000,000 uniformly spread hashes
about a thousand candidates per probe hash, never a table scan (bench/photo_index.py checks
the plan).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    any_,
    bindparam,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, BIT
from sqlalchemy.orm import Session

from civicpoints.fraud.models import PhotoHash
from civicpoints.fraud.photos import bands, hamming, to_signed

MAX_BITS = 7  # the pigeonhole over four bands holds up to here
_BANDS = (PhotoHash.b0, PhotoHash.b1, PhotoHash.b2, PhotoHash.b3)


@dataclass(frozen=True)
class Match:
    """A stored photo near the one looked up, and how many bits apart."""

    evidence_id: uuid.UUID
    participation_id: uuid.UUID
    resident_id: uuid.UUID
    bits: int


def _probe_values(probes: Sequence[int], max_bits: int) -> list[set[int]]:
    """Per band, the values a match may hold there: exact below 4 bits, else ± one bit."""
    values: list[set[int]] = [set(), set(), set(), set()]
    for probe in probes:
        for band, value in zip(values, bands(probe), strict=True):
            band.add(value)
            if max_bits >= 4:
                band.update(value ^ (1 << i) for i in range(16))
    return values


class PhotoIndex:
    """The photo-hash table's reads and writes (the caller owns the transaction)."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    def add(
        self,
        evidence_id: uuid.UUID,
        participation_id: uuid.UUID,
        resident_id: uuid.UUID,
        phash: int,
    ) -> None:
        """Store a photo's hash (signed or unsigned 64-bit) under its evidence id."""
        b0, b1, b2, b3 = bands(phash)
        self.session.add(
            PhotoHash(
                evidence_id=evidence_id,
                participation_id=participation_id,
                resident_id=resident_id,
                phash=to_signed(phash),
                b0=b0,
                b1=b1,
                b2=b2,
                b3=b3,
            )
        )
        self.session.flush()

    def near(
        self,
        phash: int | Sequence[int],
        max_bits: int,
        exclude_participation_id: uuid.UUID | None = None,
        limit: int = 20,
    ) -> list[Match]:
        """Stored photos within `max_bits` of the hash (or of the nearest of several probe
        hashes, `photos.probe_hashes`), nearest first, then oldest; at most `limit`."""
        probes = [phash] if isinstance(phash, int) else list(phash)
        if not 0 <= max_bits <= MAX_BITS:
            raise ValueError(f"max_bits must lie between 0 and {MAX_BITS}")
        if not probes or limit < 1:
            return []
        stmt, params = self._query(probes, max_bits, exclude_participation_id, limit)
        rows = self.session.execute(stmt, params).all()
        matches = [
            (min(hamming(row.phash, p) for p in probes), row.recorded_at, row) for row in rows
        ]
        kept = sorted((m for m in matches if m[0] <= max_bits), key=lambda m: m[:2])
        return [
            Match(row.evidence_id, row.participation_id, row.resident_id, bits)
            for bits, _, row in kept[:limit]
        ]

    def plan(self, phash: int | Sequence[int], max_bits: int, analyze: bool = False) -> str:
        """PostgreSQL's plan of a lookup (EXPLAIN), to show it uses the band indexes."""
        probes = [phash] if isinstance(phash, int) else list(phash)
        stmt, params = self._query(probes, max_bits, None, 20)
        compiled = stmt.compile(dialect=self.session.get_bind().dialect)
        explain = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
        result = self.session.connection().exec_driver_sql(
            explain + str(compiled), compiled.construct_params(params)
        )
        return "\n".join(str(row[0]) for row in result)

    def _query(
        self,
        probes: Sequence[int],
        max_bits: int,
        exclude_participation_id: uuid.UUID | None,
        limit: int,
    ) -> tuple[Select[uuid.UUID, uuid.UUID, uuid.UUID, int, datetime], dict[str, Any]]:
        """The lookup's statement (built once per shape, so every layer caches it) and values."""
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        stmt = _lookup(postgresql, len(probes), exclude_participation_id is not None)
        params: dict[str, Any] = {
            f"v{i}": sorted(values) for i, values in enumerate(_probe_values(probes, max_bits))
        }
        params |= {f"p{i}": to_signed(p) for i, p in enumerate(probes)}
        params |= {"max_bits": max_bits, "limit": limit, "exclude": exclude_participation_id}
        return stmt, params


@functools.lru_cache(maxsize=32)
def _lookup(
    postgresql: bool, probes: int, exclude: bool
) -> Select[uuid.UUID, uuid.UUID, uuid.UUID, int, datetime]:
    """Band index probes, and on PostgreSQL the exact distance, nearest first.

    PostgreSQL gets each band's values as one array parameter, so the SQL text never changes
    (the driver prepares it once); SQLite has no arrays (an expanding IN) and no popcount
    (the exact distance is kept in Python).
    """
    if postgresql:
        bands_match = [
            col == any_(bindparam(f"v{i}", type_=ARRAY(Integer))) for i, col in enumerate(_BANDS)
        ]
    else:
        bands_match = [col.in_(bindparam(f"v{i}", expanding=True)) for i, col in enumerate(_BANDS)]
    stmt = select(
        PhotoHash.evidence_id,
        PhotoHash.participation_id,
        PhotoHash.resident_id,
        PhotoHash.phash,
        PhotoHash.recorded_at,
    ).where(or_(*bands_match))
    if exclude:
        stmt = stmt.where(PhotoHash.participation_id != bindparam("exclude"))
    if not postgresql:
        return stmt
    each = [
        func.bit_count(cast(PhotoHash.phash.op("#")(bindparam(f"p{i}", type_=BigInteger)), BIT(64)))
        for i in range(probes)
    ]
    bits: ColumnElement[int] = func.least(*each) if probes > 1 else each[0]
    return (
        stmt.where(bits <= bindparam("max_bits", type_=Integer))
        .order_by(bits, PhotoHash.recorded_at)
        .limit(bindparam("limit", type_=Integer))
    )
