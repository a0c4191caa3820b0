"""Benchmark 2: the award path on SQLite (WAL), one writer, beside a bare SQLite insert loop."""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bench.common import CACHE, Run, Target, latency_summary, write_result
from bench.workload import award_request, make_residents, precreate_wallets, profile_to
from civicpoints.kit.db import SQLITE_PRAGMAS, make_engine, make_session_factory, transaction
from civicpoints.kit.migrate import upgrade
from civicpoints.ledger.service import LedgerService
from civicpoints.scoring.service import ScoringService

NAME = "award_sqlite"
PRAGMAS = SQLITE_PRAGMAS  # the application's own, for the bare loop too
BARE_TABLE = """CREATE TABLE bare_entry (
    bucket INTEGER NOT NULL, id BLOB NOT NULL, account_id BLOB NOT NULL, seq INTEGER NOT NULL,
    amount INTEGER NOT NULL, ref TEXT NOT NULL, entry_hash TEXT NOT NULL,
    PRIMARY KEY (bucket, id), UNIQUE (bucket, account_id, seq))"""


def awards(
    sessions: sessionmaker[Session], residents: list[uuid.UUID], n: int, seed: int
) -> list[float]:
    """`n` new awards, one transaction each; returns each transaction's latency in seconds."""
    rng = random.Random(seed)
    latencies = []
    for _ in range(n):
        req = award_request(rng.choice(residents), rng)
        t0 = time.perf_counter()
        with transaction(sessions) as s:
            ScoringService(s).award(req)
        latencies.append(time.perf_counter() - t0)
    return latencies


def statements_per_award(engine: Engine, sessions: sessionmaker[Session], residents: list) -> int:
    """SQL statements one award runs on the driver, BEGIN and COMMIT included.

    Counted below SQLAlchemy, so the statements the hot path sends on the DBAPI cursor count
    too: sqlite3's trace callback sees every statement SQLite runs; on PostgreSQL every cursor
    execution is counted (each row of an executemany as one), plus psycopg's BEGIN and COMMIT.
    """
    count = 0

    def seen(*_args: Any) -> None:
        nonlocal count
        count += 1

    class Counting(psycopg.Cursor):
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            seen()
            return super().execute(*args, **kwargs)

        def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> Any:
            params_seq = list(params_seq)
            for _ in params_seq:
                seen()
            return super().executemany(query, params_seq, **kwargs)

    def on_checkout(dbapi_conn: Any, *_: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_trace_callback(seen)
        else:
            dbapi_conn.cursor_factory = Counting

    def on_checkin(dbapi_conn: Any, *_: Any) -> None:
        if isinstance(dbapi_conn, sqlite3.Connection):
            dbapi_conn.set_trace_callback(None)
        else:
            dbapi_conn.cursor_factory = psycopg.Cursor

    awards(sessions, residents[:1], 1, seed=1)  # warm: first use loads and caches rule sets
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    awards(sessions, residents[:1], 1, seed=2)
    event.remove(engine, "checkout", on_checkout)
    event.remove(engine, "checkin", on_checkin)
    return count + (0 if engine.dialect.name == "sqlite" else 2)


def bare_inserts(path: Path, n: int) -> float:
    """Rows/s of a bare sqlite3 loop: one entry-shaped row per transaction, same pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        conn.execute(pragma)
    conn.execute(BARE_TABLE)
    account = uuid.uuid4().bytes
    t0 = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO bare_entry VALUES (?, ?, ?, ?, ?, ?, ?)",
            (0, uuid.uuid4().bytes, account, i, 20, f"participation:{i}", "0" * 64),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return n / elapsed


def setup(workdir: Path, residents: list[uuid.UUID]) -> tuple[Engine, sessionmaker[Session]]:
    """A fresh migrated SQLite ledger (one bucket, as on SQLite) with every wallet open."""
    url = f"sqlite:///{workdir / 'award.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        LedgerService(s).initialize(1)
    precreate_wallets(sessions, residents, 1)
    return engine, sessions


def run(opts: Run) -> dict[str, Any]:
    """Measure awards/s on SQLite and the bare insert loop in the same process."""
    n = opts.size(10_000, 2_000)
    residents = make_residents(opts.size(20_000, 5_000))
    workdir = CACHE / "tmp-award-sqlite"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    try:
        engine, sessions = setup(workdir, residents)
        awards(sessions, residents, 200, seed=1)  # warm-up: statement caches, system account
        stmts = statements_per_award(engine, sessions, residents)
        t0 = time.perf_counter()
        lat = awards(sessions, residents, n, seed=3)
        rate = n / (time.perf_counter() - t0)
        bare = bare_inserts(workdir / "bare.db", n)
        prof = (
            profile_to(NAME, lambda: awards(sessions, residents, 500, seed=4))
            if opts.profile
            else None
        )
        engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    figures = {
        "awards_per_s": round(rate, 1),
        "bare_insert_rows_per_s": round(bare, 1),
        "award_vs_bare_ratio": round(rate / bare, 4),
        "statements_per_award": stmts,
        "ms_per_award": round(1000 / rate, 3),
        "latency": latency_summary(lat),
        "profile": prof,
    }
    targets = [Target("awards_per_s", "awards/s, SQLite WAL, 1 writer", rate, ">=", 1500, "/s")]
    params = {
        "awards": n,
        "residents": len(residents),
        "buckets": 1,
        "award": "ScoringService.award (rules, monthly cap, LedgerService.credit), 1 per txn",
        "pragmas": list(PRAGMAS),
        "bare_loop": "sqlite3: BEGIN IMMEDIATE; INSERT one entry-shaped row; COMMIT",
    }
    return write_result(
        opts, NAME, "Award on SQLite (WAL), single writer", targets, figures, params
    )
