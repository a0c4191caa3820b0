"""Experiment (issue 12): how low could an award's CPU go if its SQL ran inside the server?

Not part of `make bench`: it measures prototypes, not the application. Run it with
`python -m bench.experiments.award_floor` (about 3 minutes). It builds the award benchmark's
database (64 buckets, 20,000 wallets, every bucket's issuance account open), installs the
PL/pgSQL prototypes of `award_floor.sql`, and measures, one client alone, three interleaved
rounds of:

- **today's code**: `ScoringService.award`, one award per transaction, as `award_pg` runs it;
- **one statement**: one `SELECT cp_floor(json)` per transaction. The server does everything
  an award writes (the decided check, the rule-set version, the month and account locks, the
  idempotency key, both chain hashes, transfer, two entries, lot, two queue rows, the award,
  the month, the two heads) from a document built *before* the timed loop. So the Python
  side pays only the application's transaction (session, pool, pre-ping, BEGIN, COMMIT) and
  one call: the floor of any implementation. It cannot be the application's design: the
  monthly cap and the award's explanation ("本月剩余 500 分 → 实得 20 分") depend on the
  locked month, so rules would move into SQL.
- **two statements**: `cp_lock2` locks and reads (decided, version, month, heads, key), then
  Python applies the real rules (`rules.compute_award`), hashes both entries with the real
  `chain.entry_hash` and builds the rows, and `cp_write2` writes them: the smallest design
  that keeps rules and hashing in their pure Python modules. Its Python is hand-written for
  one award (no ORM object, no generality for teams, repayments or batches), so the real
  thing would cost more.
- **pgbench TPC-B** with one client (`-c 1 -M prepared`), CPU of its backend and its client
  per transaction over the middle of an 8 s run.

The results go to `bench/results/experiments/award_floor.json` and are discussed in bench/notes.md.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from bench import pgbench
from bench.award_pg import BUCKETS, open_system_accounts
from bench.common import RESULTS, drop_pg_database, fresh_pg_database, median
from bench.workload import FACTS, award_request, make_residents, precreate_wallets
from civicpoints.kit.clock import expiry_instant, month_key
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.migrate import upgrade
from civicpoints.ledger import chain, wallet_of
from civicpoints.ledger.service import LedgerService
from civicpoints.scoring import rules
from civicpoints.scoring.service import ScoringService

PREFIX = os.environ.get("CIVICPOINTS_BENCH_DB_PREFIX", "cp_bench")
DB, PGBENCH_DB = f"{PREFIX}_floor", f"{PREFIX}_floor_pgbench"
SQL = Path(__file__).with_name("award_floor.sql")
ROUNDS, AWARDS, ACTOR = 3, 2000, "staff:bench"
_, RULES = rules.in_force([], [], datetime(2025, 5, 1).date())


def plain(url: str) -> str:
    """A SQLAlchemy URL as libpq takes it."""
    return url.replace("postgresql+psycopg", "postgresql")


class Floor:
    """The scratch database, its issuance accounts, and the two prototypes' loops."""

    def __init__(self, url: str, residents: list[uuid.UUID]) -> None:
        self.engine = make_engine(url, pool_size=1, max_overflow=0)
        self.sessions = make_session_factory(self.engine)
        self.residents, self.rng = residents, random.Random(11)
        with psycopg.connect(plain(url)) as conn:
            conn.execute(SQL.read_text())
            rows = conn.execute(
                "SELECT bucket, id FROM ledger_account WHERE owner = 'system:issuance:general'"
            )
            self.issuance = {b: i for b, i in rows}

    def pick(self) -> tuple[uuid.UUID, uuid.UUID, int, datetime, uuid.UUID]:
        """A random award: resident, wallet, bucket, service time, participation."""
        resident = self.rng.choice(self.residents)
        wallet = chain.account_id_for(wallet_of(resident))
        occurred = datetime(2025, self.rng.randint(1, 12), self.rng.randint(1, 28), tzinfo=UTC)
        return resident, wallet, chain.bucket_of(wallet, BUCKETS), occurred, uuid.uuid4()

    def measured(self, loop: Callable[[], None], n: int) -> tuple[float, float]:
        """(Python ms, backend ms) per award over `n` runs of `loop`."""
        with self.engine.connect() as conn:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        server0, client0 = pgbench.proc_cpu_s(pid), time.process_time()
        for _ in range(n):
            loop()
        client = (time.process_time() - client0) / n * 1e3
        server1 = pgbench.proc_cpu_s(pid)
        return client, ((server1 or 0.0) - (server0 or 0.0)) / n * 1e3

    def today(self, n: int) -> tuple[float, float]:
        """Today's code: `ScoringService.award`, one per transaction, as the benchmark's."""
        reqs = iter([award_request(self.rng.choice(self.residents), self.rng) for _ in range(n)])

        def loop() -> None:
            with transaction(self.sessions) as s:
                ScoringService(s).award(next(reqs))

        return self.measured(loop, n)

    def one_statement(self, n: int) -> tuple[float, float]:
        """The floor: documents built before the loop, one call per transaction."""
        docs = iter([self._floor_doc() for _ in range(n)])

        def loop() -> None:
            with transaction(self.sessions) as s:
                s.connection().exec_driver_sql(
                    "SELECT cp_floor(CAST(%(j)s AS jsonb))", {"j": next(docs)}
                )

        return self.measured(loop, n)

    def _floor_doc(self) -> str:
        resident, wallet, bucket, occurred, pid = self.pick()
        decision = rules.compute_award(RULES, FACTS, 0)
        return json.dumps(
            {
                **self._lock_doc(resident, wallet, bucket, occurred, pid),
                **{k: str(uuid.uuid4()) for k in ("t", "ew", "es", "lot", "aid")},
                "now": datetime.now(UTC).isoformat(),
                "occ": occurred.isoformat(),
                "exp": expiry_instant(occurred, RULES.expiry_months).isoformat(),
                "amt": decision.awarded,
                "ref": f"participation:{pid}",
                "reason": decision.explanation["zh-CN"],
                "actor": ACTOR,
                "expl": decision.explanation,
            },
            ensure_ascii=False,
        )

    def _lock_doc(self, resident: Any, wallet: Any, bucket: int, occurred: Any, pid: Any) -> dict:
        return {
            "b": bucket,
            "wa": str(wallet),
            "sa": str(self.issuance[bucket]),
            "r": str(resident),
            "month": month_key(occurred),
            "p": str(pid),
            "key": f"award:{pid}",
        }

    def two_statements(self, n: int) -> tuple[float, float]:
        """Lock and read in one call, decide and hash in Python, write in a second call."""
        picks = iter([self.pick() for _ in range(n)])

        def loop() -> None:
            resident, wallet, bucket, occurred, pid = next(picks)
            lock = json.dumps(self._lock_doc(resident, wallet, bucket, occurred, pid))
            with transaction(self.sessions) as s:
                conn = s.connection()
                got = conn.exec_driver_sql(
                    "SELECT cp_lock2(CAST(%(j)s AS jsonb))", {"j": lock}
                ).scalar()
                doc = self._write_doc(got, resident, wallet, bucket, occurred, pid)
                conn.exec_driver_sql("SELECT cp_write2(CAST(%(j)s AS jsonb))", {"j": doc})

        return self.measured(loop, n)

    def _write_doc(
        self, got: dict, resident: Any, wallet: Any, bucket: int, occurred: Any, pid: Any
    ) -> str:
        decision = rules.compute_award(RULES, FACTS, got["used"])
        amount, expires = decision.awarded, expiry_instant(occurred, RULES.expiry_months)
        now, tid, issuance = datetime.now(UTC), uuid.uuid4(), self.issuance[bucket]
        ref, reason = f"participation:{pid}", decision.explanation["zh-CN"]
        month = month_key(occurred)
        s, w = got["s"], got["w"]
        common = (tid, "award")
        f_s = chain.EntryFields(
            bucket,
            issuance,
            s["entry_count"] + 1,
            *common,
            -amount,
            s["balance"] - amount,
            wallet,
            ref,
            reason,
            ACTOR,
            occurred,
            now,
            s["head_hash"],
        )
        f_w = chain.EntryFields(
            bucket,
            wallet,
            w["entry_count"] + 1,
            *common,
            amount,
            w["balance"] + amount,
            issuance,
            ref,
            reason,
            ACTOR,
            occurred,
            now,
            w["head_hash"],
            expires,
        )
        h_s, h_w = chain.entry_hash(f_s), chain.entry_hash(f_w)
        e_s, e_w = uuid.uuid4(), uuid.uuid4()
        when = {"occurred_at": occurred.isoformat(), "recorded_at": now.isoformat()}
        said = {"ref": ref, "reason": reason, "actor": ACTOR, **when}

        def entry(f: chain.EntryFields, eid: uuid.UUID, h: str) -> dict:
            return {
                "bucket": bucket,
                "id": str(eid),
                "account_id": str(f.account_id),
                "seq": f.seq,
                "transfer_id": str(tid),
                "kind": "award",
                "amount": f.amount,
                "balance_after": f.balance_after,
                "counterparty_id": str(f.counterparty_id),
                "prev_hash": f.prev_hash,
                "entry_hash": h,
                "expires_at": f.expires_at and f.expires_at.isoformat(),
                **said,
            }

        return json.dumps(
            {
                "t": [
                    {
                        "bucket": bucket,
                        "id": str(tid),
                        "kind": "award",
                        "amount": amount,
                        "debit_account_id": str(issuance),
                        "credit_account_id": str(wallet),
                        "idempotency_key": f"award:{pid}",
                        "request_hash": h_w,
                        **said,
                    }
                ],
                "e": [entry(f_s, e_s, h_s), entry(f_w, e_w, h_w)],
                "l": [
                    {
                        "bucket": bucket,
                        "id": str(uuid.uuid4()),
                        "account_id": str(wallet),
                        "entry_id": str(e_w),
                        "amount": amount,
                        "remaining": amount,
                        "earned_at": occurred.isoformat(),
                        "expires_at": expires.isoformat(),
                    }
                ],
                "q": [
                    {"bucket": bucket, "entry_id": str(e), "queued_at": now.isoformat()}
                    for e in (e_s, e_w)
                ],
                "a": [
                    {
                        "id": str(uuid.uuid4()),
                        "participation_id": str(pid),
                        "resident_id": str(resident),
                        "month": month,
                        "category": FACTS.category,
                        "credited_minutes": decision.credited_minutes,
                        "base": decision.base,
                        "awarded": amount,
                        "cut": decision.cut,
                        "refusal": decision.refusal,
                        "explanation": decision.explanation,
                        "expires_at": expires.isoformat(),
                        "transfer_id": str(tid),
                        "created_at": now.isoformat(),
                    }
                ],
                "m": [
                    {"resident_id": str(resident), "month": month, "points": got["used"] + amount}
                ],
                "acc": [
                    {
                        "bucket": bucket,
                        "id": str(issuance),
                        "balance": f_s.balance_after,
                        "entry_count": f_s.seq,
                        "head_hash": h_s,
                    },
                    {
                        "bucket": bucket,
                        "id": str(wallet),
                        "balance": f_w.balance_after,
                        "entry_count": f_w.seq,
                        "head_hash": h_w,
                    },
                ],
            },
            ensure_ascii=False,
        )


def tpcb_one_client(url: str, seconds: int = 8) -> tuple[float, float]:
    """(backend ms, client ms) per TPC-B transaction, one client, sampled mid-run."""
    env, db = pgbench._env_and_db(url)
    args = ["pgbench", "-n", "-M", "prepared", "-c", "1", "-j", "1", "-T", str(seconds), db]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    with psycopg.connect(plain(url), autocommit=True) as conn:
        backend = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'",
            [db],
        ).fetchone()[0]
        b0, c0, t0 = pgbench.proc_cpu_s(backend), pgbench.proc_cpu_s(proc.pid), time.time()
        time.sleep(seconds - 3)
        b1, c1 = pgbench.proc_cpu_s(backend), pgbench.proc_cpu_s(proc.pid)
        elapsed = time.time() - t0
    out = proc.communicate()[0]
    tps = float(next(line for line in out.splitlines() if line.startswith("tps")).split()[2])
    n = tps * elapsed  # pgbench's own rate (pg_stat_database lags by up to a second)
    return ((b1 or 0) - (b0 or 0)) / n * 1e3, ((c1 or 0) - (c0 or 0)) / n * 1e3


def pure_parts(n: int = 20_000) -> dict[str, float]:
    """µs per award of the pure work any design keeps in Python: the decision, two hashes."""
    start = time.process_time()
    for i in range(n):
        rules.compute_award(RULES, FACTS, (i * 7) % 200)
    decide = (time.process_time() - start) / n * 1e6
    now = datetime.now(UTC)
    fields = chain.EntryFields(
        3, uuid.uuid4(), 17, uuid.uuid4(), "award", 20, 340, uuid.uuid4(),
        f"participation:{uuid.uuid4()}", "2.0 小时 × 10 分/小时 = 20 分", ACTOR, now, now,
        "a" * 64, now,
    )  # fmt: skip
    start = time.process_time()
    for _ in range(n):
        chain.entry_hash(fields), chain.entry_hash(fields)
    hashes = (time.process_time() - start) / n * 1e6
    return {"compute_award_us": round(decide, 1), "two_entry_hashes_us": round(hashes, 1)}


def main() -> None:
    """Set up, run the rounds, print and write the figures."""
    url = fresh_pg_database(DB)
    pg_url = fresh_pg_database(PGBENCH_DB)
    try:
        upgrade(url)
        residents = make_residents(20_000)
        sessions = make_session_factory(make_engine(url))
        with transaction(sessions) as s:
            LedgerService(s).initialize(BUCKETS)
        precreate_wallets(sessions, residents, BUCKETS)
        open_system_accounts(sessions, residents)
        pgbench.init(pg_url)
        floor = Floor(url, residents)
        floor.today(300), floor.one_statement(300), floor.two_statements(300)  # warm-up
        rounds = []
        for i in range(ROUNDS):
            now = floor.today(AWARDS)
            one, two = floor.one_statement(AWARDS), floor.two_statements(AWARDS)
            tpcb = tpcb_one_client(pg_url)
            ref = sum(tpcb)
            row = {
                "today_ms": [round(x, 3) for x in now],
                "one_statement_ms": [round(x, 3) for x in one],
                "two_statements_ms": [round(x, 3) for x in two],
                "tpcb_one_client_ms": [round(x, 3) for x in tpcb],
                "today_ratio": round(sum(now) / ref, 2),
                "one_statement_ratio": round(sum(one) / ref, 2),
                "two_statements_gain": round(sum(now) / sum(two), 2),
                "two_statements_ratio": round(sum(two) / ref, 2),
                "load": round(os.getloadavg()[0], 1),
            }
            print(f"round {i}: {row}", flush=True)
            rounds.append(row)
        floor.engine.dispose()
    finally:
        drop_pg_database(DB)
        drop_pg_database(PGBENCH_DB)
    doc = {
        "name": "award_floor",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.experiments.award_floor",
        "rounds": rounds,
        "pure_parts": pure_parts(),
        "median_today_ratio": median([r["today_ratio"] for r in rounds]),
        "median_one_statement_ratio": median([r["one_statement_ratio"] for r in rounds]),
        "median_two_statements_gain": median([r["two_statements_gain"] for r in rounds]),
        "median_two_statements_ratio": median([r["two_statements_ratio"] for r in rounds]),
    }
    out = RESULTS / "experiments" / "award_floor.json"  # not a benchmark: not in the report
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps({k: v for k, v in doc.items() if k != "rounds"}), flush=True)


if __name__ == "__main__":
    main()
