"""The award workload: residents, award requests and pre-created wallets, shared by benchmarks."""

from __future__ import annotations

import cProfile
import io
import pstats
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from bench.common import RESULTS
from civicpoints.kit.db import transaction
from civicpoints.ledger import chain, wallet_of
from civicpoints.ledger.models import Account
from civicpoints.scoring import rules
from civicpoints.scoring.service import AwardRequest

FACTS = rules.Facts(rules.Category.VOLUNTEER_SERVICE, 120, photo=False, gps_verified=False)


def make_residents(n: int, seed: int = 7) -> list[uuid.UUID]:
    """`n` deterministic resident ids."""
    rng = random.Random(seed)
    return [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(n)]


def occurred_at(rng: random.Random) -> datetime:
    """A random service time in 2025 (spread over months, so the monthly cap rarely bites)."""
    return datetime(2025, rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), tzinfo=UTC)


def award_request(resident_id: uuid.UUID, rng: random.Random) -> AwardRequest:
    """One approved two-hour volunteer session (20 points) in a random month of 2025."""
    occurred = occurred_at(rng)
    return AwardRequest(
        participation_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        resident_id=resident_id,
        wallet=wallet_of(resident_id),
        region_ids=[],
        facts=FACTS,
        occurred_at=occurred,
        actor="staff:bench",
    )


def bucket_of_resident(resident_id: uuid.UUID, buckets: int) -> int:
    """The ledger bucket of a resident's wallet."""
    return chain.bucket_of(chain.account_id_for(wallet_of(resident_id)), buckets)


def precreate_wallets(
    sessions: sessionmaker[Session], residents: list[uuid.UUID], buckets: int
) -> None:
    """Open every resident's empty wallet, exactly as LedgerService does on first use."""
    rows = []
    for rid in residents:
        account_id = chain.account_id_for(wallet_of(rid))
        rows.append(
            {
                "bucket": chain.bucket_of(account_id, buckets),
                "id": account_id,
                "owner": wallet_of(rid),
                "kind": "wallet",
                "may_go_negative": False,
                "balance": 0,
                "entry_count": 0,
                "head_hash": chain.GENESIS,
            }
        )
    with transaction(sessions) as s:
        for i in range(0, len(rows), 5000):
            s.execute(insert(Account), rows[i : i + 5000])


def profile_to(name: str, fn: Callable[[], object], top: int = 45) -> str:
    """Run `fn` under cProfile; write the top functions to bench/results/<name>.profile.txt."""
    prof = cProfile.Profile()
    prof.runcall(fn)
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.profile.txt"
    path.write_text(out.getvalue())
    return str(path.relative_to(RESULTS.parents[1]))
