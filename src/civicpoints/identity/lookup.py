"""Finding a resident at a service point: by name and the last four digits of the ID number,
or by platform number, only among residents of the staff member's own regions. Never commits.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, Uuid, literal, or_
from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role, scope_clause
from civicpoints.identity.models import Resident
from civicpoints.identity.repository import IdentityRepository
from civicpoints.identity.service import ResidentNotFound
from civicpoints.kit.errors import InvalidInput
from civicpoints.kit.ids import is_platform_number
from civicpoints.regions import RegionService, path_of

# Community workers (organizers) and the service centre's verifiers look residents up.
LOOKUP_ROLES = (Role.ORGANIZER, Role.VERIFIER)
MAX_MATCHES = 20
_LAST4 = re.compile(r"\d{3}[\dX]")


class ResidentLookup:
    """Residents as staff at a service point may see them (names; ID and phone masked)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repo = IdentityRepository(session)

    def find(
        self, who: Principal, name: str = "", last4: str = "", number: str = ""
    ) -> list[Resident]:
        """Residents in `who`'s regions by platform number, or by name + ID's last four."""
        scope = self._scope(who)
        number = _compact(number)
        if number:
            if not is_platform_number(number):
                raise _invalid(
                    "number", "平台编号", "platform number", "格式不对", "not recognized"
                )
            found = self.repo.resident_in(number, scope)
            return [found] if found else []
        name, last4 = unicodedata.normalize("NFKC", name).strip(), _compact(last4)
        if not name:
            raise _invalid("name", "姓名", "name", "请填写", "required")
        if not _LAST4.fullmatch(last4):
            raise _invalid(
                "last4",
                "身份证号后四位",
                "last four of the ID number",
                "应为 4 位数字（最后一位可为 X）",
                "must be 4 digits (the last may be X)",
            )
        return list(self.repo.residents_named(name, last4, scope, MAX_MATCHES))

    def visible(self, resident_id: uuid.UUID, who: Principal) -> Resident:
        """A resident of `who`'s regions; anyone else reads as not found."""
        resident = self.repo.resident(resident_id)
        home = RegionService(self.session).get(resident.community_id).path if resident else None
        if resident is None or not any(who.may(role, home) for role in LOOKUP_ROLES):
            raise ResidentNotFound(field="resident")
        return resident

    def by_ids(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Resident]:
        """Residents by id, for the names on a list the caller may already see."""
        return {r.id: r for r in self.repo.residents_by_ids(list(set(ids)))}

    def _scope(self, who: Principal) -> ColumnElement[bool]:
        """Residents whose community lies in a region `who` looks after (no organization)."""
        nobody = literal(None, Uuid)
        home = path_of(Resident.community_id)
        return or_(*(scope_clause(who, role, home, nobody) for role in LOOKUP_ROLES))


def _compact(text: str) -> str:
    """Full-width digits made ASCII, spaces dropped, x made X."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def _invalid(field: str, zh: str, en: str, why_zh: str, why_en: str) -> InvalidInput:
    return InvalidInput(field=field, field_zh=zh, field_en=en, reason_zh=why_zh, reason_en=why_en)
