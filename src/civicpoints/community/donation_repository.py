"""All SQL of donations, allocations, low-income status and settings; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from civicpoints.community.donation_models import (
    Allocation,
    BoardOptIn,
    Donation,
    DonationSettingRow,
    LowIncomeStatus,
)
from civicpoints.identity import Resident


class DonationRepository:
    """Reads and writes the community's donation rows."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, row: object) -> None:
        """Stage a new row and send it (constraint violations surface here)."""
        self.session.add(row)
        self.session.flush()

    def settings_for(self, region_ids: list[uuid.UUID], on: date) -> Sequence[DonationSettingRow]:
        """Settings rows of these regions (or city-wide) in force by `on`, newest first."""
        stmt = (
            select(DonationSettingRow)
            .where(
                (DonationSettingRow.region_id.in_(region_ids))
                | DonationSettingRow.region_id.is_(None),
                DonationSettingRow.effective_from <= on,
            )
            .order_by(
                DonationSettingRow.effective_from.desc(), DonationSettingRow.created_at.desc()
            )
        )
        return self.session.scalars(stmt).all()

    def setting_versions(self) -> Sequence[DonationSettingRow]:
        """Every settings version, newest first."""
        stmt = select(DonationSettingRow).order_by(
            DonationSettingRow.created_at.desc(), DonationSettingRow.id
        )
        return self.session.scalars(stmt).all()

    def given_in_month(self, resident_id: uuid.UUID, month: str) -> int:
        """Points a resident gave in one Beijing month."""
        stmt = select(func.coalesce(func.sum(Donation.amount), 0)).where(
            Donation.resident_id == resident_id, Donation.month == month
        )
        return int(self.session.scalar(stmt) or 0)

    def donation_by_key(self, resident_id: uuid.UUID, key: str) -> Donation | None:
        """A resident's donation by its idempotency key."""
        stmt = select(Donation).where(
            Donation.resident_id == resident_id, Donation.idempotency_key == key
        )
        return self.session.scalars(stmt).first()

    def allocation_by_key(self, community_id: uuid.UUID, key: str) -> Allocation | None:
        """A community's allocation by its idempotency key."""
        stmt = select(Allocation).where(
            Allocation.community_id == community_id, Allocation.idempotency_key == key
        )
        return self.session.scalars(stmt).first()

    def donation(self, resident_id: uuid.UUID, donation_id: uuid.UUID) -> Donation | None:
        """One of a resident's donations."""
        row = self.session.get(Donation, donation_id)
        return row if row is not None and row.resident_id == resident_id else None

    def donations_of(self, resident_id: uuid.UUID, limit: int) -> Sequence[Donation]:
        """A resident's donations, newest first."""
        stmt = (
            select(Donation)
            .where(Donation.resident_id == resident_id)
            .order_by(Donation.created_at.desc())
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def allocations_in(self, community_id: uuid.UUID, limit: int) -> Sequence[Allocation]:
        """A community's allocations, newest first."""
        stmt = (
            select(Allocation)
            .where(Allocation.community_id == community_id)
            .order_by(Allocation.created_at.desc())
            .limit(limit)
        )
        return self.session.scalars(stmt).all()

    def low_income_status(self, resident_id: uuid.UUID) -> LowIncomeStatus | None:
        """The latest low-income decision on a resident (the one in force), or None."""
        stmt = (
            select(LowIncomeStatus)
            .where(LowIncomeStatus.resident_id == resident_id)
            .order_by(LowIncomeStatus.set_at.desc(), LowIncomeStatus.id.desc())
            .limit(1)
        )
        return self.session.scalars(stmt).first()

    def low_income_in(self, community_id: uuid.UUID) -> list[uuid.UUID]:
        """Residents of a community whose latest decision is 'low income'."""
        rows = self.session.scalars(
            select(LowIncomeStatus)
            .where(LowIncomeStatus.community_id == community_id)
            .order_by(LowIncomeStatus.set_at, LowIncomeStatus.id)
        ).all()
        latest = {r.resident_id: r.active for r in rows}
        return [rid for rid, active in latest.items() if active]

    def low_income_page(
        self, community_id: uuid.UUID, q: str, limit: int, offset: int
    ) -> Sequence[Resident]:
        """Residents of a community whose latest decision is 'low income', whose name holds
        `q` or whose platform number starts with it ('' all), by name; one page of them.

        The latest decision per resident is chosen in SQL (a window over the resident's
        decisions), and the resident must still live in the community."""
        ranked = (
            select(
                LowIncomeStatus.resident_id,
                LowIncomeStatus.active,
                func.row_number()
                .over(
                    partition_by=LowIncomeStatus.resident_id,
                    order_by=(LowIncomeStatus.set_at.desc(), LowIncomeStatus.id.desc()),
                )
                .label("n"),
            )
            .where(LowIncomeStatus.community_id == community_id)
            .subquery()
        )
        stmt = (
            select(Resident)
            .join(ranked, ranked.c.resident_id == Resident.id)
            .where(
                ranked.c.n == 1,
                ranked.c.active.is_(True),
                Resident.community_id == community_id,
            )
        )
        if q:
            stmt = stmt.where(
                or_(
                    Resident.name.contains(q, autoescape=True),
                    Resident.public_no.startswith(q.upper(), autoescape=True),
                )
            )
        stmt = stmt.order_by(Resident.name, Resident.public_no).limit(limit).offset(offset)
        return self.session.scalars(stmt).all()

    def board(self, community_id: uuid.UUID, limit: int) -> list[tuple[uuid.UUID, int]]:
        """(donor, total given) of donors in a community who opted in, largest first."""
        total = func.sum(Donation.amount)
        stmt = (
            select(Donation.resident_id, total)
            .join(BoardOptIn, BoardOptIn.resident_id == Donation.resident_id)
            .where(Donation.community_id == community_id, BoardOptIn.shown.is_(True))
            .group_by(Donation.resident_id)
            .order_by(total.desc())
            .limit(limit)
        )
        return [(rid, int(n)) for rid, n in self.session.execute(stmt).tuples()]

    def opt_in(self, resident_id: uuid.UUID) -> BoardOptIn | None:
        """A resident's 爱心榜 choice, or None."""
        return self.session.get(BoardOptIn, resident_id)
