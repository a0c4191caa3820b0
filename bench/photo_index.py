"""Benchmark: near-duplicate photo lookup through `fraud.PhotoIndex` at 1,000,000 stored hashes.

A migrated PostgreSQL database gets 1,000,000 uniformly random 64-bit hashes (one
INSERT … SELECT over generate_series, bands computed in SQL as the model stores them) and
1,000 planted photos with known ids, then ANALYZE. Each lookup is `PhotoIndex.near` as the
service calls it for an upload: three probe hashes (`photos.probe_hashes`), the default
threshold, one at a time in one session. Planted lookups probe with the planted hash moved
0–6 random bits away plus two unrelated random probes, a worse case than real probes (which
lie a few bits from each other and share most band values). Random lookups probe with three
fresh random hashes and should find nothing. The plan of one lookup (EXPLAIN ANALYZE) is kept
and checked: band index scans, no sequential scan.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from sqlalchemy import text

from bench.common import (
    Run,
    Stopwatch,
    Target,
    drop_pg_database,
    fresh_pg_database,
    latency_summary,
    write_result,
)
from civicpoints.fraud import DEFAULT_POLICY, PhotoIndex
from civicpoints.fraud.photos import to_signed
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.kit.migrate import upgrade

NAME = "photo_index"
TITLE = "Photo near-duplicate lookup (PostgreSQL)"
DB = "cp_bench_photo_index"
TARGET_P95_MS = 20.0
LOAD = text(
    """
    INSERT INTO fraud_photo_hash
        (evidence_id, participation_id, resident_id, phash, b0, b1, b2, b3, recorded_at)
    SELECT gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), h,
           (h >> 48) & 65535, (h >> 32) & 65535, (h >> 16) & 65535, h & 65535, now()
    FROM (SELECT ((random() * 4294967295)::bigint << 32) # (random() * 4294967295)::bigint AS h
          FROM generate_series(1, :n)) AS r
    """
)


def flip(h: int, bits: int, rng: random.Random) -> int:
    """`h` with `bits` distinct random bits flipped."""
    for bit in rng.sample(range(64), bits):
        h ^= 1 << bit
    return to_signed(h)


def load(sessions: Any, n: int, planted: list[tuple[uuid.UUID, int]]) -> dict[str, float]:
    """Fill the table: n random hashes, then the planted ones; ANALYZE."""
    with sessions.begin() as s, Stopwatch() as bulk:
        s.execute(LOAD, {"n": n})
    with sessions.begin() as s, Stopwatch() as plant:
        index = PhotoIndex(s)
        for evidence_id, h in planted:
            index.add(evidence_id, uuid.uuid4(), uuid.uuid4(), h)
    with sessions.begin() as s:
        s.execute(text("ANALYZE fraud_photo_hash"))
        size = s.execute(text("SELECT pg_total_relation_size('fraud_photo_hash')")).scalar_one()
    return {
        "bulk_load_s": round(bulk.seconds, 1),
        "planted_load_s": round(plant.seconds, 1),
        "table_and_indexes_mb": round(size / 2**20, 1),
    }


def lookups(
    sessions: Any, queries: list[list[int]], expect: list[uuid.UUID | None]
) -> dict[str, Any]:
    """Run each lookup once (after 20 warm-ups); latencies, hits of the planted, stray matches."""
    bits = DEFAULT_POLICY.photo_near_bits
    times: list[float] = []
    found, stray = 0, []
    with sessions() as s:
        index = PhotoIndex(s)
        for probes in queries[:20]:
            index.near(probes, bits)
        for probes, planted in zip(queries, expect, strict=True):
            started = time.perf_counter()
            matches = index.near(probes, bits)
            times.append(time.perf_counter() - started)
            found += any(m.evidence_id == planted for m in matches)
            stray += [m.bits for m in matches if m.evidence_id != planted]
    # A stray match is a stored random hash that truly lies within the threshold (near()
    # checks the exact distance): for uniform hashes about 0.01 are expected per 1,000.
    return {
        "latency": latency_summary(times),
        "found": found,
        "stray_matches": len(stray),
        "stray_bits": stray,
    }


def plan(sessions: Any, probes: list[int]) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of one lookup, line by line."""
    with sessions() as s:
        return PhotoIndex(s).plan(probes, DEFAULT_POLICY.photo_near_bits, analyze=True).split("\n")


def run(opts: Run) -> dict[str, Any]:
    """Load, look up, write bench/results/photo_index.json."""
    n, count = opts.size(1_000_000, 100_000), opts.size(1000, 1000)
    rng = random.Random(2026)
    planted = [(uuid.uuid4(), to_signed(rng.getrandbits(64))) for _ in range(count)]
    distances = [i % (DEFAULT_POLICY.photo_near_bits + 1) for i in range(count)]
    near = [
        [flip(h, d, rng), to_signed(rng.getrandbits(64)), to_signed(rng.getrandbits(64))]
        for (_, h), d in zip(planted, distances, strict=True)
    ]
    unrelated = [[to_signed(rng.getrandbits(64)) for _ in range(3)] for _ in range(count)]
    url = fresh_pg_database(DB)
    try:
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        figures: dict[str, Any] = load(sessions, n, planted)
        figures["planted"] = lookups(sessions, near, [e for e, _ in planted])
        figures["unrelated"] = lookups(sessions, unrelated, [None] * count)
        figures["plan"] = plan(sessions, near[0])
        engine.dispose()
    finally:
        drop_pg_database(DB)
    all_times = figures["planted"]["latency"], figures["unrelated"]["latency"]
    p95 = max(t["p95_ms"] for t in all_times)
    recall = figures["planted"]["found"] / count
    seq_scans = sum("Seq Scan" in line for line in figures["plan"])
    band_scans = sum(
        "Bitmap Index Scan on ix_fraud_photo_hash_b" in line for line in figures["plan"]
    )
    figures |= {"p95_ms": p95, "recall": recall, "seq_scans": seq_scans, "band_scans": band_scans}
    targets = [
        Target("p95_ms", "lookup p95, 3 probes (ms)", p95, "<=", TARGET_P95_MS, " ms"),
        Target("recall", "share of planted near-duplicates found", recall, ">=", 1.0),
        Target("seq_scans", "sequential scans in the lookup's plan", seq_scans, "<=", 0),
    ]
    params = {
        "stored_hashes": n + count,
        "planted": count,
        "planted_distances_bits": f"0–{DEFAULT_POLICY.photo_near_bits}, evenly",
        "lookups": f"{count} planted + {count} unrelated, sequential, 20 warm-up",
        "probes_per_lookup": 3,
        "max_bits": DEFAULT_POLICY.photo_near_bits,
        "index": "fraud_photo_hash b0..b3 btree indexes (migration 0013), one BitmapOr",
    }
    return write_result(opts, NAME, TITLE, targets, figures, params)
