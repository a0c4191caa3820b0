"""One generator worker: the residents of its ledger buckets, community by community, with
their year (and the year before) of participations (a few flagged, refused or taken back as
fraud: `fraud.py`), hours, scoring decisions, and their wallets' awards, gifts, redemptions,
clawbacks and expiries, written with COPY; then its share of the community pools and their
low-income recipients (`pools.py`). Buckets are split between workers (`bucket % workers ==
worker`): a wallet's chain, its resident's monthly cap and the bucket's system accounts'
chains then belong to one process."""

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

from bench.city import draws, people, rows
from bench.city.books import Books, Head, Slice
from bench.city.debts import Clawback
from bench.city.fraud import CLAWBACK_REASON, Fraud, Verdict
from bench.city.gifts import Giving
from bench.city.plan import Plan
from bench.city.pools import Pools, Recipient, low_income_row
from bench.city.wallet import Award, Wallets, Who
from civicpoints.kit.clock import expiry_instant, local_date, month_key, utcnow
from civicpoints.kit.crypto import FieldCipher
from civicpoints.ledger import chain, wallet_of
from civicpoints.rewards import rules as reward_rules
from civicpoints.scoring import rules

ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per award
# 低保: of the residents who take part in neither year, the share the 民政专干 marked
# low-income (≈ 0.9 % of residents); the pool's allocations go to them.
LOW_INCOME_PER_10K = 200
REVIEWED = timedelta(hours=20)  # a record is reviewed this long after it ended


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
    donated: int = 0  # given to the pools in the year
    donations: int = 0
    allocated: int = 0  # passed on to low-income residents in the year
    allocations: int = 0
    low_income: int = 0  # residents marked low-income
    flagged: int = 0  # records flagged (sent to a reviewer, or found risky after approval)
    rejected: int = 0  # refused as fraud (rejection cases), in the year
    clawed_back: int = 0  # approved records taken back (clawback cases), in the year
    points_clawed: int = 0  # points taken back or repaid in the year (the rollup's `clawed`)
    owed: int = 0  # points still owed today after clawbacks
    rows: int = 0
    generate_s: float = 0.0  # in Python: draws, decisions, hashes, encryption
    copy_s: float = 0.0  # COPY and commit (the server's work, waited for)
    cpu_s: float = 0.0  # the worker process's CPU from its first stage to its last
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


Decision = tuple[rules.Award, str, str]  # the award, its ledger reason, its explanation JSON


class Year:
    """Generates and writes one worker's share of the city's year."""

    def __init__(self, job: Job, cipher: FieldCipher, versions: list[rules.Version]) -> None:
        self.job, self.plan, self.cipher = job, job.plan, cipher
        self.buckets = job.plan.buckets
        self.stats = Stats()
        self.versions = versions
        self.decisions: dict[tuple, Decision] = {}
        self.new_id = rows.Uuid7(job.worker)
        self.books = Books(self.new_id)
        window = (self.plan.year_start, self.plan.year_end)
        reviewer = f"staff:{self.plan.reviewer_id}"
        giving = Giving(self.books, self.plan.donation_limit, window, self.buckets)
        self.wallets = Wallets(self.books, self.plan.shelf, reviewer, window, giving)
        self.fraud = Fraud(job.worker, self.plan.risk_policy, self.new_id)
        self.pools = Pools(self.plan, self.books, self.wallets, job.seed)
        self.recipients: list[Recipient] = []  # this worker's low-income residents
        self.now = utcnow()
        self.rules_memo: dict[tuple[int, date], tuple[uuid.UUID | None, rules.RuleSet]] = {}
        self.regions = {
            c.index: frozenset(str(r) for r in c.ancestry) for c in self.plan.communities
        }

    def run(self, conn: psycopg.Connection, tick: Callable[[int, int], None]) -> Stats:
        """Every community in turn, one transaction each (COPY of all its tables)."""
        for index, community in enumerate(self.plan.communities):
            done = self.batch(conn, self.community, index, community)
            tick(done, self.last_rows)
        return self.stats

    def batch(self, conn: psycopg.Connection, make: Callable[..., Any], *args: Any) -> Any:
        """Generate one batch of rows (`make(*args)` writes them to the books' `out`),
        recorded now (as the service would: the log queue's order, queued_at then the
        time-ordered entry id, is then each chain's order), and COPY it in one transaction;
        what `make` returned."""
        out = rows.empty()
        self.now = self.books.now = self.wallets.now = utcnow()
        self.books.out = out
        started = time.perf_counter()
        made = make(*args)
        self.books.lots_rows()
        copying = time.perf_counter()
        self.stats.generate_s += copying - started
        self.last_rows = rows.copy(conn, out, self.stats.by_table)
        self.stats.rows += self.last_rows
        self.stats.copy_s += time.perf_counter() - copying
        return made

    def pools_of(
        self, conn: psycopg.Connection, briefs: list[tuple[int, list[Slice], list[Recipient]]]
    ) -> list[Slice]:
        """Stage 2: the pools of this worker's buckets; the allocations' slices."""
        out: list[Slice] = []
        for index, gifts, recipients in briefs:
            out += self.batch(conn, self.pools.pool, index, gifts, recipients)
        return out

    def recipients_of(
        self, conn: psycopg.Connection, mine: list[tuple[Recipient, list[Slice]]], per: int = 500
    ) -> None:
        """Stage 3: the wallets of this worker's recipients, `per` to a transaction."""
        for i in range(0, len(mine), per):
            self.batch(conn, self.pools.recipients, mine[i : i + per])

    def finish(self) -> Stats:
        """The worker's figures, once every stage is written."""
        t, s = self.wallets.tally, self.stats
        s.redeemed, s.redemptions, s.held = t.redeemed, t.redemptions, t.held
        s.expired, s.expired_before = t.expired, t.expired_before
        s.sold = {str(k): v for k, v in t.sold.items()}
        s.donated, s.donations = self.wallets.giving.donated, self.wallets.giving.donations
        s.allocated, s.allocations = self.pools.allocated, self.pools.allocations
        s.points_clawed = self.wallets.debts.clawed
        return s

    def community(self, index: int, c: Any) -> int:
        """The residents of community `c` in this worker's buckets and their year."""
        rng, out = draws.community_rng(self.job.seed, index), self.books.out
        mine = 0
        for k in range(c.residents):
            ordinal = c.first_ordinal + k
            registered = self.plan.year_start - timedelta(days=rng.randint(30, 900))
            d = people.draw(rng)
            wallet = chain.account_id_for(wallet_of(d.id))
            bucket = chain.bucket_of(wallet, self.buckets)
            # Draw the years whatever the worker, so each resident's draws never depend on it.
            year = draws.draws(rng, c, registered)
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
            elif (d.id.int >> 7) % 10_000 < LOW_INCOME_PER_10K:
                # marked by the 民政专干 within a month of registering (at the service point)
                marked = registered + timedelta(days=(d.id.int >> 20) % 30, hours=2)
                r = Recipient(d.id, ordinal, wallet, bucket, c.index, person.birth_date, marked)
                out["community_low_income"].append(low_income_row(self.new_id(), r, c))
                self.recipients.append(r)
                self.stats.low_income += 1
        return mine

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
        year: draws.Draws,
        out: dict[str, list[tuple]],
    ) -> None:
        """A participant's records in time order (reviewed: hours and decision, or refused as
        fraud), then the wallet's two years (awards, gifts, redemptions, clawbacks, expiry),
        then the cases of records taken back."""
        rid, s = person.id, self.stats
        months: dict[str, int] = defaultdict(int)
        records = []
        for a, minutes, delay, offline in year:
            start = a.starts_at + timedelta(minutes=delay)
            records.append((start + timedelta(minutes=minutes), start, a, minutes, offline))
        records.sort(key=lambda r: (r[0], r[2].id))  # by end, then activity: the cap's order
        awards: list[Award] = []
        clawbacks: list[tuple[Verdict, uuid.UUID, tuple[str, int, date], Award | None]] = []
        served: set[bool] = set()  # in the year (True) or the year before (False)
        cased = False
        for ended, start, a, minutes, offline in records:
            v = self.fraud.verdict(offline, ended + REVIEWED, cased, self.now)
            pid = self.participation(rid, c, (start, ended), a, minutes, offline, v, out)
            in_year = ended >= self.plan.year_start
            s.flagged += v is not None
            if v is not None and v.turn == "rejected":
                cased = True
                s.rejected += in_year
                where = (c.id, c.committee_id)
                case = self.fraud.case(v, rid, pid, where, self.plan.reviewer_id, ended + REVIEWED)
                out["fraud_case"].append(case)
                continue
            served.add(in_year)
            month = month_key(ended)
            rule_set_id, rule_set = self.rule_set(c, local_date(ended))
            decision, reason, explained = self.decide(
                rule_set_id, rule_set, a.category, minutes, months[month]
            )
            months[month] += decision.awarded
            expires = expiry_instant(ended, rule_set.expiry_months)
            tid = award = None
            if decision.awarded:
                tid = self.new_id()
                award = Award(ended.astimezone(UTC), pid, decision.awarded, reason, expires, tid)
                awards.append(award)
            if v is not None and v.turn == "clawed":
                cased = True
                clawbacks.append((v, pid, (a.category, minutes, local_date(ended)), award))
            self.count(in_year, minutes, decision)
            out["scoring_award"].append((
                self.new_id(), pid, rid, rule_set_id, month, a.category, decision.credited_minutes,
                decision.base, decision.awarded, decision.cut, decision.refusal, explained,
                expires if decision.awarded else None, tid, ended + REVIEWED,
            ))  # fmt: skip
        s.participants += True in served
        s.participants_before += False in served
        for month, points in months.items():
            out["scoring_month_usage"].append((rid, month, points))
            s.max_month = max(s.max_month, points)
        applicant = reward_rules.Applicant(True, self.regions[c.index], person.birth_date, False)
        who = Who(rid, wallet, bucket, applicant, c.id)
        actor = f"staff:{self.plan.auditor_id}"
        taken = [
            Clawback(v.clawed_at, pid, award.transfer_id, award.amount,
                     f"{CLAWBACK_REASON}{v.reason}"[:500], actor)
            for v, pid, _, award in clawbacks if award is not None and v.clawed_at
        ]  # fmt: skip
        visits, gifts = self.rng(7_919, person.ordinal), self.rng(104_729, person.ordinal)
        self.wallets.year(who, awards, visits, taken, gifts)
        s.owed += self.wallets.debts.owed
        for v, pid, hours, _ in clawbacks:
            self.taken_back(v, (rid, pid), c, hours, out)

    def rng(self, salt: int, ordinal: int) -> random.Random:
        """A resident's own generator for one purpose (visits, gifts): draws that never shift
        another resident's or another purpose's."""
        return random.Random(self.job.seed * salt + ordinal)

    def count(self, in_year: bool, minutes: int, decision: rules.Award) -> None:
        """A decided record in the city's figures (the year's, or the year before's)."""
        s = self.stats
        if in_year:
            s.participations += 1
            s.minutes += minutes
            s.points += decision.awarded
        else:
            s.participations_before += 1
            s.minutes_before += minutes
            s.points_before += decision.awarded
        s.cut += decision.cut
        s.refused += decision.refusal is not None

    def taken_back(
        self,
        v: Verdict,
        ids: tuple[uuid.UUID, uuid.UUID],
        c: Any,
        hours: tuple[str, int, date],
        out: rows.Rows,
    ) -> None:
        """A record found false after approval: the case with what the clawback took, and the
        hours correction (`Clawbacks.claw_back`)."""
        rid, pid = ids
        assert v.clawed_at is not None
        category, minutes, served_on = hours
        done = self.wallets.debts.done.pop(pid, None)
        taken = (done.clawback_id, done.taken, done.debt) if done else (None, 0, 0)
        actor = f"staff:{self.plan.auditor_id}"
        out["fraud_case"].append(self.fraud.case(
            v, rid, pid, (c.id, c.committee_id), self.plan.auditor_id, v.clawed_at,
            (*taken, minutes),
        ))  # fmt: skip
        out["hours_correction"].append(
            self.fraud.correction(v, rid, pid, (category, served_on, minutes), actor, self.now)
        )
        self.stats.clawed_back += self.plan.year_start <= v.clawed_at < self.plan.year_end

    def participation(
        self,
        rid: uuid.UUID,
        c: Any,
        span: tuple[datetime, datetime],
        a: Any,
        minutes: int,
        offline: bool,
        v: Verdict | None,
        out: dict[str, list[tuple]],
    ) -> uuid.UUID:
        """A participation (checked in and out, reviewed: approved, refused as fraud, or
        taken back since) and, unless refused, its hours entry."""
        plan, pid = self.plan, self.new_id()
        start, ended = span
        reviewed = ended + REVIEWED
        slip = f"SLIP-{pid.hex}" if offline else None
        status, flags, risk, reason, recheck = "approved", "[]", 0, "审核通过", None
        if v is not None:
            flags, risk, recheck = json.dumps(list(v.codes)), v.risk, v.flagged_at
            status = {"rejected": "rejected", "clawed": "revoked"}.get(v.turn, status)
            reason = reason if v.turn == "recheck" else v.reason  # the reviewer's, the desk's
        out["activity_participation"].append((
            pid, a.id, rid, "offline" if offline else "app", status,
            start, a.lat, a.lon, True, ended, a.lat, a.lon, start, ended, flags, slip, "",
            plan.organizer_id if offline else None, plan.reviewer_id, reviewed, reason,
            start, "{}", c.committee_id if offline else None, risk, recheck,
        ))  # fmt: skip
        if status != "rejected":
            out["hours_entry"].append(
                (self.new_id(), rid, pid, a.category, minutes, local_date(ended), "", self.now)
            )
        return pid


__all__ = ["Head", "Job", "Stats", "Year"]
