"""Who is calling, their roles, and the pure checks of what they may do (no I/O)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    """Staff roles (DESIGN.md §1)."""

    ORGANIZER = "organizer"
    REVIEWER = "reviewer"
    MERCHANT_CLERK = "merchant_clerk"
    ADMIN = "admin"
    AUDITOR = "auditor"
    # 实名核验员: community staff who verify a resident after seeing the ID card in person.
    VERIFIER = "verifier"
    # 民政: civil-affairs staff of a community, who set low-income status and allocate the
    # community's 爱心积分池 (issue 11).
    CIVIL_AFFAIRS = "civil_affairs"
    # 教育: education-department staff of a region, who confirm a guardian's link to a child
    # and decide the education entitlements paid from a child's education points (issue 11).
    EDUCATION = "education"


@dataclass(frozen=True)
class Grant:
    """A role scoped to a region subtree (by path) and/or one organization."""

    role: str
    region_path: str | None
    organization_id: uuid.UUID | None


@dataclass(frozen=True)
class Principal:
    """An authenticated resident or staff member."""

    kind: str  # "resident" | "staff"
    id: uuid.UUID
    name: str
    grants: tuple[Grant, ...] = field(default=())

    @property
    def key(self) -> str:
        """A stable string for idempotency scopes and audit actors."""
        return f"{self.kind}:{self.id}"

    @property
    def roles(self) -> list[str]:
        """The role names held."""
        return sorted({g.role for g in self.grants})

    def may(self, role: str, region_path: str | None = None, org: uuid.UUID | None = None) -> bool:
        """Whether a grant of `role` (or admin) covers the region or organization."""
        return any(
            _covers(g, region_path, org) for g in self.grants if g.role in (role, Role.ADMIN)
        )

    def may_citywide(self, role: str) -> bool:
        """Whether `role` (or admin) is held platform-wide: unscoped, or on a root region."""
        return any(
            (g.region_path is None and g.organization_id is None)
            or (g.region_path is not None and g.region_path.count("/") == 1)
            for g in self.grants
            if g.role in (role, Role.ADMIN)
        )


def _covers(grant: Grant, region_path: str | None, org: uuid.UUID | None) -> bool:
    """A grant covers a target in its region subtree, or its own organization."""
    if grant.organization_id is not None and grant.organization_id == org:
        return True
    if grant.region_path is None:
        return grant.organization_id is None  # unscoped: the whole platform
    return region_path is not None and region_path.startswith(grant.region_path)
