"""Messages for the resident, derived from what is already recorded (no table of their own):
points awarded, points expiring within 30 days, vouchers used, records not approved and
applications decided — newest first, each with a link to where it is explained.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civicpoints.activities import ListingService, RecordService, RecordStatus
from civicpoints.community import HazardService
from civicpoints.fraud import Case, CaseService, CaseView
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.kit.context import Context
from civicpoints.ledger import LedgerService, wallet_of
from civicpoints.rewards import CatalogService, RedemptionStatus
from civicpoints.scoring import points_summary
from civicpoints.web.pages import signals
from civicpoints.web.pages.kit import ResidentPage

router = APIRouter(include_in_schema=False)
LOOK_BACK = 50  # of each source
SOON = timedelta(days=30)


@dataclass(frozen=True)
class Notice:
    """One message: when, what kind, its facts, and where to read more."""

    at: datetime
    # awarded, expiring, voucher_used, record_rejected, application_approved/denied, case,
    # appeal_upheld/refused, hazard_confirmed/merged/rejected
    kind: str
    facts: dict[str, object]
    link: str


def notices(db: Session, ctx: Context, resident_id: uuid.UUID, now: datetime) -> list[Notice]:
    """Every message for the resident, newest first."""
    views = CaseService(db).cases_of(resident_id, now)
    found = [
        *_awards(db, resident_id),
        *_expiring(db, ctx, resident_id, now),
        *_rejected(db, ctx, resident_id, {v.case.participation_id for v in views}),
        *_cases(db, ctx, resident_id, views),
        *_rewards(db, resident_id),
        *_hazards(db, ctx, resident_id),
    ]
    return sorted(found, key=lambda n: as_utc(n.at), reverse=True)


def _awards(db: Session, resident_id: uuid.UUID) -> list[Notice]:
    entries = LedgerService(db).entries(wallet_of(resident_id), LOOK_BACK)
    return [
        Notice(e.occurred_at, "awarded", {"points": e.amount, "reason": e.reason}, "/history")
        for e in entries
        if e.kind == "award" and e.amount > 0
    ]


def _expiring(db: Session, ctx: Context, resident_id: uuid.UUID, now: datetime) -> list[Notice]:
    lots = points_summary(db, ctx, resident_id, now).lots
    return [
        Notice(now, "expiring", {"points": lot.remaining, "on": lot.expires_at}, "/rewards")
        for lot in lots
        if as_utc(lot.expires_at) - now < SOON
    ]


def _rejected(
    db: Session, ctx: Context, resident_id: uuid.UUID, cases: set[uuid.UUID]
) -> list[Notice]:
    """Records not approved (one found false is told by its case's notice instead)."""
    rows = [
        r
        for r in RecordService(db, ctx).of_resident(resident_id, LOOK_BACK)
        if r.status == RecordStatus.REJECTED and r.id not in cases
    ]
    titles = ListingService(db).by_id([r.activity_id for r in rows])
    return [
        Notice(
            r.reviewed_at or r.created_at,
            "record_rejected",
            {"title": titles[r.activity_id].title, "reason": r.review_reason},
            f"/records/{r.id}",
        )
        for r in rows
    ]


def _cases(
    db: Session, ctx: Context, resident_id: uuid.UUID, views: list[CaseView]
) -> list[Notice]:
    """A record found false (what it brings, and the days to appeal), and an appeal's answer."""
    records = RecordService(db, ctx)
    activity = {
        v.case.id: records.own(v.case.participation_id, resident_id).activity_id for v in views
    }
    titles = ListingService(db).by_id(list(activity.values()))
    found = []
    for v in views:
        c, link = v.case, f"/cases#case-{v.case.id}"
        title = titles[activity[c.id]].title
        days = (as_utc(v.appeal_closes) - as_utc(c.decided_at)).days
        facts = {"title": title, "case": c, "days": days, "closes": v.appeal_closes}
        found.append(Notice(c.decided_at, "case", facts, link))
        if v.decision is not None:
            kind = "appeal_upheld" if v.decision.upheld else "appeal_refused"
            facts = {"title": title, "reason": v.decision.reason}
            found.append(Notice(v.decision.decided_at, kind, facts, link))
    return found


def _rewards(db: Session, resident_id: uuid.UUID) -> list[Notice]:
    catalog = CatalogService(db)
    found = [
        Notice(
            v.used_at,
            "voucher_used",
            {"item": catalog.item(v.item_id)},
            "/vouchers",
        )
        for v in catalog.vouchers_of(resident_id, LOOK_BACK)
        if v.used_at is not None
    ]
    decided = (RedemptionStatus.APPROVED, RedemptionStatus.DENIED)
    for r in catalog.redemptions_of(resident_id, LOOK_BACK):
        if r.status in decided and r.decided_at is not None:
            facts = {"item": catalog.item(r.item_id), "reason": r.decision_reason or ""}
            found.append(Notice(r.decided_at, f"application_{r.status}", facts, "/vouchers"))
    return found


def _hazards(db: Session, ctx: Context, resident_id: uuid.UUID) -> list[Notice]:
    """隐患随手拍: each decided report, with the department's note."""
    return [
        Notice(
            r.decided_at,
            f"hazard_{r.status}",
            {"address": r.address, "reason": r.reason, "points": r.points or 0},
            f"/hazards#r-{r.id}",
        )
        for r in HazardService(db, ctx).mine(resident_id, LOOK_BACK)
        if r.decided_at is not None
    ]


@router.get("/notifications")
def notifications(p: ResidentPage) -> Response:
    """My messages, newest first."""
    assert p.who is not None
    when = p.globals()["when"]

    def sanction(case: Case) -> str:
        until = when(case.suspended_until) if case.suspended_until else ""
        return signals.sanction(p, case.sanction, until)

    found = notices(p.db, p.ctx, p.who.id, utcnow())
    return p.render("resident/notifications.html", notices=found, sanction=sanction)
