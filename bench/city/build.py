"""The phases of a city-year build, each timed: setup (migrations, the demo city, generated
regions, the ledger's buckets, the city's rule set, catalog and population), activities,
residents and their year (worker processes, COPY), the community pools and their low-income
recipients (the same workers, each on its own buckets), the system accounts' heads, the
catalog's stock and ANALYZE, the REAL sequencer, the REAL insights rebuild."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

from bench.city import people, stamp
from bench.city.plan import build_plan, write_activities
from bench.city.sequence import sequence_all
from bench.city.workers import SystemHeads, Ticker, run_workers, settings_for
from bench.common import BenchError
from civicpoints.insights.tasks import rebuild
from civicpoints.kit.context import build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.migrate import upgrade

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432"
# Secondary indexes of the bulk-loaded tables, dropped before the load and rebuilt after it
# with `drop_indexes` (the default; --keep-indexes keeps them), which also turns the workers'
# foreign-key checks off (primary keys and unique constraints stay: the data's invariants).
SECONDARY = (
    "ix_identity_resident_community_id", "ix_identity_resident_created_at",
    "ix_activity_participation_recheck_at", "ix_activity_participation_resident_id",
    "ix_activity_participation_status", "ix_hours_entry_recorded", "ix_hours_entry_resident_id",
    "ix_scoring_award_resident_id",
    "ix_scoring_award_team_id", "ix_ledger_transfer_recorded", "ix_ledger_entry_id",
    "ix_ledger_lot_account", "ix_ledger_lot_expiry", "ix_ledger_log_queue_order",
)  # fmt: skip
# What a finished city takes on disk per resident: 16,818,306,407 bytes for the 1,000,000-resident
# city (sequenced, rollup rebuilt, before any vacuum; bench/notes.md). The build needs room for
# that and a fifth more (WAL segments, the rebuild's sorts spilling to disk).
BYTES_PER_RESIDENT = 16_818
HEADROOM = 1.2


class NoRoom(BenchError):
    """The server's disk cannot hold the city asked for."""


def room_for(admin: psycopg.Connection[Any], db: str, residents: int) -> None:
    """Refuse, before anything is written, a city the server's disk cannot hold (when the
    server's data directory is on this machine; the database being replaced counts as free)."""
    (folder,) = admin.execute("SHOW data_directory").fetchone() or ("",)
    if not folder or not Path(folder).is_dir():
        return
    (replaced,) = admin.execute(
        "SELECT coalesce(sum(pg_database_size(datname)), 0) FROM pg_database WHERE datname = %s",
        (db,),
    ).fetchone() or (0,)
    free = shutil.disk_usage(folder).free + int(replaced)
    need = round(residents * BYTES_PER_RESIDENT * HEADROOM)
    if need > free:
        raise NoRoom(
            f"a {residents:,}-resident city needs about {need / 1e9:.1f} GB on the database "
            f"server's disk ({BYTES_PER_RESIDENT:,} bytes a resident, measured, plus "
            f"{HEADROOM - 1:.0%} for WAL and sorts); {folder} has {free / 1e9:.1f} GB free"
        )


class Quiet:
    """No progress shown."""

    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, phase: str, n: int, rows: int = 0) -> None:
        pass


@dataclass(frozen=True)
class Options:
    """What to build."""

    server: str
    db: str
    residents: int
    workers: int = 2
    buckets: int = 64
    # Secondary indexes dropped and FK checks off during the load (faster: bench/notes.md).
    drop_indexes: bool = True
    sequence: bool = True
    rollup: bool = True


def build(opts: Options, ticker: Ticker | None = None) -> dict[str, Any]:
    """Build the city's year in a fresh database `opts.db`; the per-phase figures."""
    ticker = ticker or Quiet()
    url = f"{opts.server}/{opts.db}"
    phases: dict[str, dict[str, Any]] = {}
    t0 = time.perf_counter()
    with psycopg.connect(f"{opts.server}/postgres", autocommit=True) as admin:
        room_for(admin, opts.db, opts.residents)
        admin.execute(f'DROP DATABASE IF EXISTS "{opts.db}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{opts.db}"')

    started = time.perf_counter()
    upgrade(url)
    settings = settings_for(url, opts.db)
    ctx = build_context(settings)
    engine = make_engine(settings.resolved_database_url())
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        plan = build_plan(s, ctx, opts.residents, opts.buckets, opts.workers)
    phases["setup"] = {"seconds": time.perf_counter() - started}

    started = time.perf_counter()
    ticker.start("activities", len(plan.communities))
    with psycopg.connect(url) as conn:
        n = write_activities(conn, plan, lambda k: ticker.advance("activities", k))
    phases["activities"] = _rate(started, n)

    if opts.drop_indexes:
        with psycopg.connect(url, autocommit=True) as conn:
            for ix in SECONDARY:
                conn.execute(f"DROP INDEX {ix}")

    started = time.perf_counter()
    stats, heads, (first_rows, first_s) = run_workers(url, plan, opts, ticker)
    phases["residents_year"] = {"seconds": first_s, "rows_per_s": round(first_rows / first_s)}
    phases["pools"] = _rate(started + first_s, stats.rows - first_rows)
    phases["residents_year"] |= {
        "rows": dict(stats.by_table),  # every stage's
        "worker_generate_s": stats.generate_s,  # summed over the workers and stages
        "worker_copy_s": stats.copy_s,
        "worker_cpu_s": stats.cpu_s,  # both workers' processes, all stages, COPY's client side
    }

    started = time.perf_counter()
    save_system_heads(sessions, heads)
    save_stock(sessions, stats.sold)
    if opts.drop_indexes:
        recreate_indexes(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    phases["indexes_analyze"] = {"seconds": time.perf_counter() - started}

    if opts.sequence:
        started = time.perf_counter()
        entries = stats.by_table.get("ledger_entry", 0)
        ticker.start("sequencer", entries)
        done = sequence_all(
            url, opts.db, sessions, opts.buckets, opts.workers,
            lambda n: ticker.advance("sequencer", n, n),
        )  # fmt: skip
        phases["sequencer"] = _rate(started, entries) | done
    if opts.rollup:
        started = time.perf_counter()
        ticker.start("insights rebuild", 1)
        counted = rebuild(sessions)
        ticker.advance("insights rebuild", 1)
        phases["rollup"] = _rate(started, sum(counted.values())) | {"counted": counted}
    engine.dispose()
    for figures in phases.values():
        figures["seconds"] = round(figures["seconds"], 1)
    participants = stats.participants
    with psycopg.connect(f"{opts.server}/postgres", autocommit=True) as admin:  # last: finished
        built = {"residents": opts.residents, "buckets": opts.buckets, "sequenced": opts.sequence}
        stamp.write(admin, opts.db, built | {"rolled_up": opts.rollup, "phases": phases})
    return {
        "db": opts.db,
        "url": url,
        "pii_key_env": "CIVICPOINTS_PII_KEY = bench.common.PII_KEY",
        "demo_password": people.DEMO_RESIDENT_PASSWORD,
        "workers": opts.workers,
        "buckets": opts.buckets,
        "drop_indexes": opts.drop_indexes,
        "seconds": round(time.perf_counter() - t0, 1),
        # The generated year [first, end) in Beijing dates; the year before it precedes it.
        "year": [str(plan.year_start.date()), str(plan.year_end.date())],
        "phases": phases,
        "city": {
            "residents": stats.residents,
            "communities": len(plan.communities),
            "participants": participants,
            "participation_rate": round(100 * participants / max(stats.residents, 1), 2),
            "participations": stats.participations,
            "hours": round(stats.minutes / 60),
            "hours_per_participant": round(stats.minutes / 60 / max(participants, 1), 2),
            "points_issued": stats.points,
            "points_per_hour": round(stats.points / max(stats.minutes / 60, 1), 2),
            "points_cut_by_cap": stats.cut,
            "refused": stats.refused,
            "max_points_in_a_resident_month": stats.max_month,
            "points_redeemed": stats.redeemed,
            "redemption_rate": round(100 * stats.redeemed / max(stats.points, 1), 2),
            "redemptions": stats.redemptions,
            "points_held_in_unused_vouchers": stats.held,
            "points_expired": stats.expired,
            "points_donated": stats.donated,
            "donations": stats.donations,
            "donated_share": round(100 * stats.donated / max(stats.points, 1), 2),
            "low_income_residents": stats.low_income,
            "points_allocated": stats.allocated,
            "allocations": stats.allocations,
            "flagged_records": stats.flagged,  # both years
            "fraud_cases": {"rejection": stats.rejected, "clawback": stats.clawed_back},
            "points_clawed_back": stats.points_clawed,
            "points_owed_today": stats.owed,
            "population": plan.population,
            "before": {
                "participants": stats.participants_before,
                "participations": stats.participations_before,
                "hours": round(stats.minutes_before / 60),
                "points_issued": stats.points_before,
                "points_expired": stats.expired_before,
            },
        },
    }


def _rate(started: float, rows: int) -> dict[str, Any]:
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows_per_s": round(rows / max(seconds, 1e-6))}


def save_system_heads(sessions: Any, heads: SystemHeads) -> None:
    """Each bucket's system accounts the workers used (issuance, hold, redemption sinks,
    expiry): opened as `LedgerService.system` opens them, with their balance, entry count and
    chain head."""
    stmt = text(
        "INSERT INTO ledger_account (bucket, id, owner, kind, may_go_negative, balance, "
        "entry_count, head_hash, owed, created_at) VALUES (:b_bucket, :b_id, :b_owner, "
        "'system', true, :b_balance, :b_count, :b_head, 0, now()) ON CONFLICT (bucket, id) "
        "DO UPDATE SET balance = excluded.balance, entry_count = excluded.entry_count, "
        "head_hash = excluded.head_hash"
    )
    rows = [
        {
            "b_bucket": bucket, "b_id": account_id, "b_owner": f"system:{name}",
            "b_balance": h.balance, "b_count": h.count, "b_head": h.head,
        }
        for (bucket, name), (account_id, h) in sorted(heads.items())
    ]  # fmt: skip
    if rows:
        with transaction(sessions) as s:
            s.connection().execute(stmt, rows)


def save_stock(sessions: Any, sold: dict[str, int]) -> None:
    """Each catalog item's stock left after the units the workers sold (as `redeem` takes it)."""
    stmt = text("UPDATE rewards_item SET stock_remaining = stock_remaining - :n WHERE id = :i")
    if sold:
        with transaction(sessions) as s:
            s.connection().execute(stmt, [{"n": n, "i": i} for i, n in sorted(sold.items())])


def recreate_indexes(url: str) -> None:
    """Recreate the secondary indexes dropped for the load, as the migrations define them."""
    import civicpoints.models  # noqa: F401  every domain's tables
    from civicpoints.kit.db import Base

    engine = make_engine(url)
    wanted = set(SECONDARY)
    with engine.begin() as conn:
        for table in Base.metadata.tables.values():
            for ix in table.indexes:
                if ix.name in wanted:
                    ix.create(conn)
    engine.dispose()


__all__ = ["DEFAULT_SERVER", "Options", "Path", "build", "settings_for"]
