from civicpoints.scoring.models import AwardRow
from civicpoints.scoring.rules import Category, Facts, presence_shortfall
from civicpoints.scoring.schemas import AwardRead
from civicpoints.scoring.service import AwardRequest, ScoringService

__all__ = [
    "AwardRead",
    "AwardRequest",
    "AwardRow",
    "Category",
    "Facts",
    "ScoringService",
    "presence_shortfall",
]
