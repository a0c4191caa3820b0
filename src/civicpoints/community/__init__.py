"""Community: donations to the 爱心积分池 and their allocation (issue 11). Public surface."""

from civicpoints.community.donation_errors import (
    NotCivilAffairs,
    NotLowIncome,
    NotYourCommunity,
    OverMonthlyLimit,
)
from civicpoints.community.donation_rules import DonationSettings, mask_name
from civicpoints.community.donations import DonationService, PoolView

__all__ = [
    "DonationService",
    "DonationSettings",
    "NotCivilAffairs",
    "NotLowIncome",
    "NotYourCommunity",
    "OverMonthlyLimit",
    "PoolView",
    "mask_name",
]
