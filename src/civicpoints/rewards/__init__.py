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
from civicpoints.rewards.funds import FundOrder, community_items, fund_item
from civicpoints.rewards.importer import CatalogImporter, read_rows
from civicpoints.rewards.models import (
    Category,
    Fulfilment,
    Item,
    Merchant,
    Period,
    Redemption,
    RedemptionStatus,
    Sponsor,
    Voucher,
    VoucherStatus,
)
from civicpoints.rewards.rules import Refusal, normalize_code
from civicpoints.rewards.schemas import (
    BudgetRead,
    ItemCreate,
    ItemUpdate,
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
    "BudgetRead",
    "BudgetService",
    "CatalogImporter",
    "CatalogService",
    "Category",
    "CounterDay",
    "Fulfilment",
    "FundOrder",
    "Item",
    "ItemCreate",
    "ItemUpdate",
    "Merchant",
    "MerchantCreate",
    "Period",
    "Redemption",
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
    "community_items",
    "erase_rewards_data",
    "fund_item",
    "may_read_money",
    "normalize_code",
    "read_rows",
    "redemption_view",
    "require_admin",
    "require_reader",
    "settlement_csv",
    "settlement_file",
    "settlement_scope",
    "settlement_xlsx",
    "verified",
    "voucher_view",
]
