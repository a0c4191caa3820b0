"""The access rules as SQL: a scoped list is filtered in the query, so its pages are complete.

`scope_clause` is the SQL twin of `Principal.may`; a property test holds them equal.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, SQLColumnExpression, false, or_, true

from civicpoints.access.principal import Principal, Role


def scope_clause(
    who: Principal,
    role: str,
    region_path: SQLColumnExpression[str],
    organization_id: SQLColumnExpression[uuid.UUID] | SQLColumnExpression[uuid.UUID | None],
) -> ColumnElement[bool]:
    """Rows in a region subtree or organization that a grant of `role` (or admin) covers."""
    terms: list[ColumnElement[bool]] = []
    for grant in who.grants:
        if grant.role not in (role, Role.ADMIN):
            continue
        if grant.region_path is None and grant.organization_id is None:
            return true()  # unscoped: the whole platform
        if grant.organization_id is not None:
            terms.append(organization_id == grant.organization_id)
        if grant.region_path is not None:
            terms.append(region_path.startswith(grant.region_path, autoescape=True))
    return or_(*terms) if terms else false()
