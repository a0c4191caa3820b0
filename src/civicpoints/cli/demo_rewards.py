"""The demo city's rewards: sponsors, merchants with clerks, the valuation and the catalog.

The seed's examples are all here (100 points → a 10-yuan supermarket voucher; 500 → a health
check-up or an enrolment priority review; 1000 → a transit monthly pass or a scenic-spot
ticket), plus 张女士's "50元超市购物券（补贴价）" at 480 points. Used by `civicpoints demo`
and by the tests.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from civicpoints.cli.city import City
from civicpoints.identity import IdentityService
from civicpoints.kit.clock import utcnow
from civicpoints.kit.context import Context
from civicpoints.kit.db import transaction
from civicpoints.kit.errors import DomainError
from civicpoints.ledger import HoldService, wallet_of
from civicpoints.rewards import (
    CatalogService,
    Item,
    ItemCreate,
    Merchant,
    MerchantCreate,
    RedemptionService,
    Sponsor,
    SponsorCreate,
    ValuationCreate,
    VoucherService,
)

SUBSIDISED_50 = "SM-50-SUB"
DEMO_REDEMPTIONS = 24
APPLICATIONS = 3  # community-fund gifts: all but the last approved
YUAN = 100  # fen

# (code, name, name_en, kind, budget in yuan)
SPONSORS = [
    (
        "city-fund",
        "杭州市公共服务积分专项资金",
        "Hangzhou public-service points fund",
        "government",
        5_000_000,
    ),
    ("alipay", "支付宝公益（企业赞助）", "Alipay charity (sponsorship)", "enterprise", 500_000),
    ("tmall", "天猫超市（企业赞助）", "Tmall Supermarket (sponsorship)", "enterprise", 300_000),
    (
        "hz-metro",
        "杭州地铁集团（企业赞助）",
        "Hangzhou Metro Group (sponsorship)",
        "enterprise",
        200_000,
    ),
]
# (code, name, name_en, address, clerk usernames)
MERCHANTS = [
    (
        "lianhua-xihu",
        "世纪联华超市（西湖店）",
        "Lianhua Supermarket (Xihu)",
        "西湖区曙光路 88 号",
        ["clerk"],
    ),
    (
        "metro-service",
        "杭州地铁客服中心（龙翔桥站）",
        "Metro service centre (Longxiangqiao)",
        "上城区延安路",
        ["clerk_metro"],
    ),
    (
        "lingyin",
        "灵隐飞来峰景区售票处",
        "Lingyin scenic area ticket office",
        "西湖区法云弄 1 号",
        ["clerk_scenic"],
    ),
    (
        "first-hospital",
        "杭州市第一人民医院体检中心",
        "First People's Hospital health checks",
        "上城区浣纱路 261 号",
        ["clerk_health"],
    ),
    (
        "skills-centre",
        "杭州市职业技能培训中心",
        "Hangzhou vocational skills centre",
        "拱墅区湖墅南路",
        ["clerk_training"],
    ),
    ("farm-coop", "大关农资供销社", "Daguan farm supplies co-op", "拱墅区大关路", ["clerk_farm"]),
]


@dataclass(frozen=True)
class Offer:
    """One catalog item of the demo (money in yuan here, stored in fen)."""

    code: str
    name: str
    name_en: str
    category: str
    price: int
    face_yuan: int
    sponsor: str
    merchant: str | None = None
    department: str | None = None  # entitlements: the owning department's code
    stock: int = 5000
    limit: int = 1
    period: str = "month"
    min_age: int | None = None
    max_age: int | None = None
    low_income: bool = False
    rural_only: bool = False  # only the last street (大关, the demo's farming edge)
    description: str = ""
    description_en: str = ""


OFFERS = [
    Offer(
        "SM-10",
        "10元超市购物券",
        "10-yuan supermarket voucher",
        "supermarket_voucher",
        100,
        10,
        "city-fund",
        "lianhua-xihu",
        limit=5,
        description="世纪联华门店通用，满 10 元可用",
        description_en="At Lianhua stores",
    ),
    Offer(
        SUBSIDISED_50,
        "50元超市购物券（补贴价）",
        "50-yuan supermarket voucher (subsidised)",
        "supermarket_voucher",
        480,
        50,
        "tmall",
        "lianhua-xihu",
        stock=1000,
        description="天猫超市补贴 2 元：480 积分兑 50 元",
        description_en="Tmall adds 2 yuan",
    ),
    Offer(
        "HEALTH-CHECK",
        "免费体检一次",
        "Free health check-up",
        "health_checkup",
        500,
        200,
        "city-fund",
        "first-hospital",
        stock=800,
        period="year",
        min_age=18,
    ),
    Offer(
        "ELDER-CHECK-BOOKING",
        "老年人免费体检预约",
        "Free health check-up booking (60+)",
        "health_checkup",
        500,
        200,
        "city-fund",
        department="MZ",
        stock=500,
        period="year",
        min_age=60,
        description="由市民政局安排体检时间，审核结果在兑换记录中可见",
        description_en="Civil Affairs books the date; the outcome shows in your history",
    ),
    Offer(
        "EDU-PRIORITY",
        "子女入学优先审核",
        "Enrolment priority review",
        "education_priority",
        500,
        50,
        "city-fund",
        department="JY",
        stock=300,
        period="year",
        description="由市教育局审核，结果在兑换记录中可见",
        description_en="Decided by the Education Bureau; the outcome shows in your history",
    ),
    Offer(
        "TRANSIT-MONTH",
        "公共交通月卡",
        "Public transport monthly pass",
        "transit_pass",
        1000,
        100,
        "hz-metro",
        "metro-service",
        stock=500,
    ),
    Offer(
        "LINGYIN-TICKET",
        "灵隐飞来峰景区门票",
        "Lingyin scenic-spot ticket",
        "scenic_ticket",
        1000,
        100,
        "city-fund",
        "lingyin",
        stock=500,
        period="year",
    ),
    Offer(
        "SKILLS-COURSE",
        "职业技能培训课程（育婴员）",
        "Vocational course (childcare)",
        "training_course",
        800,
        800,
        "city-fund",
        "skills-centre",
        stock=100,
        period="year",
        min_age=16,
        max_age=60,
    ),
    Offer(
        "HONOUR-CERT",
        "优秀志愿者荣誉证书",
        "Outstanding volunteer certificate",
        "honour_certificate",
        200,
        20,
        "city-fund",
        department="MZ",
        stock=1000,
        period="year",
    ),
    Offer(
        "FARM-SEEDS",
        "农资兑换券（种子化肥）",
        "Farm supplies voucher (seed, fertiliser)",
        "farm_supplies",
        300,
        30,
        "city-fund",
        "farm-coop",
        stock=400,
        rural_only=True,
    ),
    Offer(
        "RICE-OIL",
        "米面油礼包（低收入家庭）",
        "Rice, flour and oil pack (low income)",
        "supermarket_voucher",
        200,
        100,
        "alipay",
        "lianhua-xihu",
        stock=300,
        low_income=True,
    ),
    Offer(
        "COMMUNITY-FUND",
        "捐入社区活动室装修基金",
        "Give to the community room fund",
        "community_fund",
        100,
        10,
        "city-fund",
        department="MZ",
        stock=100_000,
        limit=50,
    ),
]


@dataclass
class Rewards:
    """Handles to what was built."""

    sponsors: dict[str, Sponsor] = field(default_factory=dict)
    merchants: dict[str, Merchant] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)


def build_rewards(session: Session, city: City, now: datetime) -> Rewards:
    """Sponsors, merchants and clerks, the 0.1-yuan valuation, and the catalog."""
    catalog, out = CatalogService(session), Rewards()
    start = now - timedelta(days=90)
    catalog.add_valuation(
        ValuationCreate(fen_per_point=10, effective_from=start, note="1 积分 = 0.1 元")
    )
    for code, name, name_en, kind, budget in SPONSORS:
        data = SponsorCreate(
            code=code, name=name, name_en=name_en, kind=kind, budget_fen=budget * YUAN
        )
        out.sponsors[code] = catalog.add_sponsor(data)
    for code, name, name_en, address, clerks in MERCHANTS:
        merchant = catalog.add_merchant(
            MerchantCreate(code=code, name=name, name_en=name_en, address=address)
        )
        out.merchants[code] = merchant
        for username in clerks:
            catalog.add_clerk(merchant, city.staff[username].id)
    for offer in OFFERS:
        out.items[offer.code] = catalog.create_item(_item(offer, city, start))
    return out


def _item(offer: Offer, city: City, start: datetime) -> ItemCreate:
    """The API shape of a demo offer."""
    return ItemCreate(
        code=offer.code,
        name=offer.name,
        name_en=offer.name_en,
        description=offer.description,
        description_en=offer.description_en,
        category=offer.category,
        fulfilment="entitlement" if offer.department else "voucher",
        price_points=offer.price,
        face_value_fen=offer.face_yuan * YUAN,
        sponsor=offer.sponsor,
        merchant=offer.merchant,
        department_id=city.departments[offer.department].id if offer.department else None,
        stock_total=offer.stock,
        limit_per_period=offer.limit,
        period=offer.period,
        region_ids=[city.streets[-1].id] if offer.rural_only else [],
        min_age=offer.min_age,
        max_age=offer.max_age,
        low_income_only=offer.low_income,
        valid_from=start,
        valid_until=start + timedelta(days=455),
        voucher_days=30,
        image_url=f"/static/rewards/{offer.code.lower()}.png",
    )


def load_rewards(
    sessions: sessionmaker[Session], ctx: Context, city: City, residents: list[uuid.UUID]
) -> Rewards:
    """The catalog, then a month of use: 10-yuan vouchers redeemed, most used, a few cancelled;
    gifts to the community room fund, approved or awaiting the Civil Affairs Bureau.

    张女士 is left alone: her 480 points wait for the 50-yuan voucher of the seed.
    """
    with transaction(sessions) as s:
        built = build_rewards(s, city, utcnow())
    with transaction(sessions) as s:
        holds = HoldService(s)
        rich = [r for r in residents if holds.available(wallet_of(r)) >= 100][:DEMO_REDEMPTIONS]
    item, clerk = built.items["SM-10"].id, city.staff["clerk"].id
    for i, resident in enumerate(rich):
        try:
            with transaction(sessions) as s:
                redemption = RedemptionService(s, ctx).redeem(resident, item, 1, f"demo:{i}")
                code = VoucherService(s, ctx).redemptions.vouchers_of(redemption)[0].code
            with transaction(sessions) as s:
                if i % 8 == 7:
                    RedemptionService(s, ctx).cancel(resident, redemption.id)
                elif i % 3 != 2:
                    VoucherService(s, ctx).verify(code, clerk)
        except DomainError:  # e.g. not yet verified: the demo simply skips them
            continue
    _applications(sessions, ctx, city, built, residents)  # e.g. those who cancelled
    return built


def _applications(
    sessions: sessionmaker[Session],
    ctx: Context,
    city: City,
    built: Rewards,
    residents: list[uuid.UUID],
) -> None:
    """Gifts to the community room fund (an entitlement): two approved, one awaiting 民政局."""
    with transaction(sessions) as s:
        holds = HoldService(s)
        givers = [r for r in residents if holds.available(wallet_of(r)) >= 100][:APPLICATIONS]
    item = built.items["COMMUNITY-FUND"].id
    for i, resident in enumerate(givers):
        try:
            with transaction(sessions) as s:
                filed = RedemptionService(s, ctx).redeem(resident, item, 1, f"demo-fund:{i}")
            if i < len(givers) - 1:  # the last one waits for the reviewer
                with transaction(sessions) as s:
                    reason = "已转入社区活动室装修基金 / added to the community room fund"
                    reviewer = IdentityService(s, ctx).staff_principal(city.staff["mz_reviewer"])
                    RedemptionService(s, ctx).decide(filed.id, True, reason, reviewer)
        except DomainError:  # e.g. not yet verified: the demo simply skips them
            continue
