"""Issue 13's acceptance figures, measured on a generated city-year (bench/city).

One run, on one city (`city_<N>`: N from CIVICPOINTS_BENCH_CITY, default 5,000,000; 20,000 with
--quick; the database name from CIVICPOINTS_BENCH_CITY_DB), reused while its stamp
(bench/city/stamp.py) says the current generator built it, else built again with progress:

1. award cost: CPU per `ScoringService.award` (this process + its backend) on the city's ledger
   ÷ the same on an empty ledger (same regions, rule sets, 64 buckets, the same residents'
   wallets), in interleaved rounds; the median of the rounds' ratios;
2. a day's new activity (1/365 of the year's participations) approved through the real
   `RecordService.approve` (hours, then `ScoringService.award`), sequenced by the real
   sequencer, then the real `insights.tasks.rollup` job timed;
3. the rollup against a full recomputation from the raw rows (`LedgerService.flows_by_month`,
   `HoursService.minutes_by_month`), month by month, city-wide (as test_city_year checks);
4. through `civicpoints serve --workers 2` (as deployed): p95 of every request the insights
   dashboard makes (the page, its JSON API, its CSV and XLSX exports) for the city, a district,
   a street and a community; the resident home page with 50 concurrent simulated residents,
   first visits (recommendations computed on demand) apart from repeat visits;
5. `civicpoints ledger verify` of the whole ledger, as a subprocess;
6. the full `insights rebuild`, for context.

Writes to the city stay small (a day's activity, a few hundred awards, the visitors' lists of
recommendations) and leave it valid for the next run. See bench/notes.md, "City-scale
acceptance (issue 13)".
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.progress import Progress
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bench import pgbench
from bench.city import people, stamp
from bench.city.build import DEFAULT_SERVER, Options, build, settings_for
from bench.city.plan import build_plan
from bench.common import (
    CACHE,
    BenchError,
    Context,
    Run,
    Stopwatch,
    Target,
    latency_summary,
    median,
    pg_admin_url,
    write_result,
)
from bench.proof_api import _die_with_parent, free_port, stop_server, wait_ready
from bench.workload import precreate_wallets
from civicpoints.activities.models import Activity, Participation, RecordStatus, Source
from civicpoints.activities.records import RecordService
from civicpoints.cli.city import DEMO_STAFF_PASSWORD
from civicpoints.hours import HoursService
from civicpoints.insights import InsightsService
from civicpoints.insights.rollup import OVERLAP
from civicpoints.insights.tasks import rebuild, recommend, rollup
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.migrate import upgrade
from civicpoints.kit.months import recent_months
from civicpoints.ledger import LedgerService, chain, log_signer, wallet_of
from civicpoints.ledger.tasks import sequence_once
from civicpoints.regions import RegionService
from civicpoints.scoring import rules
from civicpoints.scoring.service import AwardRequest, ScoringService

NAME = "cityscale"
TITLE = "City-year acceptance (issue 13)"
BUCKETS = 64
PREFIX = os.environ.get("CIVICPOINTS_BENCH_DB_PREFIX", "cp_bench")
DASHBOARD_P95_MS, HOME_P95_MS, ROLLUP_S, VERIFY_S, AWARD_RATIO = 200.0, 150.0, 300.0, 600.0, 1.2
CLIENTS = 50  # concurrent simulated residents on the home page
PAGE_TIMEOUT_S = 60.0
PER_ACTIVITY = 10  # the day's new participants per activity
FACTS = rules.Facts(rules.Category.VOLUNTEER_SERVICE, 120, photo=True, gps_verified=True)
DASHBOARD = ("page", "api", "csv", "xlsx")
CITY_CODE = "3301"  # the demo city's region code (cli/city)


@dataclass(frozen=True)
class Sizes:
    """How much of each measurement one run takes (smaller under --quick)."""

    residents: int
    db: str
    dashboard_requests: int  # timed requests per (endpoint, scope), after 3 warm-ups each
    residents_per_client: int  # home page: residents each simulated client plays in turn
    visits: int  # home page: visits per resident (the first one, then repeats)
    think_s: tuple[float, float]  # home page: pause between one visitor's pages, uniform
    home_deadline_s: float  # home page: no visit starts after this (a stuck server ends it)
    award_rounds: int
    awards_per_round: int


def sizes(opts: Run) -> Sizes:
    """The run's sizes: the city from CIVICPOINTS_BENCH_CITY(_DB), the rest from --quick."""
    residents = int(os.environ.get("CIVICPOINTS_BENCH_CITY") or opts.size(5_000_000, 20_000))
    return Sizes(
        residents=residents,
        db=os.environ.get("CIVICPOINTS_BENCH_CITY_DB") or f"city_{residents}",
        dashboard_requests=opts.size(60, 20),
        residents_per_client=opts.size(4, 2),
        visits=opts.size(10, 5),
        think_s=(0.5, 1.5),
        home_deadline_s=opts.size(300, 120),
        award_rounds=opts.size(5, 3),
        awards_per_round=opts.size(300, 100),
    )


# --- pure helpers (tests/unit/test_bench_cityscale.py) ---------------------------------------


def stamp_problem(found: dict[str, Any] | None, residents: int, fingerprint: str) -> str | None:
    """Why a database's stamp does not let a run reuse it as a finished city of `residents`
    (None: it does)."""
    if found is None:
        return "no stamp (not built by bench.city, or its build did not finish)"
    if found.get("generator") != fingerprint:
        return f"built by generator {found.get('generator')}, the current one is {fingerprint}"
    if found.get("residents") != residents or found.get("buckets") != BUCKETS:
        return f"{found.get('residents')} residents in {found.get('buckets')} buckets"
    if not (found.get("sequenced") and found.get("rolled_up")):
        return "built without the sequencer or the rollup"
    return None


def day_plan(participations_in_year: int, per_activity: int = PER_ACTIVITY) -> tuple[int, int]:
    """A day's worth of new participations (1/365 of the year's, at least one) as (activities,
    participants per activity)."""
    day = max(1, round(participations_in_year / 365))
    per = min(per_activity, day)
    return math.ceil(day / per), per


def round_ratios(city_ms: Sequence[float], empty_ms: Sequence[float]) -> list[float]:
    """Each round's CPU per award on the city ÷ on the empty ledger."""
    return [round(c / e, 4) for c, e in zip(city_ms, empty_ms, strict=True)]


def worst(p95: dict[str, float]) -> tuple[str, float]:
    """The slowest series (name, p95)."""
    name = max(p95, key=lambda k: p95[k])
    return name, p95[name]


def rollup_differences(
    rolled: dict[str, tuple[int, int, int, float]], raw: dict[str, tuple[int, int, int, float]]
) -> list[str]:
    """Months where the rollup's (issued, redeemed, expired, hours) differ from the raw rows'
    (every month of either side; a month missing on one side differs)."""
    out = []
    for month in sorted(rolled.keys() | raw.keys()):
        a, b = rolled.get(month), raw.get(month)
        if a != b:
            out.append(f"{month}: rollup {a} ≠ raw rows {b}")
    return out


# --- the city -----------------------------------------------------------------------------


def server_root() -> str:
    """The benchmark's PostgreSQL server without a database name."""
    return (
        pg_admin_url().rsplit("/", 1)[0]
        if os.environ.get("CIVICPOINTS_TEST_PG_URL")
        else (DEFAULT_SERVER)
    )


def ensure_city(size: Sizes) -> dict[str, Any]:
    """The city's stamp: the cached database when its stamp matches, else a fresh build (with
    a progress bar per phase; the build's own figures are kept as `built`)."""
    root = server_root()
    with psycopg.connect(f"{root}/postgres", autocommit=True, connect_timeout=5) as conn:
        found = stamp.read(conn, size.db)
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (size.db,))
        there = exists.fetchone() is not None
    problem = stamp_problem(found, size.residents, stamp.fingerprint())
    if problem is None and found is not None:
        print(f"  reusing {size.db} (stamp {found['generator']})", flush=True)
        return found | {"reused": True}
    print(f"  building {size.db}: {problem if there else 'no such database'}", flush=True)
    from bench.city.__main__ import RichTicker, columns  # its rich progress, as it shows it

    with Progress(*columns()) as bar:
        report = build(
            Options(server=root, db=size.db, residents=size.residents, buckets=BUCKETS),
            RichTicker(bar),
        )
    with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
        done = stamp.read(conn, size.db)
    assert done is not None, "the generator finished without stamping the city"
    return done | {"reused": False, "built": report}


def adopt(db: str, residents: int) -> dict[str, Any]:
    """Stamp an existing, finished city built before stamps existed: refuses unless it holds
    `residents` residents, its log queue is empty and every rollup source has a watermark."""
    root = server_root()
    with psycopg.connect(f"{root}/{db}") as conn:
        count = conn.execute("SELECT count(*) FROM identity_resident").fetchone()
        queued = conn.execute("SELECT count(*) FROM ledger_log_queue").fetchone()
        marks = conn.execute("SELECT count(*) FROM insights_watermark").fetchone()
    if not count or count[0] != residents:
        raise BenchError(f"{db} holds {count and count[0]} residents, not {residents}")
    if not queued or queued[0]:
        raise BenchError(f"{db} has {queued and queued[0]} entries waiting for the sequencer")
    if not marks or marks[0] < 3:
        raise BenchError(f"{db} was never rolled up (insights rebuild)")
    facts = {"residents": residents, "buckets": BUCKETS, "sequenced": True, "rolled_up": True}
    with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
        return stamp.write(conn, db, facts | {"adopted": True})


@contextmanager
def city_sessions(url: str, db: str, pool: int = 5) -> Iterator[sessionmaker[Session]]:
    """Sessions on the city, the app's settings for it."""
    engine = make_engine(settings_for(url, db).resolved_database_url(), pool_size=pool)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def scalar(sessions: sessionmaker[Session], sql: str, **params: Any) -> Any:
    """One value from SQL on the city."""
    with transaction(sessions) as s:
        return s.execute(text(sql), params).scalar()


# --- 1. award cost ------------------------------------------------------------------------


@dataclass
class Awarder:
    """One side of the award comparison: a one-connection engine and its residents' requests."""

    name: str
    engine: Any
    sessions: sessionmaker[Session]
    regions: dict[uuid.UUID, list[uuid.UUID]]  # resident → region ids, most specific first
    backend: int = 0

    def award(self, resident: uuid.UUID, rng: random.Random) -> None:
        """One `ScoringService.award` (a 2-hour volunteer service an hour ago), its own txn."""
        request = AwardRequest(
            participation_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            resident_id=resident,
            wallet=wallet_of(resident),
            region_ids=self.regions[resident],
            facts=FACTS,
            occurred_at=utcnow() - timedelta(hours=1),
            actor="staff:bench",
        )
        with transaction(self.sessions) as s:
            ScoringService(s).award(request)

    def cpu_per_award_ms(self, residents: list[uuid.UUID], n: int, rng: random.Random) -> float:
        """CPU (this process + the backend) per award over `n` awards."""
        client0, server0 = time.process_time(), pgbench.proc_cpu_s(self.backend)
        for _ in range(n):
            self.award(rng.choice(residents), rng)
        client, server1 = time.process_time() - client0, pgbench.proc_cpu_s(self.backend)
        if server0 is None or server1 is None:
            raise BenchError("cannot read the PostgreSQL backend's CPU (/proc): not local?")
        return (client + server1 - server0) / n * 1e3


def sample_residents(sessions: sessionmaker[Session], n: int, total: int) -> list[Any]:
    """About `n` residents drawn at random (a block sample, so no full scan): id, community
    code."""
    pct = min(100.0, max(0.001, 300.0 * n / max(total, 1)))
    with transaction(sessions) as s:
        return list(
            s.execute(
                text(
                    f"SELECT r.id, g.code FROM identity_resident r TABLESAMPLE SYSTEM ({pct:.4f}) "
                    "JOIN region g ON g.id = r.community_id ORDER BY random() LIMIT :n"
                ),
                {"n": n},
            ).all()
        )


def ancestry_by_code(sessions: sessionmaker[Session], codes: set[str]) -> dict[str, list]:
    """Each community code's region ids, most specific first (as RecordService.ancestry)."""
    with transaction(sessions) as s:
        regions = RegionService(s)
        return {c: [r.id for r in regions.ancestry(regions.by_code(c))] for c in codes}


def empty_ledger(residents: int) -> tuple[str, str]:
    """A scratch database set up as the generator's setup phase sets a city up (migrations,
    the demo city, the generated regions, 64 buckets), with no resident and no entry."""
    name = f"{PREFIX}_cityscale_empty"
    root = server_root()
    with psycopg.connect(f"{root}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{root}/{name}"
    upgrade(url)
    settings = settings_for(url, name)
    engine = make_engine(settings.resolved_database_url())
    with transaction(make_session_factory(engine)) as s:
        build_plan(s, build_context(settings), residents, BUCKETS)
    engine.dispose()
    return name, url


def award_cost(url: str, size: Sizes) -> dict[str, Any]:
    """CPU per award on the city ÷ on an empty ledger, interleaved rounds (order alternating)."""
    with city_sessions(url, size.db) as sessions:
        picked = sample_residents(sessions, 400, size.residents)
        ancestry = ancestry_by_code(sessions, {code for _, code in picked})
        residents = [rid for rid, _ in picked]
        with transaction(sessions) as s:
            opened = {
                row[0]
                for row in s.execute(
                    text("SELECT id FROM ledger_account WHERE id = ANY(:ids)"),
                    {"ids": [chain.account_id_for(wallet_of(r)) for r in residents]},
                )
            }
    with_wallet = [r for r in residents if chain.account_id_for(wallet_of(r)) in opened]
    print(f"  {len(residents)} residents ({len(with_wallet)} with a wallet); empty ledger …")
    name, empty_url = empty_ledger(size.residents)
    sides: list[Awarder] = []
    try:
        empty_engine = make_engine(empty_url, pool_size=1, max_overflow=0)
        empty_sessions = make_session_factory(empty_engine)
        precreate_wallets(empty_sessions, with_wallet, BUCKETS)  # as the city has them
        empty_ancestry = ancestry_by_code(empty_sessions, {code for _, code in picked})
        city_url = settings_for(url, size.db).resolved_database_url()
        city_engine = make_engine(city_url, pool_size=1, max_overflow=0)  # the measured backend
        sides = [
            Awarder("city", city_engine, make_session_factory(city_engine),
                    {rid: ancestry[code] for rid, code in picked}),
            Awarder("empty", empty_engine, empty_sessions,
                    {rid: empty_ancestry[code] for rid, code in picked}),
        ]  # fmt: skip
        rng = random.Random(time.time_ns())
        for side in sides:
            with side.engine.connect() as conn:
                side.backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            for _ in range(50):  # warm-up: caches, prepared statements, every issuance account
                side.award(rng.choice(residents), rng)
        cpu: dict[str, list[float]] = {"city": [], "empty": []}
        for i in range(size.award_rounds):
            order = sides if i % 2 == 0 else sides[::-1]
            for side in order:
                ms = side.cpu_per_award_ms(residents, size.awards_per_round, rng)
                cpu[side.name].append(round(ms, 4))
            print(
                f"  round {i + 1}/{size.award_rounds}: city {cpu['city'][-1]:.2f} ms, "
                f"empty {cpu['empty'][-1]:.2f} ms CPU per award",
                flush=True,
            )
    finally:
        for side in sides:
            side.engine.dispose()
        with psycopg.connect(f"{server_root()}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(CACHE / f"{name}-var", ignore_errors=True)
    ratios = round_ratios(cpu["city"], cpu["empty"])
    return {
        "ratio": round(median(ratios), 3),
        "round_ratios": ratios,
        "city_cpu_ms": cpu["city"],
        "empty_cpu_ms": cpu["empty"],
        "residents": len(residents),
        "residents_with_wallet": len(with_wallet),
    }


# --- 2. a day's activity, the sequencer, the nightly rollup ---------------------------------


def day_of_activity(sessions: sessionmaker[Session], url: str, db: str) -> dict[str, Any]:
    """A day's new participations (1/365 of the year's) at the last month's activities, each
    approved through the real RecordService.approve (hours, then the award), 100 per txn."""
    year = scalar(sessions, "SELECT count(*) FROM activity_participation")
    n_activities, per = day_plan(year)
    with transaction(sessions) as s:
        pairs = s.execute(
            text(
                "WITH last AS (SELECT max(starts_at) AS t FROM activity WHERE starts_at < now()), "
                "acts AS (SELECT a.id, a.region_id FROM activity a, last "
                "WHERE a.starts_at < now() AND a.starts_at > last.t - interval '31 days' "
                "ORDER BY random() LIMIT :k) "
                "SELECT acts.id, r.id FROM acts CROSS JOIN LATERAL (SELECT r.id FROM "
                "identity_resident r WHERE r.community_id = acts.region_id AND NOT EXISTS "
                "(SELECT 1 FROM activity_participation p WHERE p.activity_id = acts.id AND "
                "p.resident_id = r.id) ORDER BY random() LIMIT :per) r"
            ),
            {"k": n_activities, "per": per},
        ).all()
        reviewer = s.execute(text("SELECT id FROM identity_staff WHERE username = 'reviewer'"))
        reviewer_id = reviewer.scalar_one()
    ctx = build_context(settings_for(url, db))
    rng = random.Random(time.time_ns())
    with Stopwatch() as clock, Progress() as bar:
        task = bar.add_task("a day's participations", total=len(pairs))
        for i in range(0, len(pairs), 100):
            with transaction(sessions) as s:
                records = RecordService(s, ctx)
                for activity_id, resident_id in pairs[i : i + 100]:
                    activity = s.get_one(Activity, activity_id)
                    start = activity.starts_at + timedelta(minutes=rng.randint(0, 15))
                    end = start + timedelta(minutes=rng.randint(45, 210))
                    record = Participation(
                        activity_id=activity_id, resident_id=resident_id, source=Source.APP,
                        status=RecordStatus.PENDING_REVIEW, checkin_at=start,
                        checkin_inside=True, checkout_at=end,
                        started_at=start, ended_at=end, reviewed_by=reviewer_id,
                        reviewed_at=utcnow(), review_reason="审核通过",
                    )  # fmt: skip
                    s.add(record)
                    s.flush()
                    records.approve(record, activity, f"staff:{reviewer_id}")
            bar.advance(task, len(pairs[i : i + 100]))
    return {
        "participations_in_year": year,
        "participations": len(pairs),
        "activities": n_activities,
        "seconds": round(clock.seconds, 1),
    }


def sequence_all(sessions: sessionmaker[Session], url: str, db: str) -> dict[str, Any]:
    """The real sequencer until the queue is empty (the entries written by this run)."""
    settings = settings_for(url, db)
    signer, appended, passes = log_signer(settings), 0, 0
    with Stopwatch() as clock:
        while True:
            report = sequence_once(sessions, signer, settings.ledger_origin)
            grown = sum(report.appended.values())
            if not grown:
                break
            appended, passes = appended + grown, passes + 1
    return {"entries": appended, "passes": passes, "seconds": round(clock.seconds, 2)}


def rollup_check(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The rollup's city-wide months against the raw rows' (as test_city_year checks): points
    issued, redeemed and expired from the ledger's own flows, hours from the register."""
    months = recent_months(local_date(utcnow()), 13)
    with Stopwatch() as clock, transaction(sessions) as s:
        flows = LedgerService(s).flows_by_month(months)
        minutes = HoursService(s).minutes_by_month(months)
        city = RegionService(s).by_code(CITY_CODE)
        read = InsightsService(s).figures(city, months[0], months[-1], utcnow())
    rolled = {
        m.month: (m.points.issued, m.points.redeemed, m.points.expired, m.hours)
        for m in read.months
    }
    raw = {
        f.month: (f.issued, f.redeemed, f.expired, round(minutes.get(f.month, 0) / 60, 1))
        for f in flows
    }
    for month in rolled.keys() - raw.keys():  # a month with no flow at all
        raw[month] = (0, 0, 0, round(minutes.get(month, 0) / 60, 1))
    differences = rollup_differences(rolled, raw)
    return {
        "months": len(rolled),
        "differences": len(differences),
        "first_differences": differences[:5],
        "live_rows": read.live_rows,
        "issued_in_window": sum(v[0] for v in raw.values()),
        "seconds": round(clock.seconds, 1),
    }


# --- 4. the server: dashboard and home page ------------------------------------------------


def start_server(url: str, db: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`civicpoints serve --workers 2` (as deploy/ runs it) on the city; no sequencer, no jobs."""
    settings = settings_for(url, db)
    env = os.environ | {
        "CIVICPOINTS_DATABASE_URL": settings.resolved_database_url(),
        "CIVICPOINTS_VAR_DIR": str(settings.var_dir),
        "CIVICPOINTS_PII_KEY": settings.pii_key,
        "CIVICPOINTS_SEQUENCER_INTERVAL_S": "0",
        "CIVICPOINTS_SCHEDULER_ENABLED": "false",
    }
    cli = Path(sys.executable).with_name("civicpoints")
    args = [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            env=env,
            cwd=settings.var_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def token(base: str, username: str, password: str) -> str:
    """A session token through the API's sign-in (also the pages' cookie)."""
    r = httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": password}, timeout=60
    )
    if r.status_code != 200:
        raise RuntimeError(f"sign-in of {username} → {r.status_code}: {r.text[:200]}")
    return str(r.json()["access_token"])


def scopes(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The city, and the district, street and community of the largest community (by
    residents, counted in SQL)."""
    with transaction(sessions) as s:
        community = s.execute(
            text(
                "SELECT community_id FROM identity_resident GROUP BY community_id "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        regions = RegionService(s)
        chain_up = regions.ancestry(regions.get(community))  # most specific first
    by_level = {str(r.level): r for r in chain_up}
    return {
        level: {"id": str(by_level[level].id), "name": by_level[level].name}
        for level in ("city", "district", "street", "community")
    }


def dashboard(base: str, where: dict[str, Any], size: Sizes) -> dict[str, Any]:
    """p95 of each dashboard request per scope: round-robin over every (request, scope), one
    request at a time, as the demo administrator, after 3 warm-ups each."""
    cookie = token(base, "admin", DEMO_STAFF_PASSWORD)
    paths = {
        "page": "/admin/insights?region={}",
        "api": "/api/v1/insights/figures?region={}",
        "csv": "/admin/insights.csv?region={}",
        "xlsx": "/admin/insights.xlsx?region={}",
    }
    series = [(kind, level) for level in where for kind in DASHBOARD]
    lat: dict[str, list[float]] = defaultdict(list)
    live = 0  # the most source rows any answer added live (not rolled up yet)
    headers = {"Authorization": f"Bearer {cookie}"}
    with httpx.Client(base_url=base, cookies={"cp_session": cookie}, timeout=120) as client:
        for rnd in range(3 + size.dashboard_requests):
            for kind, level in series:
                path = paths[kind].format(where[level]["id"])
                t0 = time.perf_counter()
                r = client.get(path, headers=headers if kind == "api" else None)
                took = time.perf_counter() - t0
                if r.status_code != 200:
                    raise RuntimeError(f"GET {path} → {r.status_code}: {r.text[:300]}")
                if rnd >= 3:
                    lat[f"{kind}/{level}"].append(took)
                if kind == "api":
                    live = max(live, int(r.json()["live_rows"]))
            if rnd % 10 == 9:
                print(f"  dashboard round {rnd + 1}/{3 + size.dashboard_requests}", flush=True)
    summary = {name: latency_summary(v) for name, v in lat.items()}
    name, p95 = worst({k: v["p95_ms"] for k, v in summary.items()})
    return {"worst": name, "worst_p95_ms": p95, "live_rows_max": live, "series": summary}


async def _sign_in_all(base: str, ordinals: list[int]) -> list[tuple[str, uuid.UUID]]:
    """Tokens of generated residents (phone + the demo password), 8 sign-ins at a time."""
    gate = asyncio.Semaphore(8)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def one(i: int) -> tuple[str, uuid.UUID]:
            async with gate:
                body = {"username": people.phone_of(i), "password": people.DEMO_RESIDENT_PASSWORD}
                r = await client.post("/api/v1/auth/token", json=body)
                if r.status_code != 200:
                    raise RuntimeError(f"resident {i} sign-in → {r.status_code}: {r.text[:200]}")
                return r.json()["access_token"], uuid.UUID(r.json()["subject_id"])

        return list(await asyncio.gather(*(one(i) for i in ordinals)))


async def _visitors(
    base: str, queues: list[list[str]], size: Sizes, seed: int, known: bool = False
) -> tuple[list[float], list[float], list[str], float]:
    """Simulated residents at once, one per queue: each plays its residents in turn, each
    resident's home page `visits` times with a think time between pages; the first visit is
    a first one unless the residents are `known` (their list stored)."""
    first: list[float] = []
    repeat: list[float] = []
    failed: list[str] = []
    skipped: list[int] = []
    limits = httpx.Limits(max_connections=len(queues) + 5)
    async with httpx.AsyncClient(base_url=base, timeout=PAGE_TIMEOUT_S, limits=limits) as client:

        async def visitor(k: int, tokens: list[str]) -> None:
            rng = random.Random(seed + k)
            await asyncio.sleep(rng.uniform(*size.think_s))  # staggered arrivals
            for raw in tokens:
                for visit in range(size.visits):
                    if time.perf_counter() > deadline:  # no new visit: the phase is bounded
                        skipped.append(1)
                        continue
                    t0 = time.perf_counter()
                    try:  # a page that times out counts, at the time waited, and as failed
                        r = await client.get("/", cookies={"cp_session": raw})
                        if r.status_code != 200:
                            failed.append(f"GET / → {r.status_code}")
                    except httpx.TimeoutException:
                        failed.append(f"GET / timed out after {PAGE_TIMEOUT_S:.0f} s")
                    (repeat if visit or known else first).append(time.perf_counter() - t0)
                    await asyncio.sleep(rng.uniform(*size.think_s))

        started = time.perf_counter()
        deadline = started + size.home_deadline_s
        await asyncio.gather(*(visitor(k, q) for k, q in enumerate(queues)))
    return (
        first,
        repeat,
        failed + ["not made: past the deadline"] * len(skipped),
        (time.perf_counter() - started),
    )


def home_page(base: str, sessions: sessionmaker[Session], size: Sizes) -> dict[str, Any]:
    """The resident home page under CLIENTS concurrent simulated residents, in two phases:
    steady (each resident's list already stored: their first visit made beforehand, one at a
    time, untimed) and arrivals (first visits: no stored list, RecsService.suggestions
    computes one; then their next visits)."""
    arrivals = CLIENTS * size.residents_per_client
    wanted = CLIENTS + arrivals
    rng = random.Random(time.time_ns())
    ordinals = rng.sample(range(size.residents), min(size.residents, wanted + wanted // 4))
    with Stopwatch() as signing:
        signed = asyncio.run(_sign_in_all(base, ordinals))
    with transaction(sessions) as s:
        listed = {
            row[0]
            for row in s.execute(
                text("SELECT resident_id FROM insights_rec_setting WHERE resident_id = ANY(:ids)"),
                {"ids": [rid for _, rid in signed]},
            )
        }
    fresh = [(raw, rid) for raw, rid in signed if rid not in listed][:wanted]
    steady, new = fresh[:CLIENTS], fresh[CLIENTS:]
    print(f"  up to {len(steady)} residents' first visits, one at a time (untimed) …", flush=True)
    ready: list[tuple[str, uuid.UUID]] = []
    with httpx.Client(base_url=base, timeout=PAGE_TIMEOUT_S * 2) as client, Stopwatch() as prep:
        for raw, rid in steady:  # bounded: a slow first visit leaves fewer steady residents
            if prep.start + size.home_deadline_s < time.perf_counter():
                break
            client.get("/", cookies={"cp_session": raw}).raise_for_status()
            ready.append((raw, rid))
    steady = ready
    seed = rng.randrange(1 << 30)
    print(f"  steady: {len(steady)} residents with stored lists …", flush=True)
    _, calm, calm_failed, calm_s = asyncio.run(
        _visitors(base, [[raw] for raw, _ in steady], size, seed, known=True)
    )
    print(f"  arrivals: {len(new)} first visits, {CLIENTS} at a time …", flush=True)
    queues = [[raw for raw, _ in new[k::CLIENTS]] for k in range(CLIENTS)]
    first, after, failed, seconds = asyncio.run(_visitors(base, queues, size, seed + 1))
    computed = scalar(
        sessions,
        "SELECT count(*) FROM insights_rec_setting WHERE resident_id = ANY(:ids) "
        "AND computed_at IS NOT NULL",
        ids=[rid for _, rid in new],
    )
    return {
        "repeat_visit": latency_summary(calm),
        "first_visit": latency_summary(first),
        "after_first_visit": latency_summary(after),
        "failed": len(calm_failed) + len(failed),
        "first_failures": (calm_failed + failed)[:5],
        "steady_requests_per_s": round(len(calm) / calm_s, 1),
        "steady_seconds": round(calm_s, 1),
        "arrivals_seconds": round(seconds, 1),
        "residents": {"steady": len(steady), "arrivals": len(new)},
        "first_visits_that_computed_a_list": computed,
        "sequential_first_visit_s": round(prep.seconds / max(len(steady), 1), 2),
        "sign_in_seconds": round(signing.seconds, 1),
    }


def served(url: str, size: Sizes, sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The dashboard and the home page, through one server started for them."""
    port = int(os.environ.get("CIVICPOINTS_BENCH_PORT") or free_port())
    log = CACHE / f"{size.db}-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    where = scopes(sessions)
    proc = start_server(url, size.db, port, log)
    try:
        wait_ready(base, proc, timeout=180)
        print("  dashboard …", flush=True)
        dash = dashboard(base, where, size)
        print(f"  home page, {CLIENTS} concurrent residents …", flush=True)
        home = home_page(base, sessions, size)
    finally:
        stop_server(proc)
    return {"scopes": where, "dashboard": dash, "home": home, "server_log": str(log)}


# --- 5. ledger verify -----------------------------------------------------------------------


def ledger_verify(url: str, db: str) -> dict[str, Any]:
    """`civicpoints ledger verify` as an operator runs it (its progress shown); wall time."""
    settings = settings_for(url, db)
    env = os.environ | {
        "CIVICPOINTS_DATABASE_URL": settings.resolved_database_url(),
        "CIVICPOINTS_VAR_DIR": str(settings.var_dir),
        "CIVICPOINTS_PII_KEY": settings.pii_key,
    }
    cli = Path(sys.executable).with_name("civicpoints")
    with Stopwatch() as clock:
        done = subprocess.run(
            [str(cli), "ledger", "verify"], env=env, cwd=settings.var_dir, check=False
        )
    return {"seconds": round(clock.seconds, 1), "exit_code": done.returncode}


# --- the run --------------------------------------------------------------------------------


def settle(finished: float, now: float) -> float:
    """Seconds to wait until rows recorded by a build that finished at `finished` are outside
    the rollup's overlap window (the generator records the whole year at build time; inside
    the window every rollup run and every dashboard request reads them again)."""
    return max(0.0, finished + OVERLAP.total_seconds() + 30 - now)


def quiet_city(sessions: sessionmaker[Session], city: dict[str, Any], url: str) -> dict[str, Any]:
    """The city as a running one is between two rollup runs: the build's rows out of the
    overlap window, then one rollup run (untimed: the previous run), so the window holds only
    what comes next; vacuumed, as autovacuum keeps a running city's tables (a bulk-loaded
    table's first reads set every row's hint bits and write its pages back, and has no
    visibility map for index-only scans); and after last night's recommendations job."""
    wait = settle(float(city.get("finished", 0)), time.time())
    if wait:
        print(f"  waiting {wait:.0f} s: the build's rows leave the rollup's window", flush=True)
        time.sleep(wait)
    with Stopwatch() as clock:
        _, summary = rollup(sessions)
    with Stopwatch() as vacuum, psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
    # Last night's `insights.recommend`: a running city's first looks rank with a stored model
    # (without one each first look fits a model of its own, 0.7 s on the 20k city).
    with Stopwatch() as night:
        _, ranked = recommend(sessions)
    return {
        "waited_s": round(wait),
        "seconds": round(clock.seconds, 1),
        "rows": summary["rows"],
        "recommend": {"seconds": round(night.seconds, 1), "residents": ranked["residents"]},
        "vacuum_s": round(vacuum.seconds, 1),
    }


def measure(size: Sizes, city: dict[str, Any]) -> dict[str, Any]:
    """Every figure on the city, in order (see the module's docstring)."""
    url = f"{server_root()}/{size.db}"
    figures: dict[str, Any] = {}
    with city_sessions(url, size.db) as sessions:
        print("  0/6 previous rollup run …", flush=True)
        figures["previous_rollup"] = quiet_city(sessions, city, url)
        print("  1/6 through the server: dashboard and home page …", flush=True)
        figures |= served(url, size, sessions)
        print("  2/6 award cost: city-year vs empty ledger …", flush=True)
        figures["award"] = award_cost(url, size)
        print("  3/6 a day's activity, the sequencer, the rollup job …", flush=True)
        figures["day"] = day_of_activity(sessions, url, size.db)
        figures["sequencer"] = sequence_all(sessions, url, size.db)
        with Stopwatch() as clock:
            _, summary = rollup(sessions)
        figures["rollup"] = {"seconds": round(clock.seconds, 2), "rows": summary["rows"]}
        print(f"      rollup job {clock.seconds:.1f} s: {summary['rows']}", flush=True)
        print("  4/6 rollup against the raw rows …", flush=True)
        figures["rollup_check"] = rollup_check(sessions)
        print("  5/6 ledger verify …", flush=True)
        figures["verify"] = ledger_verify(url, size.db)
        figures["verify"]["entries"] = scalar(sessions, "SELECT count(*) FROM ledger_entry")
        built = city.get("built")
        if built and "rollup" in built["phases"]:  # built in this run: its rebuild was timed
            figures["rebuild"] = {"seconds": built["phases"]["rollup"]["seconds"], "at": "build"}
        else:
            print("  6/6 insights rebuild (context) …", flush=True)
            with Stopwatch() as clock:
                counted = rebuild(sessions)
            figures["rebuild"] = {"seconds": round(clock.seconds, 1), "rows": counted}
        figures["city"] = {
            "residents": scalar(sessions, "SELECT count(*) FROM identity_resident"),
            "participations": scalar(sessions, "SELECT count(*) FROM activity_participation"),
            "ledger_entries": figures["verify"]["entries"],
            "database_bytes": scalar(sessions, "SELECT pg_database_size(current_database())"),
        }
    return figures


def verdicts(f: dict[str, Any]) -> tuple[list[Target], list[Context]]:
    """The acceptance targets and the context rows."""
    home = f["home"]
    ok = f["verify"]["exit_code"] == 0
    targets = [
        Target("dashboard_p95_ms", f"dashboard: slowest request's p95 ({f['dashboard']['worst']})",
               f["dashboard"]["worst_p95_ms"], "<=", DASHBOARD_P95_MS, " ms"),
        Target("home_p95_ms", f"home page p95, {CLIENTS} concurrent residents, lists stored",
               home["repeat_visit"]["p95_ms"], "<=", HOME_P95_MS, " ms"),
        Target("home_first_p95_ms", f"home page p95, first visits, {CLIENTS} arriving at once",
               home["first_visit"]["p95_ms"], "<=", HOME_P95_MS, " ms"),
        Target("home_failed", "home page requests that failed or timed out",
               home["failed"], "<=", 0),
        Target("rollup_s", "nightly rollup job after a day's activity (s)",
               f["rollup"]["seconds"], "<=", ROLLUP_S, " s"),
        Target("verify_s", "ledger verify of the whole ledger (s)",
               f["verify"]["seconds"] if ok else None, "<=", VERIFY_S, " s"),
        Target("award_ratio", "CPU per award: city-year ÷ empty ledger",
               f["award"]["ratio"], "<=", AWARD_RATIO, "×"),
        Target("rollup_differences", "rollup months ≠ recomputation from raw rows",
               f["rollup_check"]["differences"], "<=", 0),
        Target("verify_faults", "ledger verify exit code (0: no fault)",
               f["verify"]["exit_code"], "<=", 0),
    ]  # fmt: skip
    context = [
        Context("rebuild_s", f"full insights rebuild (s, at {f['rebuild'].get('at', 'run')})",
                f["rebuild"]["seconds"], " s"),
        Context("home_after_first_p95_ms", "home page p95, visits after a first one (arrivals)",
                home["after_first_visit"]["p95_ms"], " ms"),
        Context("first_visit_alone_s", "a first visit alone (s, one at a time)",
                home["sequential_first_visit_s"], " s"),
        Context("residents", "city residents", f["city"]["residents"]),
        Context("ledger_entries", "ledger entries", f["city"]["ledger_entries"]),
    ]  # fmt: skip
    return targets, context


def run(opts: Run) -> dict[str, Any]:
    """Ensure the city, measure every acceptance figure on it, write the result."""
    size = sizes(opts)
    print(f"  city: {size.residents:,} residents in {size.db}", flush=True)
    city = ensure_city(size)
    figures = measure(size, city)
    figures["city_stamp"] = {k: v for k, v in city.items() if k not in ("built", "phases")}
    targets, context = verdicts(figures)
    params = {
        "city": f"{size.residents:,} residents, database {size.db}, {BUCKETS} buckets "
        "(python -m bench.city; reused while its stamp matches the generator)",
        "server": "civicpoints serve --workers 2 (as deploy/), no sequencer, no scheduler",
        "dashboard": f"{len(DASHBOARD)} requests × 4 scopes, round-robin, one at a time, "
        f"{size.dashboard_requests} each after 3 warm-ups, as admin",
        "home": f"{CLIENTS} concurrent async clients; steady: 1 resident with a stored list "
        f"each, arrivals: {size.residents_per_client} new residents each; {size.visits} visits "
        f"a resident, think time {size.think_s[0]}–{size.think_s[1]} s",
        "award": f"{size.award_rounds} interleaved rounds × {size.awards_per_round} awards a "
        "side, 1 per txn, CPU = this process + its backend",
        "day": "1/365 of the year's participations, RecordService.approve, 100 per txn",
    }
    return write_result(opts, NAME, TITLE, targets, figures, params, context=context)


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.cityscale adopt DB --residents N`: stamp a city built before stamps."""
    p = argparse.ArgumentParser(prog="python -m bench.cityscale", description=main.__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("adopt", help="stamp a finished city built without a stamp")
    a.add_argument("db")
    a.add_argument("--residents", type=int, required=True)
    args = p.parse_args(argv)
    print(adopt(args.db, args.residents))
    return 0


if __name__ == "__main__":
    sys.exit(main())
