"""The guardian's choice, per 教育支持 activity, of where its points go (教育积分)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, created_at_column, id_column


class EducationChoice(Base):
    """A resident's points for this activity go to the child's education account instead of
    their wallet (no row: the wallet, the default). Removed when the resident chooses the
    wallet again; fixed once the record's points are decided."""

    __tablename__ = "activity_education_choice"
    __table_args__ = (UniqueConstraint("activity_id", "resident_id"),)

    id: Mapped[uuid.UUID] = id_column()
    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activity.id"))
    resident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_resident.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("identity_child.id"), index=True)
    created_at: Mapped[datetime] = created_at_column()
