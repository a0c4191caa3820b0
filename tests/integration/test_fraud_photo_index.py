"""The near-duplicate photo index on both engines: a re-used photo found across residents, an
unrelated one not, and (PostgreSQL) the lookup's plan uses the band indexes, never a scan."""

from __future__ import annotations

import random
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from civicpoints.fraud import (
    DEFAULT_POLICY,
    PhotoIndex,
    near_duplicate_signal,
    perceptual_hash,
    probe_hashes,
)
from civicpoints.fraud.photos import to_signed
from civicpoints.kit.db import transaction
from tests.fraud_images import EDITS, photo

NEAR = DEFAULT_POLICY.photo_near_bits


def store(s: Session, seeds: range) -> dict[int, tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """Each seed's photo uploaded by its own resident for its own record."""
    ids = {}
    index = PhotoIndex(s)
    for seed in seeds:
        ids[seed] = (uuid.uuid4(), uuid.uuid4(), uuid.uuid4())
        index.add(*ids[seed], perceptual_hash(photo(seed)))
    return ids


def test_a_resized_recompressed_copy_of_another_residents_photo_is_found(
    sessions: sessionmaker[Session],
) -> None:
    """李先生 saves 王阿姨's earlier photo, shrinks it to 80 % and re-encodes it at quality 70."""
    with transaction(sessions) as s:
        ids = store(s, range(1, 31))
    copy = EDITS["resize80_q70"](photo(7), random.Random(1))
    his_record, him = uuid.uuid4(), uuid.uuid4()
    with transaction(sessions) as s:
        matches = PhotoIndex(s).near(probe_hashes(copy), NEAR, his_record)
    evidence, participation, resident = ids[7]
    assert [(m.evidence_id, m.participation_id, m.resident_id) for m in matches] == [
        (evidence, participation, resident)
    ]
    signal = near_duplicate_signal(matches[0].bits, matches[0].resident_id == him, DEFAULT_POLICY)
    assert signal is not None and "另一位居民" in signal.zh


@pytest.mark.parametrize("edit", ["crop", "colour", "all"])
def test_cropped_and_colour_shifted_copies_are_found(
    sessions: sessionmaker[Session], edit: str
) -> None:
    with transaction(sessions) as s:
        ids = store(s, range(40, 60))
        copy = EDITS[edit](photo(44), random.Random(3))
        matches = PhotoIndex(s).near(probe_hashes(copy), NEAR)
    assert [m.evidence_id for m in matches] == [ids[44][0]]
    assert matches[0].bits <= NEAR


def test_unrelated_photos_find_nothing(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as s:
        store(s, range(1, 31))
        index = PhotoIndex(s)
        for seed in range(100, 110):
            assert index.near(probe_hashes(photo(seed)), NEAR) == []


def test_own_record_is_excluded_and_nearest_comes_first(sessions: sessionmaker[Session]) -> None:
    base = perceptual_hash(photo(5))
    with transaction(sessions) as s:
        index = PhotoIndex(s)
        own, resident = uuid.uuid4(), uuid.uuid4()
        index.add(uuid.uuid4(), own, resident, base)
        rows = [(uuid.uuid4(), uuid.uuid4(), uuid.uuid4()) for _ in range(4)]
        for bits, row in zip([5, 1, 7, 3], rows, strict=True):
            index.add(*row, to_signed(base ^ ((1 << bits) - 1) << 40))  # `bits` bits apart
        index.add(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), base ^ 0xFF)  # 8 apart: too far
    with transaction(sessions) as s:
        index = PhotoIndex(s)
        found = index.near(base, 7, exclude_participation_id=own)
        assert [m.bits for m in found] == [1, 3, 5, 7]
        assert [m.evidence_id for m in found] == [rows[1][0], rows[3][0], rows[0][0], rows[2][0]]
        assert [m.bits for m in index.near(base, 3, exclude_participation_id=own)] == [1, 3]
        assert [m.bits for m in index.near(base, 7, own, limit=2)] == [1, 3]
        assert [m.bits for m in index.near(base, 0)] == [0]
        with pytest.raises(ValueError, match="max_bits"):
            index.near(base, 8)


def test_hashes_with_the_top_bit_set_round_trip(sessions: sessionmaker[Session]) -> None:
    """Hashes are stored as signed BIGINT: the top bit must survive on both engines."""
    top = to_signed(0xF00D_0000_0000_BEEF)
    assert top < 0
    with transaction(sessions) as s:
        PhotoIndex(s).add(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), top)
    with transaction(sessions) as s:
        index = PhotoIndex(s)
        assert [m.bits for m in index.near(top ^ 1, 6)] == [1]
        assert [m.bits for m in index.near(0xF00D_0000_0000_BEEF ^ 0b110, 6)] == [2]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_lookup_uses_the_band_indexes_not_a_scan(sessions: sessionmaker[Session]) -> None:
    """200,000 random hashes, analysed: the plan probes each band's index (a bitmap OR)."""
    with transaction(sessions) as s:
        s.execute(
            text(
                """
                INSERT INTO fraud_photo_hash
                    (evidence_id, participation_id, resident_id, phash, b0, b1, b2, b3,
                     recorded_at)
                SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), h,
                       (h >> 48) & 65535, (h >> 32) & 65535, (h >> 16) & 65535, h & 65535, now()
                FROM (SELECT ((random() * 4294967295)::bigint << 32)
                             # (random() * 4294967295)::bigint AS h
                      FROM generate_series(1, 200000)) AS r
                """
            )
        )
        s.execute(text("ANALYZE fraud_photo_hash"))
        ids = store(s, range(1, 3))
    with transaction(sessions) as s:
        index = PhotoIndex(s)
        plan = index.plan(probe_hashes(photo(1)), NEAR)
        copy = EDITS["all"](photo(1), random.Random(9))
        assert [m.evidence_id for m in index.near(probe_hashes(copy), NEAR)] == [ids[1][0]]
    print(plan)
    assert "Seq Scan" not in plan, plan
    for band in range(4):
        assert f"Bitmap Index Scan on ix_fraud_photo_hash_b{band}" in plan, plan
