"""All SQL of the identity domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, select, true
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.identity.models import Resident, RoleGrant, Staff, Token
from civicpoints.regions import org_path_of, path_of


class IdentityRepository:
    """Residents, staff, grants and tokens; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage a new row and flush it, so unique violations surface here."""
        self.session.add(row)
        self.session.flush()

    def resident(self, resident_id: uuid.UUID) -> Resident | None:
        """A resident by id."""
        return self.session.get(Resident, resident_id)

    def resident_by(self, **criteria: str) -> Resident | None:
        """A resident by one unique column (id_bidx, phone_bidx or public_no)."""
        stmt = select(Resident).filter_by(**criteria)
        return self.session.scalars(stmt).one_or_none()

    def residents_named(
        self, name: str, last4: str, scope: ColumnElement[bool], limit: int
    ) -> Sequence[Resident]:
        """Residents of exactly this name whose ID number ends in `last4`, within `scope`.

        The masked ID keeps the last four digits in clear (`330106********1234`), so the
        match is one query, with no decryption and no pattern on a secret.
        """
        stmt = select(Resident).where(
            Resident.name == name,
            Resident.id_masked.endswith(last4, autoescape=True),
            scope,
        )
        return self.session.scalars(stmt.order_by(Resident.created_at).limit(limit)).all()

    def resident_in(self, public_no: str, scope: ColumnElement[bool]) -> Resident | None:
        """A resident by platform number, within `scope`."""
        stmt = select(Resident).where(Resident.public_no == public_no, scope)
        return self.session.scalars(stmt).one_or_none()

    def residents_by_ids(self, ids: Sequence[uuid.UUID]) -> Sequence[Resident]:
        """Residents by id (for a list's names)."""
        if not ids:
            return []
        return self.session.scalars(select(Resident).where(Resident.id.in_(ids))).all()

    def count_residents(self) -> int:
        """How many residents are registered."""
        return int(self.session.scalar(select(func.count()).select_from(Resident)) or 0)

    def staff(self, staff_id: uuid.UUID) -> Staff | None:
        """A staff member by id."""
        return self.session.get(Staff, staff_id)

    def staff_by_username(self, username: str) -> Staff | None:
        """A staff member by login name."""
        return self.session.scalars(select(Staff).where(Staff.username == username)).one_or_none()

    def grants(self, staff_id: uuid.UUID) -> Sequence[RoleGrant]:
        """The roles a staff member holds."""
        return self.session.scalars(select(RoleGrant).where(RoleGrant.staff_id == staff_id)).all()

    def staff_seen_by(self, who: Principal, after: str, limit: int) -> Sequence[Staff]:
        """Staff the reader may see (`seen_by`), in user-name order after `after`."""
        stmt = select(Staff).where(Staff.username > after, seen_by(who))
        return self.session.scalars(stmt.order_by(Staff.username).limit(limit)).all()

    def staff_seen(self, who: Principal, staff_id: uuid.UUID) -> Staff | None:
        """One staff member, if the reader may see them."""
        stmt = select(Staff).where(Staff.id == staff_id, seen_by(who))
        return self.session.scalars(stmt).one_or_none()

    def grant(self, grant_id: uuid.UUID) -> RoleGrant | None:
        """A role grant by id."""
        return self.session.get(RoleGrant, grant_id)

    def remove(self, row: object) -> None:
        """Delete a row (a revoked grant: the audit log keeps who revoked what, and when)."""
        self.session.delete(row)
        self.session.flush()

    def token(self, token_hash: str, now: datetime) -> Token | None:
        """A live token by its hash."""
        stmt = select(Token).where(
            Token.token_hash == token_hash, Token.expires_at > now, Token.revoked_at.is_(None)
        )
        return self.session.scalars(stmt).one_or_none()

    def revoke(self, token: Token, now: datetime) -> None:
        """Mark a token revoked from `now` (logout)."""
        token.revoked_at = now
        self.session.flush()


def seen_by(who: Principal) -> ColumnElement[bool]:
    """Staff a reader sees: all for a city-wide administrator or auditor, else those holding
    a role within the reader's regions or organizations (in SQL, so pages are complete)."""
    if who.may_citywide(Role.AUDITOR):
        return true()
    where = func.coalesce(path_of(RoleGrant.region_id), org_path_of(RoleGrant.organization_id))
    inside = scope_clause(who, Role.AUDITOR, where, RoleGrant.organization_id)
    return exists().where(RoleGrant.staff_id == Staff.id, inside)


def signed_in_since(since: datetime) -> Select[uuid.UUID]:
    """The residents to whom a token was issued (a sign-in) at `since` or later, as a
    statement for other domains' reads (为您推荐 ranks them nightly)."""
    return select(Token.subject_id).where(
        Token.subject_kind == "resident", Token.created_at >= since
    )
