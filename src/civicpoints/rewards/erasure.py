"""Erasing a resident's personal data from rewards (PIPL deletion; docs/privacy.md)."""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from civicpoints.rewards.models import LowIncome


def erase_rewards_data(session: Session, resident_id: uuid.UUID) -> None:
    """Drop the low-income certification (its note may name the person); money rows stay."""
    session.execute(delete(LowIncome).where(LowIncome.resident_id == resident_id))
