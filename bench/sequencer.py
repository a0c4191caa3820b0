"""Benchmark 5: the sequencer integrates 1,000,000 queued entries and signs checkpoints.

Runs `ledger.tasks.sequence_once` (one pass = one transaction, as the server's loop and
`civicpoints ledger sequence` do) on a copy of the cached ledger until the queue is empty.
The sequenced copy is kept as bench/.cache/log-<entries>-….db for the verify and proof
benchmarks.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import CACHE, ORIGIN, Run, Stopwatch, Target, write_result
from bench.ledger_gen import cache_path, ensure_ledger, settings_for
from bench.workload import profile_to
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.ledger import merkle
from civicpoints.ledger.keys import load_or_create_signer
from civicpoints.ledger.models import CheckpointRow, LogQueue
from civicpoints.ledger.note import Signer
from civicpoints.ledger.tasks import sequence_once

NAME = "sequencer"


def signer() -> Signer:
    """The benchmark log's signing key (kept beside the cached databases)."""
    return load_or_create_signer(CACHE / "bench-ledger.skey", ORIGIN)


def log_path(entries: int) -> Path:
    """Where the sequenced copy of the `entries` ledger is kept."""
    return cache_path(entries).with_name(cache_path(entries).name.replace("ledger-", "log-", 1))


def copy_db(src: Path, dst: Path) -> None:
    """Copy a (checkpointed, closed) SQLite file, replacing `dst` and its WAL files."""
    clear_db(dst)
    shutil.copyfile(src, dst)


def move_db(src: Path, dst: Path) -> None:
    """Move a (checkpointed, closed) SQLite file over `dst`, dropping `dst`'s old WAL files.

    A WAL file left beside the old copy would otherwise be read as part of the new one.
    """
    clear_db(dst)
    shutil.move(src, dst)


def clear_db(path: Path) -> None:
    """Remove an SQLite file and its WAL files, where they exist."""
    for old in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        old.unlink(missing_ok=True)


def count(sessions: Any, model: Any) -> int:
    """Rows in a table."""
    with transaction(sessions) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def drain(sessions: Any, key: Signer) -> tuple[int, int]:
    """Sequencer passes until the queue is empty; returns (passes, entries appended)."""
    passes = appended = 0
    while True:
        report = sequence_once(sessions, key, ORIGIN)
        grown = sum(report.appended.values())
        if not grown:
            return passes, appended
        passes, appended = passes + 1, appended + grown


def ensure_log(entries: int) -> Path:
    """The sequenced log of `entries` entries, sequencing a fresh copy if it is missing."""
    path = log_path(entries)
    if not path.exists():
        run_sequencer(entries)
    return path


def run_sequencer(entries: int) -> dict[str, Any]:
    """Copy the cached ledger, drain its queue, keep the result; returns the figures."""
    src, gen = ensure_ledger(entries)
    work = log_path(entries).with_suffix(".building")
    copy_db(src, work)
    engine = make_engine(settings_for(work).resolved_database_url())
    sessions = make_session_factory(engine)
    queued = count(sessions, LogQueue)
    cpu = time.process_time()
    with Stopwatch() as sw:
        passes, appended = drain(sessions, signer())
    cpu = time.process_time() - cpu
    left, checkpoints = count(sessions, LogQueue), count(sessions, CheckpointRow)
    engine.dispose()
    move_db(work, log_path(entries))
    return {
        "entries_per_s": round(appended / sw.seconds, 1),
        "seconds": round(sw.seconds, 2),
        # The machine is shared: CPU time of this process is steadier than wall time.
        "cpu_seconds": round(cpu, 2),
        "entries_per_cpu_s": round(appended / cpu, 1) if cpu else None,
        "queued": queued,
        "appended": appended,
        "left_in_queue": left,
        "passes": passes,
        "checkpoints_signed": checkpoints,
        "ledger": gen,
    }


def in_memory_rate(path: Path) -> float:
    """Entries/s of the bare work in memory: leaf hash of each entry hash, CompactRange append."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT entry_hash FROM ledger_entry ORDER BY recorded_at, id")
        hashes = [bytes.fromhex(h) for (h,) in rows]
    tree = merkle.CompactRange()
    with Stopwatch() as sw:
        for h in hashes:
            tree.append(merkle.leaf_hash(h))
    return len(hashes) / sw.seconds


def profile_pass(entries: int) -> str:
    """Profile one pass over a fresh copy (written next to the result)."""
    src, _ = ensure_ledger(entries)
    work = CACHE / "tmp-sequencer-profile.db"
    copy_db(src, work)
    engine = make_engine(f"sqlite:///{work}")
    sessions = make_session_factory(engine)
    try:
        return profile_to(NAME, lambda: sequence_once(sessions, signer(), ORIGIN))
    finally:
        engine.dispose()
        work.unlink(missing_ok=True)


def run(opts: Run) -> dict[str, Any]:
    """Measure entries/s from queue to signed checkpoint."""
    entries = opts.size(1_000_000, 20_000)
    figures = run_sequencer(entries)
    figures["in_memory_entries_per_s"] = round(in_memory_rate(log_path(entries)), 1)
    figures["ratio_vs_in_memory"] = round(
        figures["entries_per_s"] / figures["in_memory_entries_per_s"], 4
    )
    if opts.profile:
        figures["profile"] = profile_pass(entries)
    complete = figures["left_in_queue"] == 0 and figures["appended"] == figures["queued"]
    label = "queued entries integrated and checkpointed"
    targets = [Target("integrated", label, figures["appended"], ">=", entries, " entries")]
    params = {
        "entries": entries,
        "engine": "SQLite (WAL), 1 bucket: one log of all entries",
        "pass": "civicpoints.ledger.tasks.sequence_once (Sequencer.run, batch 20,000), one txn",
        "writes": "leaves and nodes by the driver's executemany; queue rows deleted by key",
    }
    notes = "" if complete else "queue not drained: see left_in_queue"
    return write_result(
        opts, NAME, "Sequencer: queue → log → checkpoints", targets, figures, params, notes
    )
