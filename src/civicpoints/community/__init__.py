"""Community (issue 11): 隐患随手拍 (hazard reports); donations to the 爱心积分池 and their
allocation; the 积分银行. Teams and education accounts join here too (DESIGN.md §3)."""

from civicpoints.community.donation_errors import (
    InvalidDonationSetting,
    NotCivilAffairs,
    NotLowIncome,
    NotYourCommunity,
    OverMonthlyLimit,
    OverSavingsCap,
)
from civicpoints.community.donation_rules import DonationSettings, mask_name
from civicpoints.community.donation_schemas import DonationSettingCreate
from civicpoints.community.donation_settings import DonationSettingService
from civicpoints.community.donations import SEARCH_MAX, SEARCH_PAGES, DonationService, PoolView
from civicpoints.community.hazard_erasure import erase_hazard_data
from civicpoints.community.hazard_errors import HazardNotFound
from civicpoints.community.hazard_models import HazardReport
from civicpoints.community.hazard_schemas import HazardDecision, HazardReportCreate
from civicpoints.community.hazard_service import Candidate, HazardService
from civicpoints.community.hazards import HazardCategory, HazardStatus
from civicpoints.community.savings import SavingsService, SavingsView

__all__ = [
    "SEARCH_MAX",
    "SEARCH_PAGES",
    "Candidate",
    "DonationService",
    "DonationSettingCreate",
    "DonationSettingService",
    "DonationSettings",
    "HazardCategory",
    "HazardDecision",
    "HazardNotFound",
    "HazardReport",
    "HazardReportCreate",
    "HazardService",
    "HazardStatus",
    "InvalidDonationSetting",
    "NotCivilAffairs",
    "NotLowIncome",
    "NotYourCommunity",
    "OverMonthlyLimit",
    "OverSavingsCap",
    "PoolView",
    "SavingsService",
    "SavingsView",
    "erase_hazard_data",
    "mask_name",
]
