from civicpoints.scoring.errors import InvalidRuleSet
from civicpoints.scoring.models import AwardRow
from civicpoints.scoring.rules import (
    BACKDATE_GRACE,
    CATEGORY_LABELS,
    Category,
    Facts,
    Mode,
    backdated,
    presence_shortfall,
)
from civicpoints.scoring.schemas import AwardRead, RuleSetCreate, RuleSetDoc, RulesOverview
from civicpoints.scoring.service import AwardRequest, ScoringService
from civicpoints.scoring.simulation import PastParticipation, ResidentChange, Simulation
from civicpoints.scoring.summary import LotRead, PointsRead, points_summary

__all__ = [
    "BACKDATE_GRACE",
    "CATEGORY_LABELS",
    "AwardRead",
    "AwardRequest",
    "AwardRow",
    "Category",
    "Facts",
    "InvalidRuleSet",
    "LotRead",
    "Mode",
    "PastParticipation",
    "PointsRead",
    "ResidentChange",
    "RuleSetCreate",
    "RuleSetDoc",
    "RulesOverview",
    "ScoringService",
    "Simulation",
    "backdated",
    "points_summary",
    "presence_shortfall",
]
