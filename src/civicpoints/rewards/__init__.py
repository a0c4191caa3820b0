"""Rewards: catalog, redemption, vouchers, merchants, entitlements, budget and settlement."""

from civicpoints.rewards.access import (
    may_read_money,
    require_admin,
    require_reader,
    settlement_scope,
)
from civicpoints.rewards.budget import (
    BudgetService,
    settlement_csv,
    settlement_file,
    settlement_xlsx,
)
from civicpoints.rewards.catalog import CatalogService
from civicpoints.rewards.erasure import erase_rewards_data
from civicpoints.rewards.importer import CatalogImporter, read_rows
from civicpoints.rewards.models import (
    Category,
    Fulfilment,
    Item,
    Merchant,
    Period,
    RedemptionStatus,
    Sponsor,
)
from civicpoints.rewards.schemas import (
    ItemCreate,
    ItemUpdate,
    MerchantCreate,
    SponsorCreate,
    ValuationCreate,
)
from civicpoints.rewards.service import RedemptionService
from civicpoints.rewards.vouchers import VoucherService

__all__ = [
    "BudgetService",
    "CatalogImporter",
    "CatalogService",
    "Category",
    "Fulfilment",
    "Item",
    "ItemCreate",
    "ItemUpdate",
    "Merchant",
    "MerchantCreate",
    "Period",
    "RedemptionService",
    "RedemptionStatus",
    "Sponsor",
    "SponsorCreate",
    "ValuationCreate",
    "VoucherService",
    "erase_rewards_data",
    "may_read_money",
    "read_rows",
    "require_admin",
    "require_reader",
    "settlement_csv",
    "settlement_file",
    "settlement_scope",
    "settlement_xlsx",
]
