"""The near-duplicate index of evidence photos: perceptual hashes by their four 16-bit bands.

Two 64-bit hashes at most 7 bits apart differ in at most one bit in at least one of the
four bands (else they would differ in 2 × 4 = 8). A lookup therefore asks the band indexes
for each band's value and its 16 one-bit neighbours (17 × 4 index probes per hash), then
keeps the candidates within the exact Hamming distance: at 1,000,000 uniformly spread hashes
about a thousand candidates, never a table scan (bench/photo_index.py checks the plan).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, ColumnElement, Select, cast, func, or_, select, text
from sqlalchemy.dialects.postgresql import BIT
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
        rows = self.session.execute(
            self.statement(probes, max_bits, exclude_participation_id, limit)
        ).all()
        matches = [
            (min(hamming(row.phash, p) for p in probes), row.recorded_at, row) for row in rows
        ]
        kept = sorted((m for m in matches if m[0] <= max_bits), key=lambda m: m[:2])
        return [
            Match(row.evidence_id, row.participation_id, row.resident_id, bits)
            for bits, _, row in kept[:limit]
        ]

    def statement(
        self,
        probes: Sequence[int],
        max_bits: int,
        exclude_participation_id: uuid.UUID | None,
        limit: int,
    ) -> Select[uuid.UUID, uuid.UUID, uuid.UUID, int, datetime]:
        """The lookup's SELECT: band index probes; on PostgreSQL also the exact distance."""
        values = _probe_values(probes, max_bits)
        stmt = select(
            PhotoHash.evidence_id,
            PhotoHash.participation_id,
            PhotoHash.resident_id,
            PhotoHash.phash,
            PhotoHash.recorded_at,
        ).where(or_(*(col.in_(sorted(v)) for col, v in zip(_BANDS, values, strict=True))))
        if exclude_participation_id is not None:
            stmt = stmt.where(PhotoHash.participation_id != exclude_participation_id)
        if self.session.get_bind().dialect.name != "postgresql":
            return stmt  # SQLite has no popcount: the exact distance is kept in Python
        each = [_pg_bits(p) for p in probes]
        bits = func.least(*each) if len(each) > 1 else each[0]
        return stmt.where(bits <= max_bits).order_by(bits, PhotoHash.recorded_at).limit(limit)

    def plan(self, phash: int | Sequence[int], max_bits: int) -> str:
        """PostgreSQL's plan of a lookup (EXPLAIN), to show it uses the band indexes."""
        probes = [phash] if isinstance(phash, int) else list(phash)
        compiled = self.statement(probes, max_bits, None, 20).compile(
            dialect=self.session.get_bind().dialect, compile_kwargs={"literal_binds": True}
        )
        rows = self.session.execute(text(f"EXPLAIN {compiled}")).scalars()
        return "\n".join(rows)


def _pg_bits(probe: int) -> ColumnElement[int]:
    """bit_count(phash XOR probe) on PostgreSQL (14+)."""
    xor = PhotoHash.phash.op("#")(cast(to_signed(probe), BigInteger))
    return func.bit_count(cast(xor, BIT(64)))
