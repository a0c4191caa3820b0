from civicpoints.scoring.models import AwardRow
from civicpoints.scoring.rules import Category, Facts, presence_shortfall
from civicpoints.scoring.schemas import AwardRead
from civicpoints.scoring.service import AwardRequest, ScoringService
from civicpoints.scoring.summary import LotRead, PointsRead, points_summary

__all__ = [
    "AwardRead",
    "AwardRequest",
    "AwardRow",
    "Category",
    "Facts",
    "LotRead",
    "PointsRead",
    "ScoringService",
    "points_summary",
    "presence_shortfall",
]
