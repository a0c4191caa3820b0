"""The city's rewards catalog, built by the real catalog service: the demo's sponsors,
merchants, clerks, valuation and offers (`cli.demo_rewards.build_rewards`, valid from the
first day of the year), plus the everyday goods of a community points supermarket
(积分超市), with stock for the city's size. The workers get each voucher item as a `Shelf`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from civicpoints.cli.city import City
from civicpoints.cli.demo_rewards import MERCHANTS, YUAN, build_rewards
from civicpoints.rewards import CatalogService, Fulfilment, Item, ItemCreate, ItemUpdate, Merchant
from civicpoints.rewards import rules as reward_rules

# (code, name, name_en, points, face value in yuan): small goods most residents can afford
# with one or two participations (1 point = 0.1 yuan).
EVERYDAY = [
    ("DAILY-TISSUE", "纸巾一包", "A pack of tissues", 10, 1),
    ("DAILY-SOAP", "香皂一块", "A bar of soap", 20, 2),
    ("DAILY-TOOTHPASTE", "牙膏一支", "A tube of toothpaste", 30, 3),
    ("DAILY-TOWEL", "毛巾一条", "A towel", 50, 5),
    ("DAILY-DETERGENT", "洗衣液一瓶", "A bottle of laundry detergent", 80, 8),
    ("DAILY-OIL", "食用油一桶（1 升）", "Cooking oil (1 litre)", 150, 15),
]
EVERYDAY_LIMIT = 10  # a month, each
STOCK_PER_RESIDENT = 1  # units of each voucher item per resident of the city (≤ the schema's cap)


@dataclass(frozen=True)
class Shelf:
    """A voucher item as the workers redeem it (picklable)."""

    id: uuid.UUID
    code: str
    name: str
    name_en: str
    price: int
    face_fen: int
    sponsor_id: uuid.UUID
    sponsor_code: str
    merchant_id: uuid.UUID
    merchant_name: str
    merchant_name_en: str
    clerk_id: uuid.UUID
    voucher_days: int
    period: str
    facts: reward_rules.ItemFacts  # eligibility, with the stock this worker may sell

    @property
    def reason(self) -> str:
        """The hold's reason, as `RedemptionService._hold` words it."""
        return f"兑换 {self.name} / redeem {self.name_en}"[:500]


def build_shelf(
    session: Session, city: City, since: datetime, until: datetime, residents: int, workers: int
) -> list[Shelf]:
    """Create the catalog (the valuation and the items from `since`, the items until `until`)
    and return its voucher items."""
    built = build_rewards(session, city, since + timedelta(days=90))  # starts 90 days back
    catalog = CatalogService(session)
    first = next(iter(built.items.values()))
    for code, name, name_en, points, face in EVERYDAY:
        built.items[code] = catalog.create_item(
            ItemCreate(
                code=code, name=name, name_en=name_en, category="supermarket_voucher",
                fulfilment=Fulfilment.VOUCHER, price_points=points, face_value_fen=face * YUAN,
                sponsor="city-fund", merchant="lianhua-xihu", stock_total=1000,
                limit_per_period=EVERYDAY_LIMIT, valid_from=first.valid_from,
                valid_until=until, description="社区积分超市日用品",
                description_en="Everyday goods of the community points supermarket",
            )
        )  # fmt: skip
    clerks = {code: city.staff[names[0]].id for code, *_, names in MERCHANTS}
    sponsors = {s.id: s.code for s in built.sponsors.values()}
    out = []
    for item in built.items.values():
        if item.fulfilment != Fulfilment.VOUCHER or item.merchant_id is None:
            continue  # entitlements (applications decided by a department) are not generated
        stock = min(10_000_000, max(item.stock_total, STOCK_PER_RESIDENT * residents))
        catalog.update_item(item.id, ItemUpdate(stock_total=stock, valid_until=until))
        merchant = catalog.merchant(item.merchant_id)
        out.append(
            _shelf(item, sponsors[item.sponsor_id], merchant, clerks[merchant.code], workers)
        )
    return out


def _shelf(item: Item, sponsor: str, merchant: Merchant, clerk: uuid.UUID, workers: int) -> Shelf:
    """The worker's view of a voucher item; each worker sells at most its share of stock."""
    facts = reward_rules.ItemFacts(
        active=item.active, valid_from=item.valid_from, valid_until=item.valid_until,
        region_ids=frozenset(item.region_ids), min_age=item.min_age, max_age=item.max_age,
        low_income_only=item.low_income_only, limit_per_period=item.limit_per_period,
        stock_remaining=item.stock_remaining // workers,
    )  # fmt: skip
    return Shelf(
        item.id, item.code, item.name, item.name_en, item.price_points, item.face_value_fen,
        item.sponsor_id, sponsor, merchant.id, merchant.name, merchant.name_en, clerk,
        item.voucher_days, item.period, facts,
    )  # fmt: skip
