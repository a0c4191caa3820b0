"""The generator's worker processes (spawned) and their three stages: each worker writes the
residents of its ledger buckets and their years (stage 1), then the community pools in its
buckets (stage 2: the gifts the other workers' residents made arrive as slices routed here),
then the wallets of its low-income residents (stage 3: the allocations routed here); the
parent routes each stage's output to the workers owning its buckets and merges the figures."""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
import uuid
from dataclasses import asdict
from typing import Any, Protocol

import psycopg

from bench.city import people
from bench.city.books import Head, Slice
from bench.city.gifts import pool_account
from bench.city.plan import Plan
from bench.city.pools import Recipient
from bench.city.procs import messages
from bench.city.year import Job, Stats, Year
from bench.common import CACHE, PII_KEY
from civicpoints.identity import hash_password
from civicpoints.kit.context import build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.settings import Settings
from civicpoints.scoring import rules
from civicpoints.scoring.repository import ScoringRepository
from civicpoints.scoring.schemas import rule_set_from_dict


class Ticker(Protocol):
    """Where progress goes (a rich bar, or nothing in tests)."""

    def start(self, phase: str, total: int) -> None: ...
    def advance(self, phase: str, n: int, rows: int = 0) -> None: ...


def settings_for(url: str, db: str) -> Settings:
    """The app's settings for the generated city: its database, the bench PII key, a var dir
    under bench/.cache holding the log's signing key."""
    return Settings(
        var_dir=CACHE / f"{db}-var",
        database_url=url,
        pii_key=PII_KEY,
        sequencer_interval_s=0,
        scheduler_enabled=False,
    )


def load_versions(url: str) -> list[rules.Version]:
    """The stored rule sets as the pure module's versions (as ScoringService loads them)."""
    engine = make_engine(url)
    with transaction(make_session_factory(engine)) as s:
        rows = ScoringRepository(s).rule_sets()
        found = [
            rules.Version(r.id, r.region_id, r.effective_from, rule_set_from_dict(r.rules))
            for r in rows
        ]
    engine.dispose()
    return found


def worker_main(job: Job, q: Any, inbox: Any, out: Any) -> None:
    """A spawned worker: its buckets' residents and their year (stage 1), then the pools in
    its buckets (stage 2) and the wallets of its low-income residents (stage 3), each later
    stage's input routed by the parent; sends back each stage's output, then stats and heads."""
    settings = settings_for(job.url, "worker")
    year = Year(job, build_context(settings).cipher, load_versions(job.url))
    with psycopg.connect(job.url) as conn:
        conn.execute("SET synchronous_commit = off")  # a bulk load: one commit per community
        if job.no_fk_checks:
            conn.execute("SET session_replication_role = replica")
        conn.commit()
        cpu = time.process_time()
        year.run(conn, lambda n, rows: q.put((n, rows)))
        gifts, year.wallets.giving.slices = year.wallets.giving.slices, []
        out.put(("year", job.worker, (gifts, year.recipients, year.stats.rows)))
        out.put(("pools", job.worker, year.pools_of(conn, inbox.get())))
        year.recipients_of(conn, inbox.get())
        stats = year.finish()
        stats.cpu_s = time.process_time() - cpu
    heads = {key: (str(i), asdict(h)) for key, (i, h) in year.books.system.items()}
    out.put(("done", job.worker, (asdict(stats), heads)))


SystemHeads = dict[tuple[int, str], tuple[str, Head]]


def run_workers(
    url: str, plan: Plan, opts: Any, ticker: Ticker
) -> tuple[Stats, SystemHeads, tuple[int, float]]:
    """Run the workers (spawned processes) through their three stages, routing each stage's
    output to the workers that own its buckets; merge what they wrote. Also returns the rows
    and seconds of the first stage (the residents' years)."""
    workers, started = opts.workers, time.perf_counter()
    ticker.start("residents + year", opts.residents)
    password_hash = hash_password(people.DEMO_RESIDENT_PASSWORD)
    spawn = mp.get_context("spawn")
    q, out = spawn.Queue(), spawn.Queue()
    inboxes = [spawn.Queue() for _ in range(workers)]
    procs = [
        spawn.Process(
            target=worker_main,
            args=(
                Job(url, PII_KEY, w, workers, plan, password_hash, no_fk_checks=opts.drop_indexes),
                q,
                inboxes[w],
                out,
            ),
        )
        for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    years = _collect("year", workers, procs, q, out, ticker)
    first = (sum(rows for _, _, rows in years.values()), time.perf_counter() - started)
    for w, brief in enumerate(pool_briefs(plan, workers, years)):
        inboxes[w].put(brief)
    allocations = [s for slices in _collect("pools", workers, procs, q, out, ticker).values()
                   for s in slices]  # fmt: skip
    for w, mine in enumerate(recipient_briefs(workers, years, allocations)):
        inboxes[w].put(mine)
    results = _collect("done", workers, procs, q, out, ticker)
    for proc in procs:
        proc.join()
    total, heads = Stats(), {}
    for stats, worker_heads in results.values():
        _merge(total, stats)
        heads.update({k: (i, Head(**h)) for k, (i, h) in worker_heads.items()})
    return total, heads, first


def pool_briefs(plan: Plan, workers: int, years: dict[int, Any]) -> list[list[Any]]:
    """Each worker's stage 2: (community, its gifts' slices, its recipients) for the pools in
    its buckets, in community order."""
    gifts: dict[int, list[Slice]] = {}
    recipients: dict[int, list[Recipient]] = {}
    pools = {pool_account(c.id, plan.buckets)[1]: c.index for c in plan.communities}
    for w in sorted(years):
        slices, mine, _ = years[w]
        for s in slices:
            gifts.setdefault(pools[s.target[1]], []).append(s)
        for r in mine:
            recipients.setdefault(r.community, []).append(r)
    briefs: list[list[Any]] = [[] for _ in range(workers)]
    for c in plan.communities:
        owner = pool_account(c.id, plan.buckets)[0] % workers
        mine = sorted(recipients.get(c.index, []), key=lambda r: r.ordinal)
        briefs[owner].append((c.index, gifts.get(c.index, []), mine))
    return briefs


def recipient_briefs(
    workers: int, years: dict[int, Any], allocations: list[Slice]
) -> list[list[tuple[Recipient, list[Slice]]]]:
    """Each worker's stage 3: its recipients who were given points, with the slices."""
    given: dict[uuid.UUID, list[Slice]] = {}
    for s in allocations:
        given.setdefault(s.target[1], []).append(s)
    return [
        [(r, given[r.wallet]) for r in years[w][1] if r.wallet in given] for w in range(workers)
    ]


def _collect(
    tag: str, workers: int, procs: list[Any], q: Any, out: Any, ticker: Ticker
) -> dict[int, Any]:
    """Each worker's message of one stage, forwarding progress meanwhile."""
    got: dict[int, Any] = {}
    for kind, w, payload in messages(procs, out, workers, lambda: _forward(q, ticker), "worker"):
        assert kind == tag, (kind, tag)
        got[w] = payload
    return got


def _merge(total: Stats, stats: dict[str, Any]) -> None:
    """Add one worker's figures to the city's."""
    for key, value in stats.items():
        if isinstance(value, dict):  # rows by table, units by item
            mine = getattr(total, key)
            for k, n in value.items():
                mine[k] = mine.get(k, 0) + n
        elif key == "max_month":
            total.max_month = max(total.max_month, value)
        elif key.endswith("_s"):
            setattr(total, key, round(getattr(total, key) + value, 1))
        else:
            setattr(total, key, getattr(total, key) + value)


def _forward(q: Any, ticker: Ticker) -> None:
    while True:
        try:
            n, rows = q.get_nowait()
        except queue.Empty:
            return
        ticker.advance("residents + year", n, rows)
