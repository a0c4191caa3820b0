"""Pure decisions of rewards: eligibility, the limit period, value split, voucher code text.

No session, no clock, no I/O: callers pass values in (DESIGN.md §3).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from civicpoints.access import Principal, Role

# Crockford-like: digits and capitals without the look-alikes 0/O, 1/I/L, and U.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 20  # 20 × log2(30) ≈ 98 bits
GROUP = 4
MAX_QUANTITY = 5


@dataclass(frozen=True)
class ItemFacts:
    """What eligibility needs to know of an item."""

    active: bool
    valid_from: datetime
    valid_until: datetime
    region_ids: frozenset[str]  # empty: every region
    min_age: int | None
    max_age: int | None
    low_income_only: bool
    limit_per_period: int
    stock_remaining: int


@dataclass(frozen=True)
class Applicant:
    """What eligibility needs to know of a resident."""

    verified: bool
    region_ids: frozenset[str]  # their community and every region above it
    birth_date: date
    low_income: bool


@dataclass(frozen=True)
class Refusal:
    """Why a redemption is refused: a stable reason and its parameters."""

    reason: str
    params: dict[str, object]


def age_on(birth: date, today: date) -> int:
    """Whole years of age on `today`."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def period_key(period: str, today: date) -> str:
    """The window a per-resident limit counts in: '2026-11', '2026' or 'ever'."""
    if period == "month":
        return f"{today.year:04d}-{today.month:02d}"
    if period == "year":
        return f"{today.year:04d}"
    return "ever"


def refusal(
    item: ItemFacts, who: Applicant, now: datetime, today: date, quantity: int, used: int
) -> Refusal | None:
    """The first reason `who` may not redeem `quantity` of `item` now, or None."""
    checks: tuple[tuple[bool, str, dict[str, object]], ...] = (
        (not who.verified, "unverified", {}),
        (not 1 <= quantity <= MAX_QUANTITY, "quantity", {"quantity": quantity}),
        (not item.active or now >= item.valid_until, "unavailable", {}),
        (now < item.valid_from, "not_yet", {"valid_from": item.valid_from}),
        (bool(item.region_ids) and not (item.region_ids & who.region_ids), "region", {}),
    )
    for failed, reason, params in checks:
        if failed:
            return Refusal(reason, params)
    age = age_on(who.birth_date, today)
    if item.min_age is not None and age < item.min_age:
        return Refusal("age", {"age": age, "low": item.min_age, "high": item.max_age or "—"})
    if item.max_age is not None and age > item.max_age:
        return Refusal("age", {"age": age, "low": item.min_age or 0, "high": item.max_age})
    if item.low_income_only and not who.low_income:
        return Refusal("low_income", {})
    if used + quantity > item.limit_per_period:
        return Refusal("limit", {"limit": item.limit_per_period, "used": used})
    if item.stock_remaining < quantity:
        return Refusal("stock", {"left": item.stock_remaining})
    return None


def split_value(points: int, fen_per_point: int, face_value_fen: int) -> tuple[int, int]:
    """(points value, subsidy) in fen: the subsidy is what the sponsor adds to the points."""
    value = points * fen_per_point
    return value, face_value_fen - value


def group_code(raw: str) -> str:
    """'ABCDEFGH…' → 'ABCD-EFGH-…' for reading aloud and typing."""
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalize_code(text: str) -> str:
    """What a clerk typed → the stored grouped form (case, spaces and dashes ignored)."""
    raw = "".join(ch for ch in text.upper() if ch not in " -\t")
    return group_code(raw)


def mask_name(name: str) -> str:
    """A name as a clerk sees it: the first character, the rest starred ('张秀英' → '张**')."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "—"


DECIDERS = (Role.REVIEWER, Role.ORGANIZER, Role.ADMIN)


def decides_for(who: Principal) -> frozenset[uuid.UUID] | None:
    """The departments whose entitlement applications `who` decides: None for all (a
    platform-wide administrator, or an unscoped reviewer or organizer)."""
    if who.may_citywide(Role.ADMIN):
        return None
    grants = [g for g in who.grants if g.role in DECIDERS]
    if any(g.region_path is None and g.organization_id is None for g in grants):
        return None
    return frozenset(g.organization_id for g in grants if g.organization_id is not None)


def may_decide(who: Principal, department: uuid.UUID | None) -> bool:
    """Staff of the owning department (reviewers, organizers), or a platform-wide
    administrator, decide an entitlement application."""
    if who.may_citywide(Role.ADMIN):
        return True
    departments = decides_for(who)  # an item with no department has none to decide for
    return department is not None and (departments is None or department in departments)


EDUCATION_CATEGORIES = frozenset({"education_priority"})  # 子女入学优先审核 and its kind


def education_entitlement(category: str, fulfilment: str) -> bool:
    """Whether an item may be bought with a child's education points (教育积分): an education
    entitlement (an application the education bureau decides), nothing else."""
    return category in EDUCATION_CATEGORIES and fulfilment == "entitlement"
