"""Who may read and change the catalog and the money figures (API and pages alike)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.kit.errors import Forbidden
from civicpoints.rewards.catalog import CatalogService


def require_admin(who: Principal) -> None:
    """Catalog and money settings are for platform-wide administrators."""
    if not who.may_citywide(Role.ADMIN):
        raise Forbidden()


def may_read_money(who: Principal) -> bool:
    """Whether `who` is a city-wide administrator or auditor."""
    return who.may_citywide(Role.ADMIN) or who.may_citywide(Role.AUDITOR)


def require_reader(who: Principal) -> None:
    """Money figures are for administrators and auditors."""
    if not may_read_money(who):
        raise Forbidden()


def settlement_scope(who: Principal, session: Session) -> uuid.UUID | None:
    """Readers see every merchant; a clerk sees their own merchant's settlement only."""
    if may_read_money(who):
        return None
    merchant_id = CatalogService(session).merchant_of_clerk(who.id)
    if merchant_id is None:
        raise Forbidden()
    return merchant_id
