"""Use cases of the region tree and organizations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from civicpoints.access import Principal, Role
from civicpoints.kit.errors import Forbidden, NotFound
from civicpoints.regions.errors import NotACommunity, OrganizationNotFound, RegionNotFound
from civicpoints.regions.importer import OrgRow, Plan, RegionRow
from civicpoints.regions.models import Department, Level, Organization, OrgKind, Region
from civicpoints.regions.repository import RegionRepository

PARENT_LEVEL = {
    Level.DISTRICT: Level.CITY,
    Level.STREET: Level.DISTRICT,
    Level.COMMUNITY: Level.STREET,
}


class RegionService:
    """The administrative tree: city → district → street → community."""

    def __init__(self, session: Session) -> None:
        self.repo = RegionRepository(session)

    def get(self, region_id: uuid.UUID) -> Region:
        """A region, or RegionNotFound."""
        region = self.repo.get(region_id)
        if region is None:
            raise RegionNotFound(field="region_id")
        return region

    def find(self, region_id: uuid.UUID) -> Region | None:
        """A region, or None."""
        return self.repo.get(region_id)

    def community(self, region_id: uuid.UUID, field: str = "community_id") -> Region:
        """A region that must be a community (a resident's home)."""
        region = self.repo.get(region_id)
        if region is None:
            raise RegionNotFound(field=field)
        if region.level != Level.COMMUNITY:
            raise NotACommunity(field=field)
        return region

    def require_role_over(self, who: Principal, role: str, region_id: uuid.UUID | None) -> None:
        """Refuse (403) anyone without `role` over the region (None: city-wide).

        The scope is checked before the region's existence: an unknown region is 403 for a
        regional holder of the role (only a city-wide one learns that it does not exist, 404)."""
        if region_id is None:
            allowed = who.may_citywide(role)
        else:
            try:
                path = self.get(region_id).path
            except NotFound:
                if who.may_citywide(role):
                    raise
                raise Forbidden() from None
            allowed = who.may(role, path)
        if not allowed:
            raise Forbidden()

    def children(self, region_id: uuid.UUID | None) -> Sequence[Region]:
        """A region's direct children by code (None: the roots)."""
        return self.repo.children(region_id)

    def widest(self, who: Principal, role: str) -> list[Region]:
        """The widest regions `role` (or admin) is held over, in tree order: every root for a
        platform-wide holder, else the regions of the grants not inside another's."""
        held = [g for g in who.grants if g.role in (role, Role.ADMIN)]
        if any(g.region_path is None and g.organization_id is None for g in held):
            return sorted(self.repo.children(None), key=lambda r: r.path)
        paths = sorted({g.region_path for g in held if g.region_path})
        found = sorted(self.repo.by_paths(paths), key=lambda r: r.path)
        return [r for r in found if not any(r.path.startswith(o.path) for o in found if o != r)]

    def ancestry(self, region: Region) -> list[Region]:
        """The region and its ancestors, most specific first."""
        parts = region.path.strip("/").split("/")
        paths = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        by_path = {r.path: r for r in self.repo.by_paths(paths)}
        return [by_path[p] for p in reversed(paths) if p in by_path]

    def add_region(
        self, code: str, name: str, level: Level, parent: Region | None, name_en: str = ""
    ) -> Region:
        """Create a region under `parent` (None for the city)."""
        path = (parent.path if parent else "") + code + "/"
        region = Region(
            code=code,
            name=name,
            name_en=name_en,
            level=level,
            parent_id=parent.id if parent else None,
            path=path,
        )
        self.repo.add(region)
        return region

    def add_organization(
        self, code: str, name: str, kind: str, department: str, region: Region, name_en: str = ""
    ) -> Organization:
        """Create a department or committee seated in `region`."""
        org = Organization(
            code=code,
            name=name,
            name_en=name_en,
            kind=kind,
            department=department,
            region_id=region.id,
        )
        self.repo.add(org)
        return org

    def organization(self, org_id: uuid.UUID, field: str = "organization_id") -> Organization:
        """An organization, or OrganizationNotFound."""
        org = self.repo.organization(org_id)
        if org is None:
            raise OrganizationNotFound(field=field)
        return org

    def region_rows(self) -> dict[str, RegionRow]:
        """Every region as an import file would describe it, by code (for `plan_regions`)."""
        tree = self.repo.all()
        code_of = {r.id: r.code for r in tree}
        return {
            r.code: RegionRow(
                r.code,
                r.name,
                r.name_en,
                Level(r.level),
                code_of[r.parent_id] if r.parent_id else "",
            )
            for r in tree
        }

    def organization_rows(self) -> dict[str, OrgRow]:
        """Every organization as an import file would describe it, by code."""
        code_of = {r.id: r.code for r in self.repo.all()}
        return {
            o.code: OrgRow(
                o.code,
                o.name,
                o.name_en,
                OrgKind(o.kind),
                Department(o.department),
                code_of[o.region_id],
            )
            for o in self.repo.organizations()
        }

    def apply_regions(self, plan: Plan[RegionRow]) -> None:
        """Create and rename as a checked plan says (parents come first in it)."""
        for row in plan.create:
            parent = self.repo.by_code(row.parent_code) if row.parent_code else None
            self.add_region(row.code, row.name, row.level, parent, row.name_en)
        for row in plan.rename:
            region = self.repo.by_code(row.code)
            assert region is not None
            region.name, region.name_en = row.name, row.name_en
        self.repo.session.flush()

    def apply_organizations(self, plan: Plan[OrgRow]) -> None:
        """Create and rename organizations as a checked plan says."""
        by_code = {o.code: o for o in self.repo.organizations()}
        for row in plan.create:
            region = self.repo.by_code(row.region_code)
            assert region is not None
            self.add_organization(row.code, row.name, row.kind, row.department, region, row.name_en)
        for row in plan.rename:
            org = by_code[row.code]
            org.name, org.name_en = row.name, row.name_en
        self.repo.session.flush()

    def by_code(self, code: str) -> Region:
        """A region by its administrative code, or RegionNotFound."""
        region = self.repo.by_code(code)
        if region is None:
            raise RegionNotFound(field="region")
        return region

    def tree(self) -> Sequence[Region]:
        """Every region, parents first."""
        return self.repo.all()

    def organizations(self) -> Sequence[Organization]:
        """Every organization."""
        return self.repo.organizations()
