"""Certificates of service (志愿服务记录证明) issued by the organization that recorded the
hours: which organizations a staff member may certify for, and which of a resident's approved
records that organization ran. The hours domain signs and stores; this desk checks scope first,
in SQL, so an organization out of reach is "not found" whether or not it exists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.activities.models import Activity, Participation, RecordStatus
from civicpoints.hours import (
    Certificate,
    CertificateRefused,
    CertificateService,
    Issuer,
    Kind,
    ServiceLine,
    Volunteer,
)
from civicpoints.identity import IdentityService, ResidentNotFound
from civicpoints.kit.clock import local_date
from civicpoints.kit.context import Context
from civicpoints.kit.errors import NotFound
from civicpoints.regions import Organization, Region

# who may certify an organization's records: those who run or review its activities
CERTIFIERS = (Role.ORGANIZER, Role.REVIEWER)


class OrganizationNotFound(NotFound):
    """An organization that does not exist or that the caller may not certify for."""

    code = "activities.organization_not_found"
    messages = {
        "zh-CN": "该组织不存在或不在您的管辖范围",
        "en": "no such organization in your scope",
    }


@dataclass(frozen=True)
class CertificateRequest:
    """What the issuing staff member fills in."""

    platform_no: str
    organization_id: uuid.UUID
    person_in_charge: str
    contact: str
    participation_ids: Sequence[uuid.UUID] | None = None  # None: all the resident's records
    kind: Kind = Kind.RECORD
    honour: str = ""


class CertificateDesk:
    """Scope, records and the call to the hours domain; never commits."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session = session
        self.ctx = ctx

    def _mine(self, who: Principal) -> ColumnElement[bool]:
        """SQL: organizations a certifier role of `who` covers."""
        return or_(*(scope_clause(who, role, Region.path, Organization.id) for role in CERTIFIERS))

    def _scoped(self, who: Principal) -> Select[Organization]:
        """Organizations joined to their region, filtered to `who`'s scope."""
        return (
            select(Organization)
            .join(Region, Region.id == Organization.region_id)
            .where(self._mine(who))
        )

    def organizations(self, who: Principal) -> Sequence[Organization]:
        """The organizations `who` may issue certificates for, by code."""
        stmt = self._scoped(who).order_by(Organization.code)
        return self.session.scalars(stmt).all()

    def organization(self, who: Principal, org_id: uuid.UUID) -> Organization:
        """One organization in `who`'s scope (404 otherwise, existing or not)."""
        stmt = self._scoped(who).where(Organization.id == org_id)
        org = self.session.scalars(stmt).one_or_none()
        if org is None:
            raise OrganizationNotFound("organization_id", what="组织", what_en="organization")
        return org

    def lines(self, resident_id: uuid.UUID, org_id: uuid.UUID) -> list[ServiceLine]:
        """The resident's approved records at the organization's activities, oldest first."""
        stmt = (
            select(Participation, Activity)
            .join(Activity, Activity.id == Participation.activity_id)
            .where(
                Participation.resident_id == resident_id,
                Participation.status == RecordStatus.APPROVED,
                Activity.organization_id == org_id,
            )
            .order_by(Activity.starts_at)
        )
        return [
            ServiceLine(
                p.id, local_date(p.ended_at or p.started_at or a.ends_at), a.title, a.category
            )
            for p, a in self.session.execute(stmt).all()
        ]

    def issue(self, who: Principal, req: CertificateRequest, today: date) -> Certificate:
        """Issue a certificate for a resident's hours recorded by an organization of `who`."""
        org = self.organization(who, req.organization_id)  # scope before existence
        resident = IdentityService(self.session, self.ctx).find_resident(req.platform_no)
        if resident is None:
            raise ResidentNotFound(field="platform_no")
        lines = self.lines(resident.id, org.id)
        if req.participation_ids is not None:
            wanted = set(req.participation_ids)
            if not wanted or wanted - {x.participation_id for x in lines}:
                raise CertificateRefused(
                    "participation_ids",
                    reason_zh="所选记录不全是该志愿者在本组织的已审核服务",
                    reason_en="not every record chosen is this volunteer's approved service here",
                )
            lines = [x for x in lines if x.participation_id in wanted]
        return CertificateService(self.session, self.ctx.settings).issue(
            Volunteer(resident.id, resident.name, resident.id_masked, resident.public_no),
            Issuer(
                org.id,
                org.name,
                req.person_in_charge.strip(),
                who.name,
                req.contact.strip(),
                who.id,
            ),
            lines,
            today,
            req.kind,
            req.honour.strip(),
        )
