"""One generator worker: the residents of its ledger buckets, community by community, with
their year (and the year before) of approved participations, hours, scoring decisions, and
their wallets' awards, redemptions and expiries, written with COPY. Buckets are split between
workers (`bucket % workers == worker`): a wallet's chain, its resident's monthly cap and the
bucket's system accounts' chains then belong to one process."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from bench.city import people
from bench.city.books import Books, Head
from bench.city.plan import Plan
from bench.city.wallet import Award, Wallets, Who
from civicpoints.kit.clock import expiry_instant, local_date, month_key, utcnow
from civicpoints.kit.crypto import FieldCipher
from civicpoints.ledger import chain, wallet_of
from civicpoints.rewards import rules as reward_rules
from civicpoints.scoring import rules

ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per award
PARTICIPATING = 0.45
PARTICIPATED_BEFORE = 0.18  # the seed's participation before the scheme grew (18 % → 45 %)
MORE = 0.3  # chance of one more participation: 1/(1-0.3) ≈ 1.4 a participant a year …
# … except 骨干志愿者 (core volunteers): every activity of their community in two running
# months, long shifts: about 45 hours a month, so many reach the monthly cap (月度上限).
CORE = 0.02
CORE_MINUTES = (180, 240)
MINUTES = (45, 210)  # a participation's real duration, uniform
OFFLINE = 0.25  # share recorded on paper slips at a service point (the rest in the app)

TABLES: dict[str, tuple[str, ...]] = {
    "identity_resident": people.COLUMNS,
    "ledger_account": (
        "bucket", "id", "owner", "kind", "may_go_negative", "balance", "entry_count",
        "head_hash", "created_at",
    ),
    "ledger_transfer": (
        "bucket", "id", "kind", "amount", "debit_account_id", "credit_account_id",
        "idempotency_key", "request_hash", "ref", "reason", "actor", "occurred_at", "recorded_at",
    ),
    "ledger_entry": (
        "bucket", "id", "account_id", "seq", "transfer_id", "kind", "amount", "balance_after",
        "counterparty_id", "ref", "reason", "actor", "occurred_at", "recorded_at", "prev_hash",
        "entry_hash", "expires_at",
    ),
    "ledger_lot": (
        "bucket", "id", "account_id", "entry_id", "amount", "remaining", "earned_at", "expires_at",
    ),
    "ledger_lot_use": ("bucket", "id", "lot_id", "entry_id", "amount"),
    "ledger_log_queue": ("bucket", "entry_id", "queued_at"),
    "ledger_hold": (
        "bucket", "id", "account_id", "amount", "status", "sink", "idempotency_key", "ref",
        "hold_transfer_id", "hold_entry_id", "resolve_transfer_id", "expired_transfer_id",
        "expired_points", "timeout_at", "created_at", "resolved_at",
    ),
    "activity_participation": (
        "id", "activity_id", "resident_id", "source", "status", "checkin_at", "checkin_lat",
        "checkin_lon", "checkin_inside", "checkout_at", "checkout_lat", "checkout_lon",
        "started_at", "ended_at", "flags", "slip_no", "note", "recorded_by", "reviewed_by",
        "reviewed_at", "review_reason", "created_at", "flag_notes", "organization_id", "risk",
    ),
    "hours_entry": (
        "id", "resident_id", "participation_id", "category", "minutes", "served_on", "reason",
        "recorded_at",
    ),
    "scoring_award": (
        "id", "participation_id", "resident_id", "rule_set_id", "month", "category",
        "credited_minutes", "base", "awarded", "cut", "refusal", "explanation", "expires_at",
        "transfer_id", "created_at",
    ),
    "scoring_month_usage": ("resident_id", "month", "points"),
    "rewards_redemption": (
        "id", "resident_id", "item_id", "quantity", "points", "face_value_fen", "status",
        "period_key", "idempotency_key", "hold_bucket", "hold_id", "child_id",
        "decision_reason", "decided_by", "decided_at", "created_at",
    ),
    "rewards_voucher": (
        "id", "code", "redemption_id", "item_id", "resident_id", "merchant_id", "sponsor_id",
        "points", "face_value_fen", "hold_bucket", "hold_id", "status", "valid_from",
        "valid_until", "used_at", "used_by", "used_merchant_id", "closed_at", "created_at",
    ),
    "rewards_voucher_event": (
        "id", "voucher_id", "kind", "actor", "merchant_id", "detail", "at",
    ),
    "rewards_booking": (
        "id", "sponsor_id", "redemption_id", "voucher_id", "merchant_id", "month", "points",
        "fen_per_point", "points_value_fen", "subsidy_fen", "face_value_fen",
        "hold_transfer_id", "wallet_entry_id", "post_transfer_id", "booked_at",
    ),
}  # fmt: skip


class Uuid7:
    """Time-ordered UUIDv7s as `kit.ids.new_id` makes them (48-bit Unix milliseconds, version 7,
    variant 10), cheaper than uuid6's (a third of the generator's time went there): the 74
    random bits are a counter starting at the worker's own offset, so ids are unique across
    workers and strictly increasing within one (the log queue orders entries of one recorded
    time by id: the chains' order)."""

    def __init__(self, worker: int) -> None:
        self.counter = (worker << 66) | random.getrandbits(40)

    def __call__(self) -> uuid.UUID:
        self.counter += 1
        low = self.counter & ((1 << 74) - 1)
        ms = time.time_ns() // 1_000_000
        value = (ms << 80) | (0x7 << 76) | ((low >> 62) << 64) | (0b10 << 62) | (low & (2**62 - 1))
        return uuid.UUID(int=value)


@dataclass
class Stats:
    """What a worker wrote; the city's figures count the generated year only (`_before`: the
    year before it)."""

    residents: int = 0
    participants: int = 0
    participations: int = 0
    minutes: int = 0
    points: int = 0
    cut: int = 0
    refused: int = 0
    max_month: int = 0
    participants_before: int = 0
    participations_before: int = 0
    minutes_before: int = 0
    points_before: int = 0
    redeemed: int = 0
    redemptions: int = 0
    held: int = 0
    expired: int = 0
    expired_before: int = 0
    rows: int = 0
    generate_s: float = 0.0  # in Python: draws, decisions, hashes, encryption
    copy_s: float = 0.0  # COPY and commit (the server's work, waited for)
    by_table: dict[str, int] = field(default_factory=dict)
    sold: dict[str, int] = field(default_factory=dict)  # units per catalog item id


@dataclass(frozen=True)
class Job:
    """A worker's brief (picklable: workers are spawned processes)."""

    url: str
    pii_key: str
    worker: int
    workers: int
    plan: Plan
    password_hash: str
    seed: int = 13
    # Bulk-load mode: foreign-key triggers off in the workers' sessions (the generator builds
    # every reference before it is used; `ledger verify` and the test check the result).
    no_fk_checks: bool = False


def community_rng(seed: int, index: int) -> random.Random:
    """The generator of one community: the same residents whichever worker draws them."""
    return random.Random(seed * 1_000_003 + index)


Draws = list[tuple[Any, int, int, bool]]  # (activity, minutes, check-in delay, offline)
Decision = tuple[rules.Award, str, str]  # the award, its ledger reason, its explanation JSON


class Year:
    """Generates and writes one worker's share of the city's year."""

    def __init__(self, job: Job, cipher: FieldCipher, versions: list[rules.Version]) -> None:
        self.job, self.plan, self.cipher = job, job.plan, cipher
        self.buckets = job.plan.buckets
        self.stats = Stats()
        self.versions = versions
        self.decisions: dict[tuple, Decision] = {}
        self.new_id = Uuid7(job.worker)
        self.books = Books(self.new_id)
        window = (self.plan.year_start, self.plan.year_end)
        reviewer = f"staff:{self.plan.reviewer_id}"
        self.wallets = Wallets(self.books, self.plan.shelf, reviewer, window)
        self.now = utcnow()
        self.rules_memo: dict[tuple[int, date], tuple[uuid.UUID | None, rules.RuleSet]] = {}
        self.regions = {
            c.index: frozenset(str(r) for r in c.ancestry) for c in self.plan.communities
        }

    def run(self, conn: psycopg.Connection, tick: Callable[[int, int], None]) -> Stats:
        """Every community in turn, one transaction each (COPY of all its tables)."""
        for index, community in enumerate(self.plan.communities):
            out: dict[str, list[tuple]] = {t: [] for t in TABLES}
            # Recorded now, as the service would: the log queue's order (queued_at, then the
            # time-ordered entry id) is then each chain's order.
            self.now = self.books.now = self.wallets.now = utcnow()
            self.books.out = out
            started = time.perf_counter()
            done = self.community(index, community, out)
            self.wallets.lots_rows()
            copying = time.perf_counter()
            self.stats.generate_s += copying - started
            with conn.transaction(), conn.cursor() as cur:
                for table, cols in TABLES.items():
                    rows = out[table]
                    if not rows:
                        continue
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
                        for row in rows:
                            cp.write_row(row)
                    self.stats.by_table[table] = self.stats.by_table.get(table, 0) + len(rows)
                    self.stats.rows += len(rows)
            self.stats.copy_s += time.perf_counter() - copying
            tick(done, sum(len(r) for r in out.values()))
        t = self.wallets.tally
        s = self.stats
        s.redeemed, s.redemptions, s.held = t.redeemed, t.redemptions, t.held
        s.expired, s.expired_before = t.expired, t.expired_before
        s.sold = {str(k): v for k, v in t.sold.items()}
        return s

    def community(self, index: int, c: Any, out: dict[str, list[tuple]]) -> int:
        """The residents of community `c` in this worker's buckets and their year."""
        rng = community_rng(self.job.seed, index)
        mine = 0
        for k in range(c.residents):
            ordinal = c.first_ordinal + k
            registered = self.plan.year_start - timedelta(days=rng.randint(30, 900))
            d = people.draw(rng)
            wallet = chain.account_id_for(wallet_of(d.id))
            bucket = chain.bucket_of(wallet, self.buckets)
            # Draw the years whatever the worker, so each resident's draws never depend on it.
            year = self.draws(rng, c, registered)
            if bucket % self.job.workers != self.job.worker:
                continue
            person, row = people.resident(
                ordinal, d, c.id, c.district_code, self.cipher, self.job.password_hash,
                registered, self.plan.today,
            )  # fmt: skip
            mine += 1
            out["identity_resident"].append(row)
            self.stats.residents += 1
            if year:
                self.resident_year(person, wallet, bucket, c, year, out)
        return mine

    def draws(self, rng: random.Random, c: Any, registered: datetime) -> Draws:
        """A resident's participations: the year before (fewer took part, only after they
        registered), then the year."""
        before: Draws = []
        if rng.random() < PARTICIPATED_BEFORE:
            before = [p for p in self.pick(rng, c.earlier) if p[0].starts_at > registered]
        if rng.random() >= PARTICIPATING:
            return before
        return before + self.pick(rng, c.activities)

    @staticmethod
    def pick(rng: random.Random, activities: list[Any]) -> Draws:
        """A participant's year at `activities` (a year of their community's, time order):
        1 + geometric(0.3) random ones; or, for 骨干志愿者, every one of two running months."""
        if rng.random() < CORE:
            per = len(activities) // 12
            first = rng.randint(0, 10) * per
            return [
                (a, rng.randint(*CORE_MINUTES), rng.randint(0, 15), rng.random() < OFFLINE)
                for a in activities[first : first + 2 * per]
            ]
        n = 1
        while rng.random() < MORE and n < 12:
            n += 1
        chosen = rng.sample(activities, min(n, len(activities)))
        return [
            (a, rng.randint(*MINUTES), rng.randint(0, 15), rng.random() < OFFLINE) for a in chosen
        ]

    def rule_set(self, c: Any, on: date) -> tuple[uuid.UUID | None, rules.RuleSet]:
        """The rule set in force for the community's activities on `on` (the real choice)."""
        key = (c.index, on)
        if key not in self.rules_memo:
            self.rules_memo[key] = rules.in_force(self.versions, c.ancestry, on)
        return self.rules_memo[key]

    def decide(
        self,
        rule_set_id: uuid.UUID | None,
        rule_set: rules.RuleSet,
        category: str,
        minutes: int,
        used: int,
    ) -> Decision:
        """`rules.compute_award` for a participation with photo and on-site check-in; a pure
        function, so equal inputs (rule set, category, minutes, month's usage) are asked once,
        and its ledger reason and explanation JSON are kept with it."""
        key = (rule_set_id, id(rule_set), category, minutes, used)
        found = self.decisions.get(key)
        if found is None:
            if len(self.decisions) > 200_000:
                self.decisions.clear()
            facts = rules.Facts(rules.Category(category), minutes, photo=True, gps_verified=True)
            award = rules.compute_award(rule_set, facts, used)
            found = (award, award.explanation["zh-CN"][:500], ENCODE(award.explanation))
            self.decisions[key] = found
        return found

    def resident_year(
        self,
        person: people.Person,
        wallet: uuid.UUID,
        bucket: int,
        c: Any,
        year: Draws,
        out: dict[str, list[tuple]],
    ) -> None:
        """A participant's approved participations in time order (hours, decision), then the
        wallet's two years (awards, redemptions, expiry)."""
        rid, s = person.id, self.stats
        months: dict[str, int] = defaultdict(int)
        records = []
        for a, minutes, delay, offline in year:
            start = a.starts_at + timedelta(minutes=delay)
            records.append((start + timedelta(minutes=minutes), start, a, minutes, offline))
        records.sort(key=lambda r: (r[0], r[2].id))  # by end, then activity: the cap's order
        awards: list[Award] = []
        in_year = False
        for ended, start, a, minutes, offline in records:
            pid = self.participation(rid, c, ended, start, a, minutes, offline, out)
            month = month_key(ended)
            rule_set_id, rule_set = self.rule_set(c, local_date(ended))
            decision, reason, explained = self.decide(
                rule_set_id, rule_set, a.category, minutes, months[month]
            )
            months[month] += decision.awarded
            expires = expiry_instant(ended, rule_set.expiry_months)
            tid = None
            if decision.awarded:
                tid = self.new_id()
                awards.append(Award(ended.astimezone(UTC), pid, decision.awarded, reason,
                                    expires, tid))  # fmt: skip
            if ended >= self.plan.year_start:
                in_year = True
                s.participations += 1
                s.minutes += minutes
                s.points += decision.awarded
            else:
                s.participations_before += 1
                s.minutes_before += minutes
                s.points_before += decision.awarded
            s.cut += decision.cut
            s.refused += decision.refusal is not None
            out["scoring_award"].append((
                self.new_id(), pid, rid, rule_set_id, month, a.category, decision.credited_minutes,
                decision.base, decision.awarded, decision.cut, decision.refusal, explained,
                expires if decision.awarded else None, tid, ended + timedelta(hours=20),
            ))  # fmt: skip
        s.participants += in_year
        s.participants_before += records[0][0] < self.plan.year_start
        for month, points in months.items():
            out["scoring_month_usage"].append((rid, month, points))
            s.max_month = max(s.max_month, points)
        applicant = reward_rules.Applicant(True, self.regions[c.index], person.birth_date, False)
        who = Who(rid, wallet, bucket, applicant)
        w = self.wallets.year(who, awards, random.Random(self.job.seed * 7_919 + person.ordinal))
        out["ledger_account"].append(
            (bucket, wallet, wallet_of(rid), "wallet", False, w.balance, w.count, w.head, self.now)
        )

    def participation(
        self,
        rid: uuid.UUID,
        c: Any,
        ended: datetime,
        start: datetime,
        a: Any,
        minutes: int,
        offline: bool,
        out: dict[str, list[tuple]],
    ) -> uuid.UUID:
        """An approved participation (checked in and out, reviewed) and its hours entry."""
        plan, pid = self.plan, self.new_id()
        reviewed = ended + timedelta(hours=20)
        slip = f"SLIP-{pid.hex}" if offline else None
        out["activity_participation"].append((
            pid, a.id, rid, "offline" if offline else "app", "approved",
            start, a.lat, a.lon, True, ended, a.lat, a.lon, start, ended, "[]", slip, "",
            plan.organizer_id if offline else None, plan.reviewer_id, reviewed, "审核通过",
            start, "{}", c.committee_id if offline else None, 0,
        ))  # fmt: skip
        out["hours_entry"].append(
            (self.new_id(), rid, pid, a.category, minutes, local_date(ended), "", self.now)
        )
        return pid


__all__ = ["Head", "Job", "Stats", "Year"]
