"""Administering staff: accounts and role grants, each within the administrator's own scope.

A city-wide administrator may grant any role anywhere; an administrator of a district, street
or organization only within it (`Principal.may`, the same rule as every other scoped write).
Nobody changes their own roles. Auditors read. Every write here is a staff write, so the
request's audit hook records it (kit/http.py, audit/hook.py).
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.identity.errors import (
    DuplicateUsername,
    GrantNeedsScope,
    GrantNotFound,
    GrantOutsideScope,
    OwnGrants,
    StaffNotFound,
)
from civicpoints.identity.models import RoleGrant, Staff
from civicpoints.identity.repository import IdentityRepository
from civicpoints.identity.schemas import GrantCreate, GrantView, StaffCreate, StaffView
from civicpoints.identity.service import IdentityService
from civicpoints.kit.context import Context
from civicpoints.kit.errors import Forbidden
from civicpoints.regions import RegionService

PAGE = 100


def may_read_staff(who: Principal) -> bool:
    """Administrators and auditors (of any scope) see the staff list."""
    return any(g.role in (Role.ADMIN, Role.AUDITOR) for g in who.grants)


class StaffAdmin:
    """Staff accounts and role grants as administrators change them; never commits."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.repo = IdentityRepository(session)
        self.identity = IdentityService(session, ctx)
        self.regions = RegionService(session)

    def staff(self, who: Principal, after: str = "", limit: int = PAGE) -> list[StaffView]:
        """The staff the caller may see, with their roles, in user-name order."""
        if not may_read_staff(who):
            raise Forbidden()
        return [self.view(who, s) for s in self.repo.staff_seen_by(who, after, limit)]

    def one(self, who: Principal, staff_id: uuid.UUID) -> StaffView:
        """One staff account the caller may see, else 404 (as if it did not exist)."""
        return self.view(who, self._seen(who, staff_id))

    def _seen(self, who: Principal, staff_id: uuid.UUID) -> Staff:
        staff = self.repo.staff_seen(who, staff_id) if may_read_staff(who) else None
        if staff is None:
            raise StaffNotFound()
        return staff

    def view(self, who: Principal, staff: Staff) -> StaffView:
        """One staff account with its grants, each marked if the caller may revoke it."""
        roles = []
        for g in self.repo.grants(staff.id):
            region = self.regions.get(g.region_id) if g.region_id else None
            org = self.regions.organization(g.organization_id) if g.organization_id else None
            roles.append(
                GrantView(
                    id=g.id,
                    role=g.role,
                    region_id=g.region_id,
                    region_name=region.name if region else None,
                    organization_id=g.organization_id,
                    organization_name=org.name if org else None,
                    may_revoke=staff.id != who.id and self._covers(who, g),
                )
            )
        return StaffView(
            id=staff.id,
            username=staff.username,
            display_name=staff.display_name,
            active=staff.active,
            created_at=staff.created_at,
            roles=roles,
        )

    def create(self, who: Principal, data: StaffCreate, first: GrantCreate) -> Staff:
        """A new staff account holding its first role (so it is inside someone's scope)."""
        self._check_scope(who, first)
        if self.repo.staff_by_username(data.username) is not None:
            raise DuplicateUsername(username=data.username)
        staff = self.identity.add_staff(data.username, data.display_name, data.password)
        self.identity.grant(staff, first.role, first.region_id, first.organization_id)
        return staff

    def grant(self, who: Principal, staff_id: uuid.UUID, data: GrantCreate) -> RoleGrant:
        """Give a staff member the caller may see a role within the caller's scope."""
        staff = self._seen(who, staff_id)
        if staff.id == who.id:
            raise OwnGrants()
        self._check_scope(who, data)
        return self.identity.grant(staff, data.role, data.region_id, data.organization_id)

    def revoke(self, who: Principal, staff_id: uuid.UUID, grant_id: uuid.UUID) -> RoleGrant:
        """Take a role back; only a grant within the caller's scope, never their own."""
        self._seen(who, staff_id)
        grant = self.repo.grant(grant_id)
        if grant is None or grant.staff_id != staff_id:
            raise GrantNotFound()
        if grant.staff_id == who.id:
            raise OwnGrants()
        if not self._covers(who, grant):
            raise GrantOutsideScope()
        self.repo.remove(grant)
        return grant

    def _check_scope(self, who: Principal, data: GrantCreate) -> None:
        """Refuse a grant without a scope, or beyond the caller's administrative scope."""
        if data.region_id is None and data.organization_id is None:
            raise GrantNeedsScope()
        if not self._administers(who, data.region_id, data.organization_id):
            raise GrantOutsideScope()

    def _covers(self, who: Principal, grant: RoleGrant) -> bool:
        """Whether the caller administers every place an existing grant applies to."""
        return self._administers(who, grant.region_id, grant.organization_id)

    def _administers(
        self, who: Principal, region_id: uuid.UUID | None, org_id: uuid.UUID | None
    ) -> bool:
        """Whether an admin grant of the caller covers the region and the organization (an
        unknown one is a 404 naming its field; neither: the whole platform)."""
        if region_id is None and org_id is None:
            return who.may(Role.ADMIN)
        if region_id is not None and not who.may(Role.ADMIN, self.regions.get(region_id).path):
            return False
        if org_id is not None:
            org = self.regions.organization(org_id)
            return who.may(Role.ADMIN, self.regions.get(org.region_id).path, org.id)
        return True
