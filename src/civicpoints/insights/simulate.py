"""The policy simulator (政策模拟), its pure part: values in, values out, no session, no clock.

The last twelve months' award decisions are replayed twice through scoring's own
`compute_award`, in the order they were decided, each month's cap counted per resident (or
team) as the real awards count it: once under the rule sets that decided them, once under a
modified copy of each (rates, monthly cap, expiry, a regional weight) for the decisions in the
scope. Nothing here knows the points formula; the figures around it (cost, liability, months of
budget) are arithmetic on the replay and on the platform's own money figures, spelled out in
docs/insights.md ("Policy simulator").
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from civicpoints.kit.clock import expiry_instant
from civicpoints.scoring import DEFAULT_RULE_SET, Category, Facts, RuleSet, compute_award

MAX_CHANGES = 20  # rates, cap, expiry, weights and prices together
MAX_WEIGHTS = 10
MAX_PRICES = 10
WEIGHT_RANGE = (10, 500)  # percent of the rates, per region
MAX_PRICE = 10_000_000  # points per unit of a reward


@dataclass(frozen=True)
class Changes:
    """What the administrator tries: a rate per category (points per hour or per
    participation), the monthly cap, the expiry in months, a weight per region (percent of the
    rates there, the most specific region's weight wins), a price per reward item (points)."""

    rates: Mapping[Category, int] = field(default_factory=dict)
    monthly_cap: int | None = None
    expiry_months: int | None = None
    weights: Mapping[uuid.UUID, int] = field(default_factory=dict)
    prices: Mapping[uuid.UUID, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many settings change."""
        singles = (self.monthly_cap is not None) + (self.expiry_months is not None)
        return len(self.rates) + singles + len(self.weights) + len(self.prices)


def modified(rules: RuleSet, changes: Changes, region_ids: Sequence[uuid.UUID]) -> RuleSet:
    """A copy of `rules` with the changes applied for a place (its region, then ancestors).

    A rate replaces the category's points (a category the rule set does not cover stays
    uncovered); the weight then scales every category's points and the hazard-report points,
    rounded down, at least 1 where there were any."""
    weight = next((changes.weights[r] for r in region_ids if r in changes.weights), 100)
    categories = {
        c: replace(rule, points=_weighted(changes.rates.get(c, rule.points), weight))
        for c, rule in rules.categories.items()
    }
    reports = replace(rules.hazard_reports, points=_weighted(rules.hazard_reports.points, weight))
    return replace(
        rules,
        categories=categories,
        hazard_reports=reports,
        monthly_cap=rules.monthly_cap if changes.monthly_cap is None else changes.monthly_cap,
        expiry_months=(
            rules.expiry_months if changes.expiry_months is None else changes.expiry_months
        ),
    )


def _weighted(points: int, percent: int) -> int:
    if percent == 100 or points <= 0:
        return points
    return max(1, points * percent // 100)


@dataclass(frozen=True)
class PastAward:
    """One award decision of the window, with the facts it was decided on.

    `order` is its place among the decisions (earlier first); `cap_key` whose month the cap
    counts (the resident's, or the team's for a team challenge); `in_scope` whether it
    happened in the simulated region (the others are replayed unchanged, only because they
    share a resident's monthly cap)."""

    order: int
    cap_key: uuid.UUID
    resident_id: uuid.UUID
    month: str
    occurred_at: datetime
    region_ids: tuple[uuid.UUID, ...]
    in_scope: bool
    rule_set_id: uuid.UUID | None
    facts: Facts
    awarded: int  # what was actually paid


@dataclass(frozen=True)
class Redeemed:
    """Redemptions of one reward item in the scope over the window."""

    item_id: uuid.UUID
    quantity: int
    points: int  # as paid


@dataclass(frozen=True)
class Money:
    """The platform's own money figures the simulation starts from (see the service).

    `outstanding`, `redeemed` and `issued`: the scope's points held now, redeemed and issued
    in the window (the dashboard's figures); `city_issued` the whole city's awards in the
    window; `city_liability_fen` and `remaining_fen` the budget page's liability and unspent
    sponsors' budget (sponsors fund the whole city)."""

    fen_per_point: int
    outstanding: int
    redeemed: int
    issued: int
    city_issued: int
    city_liability_fen: int
    remaining_fen: int


@dataclass(frozen=True)
class Replay:
    """What one set of rules gives the scope's decisions."""

    by_month: Mapping[str, int]
    earners: int  # residents (not team pools) who earned points in the scope
    at_cap: int  # of them, those who reached a monthly cap at least once
    expiring: int  # points that would have run out by now (before any redemption)
    reproduced: int  # decisions whose replay equals what was paid (the current rules: all)
    decisions: int

    @property
    def points(self) -> int:
        """Points issued in the scope over the window."""
        return sum(self.by_month.values())


def replay(
    awards: Sequence[PastAward],
    rule_sets: Mapping[uuid.UUID, RuleSet],
    changes: Changes | None,
    months: Sequence[str],
    now: datetime,
) -> Replay:
    """The decisions replayed in their order under their own rule sets (`changes` None) or
    under the modified copies (in the scope only), the cap counted per month as awarded."""
    used: Counter[tuple[uuid.UUID, str]] = Counter()
    by_month: Counter[str] = Counter({m: 0 for m in months})
    earners: set[uuid.UUID] = set()
    capped: set[uuid.UUID] = set()
    expiring = reproduced = decisions = 0
    memo: dict[tuple[uuid.UUID | None, tuple[uuid.UUID, ...]], RuleSet] = {}
    for a in sorted(awards, key=lambda a: a.order):
        rules = _rules(a, rule_sets, changes, memo)
        key = (a.cap_key, a.month)
        so_far = used[key]
        award = compute_award(rules, a.facts, so_far)
        used[key] = so_far + award.awarded
        if not a.in_scope:
            continue
        decisions += 1
        reproduced += award.awarded == a.awarded
        by_month[a.month] += award.awarded
        if award.awarded and expiry_instant(a.occurred_at, rules.expiry_months) <= now:
            expiring += award.awarded
        if a.facts.team or award.refusal is not None:
            continue
        if award.awarded:
            earners.add(a.resident_id)
        if award.cut > 0 or (rules.monthly_cap and used[key] >= rules.monthly_cap):
            capped.add(a.resident_id)
    return Replay(
        by_month=dict(sorted(by_month.items())),
        earners=len(earners),
        at_cap=len(capped & earners),
        expiring=expiring,
        reproduced=reproduced,
        decisions=decisions,
    )


def _rules(
    a: PastAward,
    rule_sets: Mapping[uuid.UUID, RuleSet],
    changes: Changes | None,
    memo: dict[tuple[uuid.UUID | None, tuple[uuid.UUID, ...]], RuleSet],
) -> RuleSet:
    """The rule set that decided `a` (the seed defaults when none was stored), modified for
    its place when it is in the scope and changes are tried."""
    base = DEFAULT_RULE_SET if a.rule_set_id is None else rule_sets[a.rule_set_id]
    if changes is None or not a.in_scope:
        return base
    key = (a.rule_set_id, a.region_ids)
    if key not in memo:
        memo[key] = modified(base, changes, a.region_ids)
    return memo[key]


def repriced(redeemed: Sequence[Redeemed], prices: Mapping[uuid.UUID, int]) -> int:
    """Points more (positive) or fewer the same redemptions would have taken at new prices."""
    return sum(r.quantity * prices[r.item_id] - r.points for r in redeemed if r.item_id in prices)


@dataclass(frozen=True)
class Side:
    """One column of the table: the current rules or the proposal."""

    by_month: Mapping[str, int]
    points: int
    cost_fen: int
    outstanding: int
    liability_fen: int
    earners: int
    at_cap: int
    months_left: float | None  # of sponsors' budget; None when nothing is being issued

    @property
    def at_cap_share(self) -> float | None:
        """Share of earning residents who reached a monthly cap (0–1), None without any."""
        return self.at_cap / self.earners if self.earners else None


@dataclass(frozen=True)
class Outcome:
    """Both columns, and how faithfully the current rules reproduce what was paid."""

    months: tuple[str, ...]
    current: Side
    proposed: Side
    decisions: int
    reproduced: int
    unspent_share: float


def outcome(
    awards: Sequence[PastAward],
    rule_sets: Mapping[uuid.UUID, RuleSet],
    changes: Changes,
    redeemed: Sequence[Redeemed],
    money: Money,
    months: Sequence[str],
    now: datetime,
) -> Outcome:
    """The current rules and the proposal side by side (docs/insights.md gives each formula).

    Extra (or fewer) points stay unspent in the share residents left unspent in the window;
    the points that would have expired by now under each rule are taken off in the same
    share; new prices change the points the window's redemptions took. Months of budget
    left: the sponsors' unspent budget less the whole city's liability, over the city's
    monthly cost of points issued (the proposal's difference added)."""
    now_ = replay(awards, rule_sets, None, months, now)
    new = replay(awards, rule_sets, changes, months, now)
    rate = money.redeemed / money.issued if money.issued else 0.0
    unspent = 1.0 - min(1.0, max(0.0, rate))
    held_delta = round((new.points - now_.points - (new.expiring - now_.expiring)) * unspent)
    held_delta -= repriced(redeemed, changes.prices)
    n = max(1, len(months))

    def side(r: Replay, held: int, city_issued: int, city_liability: int) -> Side:
        monthly = city_issued * money.fen_per_point / n
        left = None if monthly <= 0 else max(0, money.remaining_fen - city_liability) / monthly
        return Side(
            by_month=r.by_month,
            points=r.points,
            cost_fen=r.points * money.fen_per_point,
            outstanding=held,
            liability_fen=held * money.fen_per_point,
            earners=r.earners,
            at_cap=r.at_cap,
            months_left=None if left is None else round(left, 1),
        )

    held = max(0, money.outstanding + held_delta)
    city_delta = (held - money.outstanding) * money.fen_per_point
    return Outcome(
        months=tuple(months),
        current=side(now_, money.outstanding, money.city_issued, money.city_liability_fen),
        proposed=side(
            new,
            held,
            max(0, money.city_issued + new.points - now_.points),
            money.city_liability_fen + city_delta,
        ),
        decisions=now_.decisions,
        reproduced=now_.reproduced,
        unspent_share=round(unspent, 4),
    )
