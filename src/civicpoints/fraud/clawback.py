"""Taking back an approved record found false, and giving it back after an upheld appeal.

The award's points come back through the ledger (its own lots first, then the oldest; what
was spent becomes debt that later awards repay first); its minutes leave the hours register
by an append-only correction. Never commits.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from civicpoints.access import Principal
from civicpoints.fraud.cases import CaseService, Finding
from civicpoints.fraud.models import Case, CaseKind
from civicpoints.hours import HoursService
from civicpoints.ledger import (
    AwardNotFound,
    ClawbackNotFound,
    ClawbackRequest,
    LedgerService,
    RestoreRequest,
    education_intake_of,
    team_pool_of,
    wallet_of,
)
from civicpoints.scoring import ScoringService


class Clawbacks:
    """Clawbacks of approved records and their restoration."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.cases = CaseService(session)

    def claw_back(self, finding: Finding, by: Principal, now: datetime) -> Case:
        """Take back a record's points and hours, and confirm the case (once per record)."""
        record_id = finding.participation_id
        award = ScoringService(self.session).award_of(record_id)
        taken = debt = 0
        clawback_id = None
        if award is not None and award.transfer_id is not None and award.awarded > 0:
            reason = f"经核查不属实，追回积分 / found false, taken back: {finding.reason}"
            result = None
            for owner in _award_owners(finding.resident_id, award.team_id):
                try:
                    result = LedgerService(self.session).claw_back(
                        ClawbackRequest(
                            owner=owner,
                            award_transfer_id=award.transfer_id,
                            amount=award.awarded,
                            ref=f"participation:{record_id}",
                            reason=reason[:500],
                            actor=by.key,
                            idempotency_key=f"clawback:{record_id}",
                        )
                    )
                    break
                except AwardNotFound:  # nothing written: the award went to the other account
                    continue
            if result is None:
                raise AwardNotFound()
            taken, debt, clawback_id = result.taken, result.debt, result.clawback_id
        correction = HoursService(self.session).correct(record_id, finding.reason, by.key)
        minutes = -correction.minutes if correction is not None else 0
        return self.cases.confirm(
            finding,
            CaseKind.CLAWBACK,
            by,
            now,
            points_taken=taken,
            debt=debt,
            minutes_removed=minutes,
            clawback_id=clawback_id,
        )

    def restore(self, case: Case, by: Principal) -> None:
        """Give back what a clawback took (an upheld appeal): points with their expiry, the
        debt forgiven, the minutes back in the register."""
        if case.clawback_id is not None:
            award = ScoringService(self.session).award_of(case.participation_id)
            owners = _award_owners(case.resident_id, award.team_id if award else None)
            for n, owner in enumerate(owners, start=1):
                try:
                    LedgerService(self.session).restore(
                        RestoreRequest(
                            owner=owner,
                            clawback_id=case.clawback_id,
                            ref=f"participation:{case.participation_id}",
                            reason="申诉成立，积分退还 / appeal upheld: points given back",
                            actor=by.key,
                            idempotency_key=f"restore:{case.id}",
                        )
                    )
                    break
                except ClawbackNotFound:  # nothing written: it was the other account's
                    if n == len(owners):
                        raise
        HoursService(self.session).uncorrect(
            case.participation_id, "申诉成立 / appeal upheld", by.key
        )


def _award_owners(resident_id: object, team_id: uuid.UUID | None) -> tuple[str, ...]:
    """Where a record's award may have been credited: a team challenge's pool (积分挑战赛); else
    the wallet, or (教育积分) the guardian's education intake, from which it was carried to a
    child's education account."""
    assert isinstance(resident_id, uuid.UUID)
    if team_id is not None:
        return (team_pool_of(team_id),)
    return wallet_of(resident_id), education_intake_of(resident_id)
