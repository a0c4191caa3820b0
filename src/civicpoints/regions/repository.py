"""All SQL of the regions domain."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, SQLColumnExpression, select
from sqlalchemy.orm import Session

from civicpoints.regions.models import Organization, Region


def path_of(
    region_id: SQLColumnExpression[uuid.UUID] | SQLColumnExpression[uuid.UUID | None],
) -> ColumnElement[str]:
    """The materialized path of the region `region_id` names, as SQL (for access filters)."""
    return select(Region.path).where(Region.id == region_id).scalar_subquery()


class RegionRepository:
    """Region tree and organizations; never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, region_id: uuid.UUID) -> Region | None:
        """A region by id."""
        return self.session.get(Region, region_id)

    def by_code(self, code: str) -> Region | None:
        """A region by administrative code."""
        return self.session.scalars(select(Region).where(Region.code == code)).one_or_none()

    def by_paths(self, paths: Sequence[str]) -> Sequence[Region]:
        """Regions whose path is one of `paths`."""
        return self.session.scalars(select(Region).where(Region.path.in_(paths))).all()

    def children(self, parent_id: uuid.UUID | None) -> Sequence[Region]:
        """Direct children of a region (or the roots)."""
        stmt = select(Region).where(Region.parent_id == parent_id).order_by(Region.code)
        return self.session.scalars(stmt).all()

    def all(self) -> Sequence[Region]:
        """The whole tree, parents before children."""
        return self.session.scalars(select(Region).order_by(Region.path)).all()

    def organization(self, org_id: uuid.UUID) -> Organization | None:
        """An organization by id."""
        return self.session.get(Organization, org_id)

    def organizations(self) -> Sequence[Organization]:
        """All organizations."""
        return self.session.scalars(select(Organization).order_by(Organization.code)).all()

    def add(self, row: object) -> None:
        """Stage a new row."""
        self.session.add(row)
        self.session.flush()


def org_path_of(org_id: SQLColumnExpression[uuid.UUID | None]) -> ColumnElement[str]:
    """The path of the region an organization `org_id` belongs to, as SQL (access filters)."""
    stmt = select(Region.path).join(Organization, Organization.region_id == Region.id)
    return stmt.where(Organization.id == org_id).scalar_subquery()
