"""Community: 隐患随手拍 (hazard reports); donations and teams join here too (DESIGN.md §3)."""

from civicpoints.community.hazard_erasure import erase_hazard_data
from civicpoints.community.hazard_errors import HazardNotFound
from civicpoints.community.hazard_models import HazardReport
from civicpoints.community.hazard_schemas import HazardDecision, HazardReportCreate
from civicpoints.community.hazard_service import Candidate, HazardService
from civicpoints.community.hazards import HazardCategory, HazardStatus

__all__ = [
    "Candidate",
    "HazardCategory",
    "HazardDecision",
    "HazardNotFound",
    "HazardReport",
    "HazardReportCreate",
    "HazardService",
    "HazardStatus",
    "erase_hazard_data",
]
