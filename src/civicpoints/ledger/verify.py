"""`ledger verify`: recompute the whole ledger from its rows and name every fault (DESIGN.md §5).

Nothing cached is trusted: balances, entry counts, chain heads, lot remainders, log nodes, log
heads and the checkpoint rows' root column are all recomputed and compared. The journal is in
turn checked against the Merkle logs, whose roots are signed: a rewrite that keeps every hash
chain consistent still changes the leaves that the signatures cover.

The checks live in `ledger/verification/`: `chains` and `journal` (chains, account caches,
lots, zero sums), `transfers`, `logs` with `leaves`, `nodes` and `tree` (the Merkle logs and
their checkpoints), `encode` (the canonical bytes from stored text), `source` (the read-only
snapshot), `parallel` (the parts side by side), `backlog` (the sequencer's queue), `faults`
(kinds, faults, the report). Tables are streamed, so memory stays bounded on millions of
entries. Never writes, and never takes SQLite's write lock.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from civicpoints.kit.clock import utcnow
from civicpoints.ledger.note import Verifier
from civicpoints.ledger.verification.backlog import check_backlog
from civicpoints.ledger.verification.faults import (
    KINDS,
    MAX_FAULTS,
    Fault,
    Findings,
    Progress,
    VerifyReport,
    fault,
)
from civicpoints.ledger.verification.parallel import PARTS, Children, Job, run_part
from civicpoints.ledger.verification.source import (
    Reader,
    export_snapshot,
    snapshot,
    sqlite_path,
)

__all__ = ["KINDS", "MAX_FAULTS", "Fault", "Progress", "VerifyReport", "fault", "verify_ledger"]

PARALLEL_FROM = 100_000  # entries from which the parts run in parallel processes by default


def verify_ledger(
    session: Session,
    verifiers: Sequence[Verifier],
    progress: Progress | None = None,
    *,
    required: int = 1,
    trusted: Sequence[str] = (),
    max_faults: int = MAX_FAULTS,
    parallel: bool | None = None,
    max_lag_s: float | None = None,
) -> VerifyReport:
    """Recompute every invariant of the ledger and its logs; `trusted`: saved checkpoint notes.

    `parallel`: run the parts in child processes (default: on large ledgers, given 2+ CPUs,
    from a process without other threads). `max_lag_s`: the longest an entry may wait for the
    sequencer before the backlog is a fault (None: reported only).
    """
    # Every checkpoint needs a valid signature by one of `verifiers` and none that fails. Witnesses
    # cosign only now and then, so `required` = N > 1 asks that some global checkpoint carries N.
    if required < 1:
        raise ValueError("required must be at least 1: an unsigned checkpoint proves nothing")
    started = time.perf_counter()
    job = Job(list(dict.fromkeys(verifiers)), required, tuple(trusted), max_faults)
    found = Findings(progress, max_faults)
    url = None if session.in_transaction() else _shareable_url(session)
    with snapshot(session) as conn:
        reader = Reader(conn)
        if url is not None and _wants_parallel(parallel, reader):
            _run_parallel(reader, found, job, url)
        else:
            for part in PARTS:
                run_part(part, reader, found, job)
        check_backlog(reader, found, utcnow(), max_lag_s)
    found.report.seconds = time.perf_counter() - started
    return found.report


def _run_parallel(reader: Reader, found: Findings, job: Job, url: str) -> None:
    """The chains here, the other parts in one child process reading the same snapshot.

    Two processes, not three: on 2 CPUs the chains take about as long as the other parts
    together (bench/verify.py `stages`), and a third process only adds switching.
    """
    # Frozen objects are left alone by the collector: neither process then writes to (and so
    # copies) the pages of the heap they share after the fork.
    gc.freeze()
    try:
        _fork_and_run(reader, found, job, url)
    finally:
        gc.unfreeze()


def _fork_and_run(reader: Reader, found: Findings, job: Job, url: str) -> None:
    """Start the child, run the chains, relay progress, merge the child's report."""
    children = Children([PARTS[1:]], url, export_snapshot(reader.conn), job)
    user = found.progress

    def relaying(phase: str, done: int, total: int) -> None:
        if user:
            user(phase, done, total)
        children.relay(user)

    found.progress = relaying
    try:
        run_part(PARTS[0], reader, found, job)
    except BaseException:
        children.stop()
        raise
    found.progress = user
    children.collect(found)


def _wants_parallel(parallel: bool | None, reader: Reader) -> bool:
    """Whether to run the parts in parallel (forked) processes."""
    if parallel is not None or "fork" not in multiprocessing.get_all_start_methods():
        return bool(parallel) and "fork" in multiprocessing.get_all_start_methods()
    # Not by default in a process with other threads (the server's job scheduler): a fork
    # copies only this thread, and a lock another one held would stay held in the child.
    if threading.active_count() > 1:
        return False
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cpus or 1) > 1 and reader.count("ledger_entry") >= PARALLEL_FROM


def _shareable_url(session: Session) -> str | None:
    """A URL other processes can open the same database by; None if they cannot."""
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name == "postgresql":
        return engine.url.render_as_string(hide_password=False)
    path = sqlite_path(engine)
    return f"sqlite:///{path}" if path else None
