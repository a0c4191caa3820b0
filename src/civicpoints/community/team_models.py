"""Tables of volunteer teams (志愿队): the team, its members, and what its pool paid for.
The points live in the ledger (the pool is a ledger account of kind `team_pool`); what each
member contributed is read from scoring's awards and the hours register."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class Team(Base):
    """A volunteer team of one community, with its captain (a member)."""

    __tablename__ = "community_team"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    id: Mapped[uuid.UUID] = id_column()
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(300), default="")
    captain_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"))
    created_by: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = created_at_column()


class TeamMember(Base):
    """A resident's membership of a team; `left_at` set when they leave (their contribution
    stays). One row per team and resident: rejoining clears `left_at`."""

    __tablename__ = "community_team_member"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_team.id"), primary_key=True)
    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_resident.id"), primary_key=True, index=True
    )
    added_by: Mapped[uuid.UUID]
    joined_at: Mapped[datetime] = created_at_column()
    left_at: Mapped[datetime | None]


class TeamRedemption(Base):
    """Points of a team's pool spent on a community-fund item, decided by community staff:
    the ledger hold `hold_id` (posted to the item sponsor's sink) moved them."""

    __tablename__ = "community_team_redemption"
    __table_args__ = (UniqueConstraint("team_id", "idempotency_key"),)

    id: Mapped[uuid.UUID] = id_column()
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("community_team.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rewards_item.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")
    staff_id: Mapped[uuid.UUID]
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    hold_bucket: Mapped[int]
    hold_id: Mapped[uuid.UUID]
    entry_id: Mapped[uuid.UUID]  # the pool's debit entry (the receipt)
    created_at: Mapped[datetime] = created_at_column()
