"""The pilot city's structure: Hangzhou, its streets and communities, departments, staff.

Used by `civicpoints demo` and by the tests, so both run against the same shape of city.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from civicpoints.access import Role
from civicpoints.identity import IdentityService, Staff, hash_password
from civicpoints.kit.context import Context
from civicpoints.regions import Department, Level, Organization, OrgKind, Region, RegionService

DEMO_STAFF_PASSWORD = "Demo@2026"

# (district code, name, name_en, [(street code suffix, street name, street name_en)])
DISTRICTS = [
    (
        "330106",
        "西湖区",
        "Xihu District",
        [
            ("001", "北山街道", "Beishan Street"),
            ("002", "西溪街道", "Xixi Street"),
            ("003", "灵隐街道", "Lingyin Street"),
            ("004", "翠苑街道", "Cuiyuan Street"),
        ],
    ),
    (
        "330102",
        "上城区",
        "Shangcheng District",
        [
            ("001", "清波街道", "Qingbo Street"),
            ("002", "湖滨街道", "Hubin Street"),
            ("003", "小营街道", "Xiaoying Street"),
        ],
    ),
    (
        "330105",
        "拱墅区",
        "Gongshu District",
        [
            ("001", "米市巷街道", "Mishixiang Street"),
            ("002", "湖墅街道", "Hushu Street"),
            ("003", "大关街道", "Daguan Street"),
        ],
    ),
]
COMMUNITY_NAMES = [("一社区", "Community 1"), ("二社区", "Community 2"), ("三社区", "Community 3")]
DEPARTMENTS = [
    ("MZ", "杭州市民政局", "Civil Affairs Bureau", Department.CIVIL_AFFAIRS),
    ("GA", "杭州市公安局", "Public Security Bureau", Department.PUBLIC_SECURITY),
    ("HB", "杭州市生态环境局", "Ecology and Environment Bureau", Department.ENVIRONMENT),
    ("JY", "杭州市教育局", "Education Bureau", Department.EDUCATION),
]


@dataclass
class City:
    """Handles to what was built."""

    city: Region
    streets: list[Region] = field(default_factory=list)
    communities: list[Region] = field(default_factory=list)
    departments: dict[str, Organization] = field(default_factory=dict)
    committees: list[Organization] = field(default_factory=list)
    staff: dict[str, Staff] = field(default_factory=dict)


def build_city(session: Session, ctx: Context) -> City:
    """Create the region tree, organizations and staff accounts with their roles."""
    regions = RegionService(session)
    city = City(regions.add_region("3301", "杭州市", Level.CITY, None, "Hangzhou"))
    for d_code, d_name, d_en, streets in DISTRICTS:
        district = regions.add_region(d_code, d_name, Level.DISTRICT, city.city, d_en)
        for s_code, s_name, s_en in streets:
            _street(regions, city, district, d_code + s_code, s_name, s_en)
    for code, name, name_en, dept in DEPARTMENTS:
        city.departments[code] = regions.add_organization(
            code, name, OrgKind.DEPARTMENT, dept, city.city, name_en
        )
    _staff(session, ctx, city)
    return city


def _street(
    regions: RegionService, city: City, district: Region, code: str, name: str, name_en: str
) -> None:
    """A street with three communities, each with its residents' committee."""
    street = regions.add_region(code, name, Level.STREET, district, name_en)
    city.streets.append(street)
    for i, (c_name, c_en) in enumerate(COMMUNITY_NAMES, start=1):
        community = regions.add_region(
            f"{code}{i:03d}",
            name[:-2] + c_name,
            Level.COMMUNITY,
            street,
            f"{name_en.split()[0]} {c_en}",
        )
        city.communities.append(community)
        city.committees.append(
            regions.add_organization(
                f"JW{code}{i:03d}",
                community.name + "居委会",
                OrgKind.COMMITTEE,
                Department.COMMUNITY,
                community,
                community.name_en + " Residents' Committee",
            )
        )


# (username, display name, role, scope: "city" | "street0" | "community<n>" | department code)
STAFF = [
    ("admin", "市民政局管理员 王主任", Role.ADMIN, "city"),
    ("auditor", "审计 赵审计", Role.AUDITOR, "city"),
    ("organizer", "北山街道社工 陈社工", Role.ORGANIZER, "street0"),
    ("reviewer", "北山街道审核员 刘审核", Role.REVIEWER, "street0"),
    # A second reviewer of the street: an appeal is decided by someone other than the first.
    ("reviewer2", "北山街道审核员 马审核", Role.REVIEWER, "street0"),
    ("verifier", "北山街道便民服务中心 实名核验员 杨核验", Role.VERIFIER, "street0"),
    ("env_officer", "生态环境局 周干事", Role.ORGANIZER, "HB"),
    ("clerk", "超市核销员 孙店员", Role.MERCHANT_CLERK, "city"),
    ("clerk_metro", "地铁客服中心核销员 钱店员", Role.MERCHANT_CLERK, "city"),
    ("clerk_scenic", "灵隐景区售票处核销员 李售票", Role.MERCHANT_CLERK, "city"),
    ("clerk_health", "体检中心核销员 何护士", Role.MERCHANT_CLERK, "city"),
    ("clerk_training", "职业培训中心核销员 郑老师", Role.MERCHANT_CLERK, "city"),
    ("clerk_farm", "农资供销社核销员 冯店员", Role.MERCHANT_CLERK, "city"),
    ("edu_reviewer", "教育局 入学审核 吴老师", Role.REVIEWER, "JY"),
    ("mz_reviewer", "民政局 志愿服务科 许科长", Role.REVIEWER, "MZ"),
    # 隐患随手拍: safety hazards go to 公安 (环保's are for env_officer above).
    ("police_officer", "公安局 治安巡防 黄警官", Role.REVIEWER, "GA"),
    # 民政专干 of the first community (爱心积分池, low-income status), and of the second
    ("civil", "社区民政专干 林民政", Role.CIVIL_AFFAIRS, "community0"),
    ("civil2", "社区民政助理 高助理", Role.CIVIL_AFFAIRS, "community0"),
    ("civil_other", "邻社区民政专干 蒋民政", Role.CIVIL_AFFAIRS, "community1"),
    # 教育积分: education staff of the first street (confirm guardians' links to children and
    # decide education entitlements paid from children's education points), and of a
    # neighbouring community
    ("edu_officer", "北山街道教育专干 唐老师", Role.EDUCATION, "street0"),
    ("edu_other", "邻社区教育专干 韩老师", Role.EDUCATION, "community1"),
]


def _staff(session: Session, ctx: Context, city: City) -> None:
    """Staff accounts sharing one demo password (hashed once: argon2 is slow by design)."""
    identity = IdentityService(session, ctx)
    digest = hash_password(DEMO_STAFF_PASSWORD)
    for username, name, role, scope in STAFF:
        member = identity.add_staff(username, name, None, password_hash=digest)
        if scope == "city":
            identity.grant(member, role, region_id=city.city.id)
        elif scope == "street0":
            identity.grant(member, role, region_id=city.streets[0].id)
        elif scope.startswith("community"):
            community = city.communities[int(scope.removeprefix("community"))]
            identity.grant(member, role, region_id=community.id)
        else:
            identity.grant(member, role, organization_id=city.departments[scope].id)
        city.staff[username] = member
