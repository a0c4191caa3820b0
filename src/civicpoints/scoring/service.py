"""Use cases of scoring: choose the rule set, apply the cap, credit the ledger. Never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from civicpoints.kit.clock import expiry_instant, local_date, month_key
from civicpoints.ledger.service import LedgerService, Movement
from civicpoints.scoring import rules
from civicpoints.scoring.models import AwardRow, RuleSetRow
from civicpoints.scoring.repository import ScoringRepository
from civicpoints.scoring.schemas import RuleSetCreate


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


def wallet_of(resident_id: uuid.UUID) -> str:
    """The ledger owner name of a resident's points wallet."""
    return f"wallet:resident:{resident_id}"


class ScoringService:
    """Turns approved participations into points under the rules in force."""

    def __init__(self, session: Session) -> None:
        self.repo = ScoringRepository(session)
        self.ledger = LedgerService(session)

    def rules_for(
        self, region_ids: list[uuid.UUID], on: date
    ) -> tuple[RuleSetRow | None, rules.RuleSet]:
        """The rule set in force on `on` for the most specific region (else the seed defaults)."""
        rows = {str(r.id): r for r in self.repo.rule_sets_for(region_ids, on)}
        depth = {rid: i for i, rid in enumerate(region_ids)}
        candidates = [
            rules.Candidate(
                key, depth.get(row.region_id) if row.region_id else None, row.effective_from
            )
            for key, row in rows.items()
        ]
        chosen = rules.select_rule_set(candidates, on)
        if chosen is None:
            return None, rules.DEFAULT_RULE_SET
        return rows[chosen], rules.rule_set_from_dict(rows[chosen].rules)

    def award(self, req: AwardRequest) -> AwardRow:
        """Decide and credit once per participation; a repeat returns the first decision."""
        existing = self.repo.award_for(req.participation_id)
        if existing is not None:
            return existing
        row, rule_set = self.rules_for(req.region_ids, local_date(req.occurred_at))
        usage = self.repo.lock_month(req.resident_id, month_key(req.occurred_at))
        decision = rules.compute_award(rule_set, req.facts, usage.points)
        expires_at = expiry_instant(req.occurred_at, rule_set.expiry_months)
        transfer_id = self._credit(req, decision, expires_at) if decision.awarded else None
        usage.points += decision.awarded
        award = AwardRow(
            participation_id=req.participation_id,
            resident_id=req.resident_id,
            rule_set_id=row.id if row else None,
            month=usage.month,
            category=req.facts.category,
            credited_minutes=decision.credited_minutes,
            base=decision.base,
            awarded=decision.awarded,
            cut=decision.cut,
            refusal=decision.refusal,
            explanation=decision.explanation,
            transfer_id=transfer_id,
            expires_at=expires_at if decision.awarded else None,
        )
        self.repo.add(award)
        return award

    def _credit(self, req: AwardRequest, decision: rules.Award, expires_at: datetime) -> uuid.UUID:
        """Credit the awarded points as one lot expiring per the rule set."""
        move = Movement(
            kind="award",
            amount=decision.awarded,
            ref=f"participation:{req.participation_id}",
            reason=decision.explanation["zh-CN"][:500],
            actor=req.actor,
            occurred_at=req.occurred_at,
            idempotency_key=f"award:{req.participation_id}",
        )
        return self.ledger.credit(req.wallet, move, expires_at).transfer_id

    def award_of(self, participation_id: uuid.UUID) -> AwardRow | None:
        """The decision on a participation, if made."""
        return self.repo.award_for(participation_id)

    def awards_of(self, participation_ids: list[uuid.UUID]) -> dict[uuid.UUID, AwardRow]:
        """Decisions on several participations, by participation id."""
        return {a.participation_id: a for a in self.repo.awards_for(participation_ids)}

    def create_rule_set(self, data: RuleSetCreate, actor: uuid.UUID | None) -> RuleSetRow:
        """Store a validated rule set version."""
        parsed = rules.rule_set_from_dict(data.rules)
        row = RuleSetRow(
            region_id=data.region_id,
            effective_from=data.effective_from,
            rules=rules.rule_set_to_dict(parsed),
            note=data.note,
            created_by=actor,
        )
        self.repo.add(row)
        return row

    def rule_sets(self) -> list[RuleSetRow]:
        """All rule set versions."""
        return list(self.repo.rule_sets())
