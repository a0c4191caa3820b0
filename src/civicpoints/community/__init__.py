"""Community (issue 11): 隐患随手拍 (hazard reports); donations to the 爱心积分池 and their
allocation; the 积分银行; volunteer teams (志愿队) and their 积分挑战赛. Education accounts join
here too (DESIGN.md §3)."""

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
from civicpoints.community.team_errors import (
    NotCommunityItem,
    NotTeamMember,
    NotTeamStaff,
    TeamNotFound,
)
from civicpoints.community.team_models import Team, TeamMember, TeamRedemption
from civicpoints.community.team_rules import Contribution, hours_text
from civicpoints.community.teams import Member, TeamService, TeamView, subscribe

__all__ = [
    "SEARCH_MAX",
    "SEARCH_PAGES",
    "Candidate",
    "Contribution",
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
    "Member",
    "NotCivilAffairs",
    "NotCommunityItem",
    "NotLowIncome",
    "NotTeamMember",
    "NotTeamStaff",
    "NotYourCommunity",
    "OverMonthlyLimit",
    "OverSavingsCap",
    "PoolView",
    "SavingsService",
    "SavingsView",
    "Team",
    "TeamMember",
    "TeamNotFound",
    "TeamRedemption",
    "TeamService",
    "TeamView",
    "erase_hazard_data",
    "hours_text",
    "mask_name",
]

subscribe()
