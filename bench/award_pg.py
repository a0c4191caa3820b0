"""Benchmark 1: award transactions on PostgreSQL, 4 worker processes, against pgbench TPC-B.

Runs are interleaved (award, pgbench, batched award; three rounds) and each figure is the
median of its three runs, so a noisy neighbour hits both sides alike. Workers are separate
processes (spawned), so the Python side is not limited by the GIL.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import random
import time
import traceback
import uuid
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError

from bench import pgbench
from bench.award_sqlite import statements_per_award
from bench.common import (
    Context,
    Run,
    Target,
    drop_pg_database,
    fresh_pg_database,
    latency_summary,
    median,
    write_result,
)
from bench.workload import award_request, bucket_of_resident, make_residents, precreate_wallets
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.migrate import upgrade
from civicpoints.ledger.service import LedgerService
from civicpoints.scoring.service import ScoringService

NAME = "award_pg"
# Scratch database names; CIVICPOINTS_BENCH_DB_PREFIX keeps concurrent runs on one server apart.
PREFIX = os.environ.get("CIVICPOINTS_BENCH_DB_PREFIX", "cp_bench")
AWARD_DB, PGBENCH_DB = f"{PREFIX}_award", f"{PREFIX}_pgbench"
BUCKETS, WORKERS, BATCH, ROUNDS = 64, 4, 100, 3
RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
SERVER_SETTINGS = (
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "wal_sync_method",
    "max_connections",
    "checkpoint_timeout",
    "max_wal_size",
)


def _one_txn(sessions: Any, residents: list[uuid.UUID], rng: random.Random, batch: int) -> int:
    """One transaction of `batch` awards, retried on deadlock; returns retries needed."""
    reqs = [award_request(rng.choice(residents), rng) for _ in range(batch)]
    for attempt in range(10):
        try:
            with transaction(sessions) as s:
                ScoringService(s).award_many(reqs)
            return attempt
        except DBAPIError as exc:
            if not isinstance(exc.orig, RETRYABLE):
                raise
    raise RuntimeError("10 retries in a row")


def worker(url: str, residents: list, batch: int, spec: dict, barrier: Any, out: Any) -> None:
    """A worker process: warm up, wait for the others, award for the timed window, report."""
    try:
        out.put(_timed_awards(url, residents, batch, spec, barrier))
    except BaseException:
        out.put({"error": traceback.format_exc()})
        barrier.abort()


def _timed_awards(url: str, residents: list, batch: int, spec: dict, barrier: Any) -> dict:
    """Warm up for spec["warmup"] s, then count awards for spec["seconds"] s."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    sessions = make_session_factory(engine)
    rng = random.Random(spec["seed"])
    warm_until = time.perf_counter() + spec["warmup"]
    while time.perf_counter() < warm_until:
        _one_txn(sessions, residents, rng, batch)
    with engine.connect() as conn:  # the pool's one connection: the awards' backend
        backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    barrier.wait(timeout=120)
    start = time.perf_counter()
    cpu0, server0 = time.process_time(), pgbench.proc_cpu_s(backend)
    end, count, retries, lat = start + spec["seconds"], 0, 0, []
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        retries += _one_txn(sessions, residents, rng, batch)
        lat.append(time.perf_counter() - t0)
        count += batch
    cpu, server1 = time.process_time() - cpu0, pgbench.proc_cpu_s(backend)
    engine.dispose()
    return {
        "awards": count,
        "elapsed": time.perf_counter() - start,
        "lat": lat,
        "retries": retries,
        "python_cpu_s": cpu,
        "backend_cpu_s": None if server0 is None or server1 is None else server1 - server0,
    }


def collect(procs: list[Any], out: Any, timeout: float) -> list[dict]:
    """Each worker's report; a worker's traceback (or silence) stops the benchmark."""
    parts, deadline = [], time.monotonic() + timeout
    while len(parts) < len(procs):
        try:
            part = out.get(timeout=1)
        except queue.Empty:
            if time.monotonic() > deadline or any(p.exitcode not in (None, 0) for p in procs):
                break
            continue
        if "error" in part:
            parts = [part]
            break
        parts.append(part)
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.terminate()
    if len(parts) != len(procs):
        detail = parts[0]["error"] if parts and "error" in parts[0] else "no report"
        raise RuntimeError(f"an award worker failed:\n{detail}")
    return parts


def award_window(url: str, residents: list, batch: int, seconds: int, warmup: int) -> dict:
    """One timed run of WORKERS processes; awards/s over the common window and latencies."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(WORKERS), ctx.Queue()
    procs = []
    for w in range(WORKERS):
        # Batched imports are split by bucket, as a real import job would (no lock overlap).
        mine = [r for r in residents if bucket_of_resident(r, BUCKETS) % WORKERS == w]
        spec = {"seed": random.randrange(1 << 30), "seconds": seconds, "warmup": warmup}
        args = (url, mine if batch > 1 else residents, batch, spec, barrier, out)
        procs.append(ctx.Process(target=worker, args=args, daemon=True))
    for p in procs:
        p.start()
    parts = collect(procs, out, seconds + warmup + 300)
    awards = sum(p["awards"] for p in parts)
    elapsed = max(p["elapsed"] for p in parts)
    lat = [x for p in parts for x in p["lat"]]
    python = sum(p["python_cpu_s"] for p in parts) / awards * 1e3
    backends = [p["backend_cpu_s"] for p in parts]
    backend = None if None in backends else sum(backends) / awards * 1e3
    return {
        "awards_per_s": round(awards / elapsed, 1),
        "cpu_per_award_ms": {
            "python_ms": round(python, 4),
            "postgres_backend_ms": None if backend is None else round(backend, 4),
            "total_ms": None if backend is None else round(python + backend, 4),
        },
        "awards": awards,
        "seconds": round(elapsed, 2),
        "retries": sum(p["retries"] for p in parts),
        "latency": latency_summary(lat),
    }


def setup(residents: list[uuid.UUID]) -> tuple[str, str, str, dict[str, Any]]:
    """Fresh award and pgbench databases: their URLs, the pgbench init command, SQL per award."""
    award_url = fresh_pg_database(AWARD_DB)
    upgrade(award_url)
    engine = make_engine(award_url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        LedgerService(s).initialize(BUCKETS)
    precreate_wallets(sessions, residents, BUCKETS)
    open_system_accounts(sessions, residents)
    statements = statements_per_award(engine, sessions, residents)
    budget = {f"batch_{b}": cpu_per_award(engine, sessions, residents, b) for b in (1, BATCH)}
    engine.dispose()
    pgbench_url = fresh_pg_database(PGBENCH_DB)
    return (
        award_url,
        pgbench_url,
        pgbench.init(pgbench_url),
        {
            "statements_per_award": statements,
            "cpu_per_award_alone_ms": budget,
        },
    )


def cpu_per_award(engine: Any, sessions: Any, residents: list, batch: int) -> dict[str, Any]:
    """CPU one award costs, in this process and in its PostgreSQL backend (one worker alone).

    The machine has few cores shared by the workers and the server, so their sum bounds the
    throughput any number of workers can reach: `ceiling_awards_per_s` = cores ÷ CPU per award.
    """
    rng = random.Random(5 + batch)  # fresh participations: not replays of another run's
    n = max(1500 // batch, 10)

    def go(times: int) -> None:
        for _ in range(times):
            reqs = [award_request(rng.choice(residents), rng) for _ in range(batch)]
            with transaction(sessions) as s:
                ScoringService(s).award_many(reqs)

    go(n // 5)
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    server0, client0 = pgbench.proc_cpu_s(pid), time.process_time()
    go(n)
    client = (time.process_time() - client0) / (n * batch) * 1e3
    server1 = pgbench.proc_cpu_s(pid)
    server = None if server0 is None or server1 is None else (server1 - server0) / (n * batch) * 1e3
    total = client + (server or 0.0)
    return {
        "python_ms": round(client, 3),
        "postgres_backend_ms": None if server is None else round(server, 3),
        "ceiling_awards_per_s": round((os.cpu_count() or 1) / total * 1e3),
    }


def open_system_accounts(sessions: Any, residents: list[uuid.UUID]) -> None:
    """One award per bucket, serially, so every bucket's issuance account exists, as in a
    live system (first uses are race-free since accounts are created by an upsert, but rare)."""
    first = {bucket_of_resident(r, BUCKETS): r for r in reversed(residents)}
    rng = random.Random(99)
    with transaction(sessions) as s:
        scoring = ScoringService(s)
        for resident in first.values():
            scoring.award(award_request(resident, rng))


def server_settings(url: str) -> dict[str, str]:
    """The server settings that bear on commit speed."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(SERVER_SETTINGS)]
        ).fetchall()
    return dict(rows)


def rounds(award_url: str, pg_url: str, residents: list, seconds: int, warmup: int) -> dict:
    """Interleaved rounds: award (1 per txn), pgbench, batched award (BATCH per txn)."""
    runs: dict[str, list[dict]] = {"award": [], "pgbench": [], "batched": []}
    for i in range(ROUNDS):
        print(f"  round {i + 1}/{ROUNDS}: award …", flush=True)
        runs["award"].append(award_window(award_url, residents, 1, seconds, warmup))
        print(f"  round {i + 1}/{ROUNDS}: pgbench …", flush=True)
        runs["pgbench"].append(pgbench.window(pg_url, seconds))
        print(f"  round {i + 1}/{ROUNDS}: batched award …", flush=True)
        runs["batched"].append(award_window(award_url, residents, BATCH, seconds, warmup))
    return runs


def cpu_ratio(award_runs: list[dict], pgbench_runs: list[dict]) -> float | None:
    """Median over the rounds of (CPU per award ÷ CPU per TPC-B transaction), each round's
    award run set against the pgbench run right after it."""
    ratios = []
    for a, p in zip(award_runs, pgbench_runs, strict=True):
        award, txn = a["cpu_per_award_ms"]["total_ms"], p["cpu_per_txn_ms"]["total_ms"]
        if award is None or not txn:
            return None
        ratios.append(award / txn)
    return round(median(ratios), 3)


def summarize(runs: dict[str, list[dict]]) -> tuple[dict[str, Any], list[Target], list[Context]]:
    """Medians of the three runs of each kind, the ratios, the targets and the context rows.

    The targets compare CPU per award with CPU per TPC-B transaction (bench/notes.md: an award
    writes about ten rows where TPC-B writes four); the raw ratios of throughput and latency
    to pgbench are kept as context, with no target.
    """
    award = median([r["awards_per_s"] for r in runs["award"]])
    batched = median([r["awards_per_s"] for r in runs["batched"]])
    tps = median([r["tps"] for r in runs["pgbench"]])
    award_p99 = median([r["latency"]["p99_ms"] for r in runs["award"]])
    tps_p99 = median([r["latency"]["p99_ms"] for r in runs["pgbench"]])

    def cpu(kind: str, part: str) -> float | None:
        values = [
            r["cpu_per_award_ms" if kind != "pgbench" else "cpu_per_txn_ms"] for r in runs[kind]
        ]
        got = [v[part] for v in values]
        return None if None in got else round(median(got), 4)

    figures = {
        "awards_per_s": award,
        "batched_awards_per_s": batched,
        "pgbench_tps": tps,
        "ratio": round(award / tps, 3),
        "batched_ratio": round(batched / tps, 3),
        "award_p99_ms": award_p99,
        "pgbench_p99_ms": tps_p99,
        "p99_ratio": round(award_p99 / tps_p99, 2),
        "cpu_ratio_single": cpu_ratio(runs["award"], runs["pgbench"]),
        "cpu_ratio_batched": cpu_ratio(runs["batched"], runs["pgbench"]),
        "cpu_in_runs_ms": {
            "award_python": cpu("award", "python_ms"),
            "award_backend": cpu("award", "postgres_backend_ms"),
            "batched_python": cpu("batched", "python_ms"),
            "batched_backend": cpu("batched", "postgres_backend_ms"),
            "pgbench_server": cpu("pgbench", "server_ms"),
            "pgbench_client": cpu("pgbench", "client_ms"),
        },
        "runs": runs,
    }
    targets = [
        Target(
            "cpu_ratio_single",
            "CPU per award ÷ CPU per pgbench TPC-B txn (single awards, 4 workers)",
            figures["cpu_ratio_single"],
            "<=",
            4.0,
            "×",
        ),
        Target(
            "cpu_ratio_batched",
            f"CPU per award ÷ CPU per pgbench TPC-B txn (batches of {BATCH}, 4 workers)",
            figures["cpu_ratio_batched"],
            "<=",
            1.2,
            "×",
        ),
        Target("award_p99_ms", "award p99 with 4 workers (ms)", award_p99, "<=", 10.0, " ms"),
    ]
    context = [
        Context("ratio", "awards/s ÷ pgbench tps (4 workers)", figures["ratio"], "×"),
        Context("p99_ratio", "award p99 ÷ pgbench p99", figures["p99_ratio"], "×"),
        Context(
            "batched_ratio",
            f"batched awards/s ({BATCH}/txn) ÷ pgbench tps",
            figures["batched_ratio"],
            "×",
        ),
    ]
    return figures, targets, context


def run(opts: Run) -> dict[str, Any]:
    """Set up, run the interleaved rounds, write the result."""
    pgbench.pgbench_bin()  # fail before any setup when pgbench is missing
    seconds, warmup = opts.size(20, 5), opts.size(3, 1)
    residents = make_residents(opts.size(100_000, 20_000))
    award_url, pg_url, init_cmd, measured = setup(residents)
    try:
        settings = server_settings(award_url)
        runs = rounds(award_url, pg_url, residents, seconds, warmup)
    finally:
        drop_pg_database(AWARD_DB)
        drop_pg_database(PGBENCH_DB)
    figures, targets, context = summarize(runs)
    figures.update(measured)
    params = {
        "workers": f"{WORKERS} processes (multiprocessing spawn), 1 connection each",
        "buckets": BUCKETS,
        "residents_with_wallets": len(residents),
        "award": "ScoringService.award (rules, monthly cap, LedgerService.credit), 1 per txn",
        "batched": f"{BATCH} awards per transaction; residents split among workers by bucket",
        "seconds_per_run": seconds,
        "warmup_s": warmup,
        "rounds": ROUNDS,
        "pgbench_init": init_cmd,
        "pgbench_run": runs["pgbench"][0]["command"],
        "server_settings": settings,
    }
    title = "Award on PostgreSQL vs pgbench TPC-B"
    return write_result(opts, NAME, title, targets, figures, params, context=context)
