"""Benchmark 3: `verify_ledger` over 1,000,000 entries against encoding + SHA-256 of them.

Two references are measured in the same process right before the verifier:
- encode + hash: `sha256(chain.canonical_bytes(fields))` from fields held in memory, the
  irreducible per-entry work of any verifier of this chain (the target's reference);
- hash only: `hashlib.sha256(b).digest()` over every entry's canonical bytes, encoded
  beforehand (the earlier target's reference, kept as a context figure: `ratio`).
The reference pass also recomputes every entry hash, so a generator bug would show here.

The verifier runs as `civicpoints ledger verify` does (on 1,000,000 entries its three parts run
in parallel processes). Then, to show where the time goes, each part runs alone in this process
(`stages`: wall and CPU seconds, µs per entry) and the account-chain read is split into its
steps (fetch through the DBAPI cursor, fast canonical encoding, SHA-256).
"""

from __future__ import annotations

import hashlib
import importlib
import resource
import time
from typing import Any

from sqlalchemy import select

from bench.common import Context, Run, Stopwatch, Target, median, write_result
from bench.ledger_gen import settings_for
from bench.sequencer import ensure_log, signer
from bench.workload import profile_to
from civicpoints.kit.db import make_engine, make_session_factory
from civicpoints.ledger import chain
from civicpoints.ledger.models import Entry

NAME = "verify"
FIELDS = [getattr(Entry, name) for name in chain.EntryFields.__dataclass_fields__]
# The target is set against encoding plus hashing (the least any verifier of this chain must
# do per entry); bare SHA-256 over bytes already encoded is kept as a context figure
# (bench/notes.md, analysis 3).
TARGET = 0.50


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
    before = _cpu_seconds()
    with sessions() as s, Stopwatch() as sw:
        report = verify_ledger(s, [signer().verifier])
    entries = report.counts.get("entries", 0)
    return {
        "verify_seconds": round(sw.seconds, 2),
        "verify_cpu_seconds_all_processes": round(_cpu_seconds() - before, 2),
        "verify_entries_per_s": round(entries / sw.seconds, 1),
        "verify_counts": dict(report.counts),
        "faults": report.total_faults,
        "first_faults": [str(f) for f in report.faults[:5]],
    }


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its children that have ended."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stages(sessions: Any, entries: int) -> dict[str, Any]:
    """Each part of the verification alone, in this process; the chain read split by step."""
    from civicpoints.ledger.verification.faults import Findings
    from civicpoints.ledger.verification.parallel import PARTS, Job, run_part
    from civicpoints.ledger.verification.source import Reader, snapshot

    out: dict[str, Any] = {}
    job = Job([signer().verifier], 1, (), 10_000)
    with sessions() as s, snapshot(s) as conn:
        reader = Reader(conn)
        for part in PARTS:
            wall, cpu = time.perf_counter(), time.process_time()
            run_part(part, reader, Findings(), job)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            out[part] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2)}
            out[part]["cpu_us_per_entry"] = round(cpu / entries * 1e6, 2)
        out["chain_read_us_per_entry"] = chain_steps(reader, entries)
    return out


def chain_steps(reader: Any, entries: int) -> dict[str, float]:
    """CPU µs per entry of the steps of the chain walk's read: fetch, fast encode, SHA-256."""
    from civicpoints.ledger.verification.encode import canonical_from_stored, entry_columns

    sql = (
        f"SELECT {entry_columns(reader.dialect)} FROM ledger_entry ORDER BY bucket, account_id, seq"
    )
    spent = {"fetch": 0.0, "fast_encode": 0.0, "sha256_hexdigest": 0.0}
    chunks = reader.chunks(sql)
    while True:
        t0 = time.process_time()
        rows = next(chunks, None)
        t1 = time.process_time()
        if rows is None:
            break
        blobs = [canonical_from_stored(r) for r in rows]
        t2 = time.process_time()
        for b in blobs:
            hashlib.sha256(b).hexdigest()
        t3 = time.process_time()
        spent["fetch"] += t1 - t0
        spent["fast_encode"] += t2 - t1
        spent["sha256_hexdigest"] += t3 - t2
    return {k: round(v / entries * 1e6, 3) for k, v in spent.items()}


def run(opts: Run) -> dict[str, Any]:
    """Measure the references and the verifier on the sequenced ledger."""
    entries = opts.size(1_000_000, 20_000)
    verify_ledger = load_verifier()
    params = {
        "entries": entries,
        "engine": "SQLite (WAL), 1 bucket",
        "reference": "sha256 over pre-encoded chain.canonical_bytes, median of 3 passes",
        "verifier": "verify_ledger as the CLI runs it: parts in parallel processes from "
        "100,000 entries (chains here; lots, transfers and logs in one child), on nproc CPUs",
    }
    title = "ledger verify vs encode + SHA-256"
    label = "verify entries/s ÷ (canonical encoding + SHA-256) entries/s"
    if verify_ledger is None:
        target = Target("ratio_vs_encode_plus_sha256", label, None, ">=", TARGET, "×")
        notes = "NOT RUN: civicpoints.ledger.verify.verify_ledger is not importable yet"
        return write_result(opts, NAME, title, [target], {}, params, notes)
    path = ensure_log(entries)
    engine = make_engine(settings_for(path).resolved_database_url())
    sessions = make_session_factory(engine)
    figures = reference(sessions) | run_verifier(verify_ledger, sessions)
    figures["stages"] = stages(sessions, figures["entries"])
    serial = sum(part["wall_s"] for part in figures["stages"].values() if "wall_s" in part)
    figures["serial_entries_per_s"] = round(figures["entries"] / serial, 1)
    steps = figures["stages"]["chain_read_us_per_entry"]
    fast = steps["fast_encode"] + steps["sha256_hexdigest"]
    figures["fast_encode_plus_sha256_entries_per_s"] = round(1e6 / fast, 1)
    if opts.profile:
        figures["profile"] = profile_to(NAME, lambda: run_verifier(verify_ledger, sessions))
    engine.dispose()
    figures["ratio"] = round(figures["verify_entries_per_s"] / figures["sha256_entries_per_s"], 4)
    figures["ratio_vs_encode_plus_sha256"] = round(
        figures["verify_entries_per_s"] / figures["encode_plus_sha256_entries_per_s"], 4
    )
    bad = figures["faults"] + figures["stored_hash_mismatches"]
    targets = [
        Target(
            "ratio_vs_encode_plus_sha256",
            label,
            figures["ratio_vs_encode_plus_sha256"],
            ">=",
            TARGET,
            "×",
        ),
        Target("faults", "faults reported on the (sound) benchmark ledger", bad, "<=", 0),
    ]
    context = [
        Context(
            "ratio", "verify entries/s ÷ bare sha256 entries/s (pre-encoded)", figures["ratio"], "×"
        )
    ]
    return write_result(opts, NAME, title, targets, figures, params, context=context)
