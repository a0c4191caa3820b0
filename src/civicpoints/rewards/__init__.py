"""Rewards: catalog, redemption, vouchers, merchants, entitlements, budget and settlement."""

from civicpoints.rewards.budget import BudgetService, settlement_csv, settlement_xlsx
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.erasure import erase_rewards_data
from civicpoints.rewards.importer import CatalogImporter, read_rows
from civicpoints.rewards.models import (
    Fulfilment,
    Item,
    Merchant,
    RedemptionStatus,
    Sponsor,
    Voucher,
    VoucherStatus,
)
from civicpoints.rewards.rules import Refusal, normalize_code
from civicpoints.rewards.schemas import (
    ItemCreate,
    MerchantCreate,
    RedemptionRead,
    SponsorCreate,
    ValuationCreate,
    VerifyRead,
    VoucherCode,
    VoucherRead,
)
from civicpoints.rewards.service import RedemptionService
from civicpoints.rewards.views import redemption_view, verified, voucher_view
from civicpoints.rewards.vouchers import CounterDay, VoucherService

__all__ = [
    "BudgetService",
    "CatalogImporter",
    "CatalogService",
    "CounterDay",
    "Fulfilment",
    "Item",
    "ItemCreate",
    "Merchant",
    "MerchantCreate",
    "RedemptionRead",
    "RedemptionService",
    "RedemptionStatus",
    "Refusal",
    "Sponsor",
    "SponsorCreate",
    "ValuationCreate",
    "VerifyRead",
    "Voucher",
    "VoucherCode",
    "VoucherRead",
    "VoucherService",
    "VoucherStatus",
    "erase_rewards_data",
    "normalize_code",
    "read_rows",
    "redemption_view",
    "settlement_csv",
    "settlement_xlsx",
    "verified",
    "voucher_view",
]
