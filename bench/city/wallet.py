"""A wallet's two years in time order: awards (and points carried in from a community pool)
open lots; visits to the catalog redeem voucher items (a hold that takes lots earliest expiry
first, the voucher, its use at the merchant: the post to the sponsor's redemption sink and the
booking), as `RedemptionService.redeem` and `VoucherService.verify` write them, after a gift to
the community's pool now and then (`gifts.py`); awards found false are taken back
(`debts.py`); lots left at their expiry are expired as the daily `LedgerService.expire_due`
job does. Every row goes through `Books`, in the chain's order."""

from __future__ import annotations

import bisect
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from bench.city.books import Books, Head, Lot, Side, Slice
from bench.city.debts import Clawback, Debts
from bench.city.gifts import Giving
from bench.city.shelf import Shelf
from civicpoints.kit.clock import local_date, month_key, start_of_local_day
from civicpoints.ledger import wallet_of
from civicpoints.rewards import rules as reward_rules
from civicpoints.rewards.service import HOLD_GRACE as service_grace

P_VISIT = 0.95  # after an award, the chance of a visit to the catalog within VISIT_DAYS
VISIT_DAYS = (1, 45)
P_FAVOURITE = 0.5  # at a visit, the dearest affordable item (else any affordable one)
P_MORE = 0.95  # after each item, the chance to look for another
USE_HOURS = (0.5, 240)  # a voucher is used this long after it was redeemed
HOLD_GRACE = service_grace  # a voucher's hold outlives it (the rewards service's own value)
FEN_PER_POINT = 10  # the valuation the catalog stores (cli.demo_rewards: 1 point = 0.1 yuan)
EXPIRE_REASON = "积分到期 / points expired"
EXPIRE_ACTOR = "system:ledger.expire"


@dataclass(frozen=True)
class Award:
    """A decided award of one participation, to be posted at `at` (UTC)."""

    at: datetime
    participation_id: uuid.UUID
    amount: int
    reason: str
    expires: datetime
    transfer_id: uuid.UUID


@dataclass
class Tally:
    """What the wallets did: points by flow and window (`year`: the generated year)."""

    redeemed: int = 0  # posted in the year
    redemptions: int = 0  # redeemed in the year
    held: int = 0  # vouchers not yet used today (pending holds)
    expired: int = 0  # expired in the year
    expired_before: int = 0
    sold: dict[uuid.UUID, int] = field(default_factory=dict)  # units per item


@dataclass(frozen=True)
class Who:
    """What a wallet's year needs of its resident."""

    id: uuid.UUID
    wallet: uuid.UUID
    bucket: int
    applicant: reward_rules.Applicant
    community: uuid.UUID


Credit = Award | Slice  # an award, or points carried in from a pool (an allocation's slice)


class Wallets:
    """One worker's wallets, each generated in time order."""

    def __init__(
        self,
        books: Books,
        shelf: list[Shelf],
        reviewer: str,
        window: tuple[datetime, datetime],
        giving: Giving,
    ) -> None:
        self.books, self.shelf, self.reviewer = books, shelf, reviewer
        self.window = window
        self.tally = Tally()
        self.now = books.now  # today: set per community, as the books' `now`
        self.giving = giving
        self.debts = Debts(books, window)

    def year(
        self,
        who: Who,
        credits: Sequence[Credit],
        rng: random.Random,
        clawbacks: Sequence[Clawback] = (),
        gives: random.Random | None = None,
    ) -> Head:
        """Post the credits, the visits they lead to (a gift first now and then, drawn from
        `gives`), the clawbacks and the expiries; write the wallet's account row; its head."""
        w = Head()
        self.debts.start()
        self.giving.start()
        events: list[tuple[datetime, int, Credit | Clawback | None]] = []
        for c in credits:
            events.append((c.at, 0, c))
            if (not isinstance(c, Slice) or c.n == 1) and rng.random() < P_VISIT:
                visit = c.at + timedelta(hours=rng.uniform(VISIT_DAYS[0] * 24, VISIT_DAYS[1] * 24))
                if visit < self.now:
                    events.append((visit, 1, None))
        events += [(c.at, 2, c) for c in clawbacks]
        events.sort(key=lambda e: (e[0], e[1]))
        lots: list[Lot] = []
        own: dict[uuid.UUID, Lot] = {}  # award lots by the award's transfer
        used: dict[tuple[uuid.UUID, str], int] = {}
        for at, _, event in events:
            self.expire(who.bucket, (who.wallet, w), lots, at)
            if isinstance(event, Award):
                own[event.transfer_id] = self.award(who, w, lots, event)
            elif isinstance(event, Slice):
                self.add(lots, self.books.carry_in(event, (who.wallet, w)))
            elif isinstance(event, Clawback):
                self.debts.claw_back(who, w, lots, own[event.award], event)
            else:
                if gives is not None:
                    self.giving.maybe(who, w, lots, at, gives)
                self.visit(who, w, lots, at, used, rng)
        self.expire(who.bucket, (who.wallet, w), lots, self.now)
        self.books.out["ledger_account"].append((
            who.bucket, who.wallet, wallet_of(who.id), "wallet", False, w.balance, w.count,
            w.head, self.now, self.debts.owed,
        ))  # fmt: skip
        self.debts.account_row(who, self.now)
        return w

    @staticmethod
    def add(lots: list[Lot], lot: Lot) -> None:
        """An opened lot among the open ones, in FIFO order (unless a repayment drained it)."""
        if lot.remaining:
            bisect.insort(lots, lot, key=lambda x: (x.expires, x.id))

    def award(self, who: Who, w: Head, lots: list[Lot], a: Award) -> Lot:
        """The award's transfer and its lot (`LedgerService.credit_many`), which repays the
        wallet's debt first if it owes."""
        b = self.books
        issuer = b.account(who.bucket, "issuance:general")
        ref = f"participation:{a.participation_id}"
        what = (ref, a.reason, self.reviewer, a.at, f"award:{a.participation_id}")
        _, _, credit = b.transfer(
            who.bucket, "award", a.amount, issuer, (who.wallet, w), what, a.expires, a.transfer_id
        )
        lot = b.open_lot(who.bucket, who.wallet, credit, a.amount, a.at, a.expires)
        self.debts.repay(who, w, lot, a.transfer_id, ref, a.at)
        self.add(lots, lot)
        return lot

    def expire(self, bucket: int, account: Side, lots: list[Lot], upto: datetime) -> None:
        """The daily expiry job up to `upto`: each due lot's rest to the expiry sink."""
        while lots and lots[0].expires <= upto:
            lot = lots.pop(0)
            what = (f"lot:{lot.id}", EXPIRE_REASON, EXPIRE_ACTOR, lot.expires, f"expire:{lot.id}")
            sink = self.books.account(bucket, "expiry")
            _, debit, _ = self.books.transfer(bucket, "expire", lot.remaining, account, sink, what)
            self.books.use(bucket, lot.id, debit, lot.remaining)
            if self.window[0] <= lot.expires < self.window[1]:
                self.tally.expired += lot.remaining
            elif lot.expires < self.window[0]:
                self.tally.expired_before += lot.remaining
            lot.expired, lot.remaining = lot.remaining, 0

    def visit(
        self,
        who: Who,
        w: Head,
        lots: list[Lot],
        at: datetime,
        used: dict[tuple[uuid.UUID, str], int],
        rng: random.Random,
    ) -> None:
        """Redeem affordable items the rules allow, one voucher each, until the resident stops."""
        available = sum(x.remaining for x in lots)
        today = local_date(at)
        while True:
            choices = [s for s in self.shelf if s.price <= available]
            choices = [s for s in choices if self.refusal(s, who, at, today, used) is None]
            if not choices:
                return
            if rng.random() < P_FAVOURITE:
                item = max(choices, key=lambda s: s.price)
            else:
                item = rng.choice(choices)
            self.redeem(who, w, lots, at, item, rng)
            period = reward_rules.period_key(item.period, today)
            used[(item.id, period)] = used.get((item.id, period), 0) + 1
            available -= item.price
            if rng.random() >= P_MORE:
                return

    def refusal(
        self, s: Shelf, who: Who, at: datetime, today: date, used: dict[tuple[uuid.UUID, str], int]
    ) -> reward_rules.Refusal | None:
        """`rewards.rules.refusal` for one unit, with this worker's stock left and the
        resident's units in the item's limit period."""
        period = reward_rules.period_key(s.period, today)
        facts = replace(s.facts, stock_remaining=s.facts.stock_remaining - self.sold(s))
        return reward_rules.refusal(facts, who.applicant, at, today, 1, used.get((s.id, period), 0))

    def sold(self, s: Shelf) -> int:
        """Units of the item this worker sold so far."""
        return self.tally.sold.get(s.id, 0)

    def redeem(
        self, who: Who, w: Head, lots: list[Lot], at: datetime, s: Shelf, rng: random.Random
    ) -> None:
        """One voucher: the redemption, the hold (lots FIFO), and its use when it came before
        today (else it is still issued, its hold pending)."""
        b, new_id, out = self.books, self.books.new_id, self.books.out
        rid, hold_id, vid = new_id(), new_id(), new_id()
        ref = f"redemption:{rid}"
        hold = b.account(who.bucket, "hold")
        what = (ref, s.reason, f"resident:{who.id}", at, f"hold:{hold_id}")
        tid, debit, _ = b.transfer(who.bucket, "hold", s.price, (who.wallet, w), hold, what)
        self.take(who.bucket, lots, debit, s.price)
        today = local_date(at)
        until = start_of_local_day(today + timedelta(days=s.voucher_days + 1))
        used_at = at + timedelta(hours=rng.uniform(*USE_HOURS))
        post = None
        if used_at < self.now:
            sink = b.account(who.bucket, f"redemption:{s.sponsor_code}")
            reason = f"核销于{s.merchant_name} / used at {s.merchant_name_en}"
            what = (ref, reason[:500], f"staff:{s.clerk_id}", used_at, f"post:{hold_id}")
            post, _, _ = b.transfer(who.bucket, "post", s.price, hold, sink, what)
        done = post is not None
        out["ledger_hold"].append((
            who.bucket, hold_id, who.wallet, s.price, "posted" if done else "pending",
            s.sponsor_code, f"redeem:{rid}:0", ref, tid, debit, post, None, 0,
            until + HOLD_GRACE, at, used_at if done else None,
        ))  # fmt: skip
        out["rewards_redemption"].append((
            rid, who.id, s.id, 1, s.price, s.face_fen, "completed" if done else "issued",
            reward_rules.period_key(s.period, today), f"city:{rid}", None, None, None, None,
            None, None, at,
        ))  # fmt: skip
        code = reward_rules.group_code("".join(rng.choices(reward_rules.ALPHABET, k=20)))
        out["rewards_voucher"].append((
            vid, code, rid, s.id, who.id, s.merchant_id, s.sponsor_id, s.price, s.face_fen,
            who.bucket, hold_id, "used" if done else "issued", at, until,
            used_at if done else None, s.clerk_id if done else None,
            s.merchant_id if done else None, None, at,
        ))  # fmt: skip
        actor = f"resident:{who.id}"
        out["rewards_voucher_event"].append((new_id(), vid, "issued", actor, None, "{}", at))
        self.tally.sold[s.id] = self.sold(s) + 1
        in_year = self.window[0] <= at < self.window[1]
        self.tally.redemptions += in_year
        if not done:
            self.tally.held += s.price
            return
        clerk = f"staff:{s.clerk_id}"
        out["rewards_voucher_event"].append(
            (new_id(), vid, "used", clerk, s.merchant_id, "{}", used_at)
        )
        value, subsidy = reward_rules.split_value(s.price, FEN_PER_POINT, s.face_fen)
        out["rewards_booking"].append((
            new_id(), s.sponsor_id, rid, vid, s.merchant_id, month_key(used_at), s.price,
            FEN_PER_POINT, value, subsidy, s.face_fen, tid, debit, post, used_at,
        ))  # fmt: skip
        if self.window[0] <= used_at < self.window[1]:
            self.tally.redeemed += s.price

    def take(self, bucket: int, lots: list[Lot], entry: uuid.UUID, amount: int) -> None:
        """Take `amount` from the open lots, earliest expiry first, recording each use."""
        while amount:
            lot = lots[0]
            n = min(lot.remaining, amount)
            self.books.use(bucket, lot.id, entry, n)
            lot.remaining -= n
            amount -= n
            if not lot.remaining:
                lots.pop(0)
