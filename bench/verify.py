"""Benchmark 3: `verify_ledger` over 1,000,000 entries against bare SHA-256 of the same bytes.

Two references are measured in the same process right before the verifier:
- hash only: `hashlib.sha256(b).digest()` over every entry's canonical bytes, encoded
  beforehand (the literal reading of the target, and the one the target uses);
- encode + hash: `sha256(chain.canonical_bytes(fields))` from fields held in memory, the
  irreducible per-entry work of any verifier of this chain (reported beside it).
The reference pass also recomputes every entry hash, so a generator bug would show here.
"""

from __future__ import annotations

import hashlib
import importlib
from typing import Any

from sqlalchemy import select

from bench.common import Run, Stopwatch, Target, median, write_result
from bench.ledger_gen import settings_for
from bench.sequencer import ensure_log, signer
from bench.workload import profile_to
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.ledger import chain
from civicpoints.ledger.models import Entry

NAME = "verify"
FIELDS = [getattr(Entry, name) for name in chain.EntryFields.__dataclass_fields__]
TARGET = 0.30


def load_verifier() -> Any:
    """`civicpoints.ledger.verify.verify_ledger`, or None while it does not exist yet."""
    try:
        return importlib.import_module("civicpoints.ledger.verify").verify_ledger
    except (ImportError, AttributeError):
        return None


def reference(sessions: Any) -> dict[str, Any]:
    """Hash-only and encode+hash rates over every entry; counts stored hashes that differ."""
    fields, stored = [], []
    with sessions() as s:
        for row in s.execute(select(*FIELDS, Entry.entry_hash).execution_options(yield_per=20_000)):
            fields.append(chain.EntryFields(*row[:-1]))
            stored.append(row[-1])
    with Stopwatch() as enc:
        blobs = [chain.canonical_bytes(f) for f in fields]
    mismatches = sum(hashlib.sha256(b).hexdigest() != h for b, h in zip(blobs, stored, strict=True))
    del fields, stored
    hash_times = []
    for _ in range(3):
        with Stopwatch() as sw:
            for b in blobs:
                hashlib.sha256(b).digest()
        hash_times.append(sw.seconds)
    n = len(blobs)
    hash_s = median(hash_times)
    return {
        "entries": n,
        "canonical_bytes_avg": round(sum(map(len, blobs)) / max(n, 1), 1),
        "sha256_entries_per_s": round(n / hash_s, 1),
        "encode_plus_sha256_entries_per_s": round(n / (enc.seconds + hash_s), 1),
        "stored_hash_mismatches": mismatches,
    }


def run_verifier(verify_ledger: Any, sessions: Any) -> dict[str, Any]:
    """One full verification; its time, speed and fault count."""
    with sessions() as s, Stopwatch() as sw:
        report = verify_ledger(s, [signer().verifier])
    entries = report.counts.get("entries", 0)
    return {
        "verify_seconds": round(sw.seconds, 2),
        "verify_entries_per_s": round(entries / sw.seconds, 1),
        "verify_counts": dict(report.counts),
        "faults": report.total_faults,
        "first_faults": [str(f) for f in report.faults[:5]],
    }


def run(opts: Run) -> dict[str, Any]:
    """Measure the references and the verifier on the sequenced ledger."""
    entries = opts.size(1_000_000, 20_000)
    verify_ledger = load_verifier()
    params = {
        "entries": entries,
        "engine": "SQLite (WAL), 1 bucket",
        "reference": "sha256 over pre-encoded chain.canonical_bytes, median of 3 passes",
    }
    title = "ledger verify vs bare SHA-256"
    label = "verify entries/s ÷ sha256 entries/s (pre-encoded bytes)"
    if verify_ledger is None:
        target = Target("ratio", label, None, ">=", TARGET, "×")
        notes = "NOT RUN: civicpoints.ledger.verify.verify_ledger is not importable yet"
        return write_result(opts, NAME, title, [target], {}, params, notes)
    path = ensure_log(entries)
    engine = make_engine(settings_for(path).resolved_database_url())
    sessions = make_session_factory(engine)
    figures = reference(sessions) | run_verifier(verify_ledger, sessions)
    if opts.profile:
        figures["profile"] = profile_to(NAME, lambda: run_verifier(verify_ledger, sessions))
    engine.dispose()
    figures["ratio"] = round(figures["verify_entries_per_s"] / figures["sha256_entries_per_s"], 4)
    figures["ratio_vs_encode_plus_sha256"] = round(
        figures["verify_entries_per_s"] / figures["encode_plus_sha256_entries_per_s"], 4
    )
    bad = figures["faults"] + figures["stored_hash_mismatches"]
    targets = [
        Target("ratio", label, figures["ratio"], ">=", TARGET, "×"),
        Target("faults", "faults reported on the (sound) benchmark ledger", bad, "<=", 0),
    ]
    return write_result(opts, NAME, title, targets, figures, params)
