"""After the workers' years: each community's 爱心积分池 and the low-income residents it helps,
written as `DonationService` writes them, by the worker that owns each bucket.

Stage 2 (the worker owning the pool's bucket): in time order, each gift's in-halves (the
bucket's transit → the pool, a lot each with the kept expiry, the `ledger_carry` row); on the
10th of each month the 民政专干's allocation (`DonationService.allocate`): each low-income
resident of the community an equal share of what the pool holds, rounded down to tens, at most
ALLOCATION_MAX (the carry's out-halves from the pool's lots, earliest expiry first); the
expiry job on the pool's lots. Stage 3 (the worker owning the recipient's bucket): the
allocations' in-halves into the recipient's wallet, the `community_allocation` rows, and the
wallet's year (visits to the catalog, expiry). Recipients are residents with a wallet of no
other origin (they take part in neither year, `year.py` marks them), so their whole chain is
written here, in time order; the transit accounts and sinks continue from the heads the same
worker left in stage 1."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time

from bench.city.books import Books, Head, Lot, Move, Slice
from bench.city.gifts import pool_account
from bench.city.plan import CommunityPlan, Plan
from bench.city.wallet import Wallets, Who
from civicpoints.kit.clock import BUSINESS_TZ, local_date
from civicpoints.kit.months import add_months
from civicpoints.ledger import pool_of
from civicpoints.rewards import rules as reward_rules

ALLOCATION_DAY = 10  # of the month, 10:00 Beijing time
ALLOCATION_MAX = 100  # points a recipient gets at most in one allocation
ALLOCATION_REASON = "低保户月度帮扶"
ALLOCATE_TEXT = "爱心积分池分配 / pool allocation: "
LOW_INCOME_REASON = "低保户（民政系统核定）"


@dataclass(frozen=True)
class Recipient:
    """A low-income resident the pool of their community helps (picklable)."""

    id: uuid.UUID
    ordinal: int
    wallet: uuid.UUID
    bucket: int
    community: int  # the community's index in the plan
    birth_date: date
    since: datetime  # marked low-income then: allocated to only after it


def allocation_days(first: datetime, until: datetime) -> list[datetime]:
    """The monthly allocation times from `first`'s month until before `until`."""
    month, out = local_date(first).replace(day=1), list[datetime]()
    while True:
        at = datetime.combine(month.replace(day=ALLOCATION_DAY), time(10), BUSINESS_TZ)
        if at >= until:
            return out
        if at > first:
            out.append(at)
        month = add_months(month, 1)


class Pools:
    """Stages 2 and 3 of one worker, on its books and wallets."""

    def __init__(self, plan: Plan, books: Books, wallets: Wallets, seed: int) -> None:
        self.plan, self.books, self.wallets, self.seed = plan, books, wallets, seed
        self.allocated = self.allocations = 0  # in the year

    def pool(self, index: int, gifts: list[Slice], recipients: list[Recipient]) -> list[Slice]:
        """A pool's life (stage 2); the allocations' slices, for the recipients' buckets."""
        c, b = self.plan.communities[index], self.books
        bucket, account = pool_account(c.id, self.plan.buckets)
        pool: tuple[uuid.UUID, Head] = (account, Head())
        lots: list[Lot] = []
        out: list[Slice] = []
        gifts = sorted(gifts, key=lambda s: (s.at, s.key, s.n))
        events: list[tuple[datetime, Slice | None]] = [(s.at, s) for s in gifts]
        if gifts and recipients:
            events += [(at, None) for at in allocation_days(gifts[0].at, self.wallets.now)]
        for at, gift in sorted(events, key=lambda e: (e[0], e[1] is None)):
            self.wallets.expire(bucket, pool, lots, at)
            if gift is not None:
                Wallets.add(lots, b.carry_in(gift, pool))
            else:
                out += self.allocate(index, (bucket, pool), lots, at, recipients)
        self.wallets.expire(bucket, pool, lots, self.wallets.now)
        h = pool[1]
        b.out["ledger_account"].append(
            (bucket, account, pool_of(c.id), "pool", False, h.balance, h.count, h.head, b.now, 0)
        )
        return out

    def allocate(
        self,
        index: int,
        pool: tuple[int, tuple[uuid.UUID, Head]],
        lots: list[Lot],
        at: datetime,
        recipients: list[Recipient],
    ) -> list[Slice]:
        """The monthly allocation: an equal share to each recipient, if ten points or more."""
        c = self.plan.communities[index]
        held = sum(x.remaining for x in lots)
        eligible = [r for r in recipients if r.since < at]  # DonationService.is_low_income
        each = min(ALLOCATION_MAX, held // max(len(eligible), 1) // 10 * 10)
        if each < 10:
            return []
        out = []
        for r in eligible:
            key = f"allocate:{c.id}:city-allocation:{self.books.new_id()}"
            reason = f"{ALLOCATE_TEXT}{ALLOCATION_REASON}"[:500]
            move = Move("allocate", each, f"allocation:{c.id}", reason, f"staff:{c.civil_id}", at)
            out += self.books.carry_out(*pool, lots, move, key, (r.bucket, r.wallet))[0]
            if self.plan.year_start <= at < self.plan.year_end:
                self.allocated += each
                self.allocations += 1
        return out

    def recipients(self, mine: list[tuple[Recipient, list[Slice]]]) -> None:
        """Stage 3 for some of this worker's recipients."""
        for r, slices in mine:
            self.recipient(r, slices)

    def recipient(self, r: Recipient, slices: list[Slice]) -> None:
        """A recipient's wallet (stage 3): the allocations in, visits, expiry; the rows."""
        c, b = self.plan.communities[r.community], self.books
        regions = frozenset(str(x) for x in c.ancestry)
        applicant = reward_rules.Applicant(True, regions, r.birth_date, True)
        who = Who(r.id, r.wallet, r.bucket, applicant, c.id)
        slices = sorted(slices, key=lambda s: (s.at, s.key, s.n))
        rng = random.Random(self.seed * 7_919 + r.ordinal)  # as a participant's visits
        self.wallets.year(who, slices, rng)
        for s in slices:
            if s.n != 1:
                continue
            m, key = s.move, s.key.removeprefix(f"allocate:{c.id}:")
            digest = hashlib.sha256(
                f"allocate|{r.id}|{m.amount}|{ALLOCATION_REASON}".encode()
            ).hexdigest()
            b.out["community_allocation"].append((
                b.new_id(), c.id, r.id, m.amount, ALLOCATION_REASON, c.civil_id, key, digest,
                s.key, b.receipts.pop(s.key), m.at,
            ))  # fmt: skip


def low_income_row(new_id: uuid.UUID, r: Recipient, c: CommunityPlan) -> tuple:
    """The 民政专干's decision marking a recipient (`DonationService.set_low_income`)."""
    return (new_id, r.id, c.id, True, LOW_INCOME_REASON, c.civil_id, r.since)
