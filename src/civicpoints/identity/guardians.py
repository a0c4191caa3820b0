"""Use cases of 教育积分's people: a guardian links a child (ID number checked like any ID and
stored encrypted), the education department confirms or rejects the link, and other domains
ask whether a guardian may credit (or spend for) a child. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.identity import education_rules as rules
from civicpoints.identity.education_errors import (
    AlreadyLinked,
    ChildNameMismatch,
    ChildNotLinked,
    LinkDecided,
    LinkNotConfirmed,
    LinkNotFound,
    NotAMinor,
    NotEducationStaff,
    TooManyGuardians,
)
from civicpoints.identity.education_models import Child, GuardianLink, LinkStatus
from civicpoints.identity.guardian_repository import GuardianRepository
from civicpoints.identity.idcard import mask_id_number, parse_id_number
from civicpoints.identity.models import Resident
from civicpoints.identity.service import CHILD_ID_CONTEXT
from civicpoints.kit.clock import local_date, utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.versions import in_force
from civicpoints.regions import RegionService

STATUS_ZH = {"pending": "待确认", "confirmed": "已确认", "rejected": "未通过"}


class GuardianService:
    """Children and their guardians' links, inside the caller's transaction."""

    def __init__(self, session: Session, ctx: Context) -> None:
        self.session, self.ctx = session, ctx
        self.repo = GuardianRepository(session)

    # -- the guardian --------------------------------------------------------------------

    def link(self, guardian: Resident, name: str, id_number: str, relation: str) -> GuardianLink:
        """Ask to link a child: everything is checked before anything is written."""
        today = local_date(utcnow())
        info = parse_id_number(id_number, today)  # 422 identity.invalid_id_number
        if not rules.is_minor(info.birth_date, today):
            raise NotAMinor(field="id_number")
        cipher = self.ctx.cipher
        bidx = cipher.blind_index(info.number, CHILD_ID_CONTEXT)
        child = self.repo.child_by_bidx(bidx)
        if child is not None:
            if child.name != name:
                raise ChildNameMismatch(field="name")
            if self.repo.link_of(guardian.id, child.id) is not None:
                raise AlreadyLinked(field="id_number")
            if not rules.room_for_guardian(self.repo.live_guardians(child.id)):
                raise TooManyGuardians(field="id_number", most=rules.MAX_GUARDIANS)
        else:
            child = Child(
                name=name,
                id_enc=cipher.encrypt(info.number, CHILD_ID_CONTEXT),
                id_bidx=bidx,
                id_masked=mask_id_number(info.number),
                birth_date=info.birth_date,
            )
            self._insert(child)
        link = GuardianLink(
            child_id=child.id,
            guardian_id=guardian.id,
            community_id=guardian.community_id,
            relation=relation,
            status=LinkStatus.PENDING,
        )
        self._insert(link)
        return link

    def _insert(self, row: object) -> None:
        """Insert; a racing twin loses on the unique index with the same 409."""
        try:
            with self.session.begin_nested():
                self.repo.add(row)
        except IntegrityError:
            raise AlreadyLinked(field="id_number") from None

    def children_of(self, guardian_id: uuid.UUID) -> Sequence[tuple[GuardianLink, Child]]:
        """The guardian's links and children (any status), oldest first."""
        return self.repo.links_of(guardian_id)

    def linked_child(self, guardian_id: uuid.UUID, child_id: uuid.UUID) -> GuardianLink:
        """The guardian's link to the child (any status), or 404 as if the child did not exist."""
        link = self.repo.link_of(guardian_id, child_id)
        if link is None:
            raise ChildNotLinked(field="child_id")
        return link

    def confirmed_child(self, guardian_id: uuid.UUID, child_id: uuid.UUID) -> Child:
        """The child, if the guardian's link is confirmed: 404 unlinked, 409 not confirmed."""
        link = self.linked_child(guardian_id, child_id)
        if link.status != LinkStatus.CONFIRMED:
            raise LinkNotConfirmed(field="child_id")
        child = self.repo.child(child_id)
        assert child is not None
        return child

    def child(self, child_id: uuid.UUID) -> Child:
        """A child by id (for names on staff pages), or 404."""
        child = self.repo.child(child_id)
        if child is None:
            raise ChildNotLinked(field="child_id")
        return child

    # -- the education department --------------------------------------------------------

    def queue(
        self, who: Principal, status: str | None = "pending", limit: int = 100
    ) -> Sequence[tuple[GuardianLink, Child]]:
        """Links in the regions where `who` holds the education role, oldest first."""
        require_education_staff(who)
        return self.repo.links_for(who, status, limit)

    def decide(
        self, link_id: uuid.UUID, confirm: bool, reason: str, who: Principal
    ) -> GuardianLink:
        """Confirm or reject a pending link: education staff of the guardian's region only."""
        require_education_staff(who)  # scope before existence: no role, no look
        link = self.repo.link(link_id, lock=True)
        if link is None:
            raise LinkNotFound(field="link_id")
        community = RegionService(self.session).get(link.community_id)
        if not who.may(Role.EDUCATION, community.path):
            raise NotEducationStaff()
        if link.status != LinkStatus.PENDING:
            raise LinkDecided(status=link.status, status_zh=STATUS_ZH.get(link.status, ""))
        link.status = LinkStatus.CONFIRMED if confirm else LinkStatus.REJECTED
        link.reason, link.decided_by, link.decided_at = reason[:200], who.id, utcnow()
        self.session.flush()
        return link

    def may_decide_for(self, who: Principal, guardian: Resident) -> bool:
        """Whether `who` is education staff where the guardian lives (education entitlements
        paid from a child's account are decided there)."""
        community = RegionService(self.session).get(guardian.community_id)
        return who.kind == "staff" and who.may(Role.EDUCATION, community.path)

    # -- the enrolment year --------------------------------------------------------------

    def year_end(self, region_id: uuid.UUID, on: date) -> str:
        """The enrolment year's end ("MM-DD") in force on `on` where `region_id` is: the most
        specific region's own setting, its latest version; else city-wide; else 08-31."""
        regions = RegionService(self.session)
        chain = [r.id for r in regions.ancestry(regions.get(region_id))]
        row = in_force(self.repo.settings_for(chain, on), chain, on)
        return rules.DEFAULT_YEAR_END if row is None else row.year_end


def require_education_staff(who: Principal) -> None:
    """403 unless `who` is staff holding the education role (or admin) somewhere."""
    if who.kind != "staff" or not any(g.role in (Role.EDUCATION, Role.ADMIN) for g in who.grants):
        raise NotEducationStaff()
