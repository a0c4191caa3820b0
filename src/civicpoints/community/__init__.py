"""Community: donations to the 爱心积分池, their allocation, the 积分银行 (issue 11)."""

from civicpoints.community.donation_errors import (
    NotCivilAffairs,
    NotLowIncome,
    NotYourCommunity,
    OverMonthlyLimit,
    OverSavingsCap,
)
from civicpoints.community.donation_rules import DonationSettings, mask_name
from civicpoints.community.donations import DonationService, PoolView
from civicpoints.community.savings import SavingsService, SavingsView

__all__ = [
    "DonationService",
    "DonationSettings",
    "NotCivilAffairs",
    "NotLowIncome",
    "NotYourCommunity",
    "OverMonthlyLimit",
    "OverSavingsCap",
    "PoolView",
    "SavingsService",
    "SavingsView",
    "mask_name",
]
