"""Use cases of scoring: choose the rule set, apply the cap, credit the ledger. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.kit.clock import expiry_instant, local_date, month_key, utcnow
from civicpoints.kit.errors import Forbidden
from civicpoints.kit.ids import new_id
from civicpoints.kit.metrics import AWARD_POINTS, AWARDS, count_on_commit
from civicpoints.ledger import CreditRequest, LedgerService, Movement
from civicpoints.regions import RegionService
from civicpoints.scoring import rules, simulation
from civicpoints.scoring.errors import InvalidRuleSet
from civicpoints.scoring.models import AwardRow, RuleSetRow
from civicpoints.scoring.repository import ScoringRepository
from civicpoints.scoring.schemas import (
    RuleSetCreate,
    RuleSetDoc,
    RuleSetInForce,
    RuleSetRead,
    RulesOverview,
    rule_set_from_dict,
    rule_set_to_dict,
)


@dataclass(frozen=True)
class AwardRequest:
    """Everything scoring needs to decide on one participation."""

    participation_id: uuid.UUID
    resident_id: uuid.UUID
    wallet: str
    region_ids: list[uuid.UUID]  # the activity's region and its ancestors, most specific first
    facts: rules.Facts
    occurred_at: datetime  # end of the service: decides the month and the expiry
    actor: str
    # What `participation_id` names in the ledger's ref: "participation", or "hazard_report"
    # for a confirmed hazard report (its id is the decision's key, as a record's is).
    ref_kind: str = "participation"
    # A team challenge (积分挑战赛): `wallet` is the team's pool, and the month counted against
    # the cap is the team's (its usage row is keyed by the team id), not the resident's.
    team_id: uuid.UUID | None = None

    @property
    def cap_key(self) -> uuid.UUID:
        """Whose month the cap counts: the team's for a team challenge, else the resident's."""
        return self.team_id or self.resident_id


CITY_WIDE = "全市 / city-wide"


class ScoringService:
    """Turns approved participations into points under the rules in force."""

    def __init__(self, session: Session) -> None:
        self.repo = ScoringRepository(session)
        self.ledger = LedgerService(session)

    def rules_for(
        self, region_ids: list[uuid.UUID], on: date
    ) -> tuple[uuid.UUID | None, rules.RuleSet]:
        """The rule set in force on `on` for the most specific region (else the seed defaults)."""
        return rules.in_force(_versions(self.repo.rule_sets_for(region_ids, on)), region_ids, on)

    def award(self, req: AwardRequest) -> AwardRow:
        """Decide and credit once per participation; a repeat returns the first decision."""
        return self.award_many([req])[0]

    def award_many(self, reqs: list[AwardRequest]) -> list[AwardRow]:
        """Decide and credit many participations in one go (an import chunk, or one award).

        Month rows are locked (in key order) before the ledger's accounts, the same order for
        every award, so concurrent awards queue instead of deadlocking. Decisions are made in
        the given order, so a resident's cap is consumed in that order. Participations already
        decided (before, or earlier in `reqs`) return their first decision.
        """
        done, version = self.repo.decided([r.participation_id for r in reqs])
        earlier = self.awards_of(list(done)) if done else {}
        todo: dict[uuid.UUID, AwardRequest] = {}
        for r in reqs:
            if r.participation_id not in done:
                todo.setdefault(r.participation_id, r)
        decided = self._decide(list(todo.values()), version) if todo else {}
        return [earlier.get(r.participation_id) or decided[r.participation_id] for r in reqs]

    def _decide(self, reqs: list[AwardRequest], version: object) -> dict[uuid.UUID, AwardRow]:
        """Apply the rules and the caps, credit the ledger, record the decisions."""
        months = self.repo.lock_months([(r.cap_key, month_key(r.occurred_at)) for r in reqs])
        now = utcnow()
        awards: list[AwardRow] = []
        credits: list[CreditRequest] = []
        for r in reqs:
            rule_set_id, rule_set = self._rules(version, r.region_ids, local_date(r.occurred_at))
            month = (r.cap_key, month_key(r.occurred_at))
            decision = rules.compute_award(rule_set, r.facts, months[month])
            months[month] += decision.awarded
            expires_at = expiry_instant(r.occurred_at, rule_set.expiry_months)
            if decision.awarded:
                kind = "wallet" if r.team_id is None else "team_pool"
                credits.append(
                    CreditRequest(r.wallet, _movement(r, decision), expires_at, kind=kind)
                )
            awards.append(
                AwardRow(
                    id=new_id(),
                    participation_id=r.participation_id,
                    resident_id=r.resident_id,
                    team_id=r.team_id,
                    rule_set_id=rule_set_id,
                    month=month[1],
                    category=r.facts.category,
                    credited_minutes=decision.credited_minutes,
                    base=decision.base,
                    awarded=decision.awarded,
                    cut=decision.cut,
                    refusal=decision.refusal,
                    explanation=decision.explanation,
                    transfer_id=None,
                    expires_at=expires_at if decision.awarded else None,
                    created_at=now,
                )
            )
        postings = iter(self.ledger.credit_many(credits) if credits else [])
        for award in awards:
            if award.awarded:
                award.transfer_id = next(postings).transfer_id
        self.repo.save_awards(awards, months)
        credited = [a.awarded for a in awards if a.awarded]
        if credited:
            count_on_commit(self.repo.session, lambda: _count_awards(credited))
        return {a.participation_id: a for a in awards}

    def _rules(
        self, version: object, region_ids: list[uuid.UUID], on: date
    ) -> tuple[uuid.UUID | None, rules.RuleSet]:
        """`rules_for` from a per-connection cache, reloaded whenever a rule set is added."""
        info = self.repo.session.connection().info
        cached = info.get("scoring.rules")
        if cached is None or cached[0] != version:
            cached = info["scoring.rules"] = (version, _versions(self.repo.rule_sets()), {})
        memo: dict[Any, tuple[uuid.UUID | None, rules.RuleSet]] = cached[2]
        key = (tuple(region_ids), on)
        if key not in memo:
            if len(memo) > 10_000:  # regions × days: bounded, not a leak in a long-lived server
                memo.clear()
            memo[key] = rules.in_force(cached[1], region_ids, on)
        return memo[key]

    def team_awards(self, team_id: uuid.UUID) -> dict[uuid.UUID, tuple[int, int]]:
        """A team's challenge awards by member: (points to the pool, participations)."""
        return self.repo.team_awards(team_id)

    def month_points(self, key: uuid.UUID, month: str) -> int:
        """Points counted against a cap in a month: a resident's, or a team's (by its id)."""
        return self.repo.month_points(key, month)

    def award_of(self, participation_id: uuid.UUID) -> AwardRow | None:
        """The decision on a participation, if made."""
        return self.repo.award_for(participation_id)

    def awards_of(self, participation_ids: list[uuid.UUID]) -> dict[uuid.UUID, AwardRow]:
        """Decisions on several participations, by participation id."""
        return {a.participation_id: a for a in self.repo.awards_for(participation_ids)}

    def check_may_set(self, who: Principal, region_id: uuid.UUID | None) -> None:
        """Refuse (403) anyone but an administrator of the region (city-wide: of the city)."""
        if region_id is None:
            allowed = who.may_citywide(Role.ADMIN)
        else:
            allowed = who.may(Role.ADMIN, RegionService(self.repo.session).get(region_id).path)
        if not allowed:
            raise Forbidden()

    @staticmethod
    def validated(data: RuleSetCreate, today: date | None = None) -> rules.RuleSet:
        """The rule set of a new version, checked as it would be stored (else InvalidRuleSet)."""
        parsed = rule_set_from_dict(data.rules, new=True)
        if rules.backdated(data.effective_from, today or local_date(utcnow())):
            raise InvalidRuleSet(
                "effective_from",
                reason_zh="生效日期不能早于昨天（追溯生效会改变已发放的积分）",
                reason_en="cannot start before yesterday "
                "(a retroactive rule set would change points already paid)",
            )
        return parsed

    def simulate(
        self,
        data: RuleSetCreate,
        first: date,
        past: list[simulation.PastParticipation],
        fen_per_point: int,
        today: date | None = None,
    ) -> simulation.Simulation:
        """What the new version would have done to the month starting `first`: the real rules
        re-run over the month's decided participations (`past`), before and with it."""
        proposal = self.validated(data, today)
        decided = self.awards_of([p.participation_id for p in past]) if past else {}
        past = [p for p in past if p.participation_id in decided]
        current = _versions(self.repo.rule_sets())
        proposed = simulation.with_proposal(current, data.region_id, first, proposal)
        month = f"{first.year:04d}-{first.month:02d}"
        return simulation.simulate(month, past, current, proposed, fen_per_point)

    def create_rule_set(
        self, data: RuleSetCreate, actor: uuid.UUID | None, today: date | None = None
    ) -> RuleSetRow:
        """Store a validated rule set version, starting no earlier than yesterday (Beijing);
        `today` is the Beijing date it is entered on (default: now)."""
        parsed = self.validated(data, today)
        row = RuleSetRow(
            region_id=data.region_id,
            effective_from=data.effective_from,
            rules=rule_set_to_dict(parsed),
            note=data.note,
            created_by=actor,
        )
        self.repo.add(row)
        return row

    def rule_sets(self) -> list[RuleSetRow]:
        """All rule set versions."""
        return list(self.repo.rule_sets())

    def overview(self, on: date) -> RulesOverview:
        """The rules in force on `on`: city-wide (a version, else the seed defaults) first, then
        each region with a version of its own, by place in the tree; and every version."""
        rows = self.rule_sets()
        versions = _versions(rows)
        regions = RegionService(self.repo.session)
        own = {v.region_id for v in versions if v.region_id is not None}
        places = sorted((regions.get(r) for r in own), key=lambda r: r.path)
        entries = [self._in_force(None, CITY_WIDE, versions, on)]
        for place in places:
            entry = self._in_force(place.id, place.name, versions, on)
            if entry.rule_set_id is not None:  # only future versions: the parent's rules apply
                entries.append(entry)
        return RulesOverview(
            on=on, in_force=entries, versions=[RuleSetRead.model_validate(r) for r in rows]
        )

    @staticmethod
    def _in_force(
        region_id: uuid.UUID | None, name: str, versions: list[rules.Version], on: date
    ) -> RuleSetInForce:
        """The version of one region (or city-wide) in force on `on`."""
        mine = [v for v in versions if v.region_id == region_id]
        chosen, rule_set = rules.in_force(mine, [region_id] if region_id else [], on)
        start = next((v.effective_from for v in mine if v.id == chosen), None)
        return RuleSetInForce(
            region_id=region_id,
            region_name=name,
            source="rule_set" if chosen else "seed_default",
            rule_set_id=chosen,
            effective_from=start,
            rules=RuleSetDoc.of(rule_set),
        )


def _versions(rows: Sequence[RuleSetRow]) -> list[rules.Version]:
    """Stored rule set rows as the pure module's versions."""
    return [
        rules.Version(r.id, r.region_id, r.effective_from, rule_set_from_dict(r.rules))
        for r in rows
    ]


def _count_awards(points: list[int]) -> None:
    """The metrics of committed awards (kit/metrics.py)."""
    AWARDS.inc(len(points))
    AWARD_POINTS.inc(sum(points))


def _movement(req: AwardRequest, decision: rules.Award) -> Movement:
    """The ledger movement of an award: one lot, idempotent by participation."""
    return Movement(
        kind="award",
        amount=decision.awarded,
        ref=f"{req.ref_kind}:{req.participation_id}",
        reason=decision.explanation["zh-CN"][:500],
        actor=req.actor,
        occurred_at=req.occurred_at,
        idempotency_key=f"award:{req.participation_id}",
    )
