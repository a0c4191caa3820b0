from civicpoints.scoring.errors import InvalidRuleSet
from civicpoints.scoring.models import AwardRow
from civicpoints.scoring.rules import CATEGORY_LABELS, Category, Facts, Mode, presence_shortfall
from civicpoints.scoring.schemas import AwardRead, RuleSetCreate, RuleSetDoc, RulesOverview
from civicpoints.scoring.service import AwardRequest, ScoringService
from civicpoints.scoring.simulation import PastParticipation, ResidentChange, Simulation
from civicpoints.scoring.summary import LotRead, PointsRead, points_summary

__all__ = [
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
    "points_summary",
    "presence_shortfall",
]
