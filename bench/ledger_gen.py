"""A large, realistic ledger for the verify, sequencer and proof benchmarks, cached on disk.

Through the service a 1,000,000-entry ledger would take about an hour here, so the first
awards go through `LedgerService.credit` (batched, 500 per transaction) and the rest are
written by a bulk generator that continues the very same chains with the same pure
functions (`chain.entry_hash`, the service's row shapes, one lot and two queue rows per award).
The service-written and generated rows share accounts and chains, so a verifier that accepts
the result accepts both. The file is cached under bench/.cache/ keyed by size, migration head
and generator version; delete it to rebuild.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from alembic.script import ScriptDirectory
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.engine import Connection

from bench.common import CACHE, PII_KEY, Stopwatch
from bench.workload import make_residents, occurred_at, precreate_wallets
from civicpoints.cli.city import build_city
from civicpoints.kit.clock import expiry_instant, utcnow
from civicpoints.kit.context import build_context
from civicpoints.kit.db import make_engine, make_session_factory, transaction
from civicpoints.kit.ids import new_id
from civicpoints.kit.migrate import alembic_config, upgrade
from civicpoints.kit.settings import Settings
from civicpoints.ledger import chain, wallet_of
from civicpoints.ledger.models import Account, Entry, LogQueue, Lot, Transfer
from civicpoints.ledger.service import LedgerService, Movement

GENERATOR_VERSION = 1
SERVICE_SHARE = 0.004  # of awards written through LedgerService.credit (at least 500)
REASON = "2.0 小时 × 10 分/小时 = 20 分；本月剩余 500 分 → 实得 20 分"
AMOUNTS = (10, 20, 20, 20, 30, 50)
CHUNK = 5_000


def migration_head() -> str:
    """The Alembic head revision (the cache key changes with the schema)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    return head or "none"


def cache_path(entries: int) -> Path:
    """Where the generated ledger of `entries` entries is cached."""
    return CACHE / f"ledger-{entries}-{migration_head()}-g{GENERATOR_VERSION}.db"


def settings_for(path: Path) -> Settings:
    """Settings for a benchmark database file (no sequencer loop, fixed PII key)."""
    return Settings(
        var_dir=path.parent / f"{path.stem}-var",
        database_url=f"sqlite:///{path}",
        pii_key=PII_KEY,
        sequencer_interval_s=0,
    )


def ensure_ledger(entries: int) -> tuple[Path, dict[str, Any]]:
    """The cached ledger of `entries` entries (built now if missing) and how it was built."""
    path = cache_path(entries)
    if path.exists():
        return path, {"cached": True, "path": str(path.relative_to(CACHE.parents[1]))}
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        stale.unlink(missing_ok=True)
    with Stopwatch() as sw:
        stats = build(building, entries)
    shutil.move(building, path)
    stats |= {"cached": False, "build_seconds": round(sw.seconds, 1)}
    return path, stats | {"path": str(path.relative_to(CACHE.parents[1]))}


def build(path: Path, entries: int) -> dict[str, Any]:
    """Create the ledger: migrations, the pilot city (for API logins), wallets, awards."""
    settings = settings_for(path)
    url = settings.resolved_database_url()
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        LedgerService(s).initialize(1)
        build_city(s, build_context(settings))
    awards = entries // 2
    residents = make_residents(max(100, entries // 20))
    precreate_wallets(sessions, residents, 1)
    rng = random.Random(3)
    by_service = min(awards, max(500, int(awards * SERVICE_SHARE)))
    service_awards(sessions, residents, by_service, rng)
    with engine.begin() as conn:
        BulkAwards(conn, 1).write(residents, awards - by_service, rng)
    engine.dispose()
    return {"entries": entries, "awards_via_service": by_service, "residents": len(residents)}


def service_awards(sessions: Any, residents: list[uuid.UUID], n: int, rng: random.Random) -> None:
    """`n` awards through LedgerService.credit, 500 per transaction."""
    for start in range(0, n, 500):
        with transaction(sessions) as s:
            ledger = LedgerService(s)
            for _ in range(min(500, n - start)):
                occurred, pid = occurred_at(rng), uuid.UUID(int=rng.getrandbits(128), version=4)
                move = Movement(
                    "award", rng.choice(AMOUNTS), f"participation:{pid}", REASON,
                    "staff:bench", occurred, f"award:{pid}",
                )  # fmt: skip
                ledger.credit(wallet_of(rng.choice(residents)), move, expiry_instant(occurred, 12))


@dataclass
class Head:
    """An account's cached chain state while generating."""

    bucket: int
    balance: int
    count: int
    head: str


class BulkAwards:
    """Writes award transfers in bulk, continuing the accounts' chains exactly as the service."""

    def __init__(self, conn: Connection, buckets: int) -> None:
        self.conn, self.buckets = conn, buckets
        a = Account.__table__.c
        rows = conn.execute(select(a.id, a.bucket, a.balance, a.entry_count, a.head_hash))
        self.heads = {r[0]: Head(r[1], r[2], r[3], r[4]) for r in rows}

    def write(self, residents: list[uuid.UUID], n: int, rng: random.Random) -> None:
        """`n` awards to random residents, inserted CHUNK at a time, then the account caches."""
        for start in range(0, n, CHUNK):
            tables: dict[str, list[dict[str, Any]]] = {"t": [], "e": [], "l": [], "q": []}
            for _ in range(min(CHUNK, n - start)):
                self._award(rng.choice(residents), rng, tables)
            for key, model in (("t", Transfer), ("e", Entry), ("l", Lot), ("q", LogQueue)):
                self.conn.execute(cast(Table, model.__table__).insert(), tables[key])
        self._save_heads()

    def _award(self, resident: uuid.UUID, rng: random.Random, out: dict[str, list]) -> None:
        """The rows of one award: transfer, debit and credit entries, lot, two queue rows."""
        wallet = chain.account_id_for(wallet_of(resident))
        bucket = chain.bucket_of(wallet, self.buckets)
        issuer = uuid.uuid5(chain.ACCOUNT_NAMESPACE, f"system:issuance:general#{bucket}")
        pid, occurred = uuid.UUID(int=rng.getrandbits(128), version=4), occurred_at(rng)
        amount, ref = rng.choice(AMOUNTS), f"participation:{pid}"
        text = f"{issuer}|{wallet}|award|{amount}|{ref}"
        transfer = {
            "bucket": bucket, "id": new_id(), "kind": "award", "amount": amount,
            "debit_account_id": issuer, "credit_account_id": wallet,
            "idempotency_key": f"award:{pid}",
            "request_hash": hashlib.sha256(text.encode()).hexdigest(),
            "ref": ref, "reason": REASON, "actor": "staff:bench",
            "occurred_at": occurred, "recorded_at": utcnow(),
        }  # fmt: skip
        out["t"].append(transfer)
        self._entry(issuer, transfer, -amount, wallet, out)
        expiry = expiry_instant(occurred, 12)
        credit = self._entry(wallet, transfer, amount, issuer, out, expiry)
        lot = {
            "bucket": bucket, "id": new_id(), "account_id": wallet, "entry_id": credit["id"],
            "amount": amount, "remaining": amount, "earned_at": occurred, "expires_at": expiry,
        }  # fmt: skip
        out["l"].append(lot)

    def _entry(
        self,
        account: uuid.UUID,
        t: dict[str, Any],
        amount: int,
        other: uuid.UUID,
        out: dict,
        expires_at: datetime | None = None,
    ) -> dict[str, Any]:
        """One chained entry and its queue row (a lot-opening credit carries its expiry)."""
        head = self.heads[account]
        fields = chain.EntryFields(
            bucket=t["bucket"], account_id=account, seq=head.count + 1, transfer_id=t["id"],
            kind="award", amount=amount, balance_after=head.balance + amount,
            counterparty_id=other, ref=t["ref"], reason=t["reason"], actor=t["actor"],
            occurred_at=t["occurred_at"], recorded_at=t["recorded_at"], prev_hash=head.head,
            expires_at=expires_at,
        )  # fmt: skip
        row = {"id": new_id(), "entry_hash": chain.entry_hash(fields), **vars(fields)}
        out["e"].append(row)
        out["q"].append(
            {"bucket": t["bucket"], "entry_id": row["id"], "queued_at": t["recorded_at"]}
        )
        head.balance, head.count, head.head = fields.balance_after, fields.seq, row["entry_hash"]
        return row

    def _save_heads(self) -> None:
        """Write the accounts' cached balance, entry count and chain head."""
        table = cast(Table, Account.__table__)
        stmt = (
            update(table)
            .where(table.c.bucket == bindparam("b_bucket"), table.c.id == bindparam("b_id"))
            .values(balance=bindparam("b_balance"), entry_count=bindparam("b_count"))
            .values(head_hash=bindparam("b_head"))
        )
        rows = [
            {"b_bucket": h.bucket, "b_id": k, "b_balance": h.balance, "b_count": h.count}
            | {"b_head": h.head}
            for k, h in self.heads.items()
        ]
        self.conn.execute(stmt, rows)
