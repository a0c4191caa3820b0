"""HTTP for the service-hours register."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from civicpoints.hours.service import HoursService
from civicpoints.identity import ResidentCaller
from civicpoints.kit.http import DbSession

router = APIRouter(tags=["hours 服务时长"])


class HoursRead(BaseModel):
    """Total and per-category service hours (permanent, independent of points)."""

    total_hours: float
    total_minutes: int
    by_category: dict[str, float]


@router.get("/me/hours", response_model=HoursRead)
def my_hours(who: ResidentCaller, db: DbSession) -> HoursRead:
    """The signed-in resident's service hours."""
    s = HoursService(db).summary(who.id)
    return HoursRead(
        total_hours=round(s.total_minutes / 60, 2),
        total_minutes=s.total_minutes,
        by_category={k: round(v / 60, 2) for k, v in s.by_category.items()},
    )
