"""The policy simulator (政策模拟): an administrator's proposed rule changes tried against the
last twelve months of real award decisions in their scope, nothing saved (simulate.py does
the arithmetic; this gathers the facts and the platform's money figures). Never writes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.activities import record_facts
from civicpoints.insights.errors import InvalidSimulation
from civicpoints.insights.privacy import shown
from civicpoints.insights.schemas import RegionRef
from civicpoints.insights.service import InsightsService
from civicpoints.insights.simulate import (
    MAX_CHANGES,
    Changes,
    Money,
    Outcome,
    PastAward,
    Redeemed,
    Side,
    outcome,
)
from civicpoints.insights.simulator_repository import SimulatorRepository
from civicpoints.insights.simulator_schemas import (
    FigureRow,
    MonthPoints,
    SimulationCreate,
    SimulationRead,
)
from civicpoints.kit.clock import as_utc, local_date
from civicpoints.kit.errors import Forbidden, NotFound
from civicpoints.kit.months import bounds, key_of, recent_months
from civicpoints.regions import Region, RegionService
from civicpoints.rewards import BudgetService, CatalogService, Item
from civicpoints.scoring import Category, Facts, RuleSet, RuleSetDoc, ScoringService

WINDOW = 12  # months replayed, this one included (the dashboard's default range)
SUSPENDED = "earning.suspended"


@dataclass(frozen=True)
class Current:
    """The settings in force today for a region, as the form shows them first."""

    rules: RuleSet
    children: Sequence[Region]
    items: Sequence[tuple[Item, int]]  # reward items redeemed in the region, with units


class Simulator:
    """Runs simulations for administrators of a region; reads only."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = SimulatorRepository(session)
        self.regions = RegionService(session)

    def region_for(self, who: Principal, region_id: uuid.UUID | None) -> Region:
        """The region asked for (None: the caller's widest), once the caller's administrator
        scope is known to cover it (scope before existence)."""
        if Role.ADMIN not in who.roles:
            raise Forbidden()
        if region_id is None:
            tops = InsightsService(self.session).tops(who, Role.ADMIN)
            if not tops:
                raise Forbidden()
            return tops[0]
        self.regions.require_role_over(who, Role.ADMIN, region_id)
        return self.regions.get(region_id)

    def current(self, region: Region, now: datetime) -> Current:
        """The rules in force today for the region, its sub-regions, its redeemed items."""
        ids = [r.id for r in self.regions.ancestry(region)]
        _, rules = ScoringService(self.session).rules_for(ids, local_date(now))
        since, until = self._span(now)
        catalog = CatalogService(self.session)
        items = [
            (catalog.item(row[0]), int(row[1]))
            for row in self.repo.redeemed(region, since, until)[:10]
        ]
        return Current(rules, self.repo.regions_below(region), items)

    @staticmethod
    def _span(now: datetime) -> tuple[datetime, datetime]:
        months = recent_months(local_date(now), WINDOW)
        return bounds(months[0])[0], bounds(months[-1])[1]

    def simulate(self, who: Principal, data: SimulationCreate, now: datetime) -> SimulationRead:
        """What `data`'s changes would have done in the region over the last twelve months."""
        started = time.perf_counter()
        region = self.region_for(who, data.region_id)
        changes = self._changes(region, data)
        months = [key_of(m) for m in recent_months(local_date(now), WINDOW)]
        since, until = self._span(now)
        rule_sets = {
            row.id: RuleSetDoc.model_validate(row.rules).to_rules()
            for row in ScoringService(self.session).rule_sets()
        }
        awards = self._awards(region, months)
        redeemed = [
            Redeemed(item, int(units), int(points))
            for item, units, points in self.repo.redeemed(region, since, until)
        ]
        result = outcome(
            awards, rule_sets, changes, redeemed, self._money(region, months, now), months, now
        )
        took = round((time.perf_counter() - started) * 1000)
        return _read(region, months, changes, result, self._rate(now), took)

    def _changes(self, region: Region, data: SimulationCreate) -> Changes:
        """The request as the pure module's changes, refused when too many or repeated;
        a weight's region outside the scope is as unknown as one that does not exist."""
        weights = {w.region_id: w.percent for w in data.weights}
        prices = {p.item_id: p.price_points for p in data.prices}
        if len(weights) < len(data.weights) or len(prices) < len(data.prices):
            raise InvalidSimulation(
                field="weights" if len(weights) < len(data.weights) else "prices",
                zh="同一区域或兑换品只能设置一次",
                en="a region or a reward item can be set only once",
            )
        changes = Changes(
            rates=dict(data.rates),
            monthly_cap=data.monthly_cap,
            expiry_months=data.expiry_months,
            weights=weights,
            prices=prices,
        )
        if changes.count > MAX_CHANGES:
            raise InvalidSimulation(
                field=None,
                zh=f"一次最多尝试 {MAX_CHANGES} 项调整",
                en=f"at most {MAX_CHANGES} changes at a time",
            )
        if set(weights) - self.repo.region_ids(region, list(weights)):
            raise NotFound(field="weights", what="区域", what_en="region")
        catalog = CatalogService(self.session)
        for item_id in prices:
            catalog.item(item_id)  # NotFound for an unknown item
        return changes

    def _awards(self, region: Region, months: list[str]) -> list[PastAward]:
        """The window's decisions sharing a cap with the region's, as the pure module's."""
        tree = {r.id: r for r in self.regions.tree()}
        by_path = {r.path: r.id for r in tree.values()}
        ancestry: dict[uuid.UUID, tuple[uuid.UUID, ...]] = {}

        def chain(region_id: uuid.UUID) -> tuple[uuid.UUID, ...]:
            if region_id not in ancestry:
                parts = tree[region_id].path.strip("/").split("/")
                paths = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
                ancestry[region_id] = tuple(by_path[p] for p in reversed(paths) if p in by_path)
            return ancestry[region_id]

        out = []
        for row in self.repo.awards(region, months[0], months[-1]):
            past = _past(row, chain)
            if past is not None:
                inside = tree[past[1]].path.startswith(region.path)
                out.append(replace(past[0], in_scope=inside))
        return out

    def _rate(self, now: datetime) -> int:
        return CatalogService(self.session).fen_per_point(now)

    def _money(self, region: Region, months: list[str], now: datetime) -> Money:
        """The dashboard's points figures of the region and the budget page's money."""
        window = recent_months(local_date(now), WINDOW)
        totals = InsightsService(self.session).figures(region, window[0], window[-1], now).totals
        budget = BudgetService(self.session).figures()
        return Money(
            fen_per_point=budget.fen_per_point,
            outstanding=totals.outstanding,
            redeemed=totals.points.redeemed,
            issued=totals.points.issued,
            city_issued=self.repo.city_issued(months[0], months[-1]),
            city_liability_fen=budget.liability_fen,
            remaining_fen=budget.remaining_fen,
        )


def _past(row: Any, chain: Any) -> tuple[PastAward, uuid.UUID] | None:
    """One award row as a past decision with its facts, and the region it happened in (None
    for a decision whose record is gone: it cannot be re-decided)."""
    suspended = row.refusal == SUSPENDED
    record, activity = row.Participation, row.Activity
    facts: Facts
    if record is not None and activity is not None:
        facts = record_facts(record, activity, bool(row[-1]), suspended)
        occurred, region_id = as_utc(record.ended_at or activity.ends_at), activity.region_id
    elif row.community_id is not None:
        facts = Facts(
            Category.PUBLIC_SUPERVISION,
            0,
            photo=True,
            gps_verified=row.photo_lat is not None,
            suspended=suspended,
            report=True,
        )
        occurred, region_id = as_utc(row.created_at), row.community_id
    else:
        return None
    past = PastAward(
        order=row.id.int,  # UUIDv7: the order the decisions were made in
        cap_key=row.team_id or row.resident_id,
        resident_id=row.resident_id,
        month=row.month,
        occurred_at=occurred,
        region_ids=chain(region_id),
        in_scope=False,
        rule_set_id=row.rule_set_id,
        facts=facts,
        awarded=row.awarded,
    )
    return past, region_id


def _people(side: Side) -> tuple[int | str, int | str, float | None]:
    """Earners and those at the cap as published (under 10: "<10"), and the share at the cap
    (none when a count, or the rest, is small enough to single someone out)."""
    at_cap, earners, rest = shown([side.at_cap, side.earners, side.earners - side.at_cap], [])
    if not isinstance(at_cap, int) or not isinstance(earners, int) or not isinstance(rest, int):
        return at_cap, earners, None
    return at_cap, earners, round(100 * side.at_cap / side.earners, 1)


def _row(key: str, unit: str, a: Any, b: Any) -> FigureRow:
    numbers = isinstance(a, int | float) and isinstance(b, int | float)
    diff = round(b - a, 1) if numbers and unit in ("percent", "months") else None
    if numbers and diff is None:
        diff = b - a
    return FigureRow(
        key=key,
        unit=unit,
        current=a if isinstance(a, int | float) else None,
        proposed=b if isinstance(b, int | float) else None,
        difference=diff,
    )


def _read(
    region: Region, months: list[str], changes: Changes, r: Outcome, rate: int, took: int
) -> SimulationRead:
    c, p = r.current, r.proposed
    c_cap, c_earn, c_share = _people(c)
    p_cap, p_earn, p_share = _people(p)
    figures = [
        _row("points_issued", "points", c.points, p.points),
        _row("cost", "fen", c.cost_fen, p.cost_fen),
        _row("outstanding", "points", c.outstanding, p.outstanding),
        _row("liability", "fen", c.liability_fen, p.liability_fen),
        _row("earners", "people", c_earn, p_earn),
        _row("at_cap", "people", c_cap, p_cap),
        _row("at_cap_share", "percent", c_share, p_share),
        _row("months_left", "months", c.months_left, p.months_left),
    ]
    return SimulationRead(
        region=RegionRef(
            id=region.id, name=region.name, name_en=region.name_en, level=region.level
        ),
        first=months[0],
        last=months[-1],
        fen_per_point=rate,
        changes=changes.count,
        decisions=r.decisions,
        reproduced=r.reproduced,
        unspent_share=r.unspent_share,
        figures=figures,
        months=[
            MonthPoints(month=m, current=c.by_month[m], proposed=p.by_month[m]) for m in months
        ],
        took_ms=took,
    )
