"""The shapes of children and links for the API and the pages (read-only)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civicpoints.identity.education_models import Child, GuardianLink, LinkStatus
from civicpoints.identity.education_schemas import (
    ChildLinkRead,
    EducationLotRead,
    StaffLinkRead,
)
from civicpoints.identity.models import Resident
from civicpoints.kit.clock import as_utc, utcnow
from civicpoints.ledger import LedgerService, education_of


def child_link_view(db: Session, link: GuardianLink, child: Child) -> ChildLinkRead:
    """A guardian's link; a confirmed one shows the child's unexpired education points."""
    lots: list[EducationLotRead] = []
    if link.status == LinkStatus.CONFIRMED:
        now = utcnow()
        lots = [
            EducationLotRead(points=x.remaining, expires_at=as_utc(x.expires_at))
            for x in LedgerService(db).lots(education_of(child.id))
            if x.remaining > 0 and as_utc(x.expires_at) > now
        ]
    return ChildLinkRead(
        link_id=link.id,
        child_id=child.id,
        child_name=child.name,
        id_masked=child.id_masked,
        birth_date=child.birth_date,
        relation=link.relation,
        status=link.status,
        reason=link.reason,
        decided_at=link.decided_at,
        created_at=link.created_at,
        balance=sum(x.points for x in lots),
        lots=lots,
    )


def staff_link_view(db: Session, link: GuardianLink, child: Child) -> StaffLinkRead:
    """A link as education staff see it."""
    guardian = db.get(Resident, link.guardian_id)
    assert guardian is not None
    return StaffLinkRead(
        link_id=link.id,
        child_id=child.id,
        child_name=child.name,
        id_masked=child.id_masked,
        birth_date=child.birth_date,
        relation=link.relation,
        guardian_id=guardian.id,
        guardian_name=guardian.name,
        guardian_public_no=guardian.public_no,
        community_id=link.community_id,
        status=link.status,
        reason=link.reason,
        created_at=link.created_at,
    )
