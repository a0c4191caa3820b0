"""Tables of 为您推荐: each resident's setting, and the top-N stored by the nightly job
(docs/insights.md, "Recommendations")."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from civicpoints.kit.db import Base, UTCDateTime


class RecSetting(Base):
    """A resident's choice (on by default: no row means on) and when their list was last
    computed. Turned off: their recommendations are deleted and never computed again
    until they turn it back on (PIPL)."""

    __tablename__ = "insights_rec_setting"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_resident.id"), primary_key=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Recommendation(Base):
    """One activity of a resident's top-N, with its rank, score and one-line reason."""

    __tablename__ = "insights_recommendation"

    resident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("identity_resident.id"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("activity.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(16))  # a Reason code (recs_rules.py)
    reason_arg: Mapped[str] = mapped_column(String(200), default="")
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecModel(Base):
    """The model fitted by the nightly job (counts only: series neighbours, popularity, the
    age bands' shares; no resident), kept for the first looks of the day so that a resident
    never computed is ranked without fitting a model per request. Only the newest is kept."""

    __tablename__ = "insights_rec_model"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    fitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # zlib of recs_rules.Model.to_dict JSON
