from civicpoints.scoring.errors import InvalidRuleSet
from civicpoints.scoring.models import AwardRow
from civicpoints.scoring.rules import (
    BACKDATE_GRACE,
    CATEGORY_LABELS,
    DEFAULT_RULE_SET,
    MAX_EXPIRY_MONTHS,
    MAX_MONTHLY_CAP,
    MAX_POINTS,
    Category,
    Facts,
    Mode,
    RuleSet,
    backdated,
    compute_award,
    presence_shortfall,
)
from civicpoints.scoring.schemas import AwardRead, RuleSetCreate, RuleSetDoc, RulesOverview
from civicpoints.scoring.service import AwardRequest, ScoringService
from civicpoints.scoring.simulation import PastParticipation, ResidentChange, Simulation
from civicpoints.scoring.summary import LotRead, PointsRead, points_summary

__all__ = [
    "BACKDATE_GRACE",
    "CATEGORY_LABELS",
    "DEFAULT_RULE_SET",
    "MAX_EXPIRY_MONTHS",
    "MAX_MONTHLY_CAP",
    "MAX_POINTS",
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
    "RuleSet",
    "RuleSetCreate",
    "RuleSetDoc",
    "RulesOverview",
    "ScoringService",
    "Simulation",
    "backdated",
    "compute_award",
    "points_summary",
    "presence_shortfall",
]
