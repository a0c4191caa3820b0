"""Rewards: catalog, redemption, vouchers, merchants, entitlements, budget and settlement."""

from civicpoints.rewards.budget import BudgetService, settlement_csv, settlement_xlsx
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.erasure import erase_rewards_data
from civicpoints.rewards.importer import CatalogImporter, read_rows
from civicpoints.rewards.models import Item, Merchant, RedemptionStatus, Sponsor
from civicpoints.rewards.schemas import ItemCreate, MerchantCreate, SponsorCreate, ValuationCreate
from civicpoints.rewards.service import RedemptionService
from civicpoints.rewards.vouchers import VoucherService

__all__ = [
    "BudgetService",
    "CatalogImporter",
    "CatalogService",
    "Item",
    "ItemCreate",
    "Merchant",
    "MerchantCreate",
    "RedemptionService",
    "RedemptionStatus",
    "Sponsor",
    "SponsorCreate",
    "ValuationCreate",
    "VoucherService",
    "erase_rewards_data",
    "read_rows",
    "settlement_csv",
    "settlement_xlsx",
]
